"""Training a NetSpec on MNIST the study's way, and timing how long it takes to reach 90/95/97 %.

The method (thesis section 3): plain SGD with learning rate 0.03, L2 regularisation (weight decay
on the weights, not the biases), dropout on the hidden FC layers, up to 60 epochs, early
termination when validation accuracy stops improving, and a train / validation / test split (the
first `validation` tiles of the MNIST training file validate, the rest train; the 10,000 test tiles
are used once, at the end, on the best-validating weights).

Time to accuracy: the training wall time (forward, backward, update and batch gathering, summed
with a monotonic clock) until the validation check at which the accuracy first reached the target.
Validation checks are not counted. Until every target is reached they run `checks_per_epoch`
times an epoch, so a time is late by at most 1/`checks_per_epoch` of an epoch's training time;
after that, once an epoch.
"""
from __future__ import annotations

import os
import platform
import socket
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from trtbench import __version__
from trtbench.errors import TrtbenchError
from trtbench.models.mnist import MnistData, Normalisation, load_mnist, normalise
from trtbench.models.netspec import NetSpec

RECORD_KIND = "trtbench-training"
RECORD_SCHEMA_VERSION = 1
TARGETS = (0.90, 0.95, 0.97)  # the study's Table 2 columns
EVAL_BATCH = 250  # small enough to stay in cache: about twice as fast as 1000 on a CPU


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    lr: float = 0.03
    batch_size: int = 32
    weight_decay: float = 1e-4  # L2 coefficient: adds weight_decay * w to each weight's gradient
    momentum: float = 0.0  # the study used plain SGD
    validation: int = 5000
    patience: int = 5  # epochs without a better validation accuracy before stopping
    checks_per_epoch: int = 20  # validation checks an epoch until every target is reached
    seed: int = 0
    threads: Optional[int] = None  # torch CPU threads; None: the CPUs this process may use
    device: str = "cpu"  # "cpu" or "cuda"
    limit: Optional[int] = None  # train on only the first `limit` training tiles (quick looks, tests)
    targets: Tuple[float, ...] = TARGETS

    def check(self) -> None:
        for label, value in (("epochs", self.epochs), ("batch size", self.batch_size),
                             ("patience", self.patience), ("checks per epoch", self.checks_per_epoch)):
            if value < 1:
                raise TrtbenchError(f"{label} must be at least 1, got {value}")
        if self.lr <= 0:
            raise TrtbenchError(f"learning rate must be positive, got {self.lr}")
        if self.weight_decay < 0 or self.momentum < 0:
            raise TrtbenchError("weight decay and momentum must not be negative")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise TrtbenchError(f"unknown device '{self.device}'", hint="use cpu or cuda")
        if self.validation < 1:
            raise TrtbenchError(f"the validation set needs at least 1 tile, got {self.validation}")


@dataclass(frozen=True)
class Progress:
    """What a progress callback sees, after each batch and each validation check."""

    epoch: int
    epochs: int
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    loss: float  # mean training loss of the epoch so far
    train_seconds: float
    val_accuracy: Optional[float]  # the latest check's accuracy (None before the first)
    event: str  # "batch", "check", "epoch"


@dataclass
class TrainResult:
    model: Any  # torch.nn.Module in eval mode (the best-validating weights), returning logits
    normalisation: Normalisation
    record: Dict[str, Any]  # the JSON training record (see `training_record`)


def default_threads() -> int:
    """The CPUs this process may run on (affinity-aware), the sensible torch thread count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def split(data: MnistData, validation: int, limit: Optional[int] = None) -> Tuple[np.ndarray, ...]:
    """(train_x, train_y, val_x, val_y) uint8: the first `validation` training tiles validate."""
    n = data.train_images.shape[0]
    if validation >= n:
        raise TrtbenchError(f"validation set of {validation} tiles leaves none of the {n} training tiles")
    train_x, train_y = data.train_images[validation:], data.train_labels[validation:]
    if limit is not None:
        train_x, train_y = train_x[:limit], train_y[:limit]
    return train_x, train_y, data.train_images[:validation], data.train_labels[:validation]


def accuracy(model: Any, x: Any, y: Any) -> float:
    """Fraction of tiles whose arg-max logit is the label (model switched to eval and back)."""
    import torch

    was_training = model.training
    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, x.shape[0], EVAL_BATCH):
            logits = model(x[start:start + EVAL_BATCH])
            correct += int((logits.argmax(dim=1) == y[start:start + EVAL_BATCH]).sum())
    model.train(was_training)
    return correct / max(1, x.shape[0])


def train(spec: NetSpec, data_dir: Optional[Path] = None, config: TrainConfig = TrainConfig(),
          progress: Optional[Callable[[Progress], None]] = None,
          data: Optional[MnistData] = None) -> TrainResult:
    """Train `spec` on MNIST; return the best-validating model and the training record."""
    from trtbench.models.torchnet import build_model, import_torch

    torch = import_torch()
    config.check()
    spec.check()
    mnist = data if data is not None else load_mnist(data_dir)
    train_x, train_y, val_x, val_y = split(mnist, config.validation, config.limit)
    norm = Normalisation.from_images(train_x)

    if config.device != "cpu" and not torch.cuda.is_available():
        raise TrtbenchError(f"device {config.device} asked for, but torch sees no CUDA GPU",
                            hint="train on the CPU with --device cpu")
    device = torch.device(config.device)
    threads = config.threads or default_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    xt = torch.from_numpy(normalise(train_x, norm)).to(device)
    yt = torch.from_numpy(train_y.astype(np.int64)).to(device)
    xv = torch.from_numpy(normalise(val_x, norm)).to(device)
    yv = torch.from_numpy(val_y.astype(np.int64)).to(device)

    model = build_model(spec, seed=config.seed).to(device)
    model.train()
    weights = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimiser = torch.optim.SGD([{"params": weights, "weight_decay": config.weight_decay},
                                 {"params": biases, "weight_decay": 0.0}],
                                lr=config.lr, momentum=config.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(config.seed)

    n = xt.shape[0]
    batches = (n + config.batch_size - 1) // config.batch_size
    check_every = max(1, batches // config.checks_per_epoch)
    started_at = datetime.now(timezone.utc)
    host = host_info(threads, torch.cuda.get_device_name(device) if device.type == "cuda" else None)
    wall0 = time.perf_counter()
    train_seconds = 0.0
    eval_seconds = 0.0
    times: Dict[str, Optional[float]] = {_key(t): None for t in config.targets}
    checks: List[Dict[str, Any]] = []
    epochs_log: List[Dict[str, Any]] = []
    best: Tuple[float, int, Optional[Dict[str, Any]]] = (-1.0, 0, None)  # (accuracy, epoch, weights)
    stop_reason = f"ran all {config.epochs} epochs"
    last_acc: Optional[float] = None

    def validate(epoch: int, batch: int) -> float:
        nonlocal eval_seconds
        t0 = time.perf_counter()
        acc = accuracy(model, xv, yv)
        eval_seconds += time.perf_counter() - t0
        checks.append({"epoch": round(epoch - 1 + batch / batches, 4),
                       "batches": (epoch - 1) * batches + batch,
                       "train_seconds": round(train_seconds, 3), "val_accuracy": acc})
        for target in config.targets:
            if acc >= target and times[_key(target)] is None:
                times[_key(target)] = round(train_seconds, 3)
        return acc

    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(n, generator=generator)
        loss_sum, seen = 0.0, 0
        epoch_t0 = train_seconds
        for b in range(batches):
            t0 = time.perf_counter()
            idx = order[b * config.batch_size:(b + 1) * config.batch_size].to(device)
            xb, yb = xt[idx], yt[idx]
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimiser.step()
            loss_value = float(loss.detach())  # also waits for a GPU, so the clock is honest
            train_seconds += time.perf_counter() - t0
            if not np.isfinite(loss_value):
                raise TrtbenchError(f"training {spec.name} diverged (loss {loss_value} in epoch {epoch})",
                                    hint="lower the learning rate with --lr")
            loss_sum += loss_value * idx.shape[0]
            seen += idx.shape[0]
            event = "batch"
            pending = any(v is None for v in times.values())
            # the epoch's last check is the one at its end, so an epoch has `checks_per_epoch`
            if pending and (b + 1) % check_every == 0 and b + 1 + check_every <= batches:
                last_acc = validate(epoch, b + 1)
                event = "check"
            if progress is not None:
                progress(Progress(epoch, config.epochs, b + 1, batches, loss_sum / seen, train_seconds,
                                  last_acc, event))
        last_acc = validate(epoch, batches)
        epochs_log.append({"epoch": epoch, "train_loss": round(loss_sum / max(1, seen), 5),
                           "val_accuracy": last_acc,
                           "epoch_train_seconds": round(train_seconds - epoch_t0, 3),
                           "train_seconds": round(train_seconds, 3)})
        if progress is not None:
            progress(Progress(epoch, config.epochs, batches, batches, loss_sum / max(1, seen), train_seconds,
                              last_acc, "epoch"))
        if last_acc > best[0]:
            best = (last_acc, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= config.patience:
            stop_reason = (f"early termination: no better validation accuracy for {config.patience} "
                           f"epochs after epoch {best[1]}")
            break

    if best[2] is not None:
        model.load_state_dict(best[2])
    model.eval()
    t0 = time.perf_counter()
    test_acc = accuracy(model, torch.from_numpy(normalise(mnist.test_images, norm)).to(device),
                        torch.from_numpy(mnist.test_labels.astype(np.int64)).to(device))
    eval_seconds += time.perf_counter() - t0
    model.cpu()
    record = {
        "kind": RECORD_KIND,
        "schema_version": RECORD_SCHEMA_VERSION,
        "spec": spec.to_dict(),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "data": {"directory": str(mnist.directory), "train": int(n), "validation": int(xv.shape[0]),
                 "test": int(mnist.test_images.shape[0]), "normalisation": norm.summary()},
        "batches_per_epoch": batches,
        "check_every_batches": check_every,
        "epochs_run": len(epochs_log),
        "best_epoch": best[1],
        "stop_reason": stop_reason,
        "times_to_accuracy": times,
        "timing": "seconds of training (forward, backward, update, batch gathering) until the "
                  "validation check that first reached the accuracy; checks not counted",
        "best_val_accuracy": best[0],
        "test_accuracy": test_acc,
        "train_seconds": round(train_seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "wall_seconds": round(time.perf_counter() - wall0, 3),
        "epochs": epochs_log,
        "checks": checks,
        "host": host,
        "versions": {"trtbench": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "started_at": started_at.isoformat(timespec="seconds"),
    }
    return TrainResult(model, norm, record)


def _key(target: float) -> str:
    """'90' for 0.90: the key in `times_to_accuracy`."""
    return f"{target * 100:g}"


def host_info(threads: int, gpu: Optional[str] = None) -> Dict[str, Any]:
    """Where the training ran; the load average (taken before training) says whether the CPU was
    already busy."""
    from trtbench.device.host import cpu_model

    load = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return {"hostname": socket.gethostname(), "platform": platform.platform(),
            "processor": cpu_model(), "cpus": os.cpu_count(),
            "threads": threads, "gpu": gpu, "load_average_1min": load}
