"""Concurrent staff and absence edits against ``make run``'s own stack, with real threads (issue 20, item 2).

The bug: ten absence PUTs for one worker at once all answered 201 and only two were stored; a
DELETE racing a PUT answered 200 and the absence stayed. Every answer must now be true: a 201 or
200 is stored, and an edit that lost the race is a 409 ``conflict`` that changed nothing.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.local_stack import LocalStack

ADMIN = ("admin-lee", "admin")


@pytest.fixture
def stack(local_stack: LocalStack) -> LocalStack:
    return local_stack


def _all_at_once(count: int, work: Any) -> list[Any]:
    """Run ``work(i)`` on ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _new_worker(stack: LocalStack) -> str:
    """A worker of the seeded agency for this test alone (the stack is shared by the session)."""
    staff_id = "w-" + uuid.uuid4().hex[:10]
    status, body = stack.call("PUT", f"/staff/{staff_id}", stack.staff(*ADMIN), {"role": "worker", "name": "Race"})
    assert status == 201, body
    return staff_id


def _member(stack: LocalStack, staff_id: str) -> dict[str, Any]:
    status, body = stack.call("GET", "/staff", stack.staff(*ADMIN))
    assert status == 200, body
    [member] = [s for s in body["staff"] if s["staff_id"] == staff_id]
    return member


def _absence_ids(stack: LocalStack, staff_id: str) -> set[str]:
    return {a["absence_id"] for a in _member(stack, staff_id)["absences"]}


def _put_absence(stack: LocalStack, staff_id: str, absence_id: str, day: int = 11) -> tuple[int, Any]:
    body = {"start": f"2026-02-{day:02d}", "end": f"2026-02-{day:02d}", "cover_id": "amal"}
    return stack.call("PUT", f"/staff/{staff_id}/absences/{absence_id}", stack.staff(*ADMIN), body)


def _assert_lost_races_are_conflicts(answers: list[tuple[int, Any]], won: set[int]) -> None:
    for status, body in answers:
        assert status in won | {409}, (status, body)
        if status == 409:
            assert body["error"]["code"] == "conflict", body


def test_ten_absence_puts_at_once_lose_no_write(stack):
    staff_id = _new_worker(stack)
    ids = [f"leave-{i}" for i in range(10)]

    answers = _all_at_once(10, lambda i: _put_absence(stack, staff_id, ids[i], day=1 + i))

    _assert_lost_races_are_conflicts(answers, {201})
    recorded = {ids[i] for i, (status, _body) in enumerate(answers) if status == 201}
    assert recorded, Counter(status for status, _ in answers)
    assert _absence_ids(stack, staff_id) == recorded  # every 201 is stored; no 409 left anything behind


def test_ten_absence_puts_at_once_retried_on_conflict_are_all_stored(stack):
    """A 409 means "ask again": the losers retrying one after another all get their absence in."""
    staff_id = _new_worker(stack)
    ids = [f"leave-{i}" for i in range(10)]

    answers = _all_at_once(10, lambda i: _put_absence(stack, staff_id, ids[i], day=1 + i))
    for i, (status, _body) in enumerate(answers):
        if status == 409:
            assert _put_absence(stack, staff_id, ids[i], day=1 + i)[0] == 201

    assert _absence_ids(stack, staff_id) == set(ids)


def test_a_delete_racing_puts_never_answers_200_and_leaves_the_absence(stack):
    staff_id = _new_worker(stack)
    for round_ in range(5):
        gone, new = f"gone-{round_}", f"new-{round_}"
        assert _put_absence(stack, staff_id, gone)[0] == 201
        before = _absence_ids(stack, staff_id)

        def race(i: int, gone: str = gone, new: str = new) -> tuple[int, Any]:
            if i == 0:
                return stack.call("DELETE", f"/staff/{staff_id}/absences/{gone}", stack.staff(*ADMIN))
            return _put_absence(stack, staff_id, f"{new}-{i}", day=20)

        answers = _all_at_once(4, race)

        _assert_lost_races_are_conflicts(answers, {200, 201})
        expected = set(before)
        if answers[0][0] == 200:
            expected.discard(gone)
        expected |= {f"{new}-{i}" for i in range(1, 4) if answers[i][0] == 201}
        assert _absence_ids(stack, staff_id) == expected, answers
        if gone in expected:  # the delete lost: asked again, it removes the absence
            assert stack.call("DELETE", f"/staff/{staff_id}/absences/{gone}", stack.staff(*ADMIN))[0] == 200
            assert gone not in _absence_ids(stack, staff_id)


def test_staff_edits_at_once_each_keep_their_change_or_answer_409(stack):
    """Four admins change four different fields of one member, with an absence recorded at the
    same moment: every change answered 200 (or 201) is in the record afterwards."""
    staff_id = _new_worker(stack)
    changes = [{"name": "Renamed"}, {"active": False}, {"phone": "+14035550188"}, {"role": "supervisor"}]
    for _round in range(3):
        initial = _member(stack, staff_id)

        def edit(i: int, _round: int = _round) -> tuple[int, Any]:
            if i == len(changes):
                return _put_absence(stack, staff_id, f"race-{_round}", day=15)
            return stack.call("PUT", f"/staff/{staff_id}", stack.staff(*ADMIN), changes[i])

        answers = _all_at_once(len(changes) + 1, edit)

        _assert_lost_races_are_conflicts(answers, {200, 201})
        expected = {k: initial[k] for k in ("name", "active", "phone", "role")}
        for change, (status, _body) in zip(changes, answers, strict=False):
            if status == 200:
                expected.update(change)
        member = _member(stack, staff_id)
        assert {k: member[k] for k in expected} == expected, json.dumps(answers)
        absences = {a["absence_id"] for a in member["absences"]}
        assert (f"race-{_round}" in absences) == (answers[-1][0] == 201)
        # Back to the start for the next round (one at a time: nothing to race).
        status, body = stack.call("PUT", f"/staff/{staff_id}", stack.staff(*ADMIN),
                                  {"name": "Race", "active": True, "phone": None, "role": "worker"})
        assert status == 200, body
