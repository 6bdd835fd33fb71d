"""The unit of work tells live updates what it committed, and only what it committed (issue 23).

Services are not edited one by one: every repository queues its writes on the unit of work, and
after a successful commit the unit of work names the client files and notifications it wrote
(``adapters/live_changes.py``). A commit that fails tells nothing; a listener that fails never
undoes or fails the commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.unit_of_work import ConcurrentUpdate, UnitOfWork
from chalicelib.domain.live import Change, What
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageStatus
from chalicelib.domain.model import Channel
from chalicelib.domain.notifications import Notification

AT = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


def client_message(message_id: str = "msg_live1", client_id: str = "cl_live") -> Message:
    return Message(message_id=message_id, client_id=client_id, agency_id="calgary-cfn", direction=Direction.INBOUND,
                   kind=MessageKind.CLIENT, body="Hello", at=AT, status=MessageStatus.RECEIVED, channel=Channel.SMS)


def test_a_committed_client_message_is_told_as_a_change_of_that_file(aws: None) -> None:
    told: list[list[Change]] = []
    with UnitOfWork(on_commit=told.append) as uow:
        uow.messages.add(client_message())
        uow.notifications.add("calgary-cfn", [Notification(recipient_id="amal", type="crisis", at=AT,
                                                           message="crisis", client_id="cl_live")])
        uow.commit()
    assert told == [[
        Change("calgary-cfn", "cl_live", frozenset({What.MESSAGES, What.INBOX}), client_wrote=True),
        Change("calgary-cfn", "cl_live", frozenset({What.NOTIFICATIONS}), recipient="amal", crisis=True),
    ]]


def test_a_commit_that_fails_tells_nothing(aws: None) -> None:
    with UnitOfWork() as uow:
        uow.messages.add(client_message())
        uow.commit()
    told: list[Any] = []
    with UnitOfWork(on_commit=told.append) as uow, pytest.raises(ConcurrentUpdate):
        uow.messages.add(client_message())  # the same message again: its condition fails
        uow.commit()
    assert told == []


def test_a_failing_listener_never_fails_the_commit(aws: None) -> None:
    def broken(changes: list[Change]) -> None:
        raise RuntimeError("publisher down")

    with UnitOfWork(on_commit=broken) as uow:
        uow.messages.add(client_message("msg_live2"))
        uow.commit()
    with UnitOfWork() as uow:
        assert [m.message_id for m in uow.messages.of_client("cl_live")] == ["msg_live2"]


def test_marking_notifications_read_tells_the_persons_other_consoles(aws: None) -> None:
    with UnitOfWork() as uow:
        uow.notifications.add("calgary-cfn", [
            Notification(recipient_id="amal", type="crisis", at=AT, message="one", client_id="cl_live"),
            Notification(recipient_id="amal", type="delivery_failed", at=AT, message="two", client_id="cl_live"),
            Notification(recipient_id="amal", type="crisis", at=AT, message="three", client_id="cl_live")])
        uow.commit()
    told: list[list[Change]] = []
    uow = UnitOfWork(on_commit=told.append)
    read = Change("calgary-cfn", "cl_live", frozenset({What.NOTIFICATIONS}), recipient="amal")
    one = uow.notifications.of("calgary-cfn", "amal", limit=10)[0]
    assert uow.notifications.mark("calgary-cfn", "amal", one.notification_id) is not None
    assert told == [[read]]
    assert uow.notifications.mark_all_read("calgary-cfn", "amal") == 2
    assert told == [[read], [read]]  # one change for the person, not one per notification
    assert uow.notifications.mark_all_read("calgary-cfn", "amal") == 0
    assert told == [[read], [read]]  # nothing left to mark: nothing told
