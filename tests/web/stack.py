"""`catapult up` for the browser tests (tests.support.stack.Stack): its Envoy serving the built
console (web/dist) and the API on one port, on a database of the tests' PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.database import blocking, create_database, drop_database
from tests.support.paths import REPO
from tests.support.stack import Stack, running

WEB_DIST = REPO / "web" / "dist"


@contextmanager
def running_stack(data_dir: Path, postgres_url: str, **settings: str) -> Iterator[Stack]:
    """A stack on a new, empty database of the tests' PostgreSQL (`catapult up` migrates it), with
    `settings` as CATAPULT_* variables (web_dir="…" sets CATAPULT_WEB_DIR); stopped and its
    database dropped on leaving, even on failure."""
    if not (WEB_DIST / "index.html").exists():
        pytest.fail("the console is not built: run `make install` (npm ci && npm run build in web/)")
    database_url = blocking(create_database(postgres_url, prefix="web"))
    try:
        with running(Stack(data_dir, cwd=REPO, settings={"database_url": database_url, **settings})) as stack:
            yield stack
    finally:
        blocking(drop_database(postgres_url, database_url))
