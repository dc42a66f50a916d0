"""MNIST: IDX reading (gzipped or raw), per-pixel normalisation, and an optional checked download.

The four files are looked for as ``<name>`` or ``<name>.gz`` in the data directory, which comes
from the caller or else from ``TRTBENCH_DATA_DIR``. A file is recognised as gzip by its magic
bytes, not its name. Nothing is downloaded unless `fetch` is called (``trtbench data fetch DIR``).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.jsonio import read_file_bytes

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

# Mirrors serving the original gzipped files (yann.lecun.com itself now often refuses robots).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


@dataclass(frozen=True)
class Checksums:
    gz_sha256: str  # of the distributed .gz file
    gz_md5: str
    raw_md5: str  # of the uncompressed IDX bytes: identifies re-compressed copies too
    count: int


CHECKSUMS: Dict[str, Checksums] = {
    TRAIN_IMAGES: Checksums("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                            "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb", 60000),
    TRAIN_LABELS: Checksums("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                            "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624", 60000),
    TEST_IMAGES: Checksums("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                           "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea", 10000),
    TEST_LABELS: Checksums("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                           "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637", 10000),
}

_GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 256 * 2 ** 20  # uncompressed; the largest MNIST file is 47 MB
_IDX_TYPES: Dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


@dataclass(frozen=True)
class MnistData:
    """The four arrays, uint8: images [N,28,28] and labels [N] (0..9)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    directory: Path


# ---- IDX ----------------------------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    """The IDX bytes of a file, gunzipped when it starts with gzip's magic bytes. A regular file
    only, at most `MAX_IDX_BYTES` (before and after decompression: a small corrupt or hostile .gz
    can expand without end); a corrupt stream is one error line naming the file."""
    data = read_file_bytes(path, "MNIST file", MAX_IDX_BYTES)
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            raw = handle.read(MAX_IDX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile, CRC errors, a cut or corrupt stream
        raise TrtbenchError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})",
                            hint="fetch a fresh copy with: trtbench data fetch DIR") from None
    if len(raw) > MAX_IDX_BYTES:
        raise TrtbenchError(f"{path}: cannot read (it expands to more than {MAX_IDX_BYTES // 2 ** 20} MiB)",
                            hint="fetch a fresh copy with: trtbench data fetch DIR")
    return raw


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array held by IDX bytes (big-endian header: 0, 0, type code, ndim, ndim uint32 sizes)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise TrtbenchError(f"{source}: not an IDX file (bad magic number {data[:4].hex() or 'empty'})",
                            hint="fetch a fresh copy with: trtbench data fetch DIR")
    dtype = np.dtype(_IDX_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise TrtbenchError(f"{source}: truncated IDX header ({ndim} dimensions, {len(data)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: a corrupt header cannot overflow
    if len(data) != expected:
        raise TrtbenchError(
            f"{source}: IDX header says shape {list(shape)} ({expected} bytes) but the file has "
            f"{len(data)} bytes", hint="fetch a fresh copy with: trtbench data fetch DIR")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file, gzipped or raw."""
    return parse_idx(_read_bytes(path), str(path))


# ---- locating and loading -----------------------------------------------------------------------

def resolve_dir(data_dir: Optional[Path] = None) -> Path:
    """The data directory: the argument, else TRTBENCH_DATA_DIR; an error naming both if neither."""
    directory = data_dir if data_dir is not None else env.data_dir()
    if directory is None:
        raise TrtbenchError(
            f"no MNIST directory given: pass --data-dir DIR or set TRTBENCH_DATA_DIR to a folder holding "
            f"{', '.join(FILES)} (gzipped or raw)", hint="download them with: trtbench data fetch DIR")
    return Path(directory)


def find_file(directory: Path, name: str) -> Optional[Path]:
    """``name.gz`` or ``name`` in `directory`, whichever exists first; None if neither."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _missing_error(directory: Path, missing: List[str]) -> TrtbenchError:
    return TrtbenchError(
        f"MNIST not found in {directory}: missing {', '.join(missing)} (of the four files "
        f"{', '.join(FILES)}, gzipped or raw)", hint=f"download them with: trtbench data fetch {directory}")


# Loaded data sets by (path, size, mtime) of their files: exporting or training many networks in
# one process (a sweep, the tests) reads and decompresses the 55 MB only once.
_LOADED: Dict[Tuple[Tuple[str, int, int], ...], MnistData] = {}


def load_mnist(data_dir: Optional[Path] = None) -> MnistData:
    """Load the four MNIST files from `data_dir` (else TRTBENCH_DATA_DIR) and check their shapes.

    The arrays are read-only (they may be shared with other callers): copy before changing them.
    """
    directory = resolve_dir(data_dir)
    paths = {name: find_file(directory, name) for name in FILES}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise _missing_error(directory, missing)
    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths.values() if p is not None)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = _load(directory, paths)
    return _LOADED[key]


def _load(directory: Path, paths: Dict[str, Optional[Path]]) -> MnistData:
    arrays = {name: read_idx(path) for name, path in paths.items() if path is not None}
    for array in arrays.values():
        array.flags.writeable = False
    for images, labels in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        img, lab = arrays[images], arrays[labels]
        if img.ndim != 3 or img.shape[1:] != (28, 28) or img.dtype != np.uint8:
            raise TrtbenchError(f"{paths[images]}: expected uint8 images [N,28,28], got "
                                f"{img.dtype} {list(img.shape)}")
        if lab.ndim != 1 or lab.shape[0] != img.shape[0] or lab.dtype != np.uint8 or lab.max(initial=0) > 9:
            raise TrtbenchError(f"{paths[labels]}: expected {img.shape[0]} uint8 labels 0..9, got "
                                f"{lab.dtype} {list(lab.shape)}")
    return MnistData(arrays[TRAIN_IMAGES], arrays[TRAIN_LABELS], arrays[TEST_IMAGES], arrays[TEST_LABELS],
                     directory)


# ---- normalisation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Normalisation:
    """Per-pixel mean and standard deviation of training tiles (pixel values 0..255).

    Pixels that never vary (the empty border) have std 0; they are divided by 1 instead.
    """

    mean: np.ndarray  # float32 [28,28]
    std: np.ndarray  # float32 [28,28], no zeros

    @classmethod
    def from_images(cls, images: np.ndarray) -> "Normalisation":
        # Sums in float64 over a float32 copy: exact for 0..255 pixels, and far cheaper than a
        # float64 copy of 47 million values.
        x = images.reshape(images.shape[0], -1).astype(np.float32)
        mean = x.mean(axis=0, dtype=np.float64)
        var = np.einsum("ij,ij->j", x, x, dtype=np.float64) / x.shape[0] - mean * mean
        std = np.sqrt(np.maximum(var, 0.0)).reshape(images.shape[1:])
        mean = mean.reshape(images.shape[1:])
        std[std < 1e-6] = 1.0
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def summary(self) -> Dict[str, Any]:
        """A short description for metadata and records (not enough to rebuild it)."""
        varying = self.std != 1.0
        return {"kind": "per-pixel", "shape": list(self.mean.shape),
                "mean_of_means": round(float(self.mean.mean()), 4),
                "mean_of_stds": round(float(self.std[varying].mean()), 4) if varying.any() else 1.0,
                "constant_pixels": int((~varying).sum())}

    def to_lists(self) -> Dict[str, List[List[float]]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_lists(cls, data: Dict[str, Any]) -> "Normalisation":
        return cls(np.asarray(data["mean"], dtype=np.float32), np.asarray(data["std"], dtype=np.float32))


def normalise(images: np.ndarray, norm: Normalisation) -> np.ndarray:
    """uint8 tiles [N,28,28] → float32 [N,1,28,28], per-pixel ``(x - mean) / std``."""
    x = (images.astype(np.float32) - norm.mean) / norm.std
    return x[:, None, :, :].astype(np.float32, copy=False)


# ---- checking and fetching ----------------------------------------------------------------------

@dataclass(frozen=True)
class FileStatus:
    name: str
    path: Optional[Path]
    size: int  # bytes on disk, 0 if missing
    shape: Tuple[int, ...]  # () if missing or unreadable
    canonical: Optional[bool]  # content matches the original distribution; None if not checked
    problem: str = ""


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


def is_canonical(name: str, path: Path) -> bool:
    """Whether the file holds the original MNIST content (checked on the uncompressed bytes)."""
    return _digest(_read_bytes(path), "md5") == CHECKSUMS[name].raw_md5


def _is_canonical_quietly(name: str, path: Path) -> bool:
    try:
        return is_canonical(name, path)
    except TrtbenchError:
        return False


def check(data_dir: Optional[Path] = None) -> List[FileStatus]:
    """The state of each of the four files: found, readable, its shape, canonical content."""
    directory = resolve_dir(data_dir)
    if not directory.is_dir():
        raise TrtbenchError(f"MNIST directory {directory} does not exist",
                            hint=f"download the files with: trtbench data fetch {directory}")
    out: List[FileStatus] = []
    for name in FILES:
        path = find_file(directory, name)
        if path is None:
            out.append(FileStatus(name, None, 0, (), None, "missing"))
            continue
        try:
            data = _read_bytes(path)
            shape = tuple(parse_idx(data, str(path)).shape)
        except TrtbenchError as exc:
            out.append(FileStatus(name, path, path.stat().st_size, (), False, exc.message))
            continue
        canonical = _digest(data, "md5") == CHECKSUMS[name].raw_md5
        out.append(FileStatus(name, path, path.stat().st_size, shape, canonical))
    return out


def _download(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "trtbench"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def fetch(directory: Path, mirrors: Tuple[str, ...] = MIRRORS, timeout: float = 30.0,
          force: bool = False) -> List[Path]:
    """Download the four gzipped files into `directory`, verifying each one's checksum.

    A download is accepted when the sha256 or md5 of the .gz matches the original distribution,
    or the md5 of its uncompressed content does (a mirror that re-compressed the same bytes).

    Files already present with the canonical content are kept unless `force`. Each file is
    written atomically, so an interrupted fetch never leaves a half file behind.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    for name in FILES:
        target = directory / f"{name}.gz"
        existing = find_file(directory, name)
        if existing is not None and not force and _is_canonical_quietly(name, existing):
            written.append(existing)
            continue
        data = _fetch_one(name, mirrors, timeout)
        with tempfile.NamedTemporaryFile(dir=str(directory), prefix=f".{name}.", delete=False) as tmp:
            tmp.write(data)
        shutil.move(tmp.name, str(target))
        written.append(target)
    return written


def _verified(data: bytes, sums: Checksums) -> bool:
    """The distributed file (sha256 or md5 of the .gz), or a re-compressed copy of its content."""
    if _digest(data, "sha256") == sums.gz_sha256 or _digest(data, "md5") == sums.gz_md5:
        return True
    if data[:2] != _GZIP_MAGIC:
        return False
    try:
        return _digest(gzip.decompress(data), "md5") == sums.raw_md5
    except (OSError, EOFError, zlib.error):
        return False


def _fetch_one(name: str, mirrors: Tuple[str, ...], timeout: float) -> bytes:
    sums = CHECKSUMS[name]
    problems: List[str] = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            data = _download(url, timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            problems.append(f"{url}: {reason}")
            continue
        if _verified(data, sums):
            return data
        problems.append(f"{url}: checksum mismatch")
    offline = all("checksum" not in p for p in problems)
    raise TrtbenchError(
        f"could not download {name}.gz from any mirror ({'; '.join(problems)})",
        hint="check the network connection, or copy the four files into the folder by hand"
        if offline else "a mirror served a different file; try again later",
    )


def default_fetch_dir() -> Path:
    """Where `trtbench data fetch` puts the files when no folder is given."""
    return env.data_dir() or Path(os.path.expanduser("~/.cache/trtbench/mnist"))
