#!/usr/bin/env python3
"""Extract TensorRT Python-API names and trtexec options per release into small JSON files.

Developer tool (not shipped). Writes tests/data/tensorrt/api/<version>.json and
tests/data/tensorrt/trtexec/<version>.json; see tools/tensorrt_conformance/README.md.

Inputs
  * PyPI wheels (WHEELS below), fetched with ``pip download`` into the cache dir.  Their
    pybind11 module tensorrt.so is imported against generated no-op stub libraries
    (libnvinfer.so.N, ...) in a subprocess and walked with dir()/__doc__.
  * NVIDIA/TensorRT git repository (``--trt-repo``, or a blobless clone into the cache):
    python/src/**/*.cpp at SOURCE_API_TAGS (releases without a wheel) and
    samples/common/sampleOptions.cpp + sampleEngines.cpp at the trtexec tags.

Usage
  python tools/tensorrt_conformance/extract.py all --trt-repo /path/to/TensorRT(.git)
  python tools/tensorrt_conformance/extract.py api|trtexec|crosscheck [...]
"""

import argparse
import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "tensorrt"
TRT_GIT_URL = "https://github.com/NVIDIA/TensorRT"

# (data-file version, pip requirement).  11.x: the cu13 build (cu12 builds exist too; `crosscheck`
# compares them).
WHEELS = [
    ("8.6.1", "tensorrt-bindings==8.6.1"),
    ("10.0.1", "tensorrt-cu12-bindings==10.0.1"),
    ("10.3.0", "tensorrt-cu12-bindings==10.3.0"),
    ("10.8.0", "tensorrt-cu12-bindings==10.8.0.43"),
    ("10.12.0", "tensorrt-cu12-bindings==10.12.0.36"),
    ("10.16.1", "tensorrt-cu12-bindings==10.16.1.11"),
    ("11.0.0", "tensorrt-cu13-bindings==11.0.0.114"),
    ("11.1.0", "tensorrt-cu13-bindings==11.1.0.106"),
    ("11.2.1", "tensorrt-cu13-bindings==11.2.1.2"),
    ("11.3.0", "tensorrt-cu13-bindings==11.3.0.99"),
    ("11.4.0", "tensorrt-cu13-bindings==11.4.0.106"),
]
SOURCE_API_TAGS = ["8.0.1", "8.2.1", "8.4.3", "8.5.3"]  # no bindings wheel for these
CROSSCHECK_TAG, CROSSCHECK_WHEEL = "v8.6.1", "8.6.1"
# trtexec: None = newest tag of every major.minor >= 8.0 found in the repository.
TRTEXEC_TAGS = None


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def write_json(path, obj):
    """Sorted keys; one top-level entry (class, option) per line: small and diffable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for key in sorted(obj):
        val = obj[key]
        if isinstance(val, dict) and val:
            inner = ",\n".join(
                "  %s: %s" % (json.dumps(k), json.dumps(val[k], sort_keys=True, separators=(",", ":")))
                for k in sorted(val)
            )
            lines.append("%s: {\n%s\n }" % (json.dumps(key), inner))
        else:
            lines.append("%s: %s" % (json.dumps(key), json.dumps(val, sort_keys=True)))
    path.write_text("{\n" + ",\n".join(" " + x for x in lines) + "\n}\n")


# ----------------------------------------------------------------------------- git
class Repo:
    def __init__(self, gitdir, cache):
        if gitdir is None:
            gitdir = cache / "TensorRT.git"
            if not gitdir.exists():
                run(["git", "clone", "--bare", "--filter=blob:none", TRT_GIT_URL, str(gitdir)])
        self.gitdir = str(gitdir)

    def git(self, *args):
        return run(["git", "--git-dir", self.gitdir] + list(args))

    def show(self, tag, path):
        try:
            return self.git("show", "%s:%s" % (tag, path))
        except subprocess.CalledProcessError:
            return None

    def ls(self, tag, path):
        return self.git("ls-tree", "-r", "--name-only", tag, "--", path).split()

    def tags(self):
        return self.git("tag").split()

    def version(self, tag):
        text = self.show(tag, "include/NvInferVersion.h") or ""
        parts = dict(
            re.findall(r"#define (?:NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH)(?:_ENTERPRISE)? (\d+)", text)
        )
        return "%s.%s.%s" % (parts["MAJOR"], parts["MINOR"], parts["PATCH"])


# ------------------------------------------------------------------- C++ scanning
STR_RE = re.compile(r'R"([^(]*)\((.*?)\)\1"|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.S)


def strip_comments(src):
    """Blank out // and /* */ comments, keeping string literals and line numbers."""
    out, i, n = [], 0, len(src)
    while i < n:
        m = STR_RE.match(src, i) if src[i] in "R\"'" else None
        if m and (src[i] != "R" or (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_"))):
            out.append(m.group(0))
            i = m.end()
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
            continue
        out.append(src[i])
        i += 1
    return "".join(out)


def match_close(text, i, pairs="(){}[]"):
    """text[i] is an opening bracket; return the index of its partner (string-aware)."""
    opens, closes = pairs[0::2], pairs[1::2]
    depth, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            m = STR_RE.match(text, i)
            if m:
                i = m.end()
                continue
        if c in opens:
            depth += 1
        elif c in closes:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return n - 1


def literals(text):
    """Concatenated contents of the string literals in text (std::endl counts as a newline)."""
    text = text.replace("std::endl", '"\\n"')
    parts = []
    for m in STR_RE.finditer(text):
        if m.group(0).startswith("'"):
            continue
        parts.append(
            m.group(2)
            if m.group(2) is not None
            else m.group(0)[1:-1].replace("\\n", "\n").replace('\\"', '"')
        )
    return "".join(parts)


def top_split(s, sep=","):
    out, depth, cur = [], 0, ""
    for c in s:
        if c in "<([{":
            depth += 1
        elif c in ">)]}":
            depth -= 1
        if c == sep and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    return out + [cur.strip()] if cur.strip() else out


# ------------------------------------------------------ API from pybind11 sources
def src_sig(args):
    """Parameter names from pybind11 ``"x"_a`` / ``py::arg("x")`` annotations: "(a, b=...)"."""
    names = re.findall(r'(?:"(\w+)"_a|py::arg\("(\w+)"\))(\s*=)?', args)
    return "(%s)" % ", ".join((a or b) + ("=..." if d else "") for a, b, d in names)


def parse_pybind_sources(files):
    """files: {path: text}.  Returns the API dict (same shape as the wheel walk)."""
    classes, enums, functions, cpp2py, var2py, bases_cpp, aliases = {}, {}, {}, {}, {}, {}, {}
    decl_re = re.compile(r"py::(class_|enum_)\s*<")
    for path, raw in sorted(files.items()):
        text = strip_comments(raw)
        chains = []  # (qualname, kind, start index of ".xxx(" chain)
        for m in decl_re.finditer(text):
            t_end = match_close(text, m.end() - 1, "<>")
            targs = top_split(text[m.end() : t_end])
            j = t_end + 1
            var = re.match(r"\s*(\w+)\s*", text[j:])
            if var and text[j + var.end()] in "({":
                j += var.end()
            else:
                var = None
            while text[j].isspace():
                j += 1
            if text[j] not in "({":
                continue
            close = match_close(text, j)
            cargs = top_split(text[j + 1 : close])
            if len(cargs) < 2 or not re.fullmatch(r'"\w+"', cargs[1]):
                continue
            scope, name = cargs[0], cargs[1].strip('"')
            qual = name if scope in ("m", "mod", "module") else "%s.%s" % (var2py.get(scope, scope), name)
            cpp = targs[0].replace("nvinfer1::", "").replace(" ", "")
            cpp2py[cpp] = qual
            pre = text[max(0, m.start() - 40) : m.start()]
            avar = re.search(r"auto\s+(\w+)\s*=\s*$", pre)
            if var or avar:
                var2py[(var or avar).group(1)] = qual
            if m.group(1) == "class_":
                entry = classes.setdefault(qual, {"bases": [], "methods": {}, "properties": {}, "attrs": []})
                bases_cpp[qual] = [a.replace("nvinfer1::", "").replace(" ", "") for a in targs[1:]]
            else:
                enums.setdefault(qual, [])
            chains.append((qual, m.group(1), close + 1))
        for vm in re.finditer(r"\b(\w+)(?=\s*\.\s*(?:def\w*|value|attr)\s*\()", text):
            if vm.group(1) in var2py:
                q = var2py[vm.group(1)]
                chains.append((q, "enum_" if q in enums else "class_", vm.end()))
        for qual, kind, i in chains:
            while True:
                cm = re.match(r"\s*\.\s*(\w+)\s*\(", text[i:])
                if not cm:
                    break
                op = i + cm.end() - 1
                close = match_close(text, op)
                args, meth = text[op + 1 : close], cm.group(1)
                i = close + 1
                nm = re.match(r'\s*"(\w+)"', args)
                if kind == "enum_":
                    if meth == "value" and nm:
                        enums[qual].append(nm.group(1))
                    continue
                entry = classes[qual]
                if meth in ("def", "def_static") and re.match(r"\s*py::init", args):
                    entry["methods"].setdefault("__init__", [])
                    entry["methods"]["__init__"].append(src_sig(args))
                elif not nm:
                    continue
                elif meth in ("def", "def_static"):
                    if not nm.group(1).startswith("__") or nm.group(1) in ("__init__", "__call__"):
                        entry["methods"].setdefault(nm.group(1), []).append(src_sig(args[nm.end() :]))
                elif meth.startswith("def_property") or meth.startswith("def_read"):
                    rw = meth in ("def_property", "def_readwrite", "def_property_static")
                    entry["properties"][nm.group(1)] = "rw" if rw else "ro"
                elif meth == "attr":
                    entry["attrs"].append(nm.group(1))
        for bm in re.finditer(r'py::bind_vector\s*<.*?>\s*\(\s*m\s*,\s*"(\w+)"', text):
            classes[bm.group(1)] = {
                "bases": [],
                "properties": {},
                "attrs": [],
                "methods": {k: [None] for k in ("append", "clear", "extend", "insert", "pop")},
            }
        for am in re.finditer(r'\bm\s*\.\s*attr\s*\(\s*"(\w+)"\s*\)\s*=\s*([^;]+);', text):
            aliases[am.group(1)] = am.group(2).strip()
        for fm in re.finditer(r'\bm\s*\.\s*def\s*\(\s*"(\w+)"', text):
            close = match_close(text, text.index("(", fm.start()))
            functions.setdefault(fm.group(1), []).append(src_sig(text[fm.end() : close]))
    for qual, cbases in bases_cpp.items():
        classes[qual]["bases"] = [cpp2py[b] for b in cbases if b in cpp2py and cpp2py[b] in classes]
    constants = {}
    for (
        name,
        rhs,
    ) in (
        aliases.items()
    ):  # m.attr("ResizeMode") = m.attr("InterpolationMode"); m.attr("float32") = DataType::kFLOAT
        target = re.fullmatch(r'm\s*\.\s*attr\s*\(\s*"(\w+)"\s*\)', rhs)
        if target and target.group(1) in enums:
            enums[name] = enums[target.group(1)]
        elif target and target.group(1) in classes:
            classes[name] = classes[target.group(1)]
        elif re.fullmatch(r"(?:nvinfer1::)?(\w+)::k\w+", rhs):
            constants[name] = cpp2py.get(rhs.replace("nvinfer1::", "").split("::")[0], "?")
    for entry in classes.values():
        entry["methods"] = {k: (v[0] if len(v) == 1 else v) for k, v in entry["methods"].items()}
        entry["attrs"] = sorted(set(entry["attrs"]))
    return {
        "classes": classes,
        "enums": {k: sorted(set(v)) for k, v in enums.items()},
        "constants": constants,
        "functions": {k: (v[0] if len(v) == 1 else v) for k, v in functions.items()},
    }


def python_level(init_text):
    """Names that tensorrt/__init__.py adds: public functions and ``Class.attr = ...`` patches."""
    try:
        tree = ast.parse(init_text)
    except SyntaxError:  # templated source (@TENSORRT_MODULE@ etc.): fall back to regexes
        return {
            "functions": sorted(set(re.findall(r"^def ([a-z]\w*)", init_text, re.M))),
            "patched": sorted(set(re.findall(r"^([A-Z]\w*\.\w+)\s*=", init_text, re.M))),
        }
    funcs, patched = set(), set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            funcs.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                    patched.add("%s.%s" % (t.value.id, t.attr))
    return {"functions": sorted(funcs), "patched": sorted(patched)}


def api_from_source(repo, tag):
    files = {p: repo.show(tag, p) for p in repo.ls(tag, "python/src") if p.endswith(".cpp")}
    api = parse_pybind_sources(files)
    for init in (
        "python/packaging/bindings_wheel/tensorrt/__init__.py",
        "python/packaging/tensorrt/__init__.py",
    ):
        text = repo.show(tag, init)
        if text:
            api["python"] = python_level(text)
            break
    api.update(version=repo.version(tag), source="NVIDIA/TensorRT %s python/src" % tag)
    return api


# ------------------------------------------------------------ API from the wheels
def download_wheel(req, cache):
    dest = cache / "wheels" / req.replace("==", "-")
    whl = sorted(dest.glob("*.whl")) if dest.exists() else []
    if not whl:
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "%d.%d" % sys.version_info[:2],
                "--platform",
                "manylinux_2_28_x86_64",
                "--platform",
                "manylinux_2_17_x86_64",
                req,
                "-d",
                str(dest),
            ]
        )
        whl = sorted(dest.glob("*.whl"))
    out = dest / "unpacked"
    if not out.exists():
        zipfile.ZipFile(whl[0]).extractall(out)
    return next(out.glob("*/tensorrt.so"))


def build_stubs(so, outdir):
    """No-op stand-ins for every unversioned undefined non-Python symbol, one copy per NEEDED libnv*."""
    outdir.mkdir(parents=True, exist_ok=True)
    syms = []
    for line in run(["nm", "-D", "--undefined-only", str(so)]).splitlines():
        kind, name = line.split()[-2:]
        if kind == "U" and "@" not in name and not re.match(r"_?Py|dl|pthread_", name):
            syms.append(name)
    csrc = outdir / "stub.c"
    csrc.write_text("".join("long %s(void) { return 0; }\n" % s for s in syms))
    needed = re.findall(r"Shared library: \[(libnv[^\]]+)\]", run(["readelf", "-d", str(so)]))
    for lib in needed:
        run(["gcc", "-shared", "-fPIC", "-o", str(outdir / lib), "-Wl,-soname," + lib, str(csrc)])
    return needed, syms


def compact_sig(doc_line, name):
    m = re.match(r"^(?:\d+\. )?%s\((.*)\)(?: -> (.*))?$" % re.escape(name), doc_line.strip())
    if not m:
        return None
    args = top_split(m.group(1))
    if args and re.match(r"self\b", args[0]):
        args = args[1:]
    sig = "(%s)" % ", ".join(args) + ("" if m.group(2) in (None, "None") else " -> " + m.group(2))
    sig = re.sub(
        r"typing\.Supports(Int|Float|Index)",
        lambda x: {"Int": "int", "Float": "float", "Index": "int"}[x.group(1)],
        sig,
    )
    return sig.replace("tensorrt.", "").replace("typing.", "")


def walk_module(so_path):
    """Runs in a child process (LD_LIBRARY_PATH = stubs). Returns the API dict."""
    spec = importlib.util.spec_from_file_location("tensorrt", so_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def signature(name, obj):
        doc = getattr(obj, "__doc__", None) or ""
        lines = doc.splitlines()
        if len(lines) > 1 and lines[1].strip() == "Overloaded function.":
            sigs = [compact_sig(l, name) for l in lines if re.match(r"^\d+\. %s\(" % re.escape(name), l)]
            return sigs if len(sigs) > 1 else (sigs or [None])[0]
        return compact_sig(lines[0], name) if lines else None

    out = {"classes": {}, "enums": {}, "functions": {}, "constants": {}}

    def do_class(qual, cls):
        if hasattr(cls, "__members__"):
            out["enums"][qual] = sorted(cls.__members__)
            return
        e = out["classes"][qual] = {
            "methods": {},
            "properties": {},
            "attrs": [],
            "bases": [b.__qualname__ for b in cls.__bases__ if b.__module__ == "tensorrt"],
        }
        for k, v in vars(cls).items():
            if k.startswith("_") and k not in ("__init__", "__call__"):  # dunders, _pybind11_conduit_v1_
                continue
            if isinstance(v, type):
                do_class(qual + "." + k, v)
            elif isinstance(v, property):
                e["properties"][k] = "rw" if v.fset is not None else "ro"
            elif callable(v) or isinstance(v, (staticmethod, classmethod)):
                sig = signature(k, getattr(cls, k))
                if sig is not None or not k.startswith("__"):  # skip pybind11's default no-ctor __init__
                    e["methods"][k] = sig
            else:
                e["attrs"].append(k)
        e["attrs"].sort()

    for k, v in vars(mod).items():
        if k.startswith("_"):
            continue
        if isinstance(v, type):
            do_class(k, v)
        elif callable(v):
            out["functions"][k] = signature(k, v)
        else:
            out["constants"][k] = type(v).__name__
    return out


def api_from_wheel(req, cache):
    so = download_wheel(req, cache)
    stubdir = cache / "stubs" / req.replace("==", "-")
    build_stubs(so, stubdir)
    env = dict(os.environ, LD_LIBRARY_PATH=str(stubdir))
    proc = subprocess.run(
        [sys.executable, __file__, "_walk", str(so)], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError("import of %s failed (rc=%s): %s" % (so, proc.returncode, proc.stderr[-2000:]))
    api = json.loads(proc.stdout)
    api["python"] = python_level((so.parent / "__init__.py").read_text())
    api["source"] = "wheel %s (tensorrt.so imported against no-op stub libs)" % req
    return api


# ------------------------------------------------------------------------ trtexec
NOT_TRTEXEC = re.compile(r"SafeBuilderOptions|TaskInferenceOptions")  # other tools' parsers/help
HELP_FUNC = re.compile(r"(::help|printHelp|helpHelp)\s*\(")
OPT_LIT = re.compile(r'"(--?[A-Za-z][A-Za-z0-9]*)"')


def functions(text):
    """Yield (signature, body_start, body_end) of top-level function definitions."""
    for m in re.finditer(r"^[A-Za-z][^\n;{}]*?([\w:<>~]+|operator<<)\s*\(", text, re.M):
        close = match_close(text, m.end() - 1)
        k = close + 1
        while k < len(text) and text[k] in " \tconst\n":
            k += 1
        if k < len(text) and text[k] == "{":
            yield text[m.start() : close + 1], k, match_close(text, k, "{}")


def trtexec_from_source(repo, tag):
    raw = repo.show(tag, "samples/common/sampleOptions.cpp")
    text = strip_comments(raw)
    header = strip_comments(repo.show(tag, "samples/common/sampleOptions.h") or "")
    line_of = lambda i: raw.count("\n", 0, i) + 1
    options, deprecated, help_lines = {}, {}, {}
    for sig, b0, b1 in functions(text):
        body = text[b0:b1]
        if NOT_TRTEXEC.search(sig):
            continue
        if HELP_FUNC.search(sig):
            cur, help_text = None, literals(body)
            for group in re.finditer(r"((?:--[A-Za-z0-9]+,? (?:and )?)+)are deprecated[^\n]*", help_text):
                for opt in re.findall(
                    r"--[A-Za-z0-9]+", group.group(1)
                ):  # "Note: --fp16, ..., --best are deprecated"
                    deprecated.setdefault(opt, "help: " + " ".join(group.group(0).split()))
            for line in help_text.splitlines():
                hm = re.match(r"^\s{1,4}(--?[A-Za-z][A-Za-z0-9]*)(=\S+|\s|$)", line)
                if hm:
                    cur = hm.group(1)
                    help_lines.setdefault(cur, {"first": " ".join(line.split()), "more": ""})
                elif cur and line.strip() and re.match(r"^\s{8,}", line):
                    help_lines[cur]["more"] += " " + " ".join(line.split())
                else:
                    cur = None
            continue
        if "operator<<" in sig:
            continue
        for om in OPT_LIT.finditer(body):
            name, pos = om.group(1), b0 + om.start()
            # enclosing call: walk back to the unmatched "("
            depth, k = 0, pos
            while k > b0:
                k -= 1
                if text[k] == ")":
                    depth += 1
                elif text[k] == "(":
                    if depth == 0:
                        break
                    depth -= 1
            call = re.search(r"(\w+)\s*$", text[b0:k])
            call = call.group(1) if call else ""
            cargs = top_split(text[k + 1 : match_close(text, k)])
            var = cargs[cargs.index(om.group(0)) + 1] if om.group(0) in cargs[:-1] else None
            if call == "getAndDelNegOption":
                takes = False
            elif (
                call
                in ("getAndDelOption", "getOption", "getAndDelOptionWithPosition", "getAndDelOptionBehind")
                and var
            ):
                v = re.escape(var.split(".")[-1].split("->")[-1])
                takes = not re.search(r"\bbool\s+(?:const\s+)?%s\b" % v, body + header)
            else:
                takes = True
            o = options.setdefault(name, {"value": takes, "line": line_of(pos)})
            o["value"] = o["value"] or takes
        for st in re.finditer(r"gLog(?:Warning|Error|Info)[^;]*;|std::invalid_argument\([^;]*;", body):
            msg = literals(st.group(0))
            if re.search(r"deprecat|removed|no longer|no effect|no-op", msg, re.I):
                km = re.search(r"--[A-Za-z][A-Za-z0-9]*(=[\w]+)?", msg)
                if km:
                    deprecated.setdefault(
                        km.group(0), "%s (sampleOptions.cpp:%d)" % (msg.strip(), line_of(b0 + st.start()))
                    )
    for name, h in help_lines.items():
        if name in options:
            options[name]["help"] = h["first"][:100]
            if re.search(r"\bdeprecated\b", h["first"].split(". ")[0], re.I):
                deprecated.setdefault(name, "help: " + (h["first"] + h["more"])[:200])
    return {
        "version": repo.version(tag),
        "tag": tag,
        "options": options,
        "deprecated": deprecated,
        "notes": trtexec_notes(repo, tag, raw, options),
    }


def trtexec_notes(repo, tag, opts_raw, options):
    notes = {}
    eng = repo.show(tag, "samples/common/sampleEngines.cpp") or ""
    if "--memPoolSize" in options:
        unit_in_parse = bool(re.search(r"stod\(option\)\s*\*\s*getUnitMultiplier", opts_raw))
        default_m = "addDefaultUnitSuffixIfNotSpecified(strPoolSize, 'M')" in opts_raw
        divides = bool(re.search(r"workspace\s*=\s*memPoolSize\s*/\s*1\.0_MiB", opts_raw))
        mib = re.search(r"roundToBytes = \[\]\(double const (\w+)[^{]*\{[^}]*(1 << 20|1\.0_MiB)", eng)
        if not unit_in_parse:
            notes["memPoolSize_units"] = (
                "value parsed with std::stod (no unit suffix support; trailing characters such as "
                "'M'/'G' are silently ignored, so '1G' means 1 MiB); bare number = MiB"
            )
        elif default_m and divides:
            notes["memPoolSize_units"] = (
                "K/M/G/B suffixes accepted; bare number = MiB (default suffix 'M'); value converted "
                "to MiB in parse and back to bytes in setMemoryPoolLimits: correct"
            )
        else:
            notes["memPoolSize_units"] = (
                "suffix multiplier applied in parse (stringToValue<double>) AND roundToBytes in "
                "sampleEngines.cpp multiplies by 2^20 again: suffixed values are multiplied twice "
                "(e.g. workspace:1G -> 2^50 bytes); bare number = MiB works"
            )
        notes["memPoolSize_roundToBytes"] = mib.group(0).replace("\n", " ")[:160] if mib else None
    wm = re.search(r"^.*(setMaxWorkspaceSize|setMemoryPoolLimit\(MemoryPoolType::kWORKSPACE).*$", eng, re.M)
    if wm:
        notes["workspace_applied"] = "sampleEngines.cpp:%d: %s" % (
            eng.count("\n", 0, wm.start()) + 1,
            wm.group(0).strip(),
        )
    for path in repo.ls(tag, "samples/common") + repo.ls(tag, "samples/trtexec"):
        if path.endswith(".cpp"):
            src = repo.show(tag, path) or ""
            idx = src.find("Static model does not take explicit shapes")
            if idx >= 0:
                notes["static_model_explicit_shapes"] = "%s:%d" % (path, src.count("\n", 0, idx) + 1)
    return notes


def trtexec_tags(repo):
    best = {}
    for tag in repo.tags():
        m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", tag)
        if m and 8 <= int(m.group(1)) < 19 and m.group(1) != "9":  # 9.x tags: LLM-only previews, skipped
            key, patch = (int(m.group(1)), int(m.group(2))), int(m.group(3) or 0)
            if key not in best or patch > best[key][0]:
                best[key] = (patch, tag)
    return [best[k][1] for k in sorted(best)]


def do_trtexec(repo, tags):
    seen, results = {}, []
    for tag in tags:
        if repo.show(tag, "samples/common/sampleOptions.cpp") is None:
            print("skip %s: no sampleOptions.cpp" % tag)
            continue
        res = trtexec_from_source(repo, tag)
        res["removed"] = {
            o: "not parsed since %s (last parsed in %s); trtexec exits with 'Unknown option'"
            % (res["version"], last)
            for o, last in sorted(seen.items())
            if o not in res["options"]
        }
        for o in res["options"]:
            seen[o] = res["version"]
        results.append(res)
        write_json(DATA / "trtexec" / ("%s.json" % res["version"]), res)
        print("trtexec %s (%s): %d options" % (res["version"], tag, len(res["options"])))


# ---------------------------------------------------------------------- crosscheck
def diff_api(a, b, label_a, label_b):
    lines = []
    for kind in ("classes", "enums", "functions"):
        only_a, only_b = sorted(set(a[kind]) - set(b[kind])), sorted(set(b[kind]) - set(a[kind]))
        if only_a or only_b:
            lines.append("%s only in %s: %s; only in %s: %s" % (kind, label_a, only_a, label_b, only_b))
    for c in sorted(set(a["classes"]) & set(b["classes"])):
        for part in ("methods", "properties"):
            x, y = set(a["classes"][c][part]), set(b["classes"][c][part])
            if x ^ y:
                lines.append(
                    "%s.%s: only %s %s, only %s %s"
                    % (c, part, label_a, sorted(x - y), label_b, sorted(y - x))
                )

    def params(sig):
        sigs = sig if isinstance(sig, list) else [sig]
        return sorted(
            tuple(x.split(":")[0].split("=")[0].strip() for x in top_split(s[1 : s.rindex(")")]))
            for s in sigs
            if s
        )

    mism = []
    for c in sorted(set(a["classes"]) & set(b["classes"])):
        for meth in sorted(set(a["classes"][c]["methods"]) & set(b["classes"][c]["methods"])):
            pa, pb = params(a["classes"][c]["methods"][meth]), params(b["classes"][c]["methods"][meth])
            if pa and pb and pa != pb:
                mism.append("%s.%s %s vs %s" % (c, meth, pa, pb))
    if mism:
        lines.append("%d methods differ in parameter names, e.g. %s" % (len(mism), "; ".join(mism[:8])))
    for e in sorted(set(a["enums"]) & set(b["enums"])):
        x, y = set(a["enums"][e]), set(b["enums"][e])
        if x ^ y:
            lines.append(
                "enum %s: only %s %s, only %s %s" % (e, label_a, sorted(x - y), label_b, sorted(y - x))
            )
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["all", "api", "trtexec", "crosscheck", "_walk"])
    ap.add_argument("arg", nargs="?", help=argparse.SUPPRESS)
    ap.add_argument(
        "--trt-repo", type=Path, help="existing NVIDIA/TensorRT git dir (else a blobless clone in the cache)"
    )
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "trt_conformance_cache")
    ap.add_argument("--only", nargs="*", help="restrict to these data-file versions / tags")
    a = ap.parse_args()
    if a.what == "_walk":
        json.dump(walk_module(a.arg), sys.stdout, sort_keys=True)
        return
    a.cache.mkdir(parents=True, exist_ok=True)
    repo = Repo(a.trt_repo, a.cache)
    keep = lambda v: not a.only or v in a.only
    if a.what in ("all", "api"):
        for tag in SOURCE_API_TAGS:
            if keep(tag):
                api = api_from_source(repo, tag)
                write_json(DATA / "api" / ("%s.json" % api["version"]), api)
                print(
                    "api %s from source: %d classes, %d enums"
                    % (api["version"], len(api["classes"]), len(api["enums"]))
                )
        for version, req in WHEELS:
            if keep(version):
                api = api_from_wheel(req, a.cache)
                api["version"] = version
                write_json(DATA / "api" / ("%s.json" % version), api)
                print(
                    "api %s from %s: %d classes, %d enums"
                    % (version, req, len(api["classes"]), len(api["enums"]))
                )
    if a.what in ("all", "trtexec"):
        do_trtexec(repo, [t for t in (TRTEXEC_TAGS or trtexec_tags(repo)) if keep(t)])
    if a.what == "crosscheck":
        src = api_from_source(repo, CROSSCHECK_TAG)
        whl = api_from_wheel(dict(WHEELS)[CROSSCHECK_WHEEL], a.cache)
        print("\n".join(diff_api(src, whl, "source", "wheel")) or "no differences")
        for version, req in WHEELS:
            if req.startswith("tensorrt-cu13-bindings") and keep(version):
                cu12 = api_from_wheel(req.replace("cu13", "cu12"), a.cache)
                cu13 = api_from_wheel(req, a.cache)
                print(
                    "%s cu12 vs cu13: %s"
                    % (version, diff_api(cu12, cu13, "cu12", "cu13") or "identical names")
                )


if __name__ == "__main__":
    main()
