"""MNIST: IDX parsing (gzip and raw, corrupt files), the real data set, normalisation, check, fetch."""
from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from trtbench.errors import TrtbenchError
from trtbench.models import mnist


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding written independently of the reader: magic 0 0 0x08 ndim, big-endian sizes."""
    assert array.dtype == np.uint8
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    data = idx_bytes(array)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def fake_mnist(folder: Path, n_train: int = 50, n_test: int = 20,
               compress=(True, False, True, False)) -> dict:
    rng = np.random.default_rng(1)
    arrays = {
        mnist.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        mnist.TRAIN_LABELS: rng.integers(0, 10, n_train, dtype=np.uint8),
        mnist.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        mnist.TEST_LABELS: rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for (name, array), gz in zip(arrays.items(), compress):
        write_idx(folder / name, array, gz)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_gzip_and_raw(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a-idx3-ubyte", array, compress)
    got = mnist.read_idx(path)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, array)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-no-suffix"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(mnist.read_idx(path), array)


@pytest.mark.parametrize("data, words", [
    (b"\x08\x03\x00\x00" + b"\x00" * 20, "bad magic"),
    (b"", "bad magic"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated"),
    (struct.pack(">BBBBI", 0, 0, 8, 1, 100) + b"\x01" * 99, "100"),
    (struct.pack(">BBBBI", 0, 0, 8, 1, 3) + b"\x01" * 4, "has 12 bytes"),
])
def test_corrupt_idx_is_a_user_error(data, words):
    with pytest.raises(TrtbenchError) as err:
        mnist.parse_idx(data, "x.idx")
    assert "x.idx" in str(err.value) and words in str(err.value)


def test_truncated_gzip_is_a_user_error(tmp_path):
    blob = gzip.compress(idx_bytes(np.zeros((100, 28, 28), np.uint8)))
    path = tmp_path / "t.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(TrtbenchError, match="cannot read"):
        mnist.read_idx(path)


def test_load_mixed_gzip_and_raw_folder(tmp_path):
    arrays = fake_mnist(tmp_path / "d")
    data = mnist.load_mnist(tmp_path / "d")
    np.testing.assert_array_equal(data.train_images, arrays[mnist.TRAIN_IMAGES])
    np.testing.assert_array_equal(data.train_labels, arrays[mnist.TRAIN_LABELS])
    np.testing.assert_array_equal(data.test_images, arrays[mnist.TEST_IMAGES])
    np.testing.assert_array_equal(data.test_labels, arrays[mnist.TEST_LABELS])


def test_data_dir_from_environment(tmp_path, monkeypatch):
    fake_mnist(tmp_path / "env")
    monkeypatch.setenv("TRTBENCH_DATA_DIR", str(tmp_path / "env"))
    assert mnist.load_mnist().train_images.shape == (50, 28, 28)


def test_missing_files_name_all_four_and_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.delenv("TRTBENCH_DATA_DIR", raising=False)
    with pytest.raises(TrtbenchError) as err:
        mnist.load_mnist(tmp_path / "nowhere")
    text = str(err.value)
    assert all(name in text for name in mnist.FILES)
    assert f"trtbench data fetch {tmp_path / 'nowhere'}" in text
    with pytest.raises(TrtbenchError, match="TRTBENCH_DATA_DIR"):
        mnist.load_mnist(None)


def test_labels_that_do_not_match_images_are_rejected(tmp_path):
    fake_mnist(tmp_path)
    (tmp_path / f"{mnist.TEST_LABELS}").write_bytes(idx_bytes(np.zeros(19, np.uint8)))
    with pytest.raises(TrtbenchError, match="expected 20 uint8 labels"):
        mnist.load_mnist(tmp_path)


def test_real_mnist(mnist_dir):
    data = mnist.load_mnist(mnist_dir)
    assert data.train_images.shape == (60000, 28, 28) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (10000, 28, 28)
    assert data.train_labels.shape == (60000,) and data.test_labels.shape == (10000,)
    # well-known facts of MNIST: the first digits of each file, every class present
    assert list(data.train_labels[:5]) == [5, 0, 4, 1, 9]
    assert list(data.test_labels[:5]) == [7, 2, 1, 0, 4]
    assert set(np.unique(data.train_labels)) == set(range(10))
    assert 5000 < np.bincount(data.train_labels).min() and np.bincount(data.train_labels).max() < 7000
    assert data.train_images.max() == 255 and data.train_images[:, 0, 0].max() == 0  # blank corner


def test_normalisation_matches_numpy_and_guards_constant_pixels():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 0  # a pixel that never varies
    images[:, 5, 5] = 17
    norm = mnist.Normalisation.from_images(images)
    x = images.astype(np.float64)
    np.testing.assert_allclose(norm.mean, x.mean(0), rtol=1e-6)
    expected_std = x.std(0)
    expected_std[expected_std == 0] = 1
    np.testing.assert_allclose(norm.std, expected_std, rtol=1e-5)
    assert norm.std[0, 0] == 1.0 and norm.std[5, 5] == 1.0
    out = mnist.normalise(images, norm)
    assert out.shape == (200, 1, 28, 28) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0].mean(0), 0, atol=1e-4)
    varying = expected_std != 1
    np.testing.assert_allclose(out[:, 0].std(0)[varying], 1, rtol=1e-4)
    assert out[0, 0, 5, 5] == 0.0
    back = mnist.Normalisation.from_lists(norm.to_lists())
    np.testing.assert_array_equal(back.mean, norm.mean)
    assert norm.summary()["constant_pixels"] == 2


def test_check_reports_each_file(tmp_path):
    fake_mnist(tmp_path, compress=(True, True, False, False))
    (tmp_path / mnist.TEST_LABELS).unlink()
    statuses = {s.name: s for s in mnist.check(tmp_path)}
    assert statuses[mnist.TRAIN_IMAGES].shape == (50, 28, 28)
    assert statuses[mnist.TRAIN_IMAGES].canonical is False  # random bytes are not MNIST
    assert statuses[mnist.TEST_LABELS].path is None and statuses[mnist.TEST_LABELS].problem == "missing"


def test_check_real_mnist_is_canonical(mnist_dir):
    assert all(s.canonical for s in mnist.check(mnist_dir))


def test_fetch_verifies_and_copies_from_a_mirror(tmp_path, mnist_dir):
    """A local folder as the mirror (file:// URL): every file passes its checksum."""
    out = tmp_path / "fetched"
    paths = mnist.fetch(out, mirrors=(mnist_dir.as_uri() + "/",))
    assert sorted(p.name for p in paths) == sorted(f"{n}.gz" for n in mnist.FILES)
    assert mnist.load_mnist(out).train_images.shape == (60000, 28, 28)


def test_fetch_rejects_a_mirror_with_other_content(tmp_path):
    fake_mnist(tmp_path / "mirror", compress=(True, True, True, True))
    with pytest.raises(TrtbenchError, match="checksum mismatch"):
        mnist.fetch(tmp_path / "out", mirrors=((tmp_path / "mirror").as_uri() + "/",))
    assert not any((tmp_path / "out").glob("*.gz"))  # nothing unverified was kept


def test_fetch_offline_is_one_line(tmp_path):
    with pytest.raises(TrtbenchError) as err:
        mnist.fetch(tmp_path, mirrors=("http://127.0.0.1:9/",), timeout=2)
    assert "\n" not in str(err.value) and "could not download" in str(err.value)


def test_cli_data_check(cli, mnist_dir, tmp_path):
    ok = cli("data", "check", mnist_dir)
    assert ok.returncode == 0, ok.stderr
    assert all(name in ok.stdout for name in mnist.FILES) and "original MNIST" in ok.stdout
    missing = cli("data", "check", tmp_path / "none")
    assert missing.returncode == 2
    assert missing.stderr.startswith("trtbench: error:") and len(missing.stderr.strip().splitlines()) == 1
    shutil.copytree(mnist_dir, tmp_path / "partial")
    (tmp_path / "partial" / f"{mnist.TEST_LABELS}.gz").unlink()
    partial = cli("data", "check", tmp_path / "partial", "--json", "-")
    assert partial.returncode == 2 and "missing t10k-labels-idx1-ubyte" in partial.stderr
    assert '"complete": false' in partial.stdout


def test_loaded_once_per_process_and_reloaded_when_a_file_changes(tmp_path):
    fake_mnist(tmp_path)
    first = mnist.load_mnist(tmp_path)
    assert mnist.load_mnist(tmp_path) is first
    assert not first.train_images.flags.writeable  # shared arrays cannot be changed by one caller
    write_idx(tmp_path / mnist.TEST_LABELS, np.full(20, 3, np.uint8), compress=False)
    again = mnist.load_mnist(tmp_path)
    assert again is not first and set(again.test_labels) == {3}
