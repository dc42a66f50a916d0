"""Progress on stderr for long commands: a live bar on a terminal, one line per step in a log."""
from __future__ import annotations

from typing import Any, Dict, Optional, Set

from trtbench.render import console


class SweepBar:
    """A rich progress bar over a sweep's work (GFLOP, so the ETA follows the work), or one line a
    point when stderr is not a terminal. Implements `trtbench.api.sweep.Progress`."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._weights: Dict[str, float] = {}
        self._tty = console.stderr().is_terminal and not console.quiet()

    def start(self, plan: Any, done: Set[str], weights: Dict[str, float]) -> None:
        self._weights = weights
        if not self._tty:
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[points]}"),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             console=console.stderr(), transient=False)
        already = sum((weights[k] for k in weights if k in done), 0.0)
        self._task = self._bar.add_task("sweep", total=sum(weights.values()), completed=int(already),
                                        points=f"{len(done & set(weights))}/{len(plan.points)}")
        self._bar.start()

    def point_started(self, point: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=point.key)

    def point_done(self, finished: int, total: int, point: Any, seconds: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=self._weights[point.key], points=f"{finished}/{total}")
        else:
            console.info(f"[{finished}/{total}] {point.key}: {seconds:.1f} s")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "SweepBar":
        return self

    def __exit__(self, *exc: Optional[Any]) -> None:
        self.close()
