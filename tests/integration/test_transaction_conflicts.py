"""A transaction cancelled because another transaction held one of its items (issue 20, item 11).

DynamoDB cancels a ``TransactWriteItems`` with reason ``TransactionConflict`` when another
transaction is writing one of the same items at that moment; nothing of it is written. The
contract of ``adapters/unit_of_work.py``: such a cancellation means ``ConcurrentUpdate`` (read
again, decide again), unless the cancelled write says otherwise through its ``on_conflict``: a
claim queued with ``also_conflict`` (an ``Idempotency-Key``) counts as taken; a claim without it
(a ``MessageSid``) proves nothing and is ``ConcurrentUpdate`` too. The reasons come in the order
PynamoDB sends the writes (deletes, puts, updates), not the order they were queued in.

Services then either retry (a staff message is filed on the next attempt: 201) or answer 409
(erasure: ``concurrent_update``, and running it again finishes it). The faults come from
``tests/fault_helpers.DynamoTap``: the cancelled call never reaches moto.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chalicelib.adapters.unit_of_work import AlreadyFiled, ConcurrentUpdate, Duplicate, StoreUnavailable, UnitOfWork
from chalicelib.domain.audit import AuditEvent, AuditType
from chalicelib.domain.model import Channel, Client, ClientStatus
from tests.conftest import new_client
from tests.fault_helpers import THROTTLE, DynamoTap, all_items, matching

NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
EDMONTON = ZoneInfo("America/Edmonton")
CANCELLED = "TransactionCanceledException"
CONFLICT = "TransactionConflict"


def conflict_at(position: int, items: int) -> DynamoTap:
    """The first transaction cancelled, ``TransactionConflict`` on the write sent at ``position``."""
    reasons = ["None"] * items
    reasons[position] = CONFLICT
    return DynamoTap().fail(1, CANCELLED, match=matching("TransactWriteItems"), reasons=reasons)


@pytest.fixture
def fatima(aws: None) -> Client:
    with UnitOfWork() as uow:
        uow.clients.add(Client("cl_1", "calgary-cfn", "amal", "+15875550123", Channel.SMS, "en", "Fatima",
                               ClientStatus.ACTIVE, NOW - timedelta(days=3), version=1), created_by="admin-lee")
        uow.commit()
    client = UnitOfWork().clients.get("cl_1")
    assert client is not None
    return client


Claim = Callable[[UnitOfWork], None]


def idempotency_key(message_id: str) -> Claim:
    """The claim of a staff message's ``Idempotency-Key``: taken means ``AlreadyFiled``."""
    return lambda uow: uow.claims.remember_send(message_id, "digest-of-the-request", NOW)


def message_sid(sid: str) -> Claim:
    """The claim of a delivered ``MessageSid``: taken means ``Duplicate``."""
    return lambda uow: uow.claims.file_inbound_once(sid, NOW)


def queue_a_filing(uow: UnitOfWork, client: Client, claim: Claim) -> None:
    """An update of the file queued first, then a once-only claim and an audit event (both puts)."""
    uow.clients.update(client, {"warnings": client.warnings + 1})
    claim(uow)
    uow.audit.add([AuditEvent("calgary-cfn", AuditType.CLIENT_WARNED, NOW, "amal", client_id=client.client_id,
                              staff_id="amal", details={"warnings": client.warnings + 1})])


# Sent order: the claim (put), the audit event (put), then the file (update).
CLAIM, AUDIT, FILE = 0, 1, 2


@pytest.mark.parametrize(("position", "expected"), [(CLAIM, AlreadyFiled), (AUDIT, ConcurrentUpdate),
                                                    (FILE, ConcurrentUpdate)], ids=["claim", "audit", "file"])
def test_a_conflict_on_an_idempotency_claim_means_taken_and_on_any_other_write_read_again(fatima, position, expected):
    before = all_items()
    with conflict_at(position, 3) as tap, pytest.raises(expected), UnitOfWork() as uow:
        queue_a_filing(uow, fatima, idempotency_key("msg_key1"))
        uow.commit()
    assert tap.fired and all_items() == before


def test_a_conflict_on_a_message_sid_claim_proves_no_duplicate_and_means_read_again(fatima):
    with conflict_at(CLAIM, 3), pytest.raises(ConcurrentUpdate), UnitOfWork() as uow:
        queue_a_filing(uow, fatima, message_sid("SM" + "1" * 32))
        uow.commit()
    # whereas a claim that failed its condition was taken before
    with DynamoTap().fail(1, CANCELLED, match=matching("TransactWriteItems"),
                          reasons=["ConditionalCheckFailed", "None", "None"]), pytest.raises(Duplicate), UnitOfWork() as uow:
        queue_a_filing(uow, fatima, message_sid("SM" + "1" * 32))
        uow.commit()


def test_commit_unless_changed_reports_a_conflict_and_the_next_attempt_commits(fatima):
    with conflict_at(FILE, 3) as tap, UnitOfWork() as uow:
        queue_a_filing(uow, fatima, idempotency_key("msg_key2"))
        assert uow.commit_unless_changed() is False
        queue_a_filing(uow, fatima, idempotency_key("msg_key2"))
        assert uow.commit_unless_changed() is True
    assert [c.ok for c in tap.calls if c.operation == "TransactWriteItems"] == [False, True]
    assert UnitOfWork().clients.get("cl_1").warnings == 1


# -- a write the store did not take for another reason -----------------------------------------------


@pytest.mark.parametrize("code", [THROTTLE, CANCELLED], ids=["throttled", "cancelled-by-throttles"])
def test_a_transaction_the_store_did_not_take_is_store_unavailable_and_writes_nothing(fatima, code):
    before = all_items()
    fault = DynamoTap().fail(1, code, match=matching("TransactWriteItems"))  # cancelled: every reason a throttle
    with fault as tap, pytest.raises(StoreUnavailable), UnitOfWork() as uow:
        queue_a_filing(uow, fatima, idempotency_key("msg_key3"))
        uow.commit()
    assert tap.fired and all_items() == before
    with UnitOfWork() as uow:  # the same commit, tried again, goes through
        queue_a_filing(uow, fatima, idempotency_key("msg_key3"))
        uow.commit()
    assert UnitOfWork().clients.get("cl_1").warnings == 1


def test_a_single_write_the_store_did_not_take_is_store_unavailable(fatima):
    with DynamoTap().fail(1, THROTTLE, match=matching("UpdateItem")) as tap, pytest.raises(StoreUnavailable), \
            UnitOfWork() as uow:
        uow.clients.update(fatima, {"warnings": 1})
        uow.commit()
    assert tap.fired and UnitOfWork().clients.get("cl_1").warnings == 0


# -- through the HTTP API --------------------------------------------------------------------------


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def test_a_staff_message_whose_transaction_meets_a_conflict_is_filed_on_the_next_attempt(http, agency):
    from chalicelib.adapters import models as m

    with at("2026-11-23T09:30"):
        cid = new_client(http, agency["amal"], channel="sms")["client_id"]
    with at("2026-11-23T10:00"):
        tap = DynamoTap().fail(1, CANCELLED, match=matching("TransactWriteItems"), reasons=[CONFLICT])
        with tap:
            r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "See you at 2 pm"})
        assert tap.fired
    assert r.status_code == 201, r.body
    assert [c.ok for c in tap.calls if c.operation == "TransactWriteItems"][:2] == [False, True]
    assert [x.body for x in m.MessageModel.query(cid) if x.kind == "staff"] == ["See you at 2 pm"]
    sent = [e for e in m.AuditModel.by_client.query(cid) if e.type == AuditType.STAFF_MESSAGE_SENT.value]
    assert len(sent) == 1


def test_an_erasure_whose_transaction_meets_a_conflict_answers_409_and_running_it_again_finishes_it(http, agency):
    from chalicelib.adapters import models as m

    with at("2026-11-23T09:30"):
        cid = new_client(http, agency["amal"], channel="sms")["client_id"]
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved"})
        assert r.status_code == 200, r.body
    with at("2026-11-23T10:00"):
        # The erasure's one transaction: the contact row (delete), the audit event (put), the file (update).
        with conflict_at(0, 3) as tap:
            r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
        assert tap.fired
        assert r.status_code == 409 and r.json["error"]["code"] == "concurrent_update", r.body
        file = m.ClientModel.get(cid)
        assert file.erased_at is None and file.phone == "+15875550123"
        assert UnitOfWork().clients.id_for("calgary-cfn", Channel.SMS, "+15875550123") == cid

        r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
    assert r.status_code == 200, r.body
    assert m.ClientModel.get(cid).erased_at is not None
    assert UnitOfWork().clients.id_for("calgary-cfn", Channel.SMS, "+15875550123") is None
