"""A message's key is the messages repository's, made from what the message says (issue 21, item 4).

The domain's ``Message`` carries no sort key: the repository makes it from the message's ``at`` and
id (``keys.message_key``), in the format every item was written in, so a message read back (its
``at`` in UTC) names the same item, and the rows that point at a message (a worker's follow-up row,
a post's delivery row) name it the way the messages table does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.adapters import models as m
from chalicelib.adapters.keys import sort_key
from chalicelib.adapters.unit_of_work import UnitOfWork
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageRef, MessageStatus
from chalicelib.domain.model import Channel
from chalicelib.domain.posts import DeliveryStatus, Post

AGENCY = "calgary-cfn"
AT = datetime(2026, 11, 18, 17, 1, 0, 123_457, tzinfo=UTC)


def a_message(message_id: str = "msg_a", *, at: datetime = AT, kind: MessageKind = MessageKind.STAFF,
              status: MessageStatus = MessageStatus.HELD) -> Message:
    return Message(message_id, "cl_a", AGENCY, Direction.OUTBOUND, kind, "See you at 2", at, status, Channel.SMS,
                   staff_id="amal", due_at=at + timedelta(hours=15))


def add(message: Message) -> None:
    with UnitOfWork() as uow:
        uow.messages.add(message)
        uow.commit()


def stored_keys() -> list[str]:
    return [item.sk for item in m.MessageModel.query("cl_a")]


def test_a_message_is_stored_under_its_instant_and_id_as_before(aws):
    add(a_message())
    assert stored_keys() == ["2026-11-18T17:01:00.123457Z#msg_a"] == [sort_key(AT, "msg_a")]


def test_an_instant_told_in_another_zone_is_keyed_in_utc_and_found_again_once_read_back(aws):
    add(a_message(at=AT.astimezone(ZoneInfo("America/Edmonton"))))
    assert stored_keys() == ["2026-11-18T17:01:00.123457Z#msg_a"]
    [read] = UnitOfWork().messages.of_client("cl_a")
    assert UnitOfWork().messages.get(read.ref) == read


def test_a_message_read_back_and_changed_changes_its_own_item(aws):
    add(a_message())
    [read] = UnitOfWork().messages.of_client("cl_a")
    with UnitOfWork() as uow:
        uow.messages.cancel(read)
        uow.commit()
    assert stored_keys() == ["2026-11-18T17:01:00.123457Z#msg_a"]
    assert UnitOfWork().messages.get(MessageRef("cl_a", "msg_a", AT)).status is MessageStatus.CANCELLED


def test_an_item_written_with_its_key_spelled_out_is_found_and_released_by_ref(aws):
    """Items written before the key was the repository's alone (tests and old data spell it out)."""
    m.MessageModel(client_id="cl_a", sk=sort_key(AT, "msg_old"), message_id="msg_old", agency_id=AGENCY,
                   direction="outbound", kind="staff", body="hello", at=AT, status="held", channel="sms",
                   staff_id="amal", due_agency=AGENCY, due_at=AT).save()
    [ref] = UnitOfWork().messages.due(AGENCY, AT)
    assert ref == MessageRef("cl_a", "msg_old", AT)
    assert UnitOfWork().messages.get(ref).body == "hello"


def test_a_follow_up_row_names_its_message_as_the_messages_table_keys_it(aws):
    followup = a_message("msg_f", kind=MessageKind.FOLLOWUP, status=MessageStatus.SENDING)
    add(followup)
    [read] = UnitOfWork().messages.of_client("cl_a")
    with UnitOfWork() as uow:
        uow.followups.add(read)
        uow.commit()
    [row] = m.FollowupModel.query(f"{AGENCY}#amal")
    assert row.message_sk == stored_keys()[0] == "2026-11-18T17:01:00.123457Z#msg_f"


def test_a_posts_delivery_row_names_the_message_it_was_filed_as(aws):
    post = Post("post_1", AGENCY, "amal", "caseload", "Office closed Monday", ("en",), AT, AT, recipients=1)
    with UnitOfWork() as uow:
        uow.posts.add(post, ["cl_a"])
        uow.commit()
    delivery = UnitOfWork().posts.delivery("post_1", "cl_a")
    claimed = UnitOfWork().posts.claim(delivery, AT + timedelta(minutes=1))
    message = replace(a_message("msg_p", kind=MessageKind.POST, status=MessageStatus.SENT), due_at=None)
    with UnitOfWork() as uow:
        uow.posts.finish(claimed, DeliveryStatus.SENT, None, message=message)
        uow.messages.add(message)
        uow.commit()
    row = m.PostDeliveryModel.get("post_1", "cl_a")
    assert (row.status, row.message_sk) == ("sent", stored_keys()[0])
    assert row.message_sk == "2026-11-18T17:01:00.123457Z#msg_p"
