"""`trtbench train`: train a spec on MNIST the study's way; print the Table-2-style row."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from trtbench.cli import args as common
from trtbench.cli.progress import TrainLog, epoch_line, val_text
from trtbench.models.netspec import resolve_spec
from trtbench.render import console

NAME = "train"
HELP = "train a network on MNIST (SGD, L2, dropout, early termination); times to 90, 95, 97 percent"
EXAMPLE = "trtbench train c1d20-f1n128 --data-dir ../shared/data/mnist --epochs 1 --out c1d20-f1n128.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from trtbench.models.train import TrainConfig

    d = TrainConfig()
    parser.add_argument("spec", metavar="SPEC",
                        help="a name like c3d20-f3n1024, a bundled spec, or a .toml file")
    parser.add_argument("--data-dir", type=Path, help="folder of the four MNIST IDX files "
                        "(default: $TRTBENCH_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=d.epochs,
                        help=f"at most this many epochs (default {d.epochs})")
    parser.add_argument("--out", type=Path, help="checkpoint to write (default: SPECNAME.pt); the "
                        "training record goes beside it as SPECNAME.train.json")
    parser.add_argument("--lr", type=float, default=d.lr, help=f"SGD learning rate (default {d.lr})")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    parser.add_argument("--weight-decay", type=float, default=d.weight_decay,
                        help=f"L2 coefficient on the weights (default {d.weight_decay})")
    parser.add_argument("--momentum", type=float, default=d.momentum,
                        help="SGD momentum (default 0: plain SGD)")
    parser.add_argument("--patience", type=int, default=d.patience,
                        help="stop after this many epochs without a better validation accuracy "
                        f"(default {d.patience})")
    parser.add_argument("--validation", type=int, default=d.validation,
                        help=f"tiles of the training file held out to validate (default {d.validation})")
    parser.add_argument("--checks-per-epoch", type=int, default=d.checks_per_epoch,
                        help=f"validation checks an epoch until 97 %% is reached "
                        f"(default {d.checks_per_epoch})")
    parser.add_argument("--limit", type=int, help="train on only the first N training tiles (a quick look)")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"default {d.seed}")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: the CPUs this process may use)")
    parser.add_argument("--device", default=d.device, help="cpu or cuda (default cpu)")
    parser.add_argument("--json", metavar="FILE|-",
                        help="also write the training record here ('-' for stdout)")
    common.add_exports(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.train import train

    spec = resolve_spec(args.spec)
    # a live bar on a terminal; in a pipe or a log (where a bar shows nothing) a line every few seconds
    progress = _progress_bar(spec.name) if console.stderr().is_terminal else TrainLog(spec.name)
    with progress as report:
        record = train(spec, args.data_dir, out=args.out, progress=report, epochs=args.epochs, lr=args.lr,
                       batch_size=args.batch_size, weight_decay=args.weight_decay, momentum=args.momentum,
                       validation=args.validation, patience=args.patience, checks_per_epoch=args.checks_per_epoch,
                       seed=args.seed, threads=args.threads, device=args.device, limit=args.limit)
    if args.json:
        jsonio.write_json(record, args.json)
    out = Path(record["checkpoint"])
    console.info(f"{record['stop_reason']}; best validation accuracy "
                 f"{100 * record['best_val_accuracy']:.2f} % (epoch {record['best_epoch']}); "
                 f"wrote {out} and {out.with_name(out.stem + '.train.json')}")
    if args.json != "-":
        _print_table2(record)
    return 0


def _print_table2(record: Dict[str, Any]) -> None:
    from trtbench.study2016.table2 import table2_rows

    keys = list(record["times_to_accuracy"])
    t = console.table("Training time to validation accuracy (Table 2 of the study)",
                      ["network", "source", *[f"{k} %" for k in keys], "test accuracy"],
                      right=[*[f"{k} %" for k in keys], "test accuracy"])
    for row in table2_rows(record):
        times = [f"{row.seconds[k]:.1f} s" if row.seconds.get(k) is not None else "not reached" for k in keys]
        acc = "-" if row.test_accuracy is None else f"{100 * row.test_accuracy:.2f} %"
        t.add_row(row.network, row.source, *times, acc)
    console.show(t)
    host = record["host"]
    console.info(f"trtbench: {record['train_seconds']:.1f} s training + {record['eval_seconds']:.1f} s "
                 f"validation on {host['gpu'] or host['processor']}, {host['threads']} threads, load before "
                 f"{host['load_average_1min']}; times exclude validation checks")


class _progress_bar:
    """A rich progress bar on stderr fed by `trtbench.models.train` callbacks, plus one line per epoch."""

    def __init__(self, name: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.name = name
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}"),
                            TimeElapsedColumn(), console=console.stderr(), transient=True)
        self.task: Optional[Any] = None  # a rich TaskID
        self.epoch = 0

    def __enter__(self) -> Callable[[Any], None]:
        self.started = False  # the bar starts with training, so an early error stays one line
        return self.update

    def __exit__(self, *exc: Any) -> None:
        if self.started:
            self.bar.__exit__(*exc)

    def update(self, p: Any) -> None:
        if not self.started:
            self.bar.__enter__()
            self.started = True
        val = val_text(p)
        if p.epoch != self.epoch:
            if self.task is not None:
                self.bar.remove_task(self.task)
            self.epoch = p.epoch
            self.task = self.bar.add_task(f"{self.name} epoch {p.epoch}/{p.epochs}", total=p.batches,
                                          loss="-", val=val)
        if p.event == "batch" and p.batch % 10 and p.batch != p.batches:
            return  # redrawing every batch costs more than small networks' steps
        assert self.task is not None
        self.bar.update(self.task, completed=p.batch, loss=f"{p.loss:.4f}", val=val)
        if p.event == "epoch":
            self.bar.console.print(epoch_line(p), markup=False, highlight=False, soft_wrap=True)
