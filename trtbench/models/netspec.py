"""Network specifications: the 2016 study's family, canonical names, TOML specs, FLOPs and bytes.

The study's family (``c{M}d{D}-f{K}n{N}``): one 28x28 grey tile; M convolution layers of 5x5
kernels, stride 1, valid padding, ReLU, depth D; 2x2/2 max pooling after the last convolution
only; K hidden fully-connected layers of N neurons with ReLU; an output layer of 10 classes and
softmax. ``c3d20-f3n1024`` is 3 conv layers of depth 20 and 3 hidden FC layers of 1024.

Other networks (LeNet-5, or anything a user writes) are TOML files with explicit layers; see
`models/lenet5.toml`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Sequence

from trtbench.errors import TrtbenchError
from trtbench.tomlio import load_toml

FAMILY_NAME = re.compile(r"^c(?P<m>\d+)d(?P<d>\d+)-f(?P<k>\d+)n(?P<n>\d+)$")
BYTES_PER_VALUE = 4  # fp32; other precisions scale the activation and weight bytes


@dataclass(frozen=True)
class ConvLayer:
    """One convolution (+ReLU) layer, optionally followed by max pooling of `pool` x `pool`."""

    out_channels: int
    kernel: int = 5
    stride: int = 1
    padding: int = 0
    pool: int = 0  # 0: no pooling after this layer; else window = stride = pool


@dataclass(frozen=True)
class LayerGeometry:
    """Shape and cost of one layer for one tile (batch 1)."""

    name: str  # conv1, pool, fc1, ..., out
    kind: str  # conv, pool, fc (matches categories.CONV/POOL/FC)
    in_shape: Tuple[int, ...]
    out_shape: Tuple[int, ...]
    params: int
    flops: int  # multiply-adds count 2; ReLU/pool/softmax count one per output value
    bytes: int  # weights + input + output activations at fp32


# Bounds on a spec, checked before any layer is made: past them a network is not one any target
# runs (and a typo like f100000000n128, 100 million FC layers, would fill the memory).
MAX_LAYERS = 256  # conv + hidden FC layers
MAX_WIDTH = 1 << 20  # channels of a conv layer, neurons of an FC layer, classes
MAX_INPUT = 8192  # tile side in pixels, and input channels


def _check_bounds(name: str, layers: int, widths: Sequence[int], input_size: int, channels: int) -> None:
    if layers > MAX_LAYERS:
        raise TrtbenchError(f"spec {name}: {layers:,} layers is more than the {MAX_LAYERS} trtbench builds",
                            hint="use fewer conv or FC layers")
    wide = max(widths, default=0)
    if wide > MAX_WIDTH:
        raise TrtbenchError(f"spec {name}: a width of {wide:,} (channels, neurons or classes) is more than the "
                            f"{MAX_WIDTH:,} trtbench builds", hint="use narrower layers")
    if input_size > MAX_INPUT or channels > MAX_INPUT:
        raise TrtbenchError(f"spec {name}: an input of {channels}x{input_size}x{input_size} is larger than "
                            f"{MAX_INPUT} pixels or channels", hint="use a smaller input")


def _check_values(name: str, conv: Sequence[ConvLayer], fc: Sequence[int], classes: int, input_size: int,
                  channels: int, dropout: float) -> None:
    """Counts below their least value (a width of 0, a stride of 0, a negative padding) would give a
    network with negative parameters or a division by zero; each is refused naming the layer."""
    least = [("classes", classes, 1), ("input size", input_size, 1), ("input channels", channels, 1)]
    least += [(f"FC layer {j}", width, 1) for j, width in enumerate(fc, start=1)]
    for i, layer in enumerate(conv, start=1):
        least += [(f"conv layer {i} out channels", layer.out_channels, 1),
                  (f"conv layer {i} kernel", layer.kernel, 1), (f"conv layer {i} stride", layer.stride, 1),
                  (f"conv layer {i} padding", layer.padding, 0), (f"conv layer {i} pool", layer.pool, 0)]
        for label, value in (("kernel", layer.kernel), ("stride", layer.stride), ("padding", layer.padding),
                             ("pool", layer.pool)):
            if value > MAX_INPUT:
                raise TrtbenchError(f"spec {name}: conv layer {i} {label} {value:,} is more than {MAX_INPUT}")
    for label, value, minimum in least:
        if value < minimum:
            raise TrtbenchError(f"spec {name}: {label} must be at least {minimum}, got {value}")
    if not 0.0 <= dropout < 1.0:  # also NaN
        raise TrtbenchError(f"spec {name}: dropout must be from 0 to below 1, got {dropout}")


def _whole(value: Any) -> int:
    """A TOML count as an int: ``true`` or ``12.5`` is not silently 1 or 12."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


@dataclass(frozen=True)
class NetSpec:
    """A classification CNN on square grey tiles."""

    name: str
    conv: Tuple[ConvLayer, ...]
    fc: Tuple[int, ...]  # hidden FC widths; the output layer (classes) is implicit
    classes: int = 10
    input_size: int = 28
    input_channels: int = 1
    dropout: float = 0.5
    description: str = ""
    family: Optional[Dict[str, int]] = field(default=None, compare=False)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def study(cls, conv_layers: int, depth: int = 20, fc_layers: int = 1, neurons: int = 1024) -> "NetSpec":
        """A network of the 2016 study's family."""
        for label, value in (("conv layers", conv_layers), ("depth", depth),
                             ("FC layers", fc_layers), ("neurons", neurons)):
            if value < 1:
                raise TrtbenchError(f"{label} must be at least 1, got {value}")
        _check_bounds(f"c{conv_layers}d{depth}-f{fc_layers}n{neurons}", conv_layers + fc_layers,
                      (depth, neurons), 28, 1)
        convs = tuple(
            ConvLayer(out_channels=depth, pool=2 if i == conv_layers - 1 else 0) for i in range(conv_layers)
        )
        spec = cls(
            name=f"c{conv_layers}d{depth}-f{fc_layers}n{neurons}",
            conv=convs,
            fc=(neurons,) * fc_layers,
            description=f"{conv_layers} conv of depth {depth}, {fc_layers} hidden FC of {neurons}",
            family={"conv_layers": conv_layers, "depth": depth, "fc_layers": fc_layers, "neurons": neurons},
        )
        spec.check()
        return spec

    # ---- geometry -----------------------------------------------------------------------
    def check(self) -> None:
        """Raise TrtbenchError if the spec is out of bounds or the tile would shrink below 1x1."""
        _check_values(self.name, self.conv, self.fc, self.classes, self.input_size, self.input_channels,
                      self.dropout)
        _check_bounds(self.name, len(self.conv) + len(self.fc),
                      [c.out_channels for c in self.conv] + list(self.fc) + [self.classes],
                      self.input_size, self.input_channels)
        self.layers()

    def layers(self) -> List[LayerGeometry]:
        """Per-layer shapes, parameters, FLOPs and bytes for one tile."""
        out: List[LayerGeometry] = []
        c, s = self.input_channels, self.input_size
        for i, layer in enumerate(self.conv, start=1):
            s_out = (s + 2 * layer.padding - layer.kernel) // layer.stride + 1
            if s + 2 * layer.padding < layer.kernel or s_out < 1:
                raise TrtbenchError(
                    f"spec {self.name}: conv layer {i} ({layer.kernel}x{layer.kernel}) needs a tile of at "
                    f"least {layer.kernel}x{layer.kernel} but gets {s}x{s}; "
                    f"{self._max_conv_hint()}"
                )
            params = layer.kernel * layer.kernel * c * layer.out_channels + layer.out_channels
            macs = layer.kernel * layer.kernel * c * layer.out_channels * s_out * s_out
            n_out = layer.out_channels * s_out * s_out
            out.append(LayerGeometry(
                f"conv{i}", "conv", (c, s, s), (layer.out_channels, s_out, s_out), params,
                2 * macs + n_out, BYTES_PER_VALUE * (params + c * s * s + n_out),
            ))
            c, s = layer.out_channels, s_out
            if layer.pool:
                s_pool = s // layer.pool
                if s_pool < 1:
                    raise TrtbenchError(
                        f"spec {self.name}: {layer.pool}x{layer.pool} pooling after conv layer {i} gets a "
                        f"{s}x{s} tile and would leave less than 1x1; {self._max_conv_hint()}"
                    )
                n_pool = c * s_pool * s_pool
                out.append(LayerGeometry(
                    f"pool{i}" if sum(1 for l in self.conv if l.pool) > 1 else "pool", "pool",
                    (c, s, s), (c, s_pool, s_pool), 0, c * s * s, BYTES_PER_VALUE * (c * s * s + n_pool),
                ))
                s = s_pool
        width = c * s * s
        for j, neurons in enumerate((*self.fc, self.classes), start=1):
            is_out = j == len(self.fc) + 1
            params = width * neurons + neurons
            out.append(LayerGeometry(
                "out" if is_out else f"fc{j}", "fc", (width,), (neurons,), params,
                2 * width * neurons + neurons, BYTES_PER_VALUE * (params + width + neurons),
            ))
            width = neurons
        return out

    def _max_conv_hint(self) -> str:
        if self.family is None:
            return "reduce the kernel size, add padding or use fewer conv layers"
        # valid 5x5 convs shrink by 4 each, and the final 2x2 pooling needs at least 2x2
        limit = (self.input_size - 2) // 4
        return f"the study's 5x5 valid convolutions allow at most {limit} conv layers on a {self.input_size}x{self.input_size} tile"

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers())

    @property
    def flops(self) -> int:
        """FLOPs to classify one tile."""
        return sum(layer.flops for layer in self.layers())

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-able description (stored in run records and ONNX metadata)."""
        return {
            "name": self.name,
            "input": [self.input_channels, self.input_size, self.input_size],
            "conv": [vars(layer).copy() for layer in self.conv],
            "fc": list(self.fc),
            "classes": self.classes,
            "family": dict(self.family) if self.family else None,
            "params": self.params,
            "flops_per_tile": self.flops,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NetSpec":
        """Inverse of `to_dict` (also accepts TOML spec tables)."""
        family = data.get("family")
        if family:
            spec = cls.study(int(family["conv_layers"]), int(family["depth"]),
                             int(family["fc_layers"]), int(family["neurons"]))
            name = str(data.get("name", spec.name))
            return spec if name == spec.name else cls(**{**spec.__dict__, "name": name})
        return spec_from_table(data, source=str(data.get("name", "<dict>")))


# ---- names and files --------------------------------------------------------------------------

def parse_name(name: str) -> Optional[NetSpec]:
    """The study-family spec for a canonical name like ``c3d20-f3n1024``; None if not of that form."""
    m = FAMILY_NAME.match(name.strip())
    if not m:
        return None
    return NetSpec.study(int(m["m"]), int(m["d"]), int(m["k"]), int(m["n"]))


def spec_from_table(table: Mapping[str, Any], source: str) -> NetSpec:
    """A NetSpec from a parsed TOML table: either family keys or explicit ``[[conv]]`` + ``fc``."""
    try:
        if "conv_layers" in table:
            spec = NetSpec.study(_whole(table["conv_layers"]), _whole(table.get("depth", 20)),
                                 _whole(table.get("fc_layers", 1)), _whole(table.get("neurons", 1024)))
            if "name" in table and table["name"] != spec.name:
                spec = NetSpec(**{**spec.__dict__, "name": str(table["name"])})
            return spec
        convs = tuple(
            ConvLayer(
                out_channels=_whole(c["out"] if "out" in c else c["out_channels"]),
                kernel=_whole(c.get("kernel", 5)), stride=_whole(c.get("stride", 1)),
                padding=_whole(c.get("padding", 0)), pool=_whole(c.get("pool", 0)),
            )
            for c in table.get("conv", [])
        )
        inp = table.get("input", 28)
        input_channels, input_size = ((1, _whole(inp)) if isinstance(inp, (int, float))
                                      else (_whole(inp[0]), _whole(inp[-1])))
        spec = NetSpec(
            name=str(table["name"]), conv=convs, fc=tuple(_whole(n) for n in table.get("fc", [])),
            classes=_whole(table.get("classes", 10)), input_size=input_size,
            input_channels=input_channels, dropout=float(table.get("dropout", 0.5)),
            description=str(table.get("description", "")),
        )
    except (KeyError, TypeError, ValueError, OverflowError, IndexError, AttributeError) as exc:
        raise TrtbenchError(
            f"{source}: not a valid network spec ({exc.__class__.__name__}: {exc})",
            hint="see models/lenet5.toml for the format",
        ) from None
    spec.check()
    return spec


def load_spec_file(path: Path) -> NetSpec:
    """A NetSpec from a TOML file."""
    table = load_toml(path)
    if "name" not in table and "conv_layers" not in table:
        table = {**table, "name": path.stem}
    return spec_from_table(table, source=str(path))


def bundled_specs() -> Dict[str, NetSpec]:
    """Named specs from the model folders (files with a ``name`` and no ``[[group]]``)."""
    from trtbench import env

    specs: Dict[str, NetSpec] = {}
    for folder in env.model_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            table = load_toml(path)
            if table.get("kind", "spec") != "spec":
                continue
            spec = load_spec_file(path)
            specs[spec.name] = spec
    return specs


def resolve_spec(text: str) -> NetSpec:
    """A spec from a canonical name, a bundled spec name, or a TOML file path."""
    spec = parse_name(text)
    if spec is not None:
        return spec
    path = Path(text)
    if path.suffix == ".toml":
        if not os.path.lexists(path):  # a FIFO or a folder is there: load_toml names what it is
            raise TrtbenchError(f"spec file {text} does not exist")
        return load_spec_file(path)
    specs = bundled_specs()
    if text in specs:
        return specs[text]
    raise TrtbenchError(
        f"unknown spec '{text}'",
        hint="use a name like c3d20-f3n1024 (3 conv of depth 20, 3 hidden FC of 1024), "
        "a .toml file, or one listed by 'trtbench models'",
    )
