"""Progress on stderr for long commands: a live bar on a terminal, one line per step in a log."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, Set

from trtbench.render import console

LOG_EVERY_S = 5.0  # seconds between progress lines when stderr is not a terminal


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


def val_text(p: Any) -> str:
    """The latest validation accuracy of a `trtbench.models.train.Progress`, or '-' before the first."""
    return "-" if p.val_accuracy is None else f"{100 * p.val_accuracy:.2f} %"


def epoch_line(p: Any) -> str:
    """The line that ends an epoch, on a terminal and in a log alike."""
    return (f"epoch {p.epoch}: validation accuracy {val_text(p)}, training loss {p.loss:.4f}, "
            f"{p.train_seconds:.1f} s of training so far")


class TrainLog:
    """Training progress as plain lines on stderr when it is not a terminal (a pipe, a log file,
    CI), where a live bar shows nothing: a line at the first batch, then one every `every_s`
    seconds, and one an epoch. Takes `trtbench.models.train.Progress` callbacks; -q silences it."""

    def __init__(self, name: str, every_s: float = LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.every_s = every_s
        self.clock = clock
        self.started: Optional[float] = None
        self.last: Optional[float] = None

    def __call__(self, p: Any) -> None:
        now = self.clock()
        if self.started is None:
            self.started = now
        if p.event == "epoch":
            console.info(epoch_line(p))
        elif self.last is None or now - self.last >= self.every_s:
            console.info(f"{self.name} epoch {p.epoch}/{p.epochs}: batch {p.batch}/{p.batches} "
                         f"({100 * p.batch // max(1, p.batches)} %), loss {p.loss:.4f}, val {val_text(p)}, "
                         f"{now - self.started:.0f} s elapsed")
        else:
            return
        self.last = now

    def __enter__(self) -> "TrainLog":
        return self

    def __exit__(self, *exc: object) -> None:
        pass
