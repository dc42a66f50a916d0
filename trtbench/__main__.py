"""`python -m trtbench`: the same CLI as the `trtbench` script."""
from __future__ import annotations

import sys

from trtbench.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
