"""README's setup paragraph (issue 15 item 4): naming torch in the setup command pins its version,
not its build; the paragraph says how to get the CPU build anywhere, with the same version."""

from __future__ import annotations

import re

from conftest import REPO
from test_docs import readme_bash_lines

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _setup_prose() -> str:
    """The Setup section without its code blocks, on one line (inline code may break across lines)."""
    text = (REPO / "README.md").read_text().split("## Setup", 1)[1].split("\n## ", 1)[0]
    return " ".join(re.sub(r"```.*?```", "", text, flags=re.DOTALL).split())


def test_the_setup_paragraph_names_pytorchs_cpu_index_for_the_pinned_version() -> None:
    setup = next(line for line in readme_bash_lines() if "pip install" in line)
    pinned = re.search(r"\btorch==[\w.+]+", setup)
    assert pinned, setup
    spans = re.findall(r"`([^`]+)`", _setup_prose())
    with_index = [s for s in spans if CPU_INDEX in s]
    assert any(s.startswith("python3 -m pip install ") and f"{pinned.group()} --index-url {CPU_INDEX}" in s
               for s in with_index), with_index  # the same version as the setup command, CPU build
    assert f"--extra-index-url {CPU_INDEX}" in with_index
    assert "named first so that pip does not" not in _setup_prose()
