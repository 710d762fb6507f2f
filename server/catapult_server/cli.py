"""The `catapult` command."""

from __future__ import annotations

import argparse

from catapult_server import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catapult", description="Catapult MLOps registry.")
    parser.add_argument("--version", action="version", version=f"catapult {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0
