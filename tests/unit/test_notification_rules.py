"""Issue 23's pure rules: the inbox's crisis-first order, what an absence tells the colleagues
covering it, what a review settles, and the notification ids that name their own key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.adapters.notifications_repository import public_id, sk_of
from chalicelib.domain.absence import Absence
from chalicelib.domain.inbox import Waiting, inbox
from chalicelib.domain.notifications import (
    NotificationType,
    breach_notification_id,
    cover_notices,
    override_notification_id,
    settled_by_review,
)

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def waiting(client_id: str, due_in_hours: int, crisis: bool = False, manager: str = "amal") -> Waiting:
    return Waiting(client_id, manager, client_id.title(), "sms", "en", NOW + timedelta(hours=due_in_hours),
                   NOW - timedelta(hours=1), NOW - timedelta(hours=1), "hi",
                   crisis_at=NOW - timedelta(minutes=5) if crisis else None)


def test_clients_in_crisis_come_first_then_everyone_else_each_soonest_due_first():
    amal = [waiting("a1", 1), waiting("a2", 5, crisis=True), waiting("a3", 9)]
    jean = [waiting("j1", 2, manager="jean"), waiting("j2", 3, crisis=True, manager="jean")]

    order = [item.waiting.client_id for item in inbox([amal, jean], NOW)]

    assert order == ["j2", "a2", "a1", "j1", "a3"]


def test_an_absence_tells_its_new_cover_and_a_replaced_cover_that_it_ended():
    leave = Absence("leave-1", date(2026, 12, 1), date(2026, 12, 4), "jean")

    [started] = cover_notices("amal", None, leave, NOW)
    assert (started.recipient_id, started.type, started.staff_id) == ("jean", "cover_started", "amal")
    assert "2026-12-01 to 2026-12-04" in started.message and started.notification_id == "cover-leave-1-started"

    moved = Absence("leave-1", date(2026, 12, 1), date(2026, 12, 4), "lina")
    assert [(n.recipient_id, n.type) for n in cover_notices("amal", leave, moved, NOW)] == [
        ("jean", "cover_ended"), ("lina", "cover_started")]
    longer = Absence("leave-1", date(2026, 12, 1), date(2026, 12, 8), "jean")
    assert [(n.recipient_id, n.type) for n in cover_notices("amal", leave, longer, NOW)] == [
        ("jean", "cover_started")]  # new dates: told again
    assert cover_notices("amal", leave, leave, NOW) == []  # only the note changed
    assert [(n.recipient_id, n.type) for n in cover_notices("amal", leave, None, NOW)] == [("jean", "cover_ended")]


def test_a_review_settles_the_notification_of_its_breach_or_override_and_nothing_else():
    assert settled_by_review("breach", {"inquiry_id": "inq_1"}) == breach_notification_id("inq_1") == "breach-inq_1"
    assert settled_by_review("override", {"message_id": "msg_1"}) == override_notification_id("msg_1")
    assert settled_by_review("breach", {}) is None and settled_by_review("crisis", {"inquiry_id": "x"}) is None


def test_every_type_the_issue_names_is_in_the_vocabulary():
    assert {t.value for t in NotificationType} == {"crisis", "delivery_failed", "breach", "override", "cover_started",
                                                   "cover_ended", "new_message", "voice_note"}


def test_a_notification_id_names_its_sort_key_and_odd_ids_name_nothing():
    sk = "2026-12-01T17:00:00.123456Z#crisis-inq_1"
    assert public_id(sk) == "20261201T170000123456Z.crisis-inq_1"
    assert sk_of(public_id(sk)) == sk
    for odd in ("crisis-inq_1", "20261201T170000123456Z.", "20261301T170000123456Z.x", "20261201T170000123456Z.a#b",
                "", "x" * 500):
        assert sk_of(odd) is None
