"""When and how long to wait before repeating a call that failed with UNAVAILABLE."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

log = logging.getLogger("catapult")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for calls that fail with ``UNAVAILABLE``.

    Only calls that are safe to repeat are retried: reads, creates (each logical create sends one
    ``request_id``, generated once and reused by every attempt, so the server returns the first
    attempt's result instead of creating a second resource), and writes that set absolute values
    without an etag. Deletes and etag-guarded updates are not retried: when an attempt did reach the
    server, its repeat would report ``NOT_FOUND`` or ``ABORTED`` for what was a success.

    The wait before attempt *n+1* is ``min(max_backoff, initial_backoff * multiplier**(n-1))``,
    of which a random part (``jitter``, 0 to 1) is dropped so many clients do not retry in step. The
    call's timeout bounds all attempts and waits together.
    """

    max_attempts: int = 5
    """Attempts in all, the first included; 1 turns retries off."""
    initial_backoff: float = 0.5
    """Seconds before the second attempt."""
    max_backoff: float = 8.0
    """Upper bound of one wait, in seconds."""
    multiplier: float = 2.0
    jitter: float = 0.5
    """Fraction of each wait that is random: 0.5 waits between half and all of the backoff."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoffs must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter}")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return ceiling * (1 - self.jitter * random.random())


def log_retry(method: str, attempt: int, max_attempts: int, delay: float, message: str) -> None:
    log.warning(
        "catapult: %s failed with UNAVAILABLE (%s); attempt %d of %d, retrying in %.2f s",
        method,
        message,
        attempt,
        max_attempts,
        delay,
    )
