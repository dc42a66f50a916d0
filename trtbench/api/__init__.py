"""The Python API: what `import trtbench` offers, and what every command calls.

One module per entry point, each a thin chain over the domain packages (models, backends,
measure, results, sweep, analysis, study). `trtbench/__init__.py` exposes the functions by name
(`trtbench.profile`, `trtbench.load_runs`, ...) and imports each module only when it is used.
"""
