"""The notifications table on moto (issue 23): keyed reads, counts from the sparse ``unread`` index.

What the notification centre relies on: a person's notifications newest first; ids that carry
their sort key (one keyed write marks one); unread counts, all or per type, that never scan and
read only the unread items; marking all read; a review settling one notification per supervisor;
another person's or another agency's notification never found.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.adapters import models as m
from chalicelib.adapters.notifications_repository import NotificationRepository, public_id, sk_of
from chalicelib.adapters.unit_of_work import UnitOfWork
from chalicelib.domain.notifications import REVIEW_TYPES, Notification
from tests.fault_helpers import DynamoTap

T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
AGENCY = "calgary-cfn"


def note(kind: str, minutes: int, who: str = "sup-maria", key: str | None = None) -> Notification:
    return Notification(recipient_id=who, type=kind, at=T0 + timedelta(minutes=minutes), message=f"{kind} happened",
                        client_id="cl_1", notification_id=key or f"{kind}-{minutes}")


def written(*notes: Notification, agency: str = AGENCY) -> NotificationRepository:
    with UnitOfWork() as uow:
        uow.notifications.add(agency, notes)
        uow.commit()
    return UnitOfWork().notifications


def test_a_persons_notifications_come_newest_first_with_ids_that_name_their_key(aws: Any) -> None:
    repo = written(note("crisis", 0), note("breach", 5), note("override", 10), note("crisis", 3, who="amal"))

    mine = repo.of(AGENCY, "sup-maria", 50)

    assert [n.type for n in mine] == ["override", "breach", "crisis"]
    assert mine[0].notification_id == "20261201T161000000000Z.override-10"
    assert sk_of(mine[0].notification_id) == "2026-12-01T16:10:00.000000Z#override-10"
    assert public_id(sk_of(mine[0].notification_id) or "") == mine[0].notification_id
    assert [n.type for n in repo.of(AGENCY, "amal", 50)] == ["crisis"]
    assert repo.of("halifax-isans", "sup-maria", 50) == []


def test_unread_counts_come_from_the_sparse_index_without_a_scan(aws: Any) -> None:
    repo = written(note("crisis", 0), note("breach", 5), note("override", 10), note("delivery_failed", 12))

    with DynamoTap() as tap:
        everything = repo.unread_count(AGENCY, "sup-maria")
        reviews = repo.unread_count(AGENCY, "sup-maria", REVIEW_TYPES)

    assert (everything, reviews) == (4, 2)
    assert set(tap.by_operation()) == {"Query"} and tap.round_trips == 3  # one COUNT, then one per review type
    assert all(call.tables == ("cmdm-test-notifications",) for call in tap.calls)
    assert repo.unread_count(AGENCY, "amal") == 0 and repo.unread_count("halifax-isans", "sup-maria") == 0


def test_marking_one_is_keyed_and_only_the_recipients_own_is_found(aws: Any) -> None:
    repo = written(note("crisis", 0), note("breach", 5), note("crisis", 0, who="amal"))
    crisis = repo.of(AGENCY, "sup-maria", 50)[-1]

    with DynamoTap() as tap:
        marked = repo.mark(AGENCY, "sup-maria", crisis.notification_id)

    assert marked is not None and marked.read and marked.type == "crisis"
    assert tap.by_operation() == {"GetItem": 1, "UpdateItem": 1}
    assert repo.unread_count(AGENCY, "sup-maria") == 1 and repo.unread_count(AGENCY, "amal") == 1
    assert [n.type for n in repo.unread_of(AGENCY, "sup-maria", 50)] == ["breach"]
    again = repo.mark(AGENCY, "sup-maria", crisis.notification_id, read=False)
    assert again is not None and not again.read and repo.unread_count(AGENCY, "sup-maria", ["crisis"]) == 1

    assert repo.mark(AGENCY, "jean", crisis.notification_id) is None  # the same id, nobody's for jean
    assert repo.mark("halifax-isans", "sup-maria", crisis.notification_id) is None
    assert repo.mark(AGENCY, "sup-maria", "20261201T160000000000Z.nothing-here") is None
    assert repo.mark(AGENCY, "sup-maria", "no#such") is None
    assert repo.unread_count(AGENCY, "amal") == 1  # nothing of amal's was touched


def test_an_id_of_the_older_form_is_still_found_in_the_persons_own_partition(aws: Any) -> None:
    repo = written(note("breach", 5, key="breach-inq_1"))

    marked = repo.mark(AGENCY, "sup-maria", "breach-inq_1")

    assert marked is not None and marked.read and repo.unread_count(AGENCY, "sup-maria") == 0


def test_mark_all_read_touches_only_the_callers_unread_ones(aws: Any) -> None:
    repo = written(note("crisis", 0), note("breach", 5), note("crisis", 1, who="amal"))
    repo.mark(AGENCY, "sup-maria", repo.of(AGENCY, "sup-maria", 50)[0].notification_id)

    assert repo.mark_all_read(AGENCY, "sup-maria") == 1
    assert repo.unread_count(AGENCY, "sup-maria") == 0 and all(n.read for n in repo.of(AGENCY, "sup-maria", 50))
    assert repo.unread_count(AGENCY, "amal") == 1
    assert repo.mark_all_read(AGENCY, "sup-maria") == 0


def test_a_review_settles_each_supervisors_copy_and_skips_a_missing_one(aws: Any) -> None:
    repo = written(note("breach", 5, key="breach-inq_9"), note("breach", 5, who="sup-two", key="breach-inq_9"))

    repo.settle(AGENCY, ["sup-maria", "sup-two", "sup-new"], T0 + timedelta(minutes=5), "breach-inq_9")

    assert repo.unread_count(AGENCY, "sup-maria") == 0 and repo.unread_count(AGENCY, "sup-two") == 0
    keys = [i.sk for i in m.NotificationModel.query(f"{AGENCY}#sup-new")]
    assert keys == []  # settling never creates a notification nobody was sent
