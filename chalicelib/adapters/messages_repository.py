"""The messages table: the only code that maps message items to ``Message`` and back.

One item per message of a client file (``client_id``, ``<instant>#<message_id>``), whichever way it
went. The sort key is made here from what the message says (``keys.message_key``: its ``at`` and its
id), so the domain's ``Message`` carries no key; a ``MessageRef`` finds one again. The sparse ``outbound_due`` index holds what the sweep must look at: an outbound message
waiting to be sent (or stuck ``sending``) under its agency, and a client message whose media is
still at Twilio under ``media#<agency>``. Every change of a message's status is conditional on the
status it leaves, so two senders never both send one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.messages import (
    Button,
    Content,
    Direction,
    Location,
    MediaRef,
    MediaStatus,
    Message,
    MessageKind,
    MessageRef,
    MessageStatus,
)
from ..domain.model import Channel
from . import models as m
from .conflicts import ConcurrentUpdate
from .keys import message_key, message_ref
from .retry import retry_on_conflict
from .writes import WriteQueue, condition_failed

MEDIA_DUE_PREFIX = "media#"  # outbound_due hash key for messages whose media is still on Twilio
_WAITING = (MessageStatus.HELD.value, MessageStatus.QUEUED.value)
#: Outbound statuses the sweep looks at again when ``due_at`` comes.
_DUE = (MessageStatus.HELD, MessageStatus.QUEUED, MessageStatus.SENDING)


# --- mapping -------------------------------------------------------------------------------------


def media_item(ref: MediaRef) -> m.MediaMap:
    """One attachment of a message item (client media and staff uploads alike)."""
    return m.MediaMap(content_type=ref.content_type, twilio_url=ref.twilio_url, s3_key=ref.s3_key,
                      status=ref.status.value, attempts=ref.attempts, size=ref.size)


def media_from(item: m.MediaMap) -> MediaRef:
    return MediaRef(content_type=item.content_type, twilio_url=item.twilio_url, s3_key=item.s3_key,
                    status=MediaStatus(item.status or "pending"), attempts=int(item.attempts or 0),
                    size=int(item.size) if item.size is not None else None)


def _content_item(content: Content) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if content.location is not None:
        loc = content.location
        values["location"] = m.LocationMap(latitude=loc.latitude, longitude=loc.longitude,
                                           address=loc.address, label=loc.label)
    if content.button is not None:
        values["button"] = m.ButtonMap(text=content.button.text, payload=content.button.payload)
    if content.forwarded:
        values["forwarded"] = True
    if content.frequently_forwarded:
        values["frequently_forwarded"] = True
    if content.message_type:
        values["message_type"] = content.message_type
    return values


def _content_from(item: m.MessageModel) -> Content:
    loc = item.location
    button = item.button
    return Content(
        location=Location(float(loc.latitude), float(loc.longitude), loc.address, loc.label) if loc else None,
        button=Button(button.text, button.payload) if button else None,
        forwarded=bool(item.forwarded),
        frequently_forwarded=bool(item.frequently_forwarded),
        message_type=item.message_type,
    )


def _kind(value: str | None) -> MessageKind:
    try:
        return MessageKind(value or "staff")
    except ValueError:  # kinds other features may add (e.g. intake) read as automatic replies
        return MessageKind.AUTO_REPLY


def message_item(msg: Message) -> m.MessageModel:
    status = MessageStatus.of(msg.status)
    pending_media = msg.media_pending and msg.direction is Direction.INBOUND
    due = msg.direction is Direction.OUTBOUND and status in _DUE and msg.due_at is not None
    due_agency = MEDIA_DUE_PREFIX + msg.agency_id if pending_media else (msg.agency_id if due else None)
    return m.MessageModel(
        client_id=msg.client_id,
        sk=message_key(msg.ref),
        message_id=msg.message_id,
        agency_id=msg.agency_id,
        direction=msg.direction.value,
        kind=msg.kind.value,
        body=msg.body,
        at=msg.at,
        status=status.value,
        channel=msg.channel.value,
        staff_id=msg.staff_id,
        from_number=msg.from_number,
        inquiry_id=msg.inquiry_id,
        twilio_sid=msg.twilio_sid,
        media=[media_item(ref) for ref in msg.media],
        send_at=msg.send_at,
        sent_at=msg.sent_at,
        holding=msg.holding,
        override_reason=msg.override_reason,
        template=msg.template,
        attempts=msg.attempts,
        error_code=msg.error_code,
        due_agency=due_agency,
        due_at=msg.at if pending_media else (msg.due_at if due else None),
        call_status=msg.call_status,
        duration_seconds=msg.duration_seconds,
        crisis=msg.crisis or None,
        **_content_item(msg.content),
    )


def message_from(item: m.MessageModel) -> Message:
    return Message(
        message_id=item.message_id,
        client_id=item.client_id,
        agency_id=item.agency_id,
        direction=Direction(item.direction),
        kind=_kind(item.kind),
        body=item.body,
        at=item.at,
        status=MessageStatus.of(item.status),
        channel=Channel(item.channel),
        staff_id=item.staff_id,
        from_number=item.from_number,
        inquiry_id=item.inquiry_id,
        twilio_sid=item.twilio_sid,
        media=tuple(media_from(r) for r in (item.media or [])),
        error_code=item.error_code,
        version=int(item.version or 1),
        send_at=item.send_at,
        content=_content_from(item),
        holding=bool(item.holding),
        override_reason=item.override_reason,
        template=item.template,
        sent_at=item.sent_at,
        due_at=item.due_at,
        attempts=int(item.attempts or 0),
        call_status=item.call_status,
        duration_seconds=int(item.duration_seconds) if item.duration_seconds is not None else None,
        crisis=bool(item.crisis),
    )


def _proxy(message: Message) -> m.MessageModel:
    return m.MessageModel(client_id=message.client_id, sk=message_key(message.ref), version=message.version)


def _leave_queue() -> list[Any]:
    """Out of the sparse ``outbound_due`` index: nothing for the sweep or the media copy to pick up."""
    return [m.MessageModel.due_agency.remove(), m.MessageModel.due_at.remove()]


class MessageRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- reads ----------------------------------------------------------------------------------

    def get(self, ref: MessageRef) -> Message | None:
        """The message ``ref`` names, as it is now (one consistent GetItem)."""
        return self._get(ref.client_id, message_key(ref))

    @staticmethod
    def _get(client_id: str, sk: str) -> Message | None:
        try:
            return message_from(m.MessageModel.get(client_id, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def find(self, client_id: str, message_id: str) -> Message | None:
        """One message of a file by its id: a Query of that file's messages (keyed), filtered by id."""
        for item in m.MessageModel.query(client_id, filter_condition=m.MessageModel.message_id == message_id,
                                         consistent_read=True):
            return message_from(item)
        return None

    def of_client(self, client_id: str, *, consistent: bool = False) -> list[Message]:
        """A file's messages, oldest first."""
        query = m.MessageModel.query(client_id, scan_index_forward=True, consistent_read=consistent)
        return [message_from(item) for item in query]

    def by_sid(self, twilio_sid: str) -> Message | None:
        for key in m.MessageModel.by_sid.query(twilio_sid, limit=1):
            return self._get(key.client_id, key.sk)
        return None

    def bodies(self, refs: Iterable[MessageRef]) -> dict[MessageRef, str | None]:
        """The body of each message found (None once erased); a missing one is left out: BatchGetItem."""
        named = {(ref.client_id, message_key(ref)): ref for ref in refs}
        return {named[(item.client_id, item.sk)]: item.body for item in m.MessageModel.batch_get(sorted(named))}

    def due(self, agency_id: str, now: datetime) -> Iterator[MessageRef]:
        """Outbound messages waiting to be sent (or stuck sending) whose time has come, soonest first."""
        for item in m.MessageModel.outbound_due.query(agency_id, m.MessageModel.due_at <= now):
            yield message_ref(item.client_id, item.sk)

    def media_due(self, agency_id: str, now: datetime, limit: int = 50) -> Iterator[Message]:
        """Client messages whose media is still at Twilio, due for another copy attempt."""
        keys = m.MessageModel.outbound_due.query(MEDIA_DUE_PREFIX + agency_id, m.MessageModel.due_at <= now,
                                                 limit=limit)
        for key in keys:
            found = self._get(key.client_id, key.sk)
            if found is not None:
                yield found

    def last_from_number(self, client_id: str, candidates: frozenset[str]) -> str | None:
        """The most recent of ``candidates`` this client exchanged messages with (a few keyed reads)."""
        for item in m.MessageModel.query(client_id, scan_index_forward=False, limit=25):
            if item.from_number in candidates:
                return item.from_number
        return None

    # -- writes queued on the unit of work ------------------------------------------------------

    def add(self, message: Message) -> None:
        self._uow.save(message_item(message), condition=m.MessageModel.sk.does_not_exist())

    def mark_crisis(self, message: Message, crisis: bool) -> None:
        """A worker's crisis mark on a client message, or its removal (SPEC §5.9), on the version read."""
        action = m.MessageModel.crisis.set(True) if crisis else m.MessageModel.crisis.remove()
        self._uow.update(_proxy(message), actions=[action], condition=m.MessageModel.sk.exists())

    def cancel(self, message: Message) -> None:
        """held -> cancelled, out of the due index."""
        self._uow.update(_proxy(message), actions=[m.MessageModel.status.set(MessageStatus.CANCELLED.value),
                                                   *_leave_queue()],
                         condition=m.MessageModel.status == MessageStatus.HELD.value)

    def sent(self, message: Message, *, sid: str, now: datetime, template: str | None,
             inquiry_id: str | None = None) -> None:
        """sending -> sent: Twilio took it."""
        actions = [
            m.MessageModel.status.set(MessageStatus.SENT.value),
            m.MessageModel.twilio_sid.set(sid),
            m.MessageModel.sent_at.set(now),
            *_leave_queue(),
            m.MessageModel.error_code.remove(),
        ]
        if template:
            actions.append(m.MessageModel.template.set(template))
        if inquiry_id is not None:
            actions.append(m.MessageModel.inquiry_id.set(inquiry_id))
        self._uow.update(_proxy(message), actions=actions,
                         condition=m.MessageModel.status == MessageStatus.SENDING.value)

    def failed(self, message: Message, code: str) -> None:
        """sending -> failed, with Twilio's error code (or ours)."""
        self._uow.update(_proxy(message), actions=[m.MessageModel.status.set(MessageStatus.FAILED.value),
                                                   m.MessageModel.error_code.set(code), *_leave_queue()],
                         condition=m.MessageModel.status == MessageStatus.SENDING.value)

    def delivery(self, message: Message, status: MessageStatus, error_code: str | None) -> None:
        """Twilio's status callback moves the delivery status (if nobody moved it since it was read)."""
        actions = [m.MessageModel.status.set(status.value)]
        if error_code:
            actions.append(m.MessageModel.error_code.set(error_code))
        self._uow.update(_proxy(message), actions=actions, condition=m.MessageModel.sk.exists())

    def call_progress(self, message: Message, status: str | None, duration_seconds: int | None, *,
                      sid: str | None = None) -> None:
        """A call moved on (SPEC §5.10): its new status and length (and, once placed, Twilio's
        ``CallSid``), if nobody moved it since it was read."""
        actions: list[Any] = [m.MessageModel.twilio_sid.set(sid)] if sid else []
        if status is not None:
            actions.append(m.MessageModel.call_status.set(status))
        if duration_seconds is not None:
            actions.append(m.MessageModel.duration_seconds.set(duration_seconds))
        if actions:
            self._uow.update(_proxy(message), actions=actions, condition=m.MessageModel.sk.exists())

    def voicemail(self, message: Message, media: MediaRef, inquiry_id: str | None) -> None:
        """A call's voicemail, still at Twilio: into the media queue, with the inquiry it opened or joined."""
        actions: list[Any] = [m.MessageModel.media.set([media_item(media)]),
                              m.MessageModel.due_agency.set(MEDIA_DUE_PREFIX + message.agency_id),
                              m.MessageModel.due_at.set(message.at)]
        if inquiry_id is not None:
            actions.append(m.MessageModel.inquiry_id.set(inquiry_id))
        self._uow.update(_proxy(message), actions=actions, condition=m.MessageModel.sk.exists())

    # -- single-item changes, written at once ---------------------------------------------------

    def claim(self, message: Message, lease_until: datetime, from_number: str | None, *,
              stale: bool = False) -> Message | None:
        """held/queued (or, with ``stale``, an abandoned ``sending``) -> sending, for this caller only.

        The version condition makes the claim exclusive: None when someone else got there first.
        """
        proxy = _proxy(message)
        allowed = (*_WAITING, MessageStatus.SENDING.value) if stale else _WAITING
        try:
            proxy.update(
                actions=[
                    m.MessageModel.status.set(MessageStatus.SENDING.value),
                    m.MessageModel.attempts.set(m.MessageModel.attempts + 1),
                    m.MessageModel.due_at.set(lease_until),
                    m.MessageModel.from_number.set(from_number) if from_number else m.MessageModel.from_number.remove(),
                ],
                condition=m.MessageModel.status.is_in(*allowed),
            )
        except UpdateError as err:
            if condition_failed(err):
                return None
            raise
        return message_from(proxy)

    def queued(self, message: Message, due_at: datetime, code: str | None) -> bool:
        """sending -> queued: a transient failure; the sweep tries again at ``due_at``."""
        return self._change(message, [
            m.MessageModel.status.set(MessageStatus.QUEUED.value),
            m.MessageModel.due_agency.set(message.agency_id),
            m.MessageModel.due_at.set(due_at),
            m.MessageModel.error_code.set(code) if code else m.MessageModel.error_code.remove(),
        ], m.MessageModel.status == MessageStatus.SENDING.value)

    def reschedule(self, message: Message, due_at: datetime) -> bool:
        """A waiting message whose time came while closed waits for the next opening instead."""
        return self._change(message, [m.MessageModel.due_at.set(due_at)], m.MessageModel.status.is_in(*_WAITING))

    def clear_due(self, message: Message) -> None:
        """Take a message that is no longer waiting out of the due index (someone else finished it)."""
        self._change(message, _leave_queue(), None)

    def save_media(self, message: Message, media: Sequence[MediaRef], next_try: datetime | None) -> None:
        """Record media progress; ``next_try`` None takes the message out of the media queue."""
        actions: list[Any] = [m.MessageModel.media.set([media_item(ref) for ref in media])]
        actions += _leave_queue() if next_try is None else [m.MessageModel.due_at.set(next_try)]
        if not self._change(message, actions, m.MessageModel.sk.exists()):
            raise ConcurrentUpdate(message.message_id)

    def automated_outcome(self, message: Message, status: MessageStatus, *, retry_at: datetime | None = None,
                          error_code: str | None = None) -> None:
        """An automated send (follow-up, check-in, survey) the run just made that Twilio did not take:
        ``failed`` (refused) or ``queued`` for the sweep (busy). One it took is recorded with what
        counts it, in one unit of work (``services/automatic.py``).

        Unconditional but for the item's version: if the sweep or a status callback got there
        first, their state wins and this is dropped.
        """
        actions = [m.MessageModel.status.set(status.value), m.MessageModel.attempts.add(1)]
        if retry_at is not None:
            actions.append(m.MessageModel.due_at.set(retry_at))
        else:
            actions += _leave_queue()
        if error_code:
            actions.append(m.MessageModel.error_code.set(error_code))
        try:
            _proxy(message).update(actions=actions)
        except UpdateError:
            pass

    def erase(self, message: Message) -> None:
        """Remove the body, the content and the media references, and take it out of every queue.

        The media list is emptied rather than marked (other readers know only pending, copied and
        stored); how many items there were stays in the ``MESSAGE_FILED`` audit event. A shared
        location or a pressed button is the client's words too (SPEC §5.7); the MessageSid (and with
        it the ``by_sid`` entry) and an override reason go as well.
        """
        latest = [message]

        def attempt() -> None:
            current = latest[0]
            if (current.body is None and not current.media and current.due_at is None
                    and current.content.location is None and current.content.button is None
                    and current.twilio_sid is None and current.override_reason is None):
                return
            actions = [m.MessageModel.body.remove(), m.MessageModel.media.set([]),
                       m.MessageModel.location.remove(), m.MessageModel.button.remove(),
                       m.MessageModel.twilio_sid.remove(), m.MessageModel.override_reason.remove(),
                       *_leave_queue()]
            if self._change(current, actions, None):
                return
            found = self.get(current.ref)  # changed meanwhile (a status callback)
            if found is None:
                return
            latest[0] = found
            raise ConcurrentUpdate(current.client_id)

        retry_on_conflict(attempt)  # still moving after every attempt: the erasure answers 409

    @staticmethod
    def _change(message: Message, actions: list[Any], condition: Any) -> bool:
        """One conditional UpdateItem (on ``condition`` and the version); False when it failed."""
        try:
            _proxy(message).update(actions=actions, condition=condition)
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True
