"""Product code must run on Python 3.8 (JetPack 5): vermin checks syntax and APIs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_product_code_is_python38_compatible():
    pytest.importorskip("vermin")
    cmd = [sys.executable, "-c", "import sys; from vermin.main import main; sys.argv[0]='vermin'; sys.exit(main())",
           "--no-tips", "--violations", "-t=3.8-", str(REPO / "trtbench")]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
