"""trtbench: how many images per millisecond will this CNN classify on that NVIDIA device, and
where does the time go?

The Python API (every command of the ``trtbench`` CLI calls the same functions)::

    import trtbench
    runs = trtbench.profile("c1d20-f1n128", batch=[16, 64], backend="onnxruntime")
    print(runs[0].images_per_s, runs[0].categories)

Measuring: `profile`, `ablate`, `sweep`, `drift`, `train`, `build`, `emit_script`, `study`. Saved runs:
`load_runs`, `find_runs`, `export_runs`, `import_runs`, `delete_runs`, `import_trtexec`.
Analyses from saved runs (no GPU): `compare`, `compare_all`, `fit`, `predict`, `drift_series`,
`drift_history`, `plot`; device telemetry: `read_telemetry`, `sample_telemetry`. Records are
`RunRecord`s (``trtbench.results.record``). Heavy packages (torch, onnxruntime, tensorrt,
matplotlib) are imported only when a function needs them.
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, List

__version__ = "0.1.0"

# name → the module under trtbench that defines it
_API: Dict[str, str] = {
    "profile": "api.profile",
    "ablate": "api.ablate",
    "sweep": "api.sweep",
    "drift": "api.drift",
    "drift_series": "api.drift",
    "drift_history": "api.drift",
    "train": "api.train",
    "build": "api.build",
    "emit_script": "api.build",
    "study": "api.study",
    "load_runs": "api.runs",
    "find_runs": "api.runs",
    "export_runs": "api.runs",
    "import_runs": "api.runs",
    "delete_runs": "api.runs",
    "import_trtexec": "api.runs",
    "check_runs": "api.runs",
    "compare": "api.compare",
    "compare_all": "api.compare",
    "fit": "api.fit",
    "predict": "api.fit",
    "load_fits": "api.fit",
    "plot": "api.plot",
    "read_telemetry": "api.telemetry",
    "sample_telemetry": "api.telemetry",
    "RunRecord": "results.record",
    "TrtbenchError": "errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    """The API by name, imported on first use (PEP 562), so ``import trtbench`` stays light."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'trtbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"trtbench.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_API))
