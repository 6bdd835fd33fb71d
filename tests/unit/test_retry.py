"""The one retry helper for optimistic writes (``adapters/retry.py``): backoff, jitter, giving up loudly."""

from __future__ import annotations

import pytest

from chalicelib.adapters.retry import ATTEMPTS, BASE_SECONDS, CAP_SECONDS, backoff, retry_on_conflict
from chalicelib.adapters.unit_of_work import ConcurrentUpdate, StoreUnavailable
from chalicelib.services import retry as services_retry


class Flaky:
    """An operation that loses ``conflicts`` races (raising ``error``), then answers ``done``."""

    def __init__(self, conflicts: int, error: type[Exception] = ConcurrentUpdate) -> None:
        self.conflicts = conflicts
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise self.error("moved")
        return "done"


def test_each_wait_is_a_random_share_of_a_bound_that_doubles_up_to_the_cap():
    for attempt in range(1, 12):
        bound = min(CAP_SECONDS, BASE_SECONDS * 2 ** attempt)
        assert backoff(attempt, rng=lambda: 0.0) == 0.0
        assert backoff(attempt, rng=lambda: 0.999999) == pytest.approx(bound * 0.999999)
        assert 0.0 <= backoff(attempt) < bound
    assert backoff(1, rng=lambda: 0.5) == pytest.approx(BASE_SECONDS)  # 0.5 * 0.005 * 2
    assert backoff(30, rng=lambda: 0.999999) < CAP_SECONDS  # never longer than the cap


def test_a_conflict_is_retried_after_a_jittered_wait_until_the_write_goes_through():
    waits: list[float] = []
    operation = Flaky(conflicts=3)
    assert retry_on_conflict(operation, sleep=waits.append, rng=lambda: 0.5) == "done"
    assert operation.calls == 4
    assert waits == pytest.approx([0.5 * BASE_SECONDS * 2 ** n for n in (1, 2, 3)])


def test_when_every_attempt_loses_the_conflict_itself_is_raised_after_the_last_one():
    waits: list[float] = []
    operation = Flaky(conflicts=100)
    with pytest.raises(ConcurrentUpdate):
        retry_on_conflict(operation, attempts=4, sleep=waits.append)
    assert operation.calls == 4 and len(waits) == 3  # no wait after the last attempt
    with pytest.raises(ConcurrentUpdate):
        retry_on_conflict(Flaky(conflicts=100), sleep=waits.append)
    assert ATTEMPTS == 10


@pytest.mark.parametrize("error", [StoreUnavailable, KeyError, ValueError])
def test_anything_but_a_conflict_goes_to_the_caller_at_once(error):
    waits: list[float] = []
    operation = Flaky(conflicts=1, error=error)
    with pytest.raises(error):
        retry_on_conflict(operation, sleep=waits.append)
    assert operation.calls == 1 and waits == []


def test_a_throttle_is_retried_only_where_the_caller_asks_for_it():
    waits: list[float] = []
    operation = Flaky(conflicts=2, error=StoreUnavailable)
    assert retry_on_conflict(operation, also=(StoreUnavailable,), sleep=waits.append) == "done"
    assert operation.calls == 3 and len(waits) == 2


def test_services_and_adapters_share_the_one_helper():
    assert services_retry.retry_on_conflict is retry_on_conflict and services_retry.ATTEMPTS == ATTEMPTS
