"""Loader for the recorded TensorRT API / trtexec data in tests/data/tensorrt/.

The data is produced by tools/tensorrt_conformance/extract.py (see its README).  Pure stdlib,
Python 3.8 compatible.  Versions are strings like "10.16.1"; version tuples like (10, 16) or
(10, 16, 1) are accepted where noted.

API file shape: {"version", "source", "classes": {name: {"bases": [...], "methods": {name: sig or
[sigs] or null}, "properties": {name: "ro"|"rw"}, "attrs": [...]}}, "enums": {name: [members]},
"functions": {name: sig}, "constants": {name: type}, "python": {"functions": [...], "patched":
["Class.attr", ...]}}.  Nested types are "Outer.Inner" (e.g. "ILogger.Severity").

trtexec file shape: {"version", "tag", "options": {"--name": {"value": bool, "line": int,
"help": str}}, "deprecated": {"--name[=val]": message}, "removed": {"--name": note}, "notes": {...}}.
"""

import functools
import json
import os

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tensorrt")


def _vtuple(version):
    if isinstance(version, (tuple, list)):
        return tuple(int(x) for x in version)
    return tuple(int(x) for x in str(version).split(".") if x.isdigit())


def _versions(kind):
    folder = os.path.join(DATA_DIR, kind)
    names = [f[:-5] for f in os.listdir(folder) if f.endswith(".json")] if os.path.isdir(folder) else []
    return sorted(names, key=_vtuple)


@functools.lru_cache(maxsize=None)
def _load(kind, version):
    with open(os.path.join(DATA_DIR, kind, "%s.json" % version)) as fh:
        return json.load(fh)


def _nearest(kind, version):
    """Exact file if present, else the newest patch recorded for the same major.minor, else None."""
    vt = _vtuple(version)
    names = _versions(kind)
    exact = [v for v in names if len(vt) >= 3 and _vtuple(v)[:3] == vt[:3]]
    if exact:
        return exact[0]
    same = [v for v in names if _vtuple(v)[:2] == vt[:2]]
    return same[-1] if same else None


def api_versions():
    return _versions("api")


def trtexec_versions():
    return _versions("trtexec")


def api(version):
    """The API dict for an exact recorded version string (KeyError-like IOError otherwise)."""
    return _load("api", str(version))


def trtexec(version):
    return _load("trtexec", str(version))


def nearest_api(version_tuple):
    """Version string of the API file for the same major.minor (exact patch if recorded, else newest)."""
    return _nearest("api", version_tuple)


def nearest_trtexec(version_tuple):
    return _nearest("trtexec", version_tuple)


def _resolve(kind, version):
    name = _nearest(kind, version)
    if name is None:
        raise LookupError(
            "no %s data recorded for TensorRT %s (have: %s)" % (kind, version, ", ".join(_versions(kind)))
        )
    return _load(kind, name)


def class_members(version, cls):
    """All member names of a class, including inherited ones and tensorrt/__init__.py patches."""
    data = _resolve("api", version)
    seen, todo, names = set(), [cls], set()
    while todo:
        c = todo.pop()
        if c in seen or c not in data["classes"]:
            continue
        seen.add(c)
        entry = data["classes"][c]
        names.update(entry["methods"], entry["properties"], entry.get("attrs", []))
        names.update(
            k.split(".", 1)[1] for k in list(data["classes"]) + list(data["enums"]) if k.startswith(c + ".")
        )
        names.update(
            p.split(".", 1)[1] for p in data.get("python", {}).get("patched", []) if p.startswith(c + ".")
        )
        todo.extend(entry.get("bases", []))
    return names


def has_class(version, cls):
    data = _resolve("api", version)
    return cls in data["classes"] or cls in data["enums"]


def has_attr(version, cls, name):
    """True if tensorrt.<cls>.<name> exists (method, property, attribute, nested type) in that release."""
    return name in class_members(version, cls)


def signature(version, cls, method):
    """Recorded signature text (str, list of overloads, or None); KeyError if the method is absent."""
    data = _resolve("api", version)
    return data["classes"][cls]["methods"][method]


def enum_members(version, enum):
    return list(_resolve("api", version)["enums"].get(enum, []))


def enum_has(version, enum, member):
    return member in _resolve("api", version)["enums"].get(enum, [])


def has_function(version, name):
    data = _resolve("api", version)
    return name in data["functions"] or name in data.get("python", {}).get("functions", [])


def accepts(version, option):
    """True if trtexec of that release parses the option (deprecated ones count as accepted)."""
    return option in _resolve("trtexec", version)["options"]


def takes_value(version, option):
    """True for --opt=VALUE options, False for boolean flags; KeyError if not accepted."""
    return _resolve("trtexec", version)["options"][option]["value"]


def option_status(version, option):
    """ "ok", "deprecated", "removed" (known earlier, now rejected as unknown) or "unknown"."""
    data = _resolve("trtexec", version)
    if option in data["options"]:
        return "deprecated" if option in data["deprecated"] else "ok"
    return "removed" if option in data["removed"] else "unknown"


def trtexec_notes(version):
    return dict(_resolve("trtexec", version)["notes"])
