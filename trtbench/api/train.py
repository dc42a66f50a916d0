"""`trtbench.train`: a network trained on MNIST the study's way, its checkpoint and its time to accuracy."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

from trtbench import jsonio
from trtbench.filenames import safe_name
from trtbench.models.netspec import NetSpec, resolve_spec
from trtbench.models.train import Progress, TrainConfig


def train(spec: Union[str, NetSpec], data_dir: Optional[Union[str, Path]] = None, *,
          out: Optional[Union[str, Path]] = None, progress: Optional[Callable[[Progress], None]] = None,
          **config: Any) -> Dict[str, Any]:
    """Train `spec` (a name like ``c3d20-f3n1024``, a bundled spec or a ``.toml`` file) on MNIST
    from `data_dir` (default: TRTBENCH_DATA_DIR) and write the checkpoint to `out` (default
    ``SPECNAME.pt``) with its training record beside it (``SPECNAME.train.json``).

    `config`: `trtbench.models.train.TrainConfig` fields (epochs, lr, batch_size, weight_decay,
    momentum, validation, patience, checks_per_epoch, seed, threads, device, limit). Returns the
    training record: seconds to 90/95/97 % validation accuracy, test accuracy, host, versions.
    """
    from trtbench.models.mnist import load_mnist
    from trtbench.models.torchnet import import_torch, save_checkpoint
    from trtbench.models.train import train as train_spec

    net = resolve_spec(spec) if isinstance(spec, str) else spec
    settings = TrainConfig(**config)
    settings.check()
    data = load_mnist(Path(data_dir) if data_dir is not None else None)  # before torch: missing data fails fast
    import_torch()
    path = Path(out) if out is not None else default_checkpoint(net.name)
    result = train_spec(net, config=settings, progress=progress, data=data)
    record = result.record
    record["checkpoint"] = str(path)
    save_checkpoint(path, net, result.model, result.normalisation, trained=True, record=record)
    jsonio.write_json(record, path.with_name(path.stem + ".train.json"))
    return record


def default_checkpoint(name: str) -> Path:
    """``<name>.pt`` in the working folder; a spec named ``../../x`` never climbs out of it."""
    return Path(f"{safe_name(name)}.pt")
