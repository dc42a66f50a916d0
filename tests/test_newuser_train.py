"""`trtbench train` in a pipe or a log (issue 15 item 4): a live bar shows nothing there, so
progress comes as plain lines on stderr, a few seconds apart."""

from __future__ import annotations

from types import SimpleNamespace
from typing import List

import pytest

from trtbench.cli.progress import TrainLog
from trtbench.render import console


def _progress(batch: int, event: str = "batch", val=None) -> SimpleNamespace:
    return SimpleNamespace(epoch=1, epochs=3, batch=batch, batches=100, loss=0.5, train_seconds=batch / 10,
                           val_accuracy=val, event=event)


def test_a_line_at_the_start_then_every_five_seconds_and_each_epoch(monkeypatch) -> None:
    said: List[str] = []
    monkeypatch.setattr(console, "info", said.append)
    now = [100.0]
    log = TrainLog("c1d20-f1n128", clock=lambda: now[0])
    for batch in range(1, 101):  # one batch every 0.25 s: 25 s
        log(_progress(batch, "check" if batch % 20 == 0 else "batch", val=0.9 if batch >= 20 else None))
        now[0] += 0.25
    log(_progress(100, "epoch", val=0.95))
    assert said[0] == "c1d20-f1n128 epoch 1/3: batch 1/100 (1 %), loss 0.5000, val -, 0 s elapsed"
    assert [line.split(": batch ")[1].split("/")[0] for line in said[:-1]] == ["1", "21", "41", "61", "81"]
    assert "val 90.00 %, 5 s elapsed" in said[1]
    assert said[-1] == "epoch 1: validation accuracy 95.00 %, training loss 0.5000, 10.0 s of training so far"


@pytest.mark.slow
def test_train_in_a_pipe_prints_progress_lines(cli, mnist_dir) -> None:
    done = cli("train", "c1d5-f1n32", "--data-dir", mnist_dir, "--epochs", "1", "--limit", "1000",
               "--validation", "500", "--threads", "1", "--out", "m.pt")  # stderr is a pipe here
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    progress = [i for i, line in enumerate(lines) if line.startswith("c1d5-f1n32 epoch 1/1: batch 1/")]
    epoch = [i for i, line in enumerate(lines) if line.startswith("epoch 1: validation accuracy")]
    assert progress and epoch and progress[0] < epoch[0], done.stderr
    assert "" not in lines[:epoch[0]]  # no blank line left by a bar nobody saw
    quiet = cli("train", "c1d5-f1n32", "--data-dir", mnist_dir, "--epochs", "1", "--limit", "1000",
                "--validation", "500", "--threads", "1", "--out", "m.pt", "-q")
    assert quiet.returncode == 0 and "batch 1/" not in quiet.stderr
