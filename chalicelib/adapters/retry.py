"""One retry loop for optimistic writes: re-read, decide again, write, with backoff and jitter.

A conflict (``ConcurrentUpdate``: the item moved between our read and our write) means another
request won a race on the same item. Retrying at once, in step with the other losers, makes them
collide again; so each attempt waits a random time up to an exponentially growing bound ("full
jitter"), capped, for a bounded number of attempts. Only conflicts are retried: a throttle or any
other error goes to the caller unchanged. On the last attempt the conflict itself is raised: the
caller says what that means (409 ``busy`` at the API, a logged error in a job), never nothing.

It lives with the adapters so that a repository may use it too; ``services/retry.py`` re-exports it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from .conflicts import ConcurrentUpdate

T = TypeVar("T")

ATTEMPTS = 10
BASE_SECONDS = 0.005
CAP_SECONDS = 0.25


def backoff(attempt: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS,
            rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): uniform in [0, min(cap, base * 2**attempt))."""
    return rng() * min(cap, base * (2 ** attempt))


def retry_on_conflict(
    operation: Callable[[], T],
    *,
    attempts: int = ATTEMPTS,
    also: tuple[type[BaseException], ...] = (),
    sleep: Callable[[float], None] | None = None,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run ``operation`` until it does not raise ``ConcurrentUpdate`` (or one of ``also``), at most
    ``attempts`` times. ``also`` is for the few writes that must not be given up on a throttle,
    such as recording that Twilio accepted a message. ``sleep`` (default ``time.sleep``) and ``rng``
    are there for tests, which never wait."""
    retried = (ConcurrentUpdate, *also)
    wait = sleep or time.sleep
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except retried:
            if attempt == attempts:
                raise
            wait(backoff(attempt, rng=rng))
    raise AssertionError("unreachable")


__all__ = ["ATTEMPTS", "backoff", "retry_on_conflict"]
