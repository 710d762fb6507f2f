"""TCP ports on 127.0.0.1 for tests that need one no one else uses."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A port nothing listens on right now, for a server the test starts on it. (Bound and released
    at once: another process could take it before the test does, but the kernel hands out ports in
    turn, so that is rare.)"""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port bound but not listening, for the block: connections to it are refused at once, and no
    other process can start listening on it meanwhile (unlike a released free_port())."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


def is_free(port: int) -> bool:
    """Nothing has the port: a plain bind succeeds (SO_REUSEADDR: closed connections of the
    last owner, in TIME_WAIT, do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
