"""TCP ports on 127.0.0.1 for tests that need one no one else uses."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (the source ports of outgoing connections)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Test servers listen below the ephemeral range. A port found by binding port 0 comes from that
# range, and until the server under test binds it the kernel may give it to any outgoing
# connection as its source port (seen in CI: Envoy's HTTP port "already in use"). Ports below
# it are never handed out that way; each is given once per test session.
_PORTS = range(20000, min(_ephemeral_low(), 32768))
_given: set[int] = set()
_random = random.SystemRandom()


def free_port() -> int:
    """A port nothing holds right now and no earlier free_port() gave, for a server the test
    starts on it."""
    if len(_PORTS) < 1000:  # an unusual ephemeral range: the kernel's pick, as it comes
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            picked: int = sock.getsockname()[1]
            return picked
    for _ in range(1000):
        port = _random.choice(_PORTS)
        if port in _given:
            continue
        _given.add(port)
        with socket.socket() as sock:  # a plain bind: a listener or a closed connection's TIME_WAIT fails it
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {_PORTS}")


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
