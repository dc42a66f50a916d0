"""RunRecords built directly, with the shape of real ones, for store/render/compare tests."""

from __future__ import annotations

import random
from typing import List, Optional, Sequence, Tuple

from trtbench.results.record import LayerTime, RunRecord

# c1d20-f1n1024 on onnxruntime CPU at batch 1024 (ms per batch): the shape of a real profile.
ORT_LAYERS: Sequence[Tuple[str, str, float, str]] = (
    ("/conv1/Conv", "conv", 11.8, "Conv"),
    ("/relu1/Relu", "elementwise", 1.45, "Relu"),
    ("/pool1/MaxPool", "pool", 2.9, "MaxPool"),
    ("/flatten/Flatten", "reformat", 0.04, "Flatten"),
    ("/fc1/Gemm", "fc", 5.6, "Gemm"),
    ("/relu2/Relu", "elementwise", 0.21, "Relu"),
    ("/out/Gemm", "fc", 0.33, "Gemm"),
    ("/softmax/Softmax", "elementwise", 0.12, "Softmax"),
)

# The same network as a TensorRT engine: conv+relu fused, a reformat layer added.
TRT_LAYERS: Sequence[Tuple[str, str, float, str]] = (
    ("Reformatting CopyNode for Input Tensor 0 to /conv1/Conv", "reformat", 0.021, "Reformat"),
    ("/conv1/Conv + /relu1/Relu", "conv", 0.41, "CaskConvolution"),
    ("/pool1/MaxPool", "pool", 0.095, "CaskPooling"),
    ("/fc1/Gemm + /relu2/Relu", "fc", 0.052, "CaskGemmMatrixMultiply"),
    ("/out/Gemm", "fc", 0.006, "CaskGemmMatrixMultiply"),
    ("/softmax/Softmax", "elementwise", 0.011, "CaskSoftMax"),
)


def make_record(
    model: str = "c1d20-f1n1024",
    backend: str = "onnxruntime",
    device: str = "cpu",
    batch: int = 1024,
    layers: Sequence[Tuple[str, str, float, str]] = ORT_LAYERS,
    scale: float = 1.0,
    overhead: float = 0.04,
    cv: float = 0.01,
    seed: int = 1,
    precision: str = "fp32",
    device_name: str = "AMD EPYC 7B13",
    created: Optional[str] = None,
    iterations: int = 20,
    loops: int = 3,
    validity: Optional[dict] = None,
) -> RunRecord:
    """A finished record: layer times × `scale` × batch/1024, end-to-end = layer sum / (1 + overhead)."""
    factor = scale * batch / 1024
    layer_times = [LayerTime(name=n, category=c, ms=ms * factor, type=t) for n, c, ms, t in layers]
    e2e = sum(layer.ms for layer in layer_times) / (1 + overhead)
    rng = random.Random(seed)
    iteration_ms: List[List[float]] = [
        [e2e * (1 + rng.gauss(0, cv)) for _ in range(iterations)] for _ in range(loops)
    ]
    loop_ms = [sum(loop) for loop in iteration_ms]
    median_loop = sorted(loop_ms)[len(loop_ms) // 2]
    record = RunRecord(
        backend=backend,
        device=device,
        batch=batch,
        precision=precision,
        model={"name": model, "sha256": "ab" * 32, "source": "spec", "item": "tile"},
        iterations=iterations,
        loops=loops,
        loop_ms=loop_ms,
        iteration_ms=iteration_ms,
        end_to_end_ms=median_loop / iterations,
        tiles_per_ms=batch * iterations / median_loop,
        layers=layer_times,
        overhead=overhead,
        warmup=5,
        backend_version="1.20.1",
        device_name=device_name,
        validity=validity if validity is not None else {"verdict": "VALID", "checks": []},
    )
    if created:
        record.created = created
    record.finish_layers()
    return record
