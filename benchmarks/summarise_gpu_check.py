"""Summarise a `benchmarks/gpu_check.sh` output folder as Markdown (summary.md) and print it.

Reads, all optional:

- ``OUT/status.tsv``: one line per planned run, written by gpu_check.sh:
  ``step <TAB> item <TAB> status <TAB> seconds <TAB> json <TAB> detail`` (status OK, FAILED,
  TIMEOUT or SKIPPED; json relative to OUT or ``-``; detail: the failing run's last stderr line,
  or why it was skipped).
- ``OUT/runs/*.json``: trtbench run records (one object, or a list for several batches).
- ``OUT/bare/*.json``: `benchmarks/bare_loop.py` results, paired with the records of the same model,
  precision, batch and device (not CUDA-graph runs) for the fidelity ratio trtbench / bare.
- ``OUT/drift/*.json``: `trtbench drift --json` outputs.
- ``OUT/env.txt``: the machine, quoted at the top.

Standard library only (it must work where trtbench itself does not import).

    python3 benchmarks/summarise_gpu_check.py OUT [--out OUT/summary.md] [--note "budget ..."]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

CATEGORY_COLUMNS = ("conv", "pool", "fc", "elementwise", "reformat")
STEP_TITLES = {
    "setup": "Setup",
    "table2": "trtbench profile --backend torch, the study's Table-2 networks (fp32, fp16, fp32 + graph)",
    "fidelity": "Fidelity: trtbench vs a bare PyTorch loop (ratio trtbench / bare; target 0.95-1.05)",
    "corpus": "The corpus ONNX models (torch fp32 and fp16, onnxruntime)",
    "drift": "trtbench drift (--alloc per-run, --alloc fragment)",
}


# ---- reading --------------------------------------------------------------------------------

def read_status(out: Path) -> List[Dict[str, str]]:
    path = out / "status.tsv"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        cells = line.split("\t") + [""] * 6
        rows.append({"step": cells[0], "item": cells[1], "status": cells[2], "seconds": cells[3],
                     "json": cells[4], "detail": cells[5]})
    return rows


def load_json(path: Path) -> Tuple[Any, Optional[str]]:
    try:
        return json.loads(path.read_text()), None
    except (OSError, ValueError) as exc:
        return None, f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"


def records_in(data: Any) -> List[Dict[str, Any]]:
    """The run records in a `trtbench profile --json` file: one object, or a list of them."""
    if isinstance(data, dict):
        if isinstance(data.get("runs"), list):
            return [r for r in data["runs"] if isinstance(r, dict)]
        return [data]
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    return []


# ---- figures of one record ------------------------------------------------------------------

def images_per_s(rec: Dict[str, Any]) -> Optional[float]:
    value = rec.get("images_per_s")
    if isinstance(value, (int, float)):
        return float(value)
    tpm = rec.get("tiles_per_ms")
    if isinstance(tpm, (int, float)):
        return float(tpm) * 1000.0
    return None


def category_split(rec: Dict[str, Any]) -> Optional[Dict[str, float]]:
    """Percent of the profiled time per category; everything outside CATEGORY_COLUMNS is 'other'."""
    cats = rec.get("categories") or {}
    values = {k: float(v) for k, v in cats.items() if isinstance(v, (int, float))}
    total = sum(values.values())
    if total <= 0:
        return None
    split = {c: 100.0 * values.get(c, 0.0) / total for c in CATEGORY_COLUMNS}
    split["other"] = 100.0 * sum(v for k, v in values.items() if k not in CATEGORY_COLUMNS) / total
    return split


def layers_over_e2e(rec: Dict[str, Any]) -> Optional[float]:
    overhead = rec.get("overhead")
    return 1.0 + float(overhead) if isinstance(overhead, (int, float)) else None


def verdict(rec: Dict[str, Any]) -> str:
    validity = rec.get("validity") or {}
    text = str(validity.get("verdict") or "-")
    flagged = [str(c.get("name")) for c in validity.get("checks") or []
               if isinstance(c, dict) and str(c.get("status", "")).lower() not in ("pass", "ok")]
    return f"{text} ({', '.join(flagged)})" if flagged else text


def run_kind(rec: Dict[str, Any]) -> str:
    session = rec.get("session") or {}
    parts = [f"{rec.get('backend', '?')}/{rec.get('device', '?')}"]
    if session.get("cuda_graph"):
        parts.append("graph")
    if session.get("channels_last"):
        parts.append("NHWC")
    return " ".join(parts)


def model_name(rec: Dict[str, Any]) -> str:
    model = rec.get("model") or {}
    return str(model.get("name") or model.get("source") or "?")


def fmt(value: Optional[float], digits: int = 3) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


RECORD_HEADER = ["model", "run", "precision", "batch", "images/s", "ms per batch",
                 *[f"{c} %" for c in CATEGORY_COLUMNS], "other %", "layers / e2e", "verdict"]


def record_row(rec: Dict[str, Any]) -> List[str]:
    split = category_split(rec) or {}
    return [model_name(rec), run_kind(rec), str(rec.get("precision", "-")), str(rec.get("batch", "-")),
            fmt(images_per_s(rec)), fmt(rec.get("end_to_end_ms") if isinstance(rec.get("end_to_end_ms"),
                                                                               (int, float)) else None, 4),
            *[pct(split.get(c)) for c in CATEGORY_COLUMNS], pct(split.get("other")),
            fmt(layers_over_e2e(rec)), verdict(rec)]


# ---- fidelity and drift ---------------------------------------------------------------------

def fidelity_rows(bares: List[Tuple[Path, Any]], records: List[Dict[str, Any]]) -> List[List[str]]:
    rows = []
    for path, bare in bares:
        if not isinstance(bare, dict):
            rows.append([path.name, "-", "-", "-", "-", "-", "-", "unreadable"])
            continue
        key = (bare.get("model"), bare.get("precision"), bare.get("batch"), bare.get("device"))
        match = [r for r in records
                 if (model_name(r), r.get("precision"), r.get("batch"), r.get("device")) == key
                 and not (r.get("session") or {}).get("cuda_graph") and r.get("backend") == "torch"]
        tool = images_per_s(match[-1]) if match else None
        bare_ips = bare.get("images_per_s")
        bare_mean = bare.get("mean_images_per_s")
        ratio = tool / bare_ips if tool and isinstance(bare_ips, (int, float)) and bare_ips > 0 else None
        ratio_mean = (tool / bare_mean if tool and isinstance(bare_mean, (int, float)) and bare_mean > 0
                      else None)
        note = "no trtbench run to compare" if tool is None else (
            "within 5 %" if ratio is not None and abs(ratio - 1) <= 0.05 else "OUTSIDE 5 %")
        rows.append([str(bare.get("model")), str(bare.get("precision")), str(bare.get("batch")),
                     fmt(tool), fmt(bare_ips if isinstance(bare_ips, (int, float)) else None),
                     "-" if ratio is None else f"{ratio:.3f}",
                     "-" if ratio_mean is None else f"{ratio_mean:.3f}", note])
    return rows


FIDELITY_HEADER = ["network", "precision", "batch", "trtbench images/s", "bare images/s (median iter.)",
                   "ratio trtbench / bare", "ratio vs bare loop-mean", "note"]


def drift_rows(drifts: List[Tuple[Path, Any]]) -> List[List[str]]:
    rows = []
    for path, data in drifts:
        if not isinstance(data, dict):
            rows.append([path.name, "-", "-", "-", "-", "-", "-", "unreadable"])
            continue
        source = data.get("source") or {}
        parts = data.get("parts") or {}

        def median(part: str, parts: Dict[str, Any] = parts) -> str:
            value = (parts.get(part) or {}).get("median")
            return fmt(value if isinstance(value, (int, float)) else None, 4)

        rows.append([str(source.get("model", path.stem)), str(source.get("alloc", "-")),
                     str(source.get("loops", "-")), "yes" if data.get("drift") else "no",
                     ", ".join(str(p) for p in data.get("drifted") or []) or "-",
                     median("alloc"), median("compute"), median("total")])
    return rows


DRIFT_HEADER = ["model", "alloc", "loops", "drift", "drifted parts", "alloc ms (median)",
                "compute ms (median)", "total ms (median)"]


# ---- the summary ----------------------------------------------------------------------------

def summarise(out: Path, note: str = "") -> str:
    status = read_status(out)
    lines = ["# GPU check summary", ""]
    if note:
        lines += [note, ""]
    env = out / "env.txt"
    if env.is_file():
        lines += ["## Machine", "", "```", env.read_text(errors="replace").rstrip(), "```", ""]

    # every record, by file
    by_file: Dict[str, List[Dict[str, Any]]] = {}
    bad_files: Dict[str, str] = {}
    for path in sorted((out / "runs").glob("*.json")) if (out / "runs").is_dir() else []:
        data, error = load_json(path)
        rel = path.relative_to(out).as_posix()
        if error:
            bad_files[rel] = error
        else:
            by_file[rel] = records_in(data)
    all_records = [r for recs in by_file.values() for r in recs]
    bares = [(p, load_json(p)[0]) for p in sorted((out / "bare").glob("*.json"))] \
        if (out / "bare").is_dir() else []
    drifts = [(p, load_json(p)[0]) for p in sorted((out / "drift").glob("*.json"))] \
        if (out / "drift").is_dir() else []

    steps: List[str] = []
    for row in status:
        if row["step"] not in steps:
            steps.append(row["step"])
    if status:
        overview = []
        for step in steps:
            rows = [r for r in status if r["step"] == step]
            count = {s: sum(1 for r in rows if r["status"] == s)
                     for s in ("OK", "FAILED", "TIMEOUT", "SKIPPED")}
            seconds = sum(int(r["seconds"]) for r in rows if r["seconds"].isdigit())
            overview.append([step, str(count["OK"]), str(count["FAILED"]), str(count["TIMEOUT"]),
                             str(count["SKIPPED"]), str(seconds)])
        lines += ["## Steps", ""] + table(["step", "ok", "failed", "timed out", "skipped", "seconds"],
                                          overview) + [""]

    listed = set()
    for step in steps:
        rows = [r for r in status if r["step"] == step]
        lines += [f"## {step}: {STEP_TITLES.get(step, step)}", ""]
        recs = []
        for r in rows:
            if r["json"] and r["json"] != "-" and r["json"] in by_file:
                listed.add(r["json"])
                recs.extend(by_file[r["json"]])
        if recs:
            lines += table(RECORD_HEADER, [record_row(rec) for rec in recs]) + [""]
        if step == "fidelity" and bares:
            lines += table(FIDELITY_HEADER, fidelity_rows(bares, all_records)) + [""]
        if step == "drift" and drifts:
            lines += table(DRIFT_HEADER, drift_rows(drifts)) + [""]
        for r in rows:
            if r["status"] != "OK":
                detail = f": {r['detail']}" if r["detail"] else ""
                lines.append(f"- {r['status']} {r['item']}{detail}")
            elif r["detail"]:
                lines.append(f"- OK {r['item']}: {r['detail']}")
        lines.append("")

    others = {k: v for k, v in by_file.items() if k not in listed}
    if others:
        lines += ["## Runs" if not status else "## Other runs in runs/", ""]
        lines += table(RECORD_HEADER, [record_row(rec) for recs in others.values() for rec in recs]) + [""]
    if not status and bares:
        lines += ["## Fidelity", ""] + table(FIDELITY_HEADER, fidelity_rows(bares, all_records)) + [""]
    if not status and drifts:
        lines += ["## Drift", ""] + table(DRIFT_HEADER, drift_rows(drifts)) + [""]
    if bad_files:
        lines += ["## Unreadable files", ""] + [f"- {k}: {v}" for k, v in bad_files.items()] + [""]
    if not status and not by_file and not bares and not drifts:
        lines += ["(nothing to summarise: no status.tsv, runs/, bare/ or drift/ in this folder)", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the gpu_check output folder ($OUT)")
    parser.add_argument("--out", dest="target", type=Path, default=None,
                        help="where to write the Markdown (default: OUT/summary.md)")
    parser.add_argument("--note", default="", help="a line under the title (e.g. the budget used)")
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = parser.parse_args()
    if not args.out.is_dir():
        parser.error(f"{args.out} is not a folder")
    text = summarise(args.out, args.note)
    target = args.target or args.out / "summary.md"
    target.write_text(text)
    if not args.quiet:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
