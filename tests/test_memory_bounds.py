"""Resources bounded up front: a batch or a spec that cannot fit is refused in one line, before
anything is exported, prepared or allocated (a typo must not fill the machine's memory)."""
from __future__ import annotations

import pytest

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
