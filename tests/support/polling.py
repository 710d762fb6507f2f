"""Waiting for a condition by asking again until a deadline: never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def poll_until(
    check: Callable[[], Awaitable[T | None]], within: float = 5.0, interval: float = 0.05
) -> T:
    """Call `check` until it returns something other than None, or fail after `within` s."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(interval)


def wait_until(check: Callable[[], object], within: float, what: str, interval: float = 0.1) -> None:
    """Blocking: until `check()` is true, or fail with `what` after `within` s."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(interval)


async def eventually(check: Callable[[], bool], within: float, what: str, interval: float = 0.02) -> None:
    """Until `check()` is true (a condition another thread or task makes so), or fail with
    `what` after `within` s."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(interval)
