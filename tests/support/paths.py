"""Where things are: the repository, and the commands `make install` puts in .venv and .tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The venv running the tests: its bin holds `catapult`, `alembic` and Envoy.
VENV_BIN = Path(sys.executable).parent
CATAPULT = str(VENV_BIN / "catapult")
TOOLS_BIN = REPO / ".tools" / "bin"  # grpcurl and the other pinned Go tools


def record_figure(results: Path, name: str, value: object) -> None:
    """Keep a measured figure under `name` in the JSON file `results` (build/…), beside the others."""
    results.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(results.read_text()) if results.exists() else {}
    figures[name] = value
    results.write_text(json.dumps(figures, indent=2) + "\n")
