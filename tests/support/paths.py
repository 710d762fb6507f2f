"""Where things are: the repository, and the commands `make install` puts in .venv and .tools."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The venv running the tests: its bin holds `catapult`, `alembic` and Envoy.
VENV_BIN = Path(sys.executable).parent
CATAPULT = str(VENV_BIN / "catapult")
TOOLS_BIN = REPO / ".tools" / "bin"  # grpcurl and the other pinned Go tools
