"""Resources bounded up front: a batch or a spec that cannot fit is refused in one line, before
anything is exported, prepared or allocated (a typo must not fill the machine's memory)."""
from __future__ import annotations

import pytest

from conftest import SHARED, has_module

from trtbench.errors import TrtbenchError
from trtbench.models.inputs import ModelInput
from trtbench.models.memory import available_bytes, check_batches_fit, check_weights_fit, item_bytes
from trtbench.models.netspec import MAX_LAYERS, NetSpec, parse_name

TILES = [ModelInput("tiles", ["N", 1, 28, 28])]
GIB = 2 ** 30


def test_item_bytes_follow_the_input_types():
    assert item_bytes(TILES) == 784 * 4
    two = [ModelInput("x", ["N", 3, 224, 224], "uint8"), ModelInput("s", ["N", 2], "float16")]
    assert item_bytes(two) == 3 * 224 * 224 + 2 * 2


def test_available_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:   20000000 kB\n")
    assert available_bytes(meminfo) == 20000000 * 1024


def test_a_batch_that_cannot_fit_is_refused_with_the_batch_that_fits():
    check_batches_fit("m", TILES, 0.0, [1, 1024], available=GIB)  # 3 MiB: fits
    with pytest.raises(TrtbenchError) as err:
        check_batches_fit("m", TILES, 0.0, [64, 1_000_000_000], available=GIB)
    assert "batch 1,000,000,000" in err.value.message and "2.9 TiB" in err.value.message
    assert err.value.hint == f"use --batch {GIB // 3136:,} or less"
    with pytest.raises(TrtbenchError, match="weights alone"):
        check_batches_fit("m", TILES, 2.0 * GIB, [1], available=GIB)


def test_weights_that_cannot_be_exported_are_refused():
    check_weights_fit("spec s", 100e6, available=GIB)
    with pytest.raises(TrtbenchError, match="twice"):
        check_weights_fit("spec s", 0.6 * GIB, available=GIB)


@pytest.mark.parametrize("name, what", [("c1d20-f100000000n128", "layers"), ("c300d20-f1n128", "layers"),
                                        ("c1d20-f1n100000000", "width"), ("c1d2000000-f1n1", "width")])
def test_spec_names_out_of_bounds_are_refused_before_any_layer_is_made(name, what):
    with pytest.raises(TrtbenchError, match=what):
        parse_name(name)


def test_bounds_leave_every_bundled_and_study_spec_alone():
    from trtbench.models.netspec import bundled_specs

    for spec in bundled_specs().values():
        spec.check()
    assert len(NetSpec.study(1, 20, MAX_LAYERS - 1, 8).fc) == MAX_LAYERS - 1  # up to the bound: allowed
    with pytest.raises(TrtbenchError, match="layers"):
        NetSpec.study(1, 20, MAX_LAYERS, 8)


def test_profile_of_a_batch_too_large_stops_at_once(cli):
    result = cli("profile", "c1d20-f1n128", "--batch", "1000000000", "--backend", "onnxruntime", "--no-db")
    assert result.returncode == 2 and result.stderr.count("trtbench: error:") == 1
    assert "available" in result.stderr and "--batch" in result.stderr and "Traceback" not in result.stderr


def test_a_sweep_point_that_cannot_fit_stops_the_sweep_before_its_first_point(tmp_path):
    from trtbench.sweeps.file import load_sweep
    from trtbench.sweeps.plan import plan_sweep

    (tmp_path / "s.toml").write_text('kind = "sweep"\nname = "s"\n[defaults]\nconv_layers = 1\ndepth = 20\n'
                                     'fc_layers = 1\nneurons = 128\nbatch = 16\n[[group]]\nname = "g"\n'
                                     'batch = [16, 1000000000]\n')
    with pytest.raises(TrtbenchError, match="g/c1d20-f1n128@1000000000") as err:
        plan_sweep(load_sweep(tmp_path / "s.toml"))
    assert "a batch of" in str(err.value.hint)


# ---- where the run goes: the host, a Jetson's shared memory, a GPU's own ------------------------

def test_nvidia_smi_free_memory_is_read_in_mib():
    from trtbench.device.gpu_memory import parse_smi_free

    assert parse_smi_free("143771\n") == 143771 * 2 ** 20
    assert parse_smi_free("  812 MiB\n") == 812 * 2 ** 20
    assert parse_smi_free("[N/A]\n") is None and parse_smi_free("") is None


def test_the_memory_a_run_can_have_depends_on_where_it_runs(tmp_path, monkeypatch):
    import trtbench.device.gpu_memory as gpu_memory
    from trtbench.models.memory import available_for

    jetson = tmp_path / "jetson"
    (jetson / "etc").mkdir(parents=True)
    (jetson / "etc" / "nv_tegra_release").write_text("# R32 (release), REVISION: 7.1\n")
    (jetson / "proc").mkdir()
    (jetson / "proc" / "meminfo").write_text("MemTotal: 4000000 kB\nMemAvailable:   3000000 kB\n")
    free, where = available_for("cuda", root=jetson)  # a Nano's GPU shares its 4 GB with the host
    assert free == 3000000 * 1024 and "Jetson" in where

    asked = []
    monkeypatch.setattr(gpu_memory, "free_bytes", lambda index=0: asked.append(index) or 80 * GIB)
    assert available_for("cuda:1", root=tmp_path) == (80 * GIB, "GPU 1") and asked == [1]
    assert available_for("cpu", root=jetson)[1] == "this host"


def test_the_counted_graph_bounds_a_batch_by_its_largest_node_not_only_its_input():
    from trtbench.models.memory import counted_item_bytes

    image = [ModelInput("x", ["N", 3, 224, 224])]
    assert counted_item_bytes(image, None) == 3 * 224 * 224 * 4
    # a node reading and writing 6.5 MB per item keeps at least half of that live at once
    assert counted_item_bytes(image, {"largest_node_bytes_per_item": 6.5e6}) == 3.25e6
    assert counted_item_bytes(image, {"largest_node_bytes_per_item": 1e3}) == 3 * 224 * 224 * 4


ULTRAFACE = SHARED / "fixtures" / "models" / "ultraface_rfb320.onnx"


@pytest.mark.skipif(not ULTRAFACE.is_file() or not has_module("onnxruntime"), reason="needs the model and onnxruntime")
def test_a_batch_whose_inputs_fit_but_whose_activations_cannot_is_refused_before_loading(tmp_path, monkeypatch):
    """UltraFace's input is 0.9 MB an item, its largest node moves 4.9 MB an item: batch 64 with
    120 MiB free passes the input check (59 MB) and is refused once the graph is counted (158 MB)."""
    import trtbench.models.memory as memory
    from trtbench.api.pipeline import open_session

    monkeypatch.setattr(memory, "available_for", lambda device, root=None: (120 * 2 ** 20, "GPU 0"))
    with pytest.raises(TrtbenchError) as err:
        open_session(str(ULTRAFACE), "onnxruntime", "cpu", cache_dir=tmp_path, batches=[1, 64])
    assert "batch 64" in err.value.message and "GPU 0 has 120.0 MiB" in err.value.message
    assert err.value.hint.startswith("use --batch ")
    fits = int(err.value.hint.split()[2].replace(",", ""))
    assert 1 <= fits < 64
    open_session(str(ULTRAFACE), "onnxruntime", "cpu", cache_dir=tmp_path, batches=[1, fits]).close()
