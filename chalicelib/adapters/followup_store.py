"""DynamoDB and SQS access for follow-ups, check-ins and surveys (issue 5, SPEC §5.5).

Reads are keyed: the three sparse "due" indexes of the clients table are queried per agency with
``<= now`` (KEYS_ONLY, so a page holds thousands of ids), each due file is then read by key, and
``GET /followups`` queries the followups table by ``agency#staff``. Nothing here scans.

One send is one ``TransactWrite``: the once-only claim (``attribute_not_exists``, TTL), the outbound
message, the file's schedule changes (conditioned on its version), the worker's follow-up row and
the audit events. Either all of it is written or none, so a message can never be sent twice for
one period nor be sent without a trace in the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from ..domain.audit import AuditEvent
from ..domain.model import Channel, Client
from . import models as m
from .store import DynamoStore, agency_staff, audit_item, condition_failed, sort_key

#: How long a once-only claim is kept. Periods are at most a calendar month (check-ins); a claim
#: only has to outlive every run that could see the same period again.
CLAIM_TTL = timedelta(days=100)


@dataclass(frozen=True)
class OutboundRecord:
    """An automated outbound message, as filed with the client before it is handed to Twilio."""

    message_id: str
    client_id: str
    agency_id: str
    kind: str  # followup | checkin | survey
    channel: Channel
    staff_id: str
    from_number: str
    body: str
    at: datetime
    retry_at: datetime  # due for the sweep if this send never completes (crash, Twilio down)
    template: str | None = None  # the WhatsApp template name used outside the 24-hour window

    @property
    def sk(self) -> str:
        return sort_key(self.at, self.message_id)


@dataclass(frozen=True)
class FollowupRow:
    agency_id: str
    staff_id: str
    client_id: str
    kind: str
    at: datetime
    replied_at: datetime | None = None
    score: int | None = None


@dataclass
class SendOutcome:
    committed: bool
    claim_taken: bool = False  # someone already sent this period's message
    stale: bool = False  # the file changed since it was read
    message: Any = field(default=None, repr=False)


class FollowupStore:
    """Follow-up queries and the one-transaction send, on top of the shared ``DynamoStore``."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    # -- due clients ------------------------------------------------------------------------------

    def due_client_ids(self, agency_id: str, now: datetime) -> list[str]:
        """Clients of ``agency_id`` with a follow-up, check-in or survey due at or before ``now``."""
        seen: dict[str, None] = {}
        queries = (
            (m.ClientModel.followups_due, m.ClientModel.next_followup_at),
            (m.ClientModel.checkins_due, m.ClientModel.next_checkin_at),
            (m.ClientModel.surveys_due, m.ClientModel.next_survey_at),
        )
        for index, attr in queries:
            for item in index.query(agency_id, attr <= now):
                seen.setdefault(item.client_id, None)
        return list(seen)

    # -- sending ----------------------------------------------------------------------------------

    def commit_send(
        self,
        client: Client,
        changes: dict[str, Any],
        claim_key: str,
        record: OutboundRecord,
        events: Sequence[AuditEvent],
    ) -> SendOutcome:
        """File the message and move the schedule, once per claim key; nothing if already claimed."""
        claim = m.ClaimModel(
            claim_key=claim_key,
            created_at=record.at,
            ref=record.message_id,
            expires_at=record.at + CLAIM_TTL,
        )
        message = m.MessageModel(
            client_id=record.client_id,
            sk=record.sk,
            message_id=record.message_id,
            agency_id=record.agency_id,
            direction="outbound",
            kind=record.kind,
            body=record.body,
            at=record.at,
            status="sending",
            channel=record.channel.value,
            staff_id=record.staff_id,
            from_number=record.from_number,
            template=record.template,
            attempts=0,
            # Until the send is confirmed the message is due for the sweep, a little later: a crash
            # between this write and Twilio's answer leaves it retried, never lost.
            due_agency=record.agency_id,
            due_at=record.retry_at,
        )
        row = m.FollowupModel(
            agency_staff=agency_staff(record.agency_id, record.staff_id),
            sk=sort_key(record.at, record.client_id),
            client_id=record.client_id,
            kind=record.kind,
            at=record.at,
            message_sk=record.sk,
        )
        try:
            with self._store.transaction() as tx:
                tx.save(claim, condition=m.ClaimModel.claim_key.does_not_exist())
                self._store.update_client(client, changes, tx=tx)
                tx.save(message, condition=m.MessageModel.sk.does_not_exist())
                tx.save(row)
                for event in events:
                    tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            # DynamoDB reports reasons in item order: PynamoDB sends puts (the claim first), then updates.
            failed = DynamoStore._cancelled_by_condition(err)
            if failed and failed[0]:
                return SendOutcome(False, claim_taken=True)
            if failed and failed[-1]:
                return SendOutcome(False, stale=True)
            raise
        return SendOutcome(True, message=message)

    def mark_sent(self, message: Any, sid: str, status: str, at: datetime) -> None:
        self._finish(message, [
            m.MessageModel.status.set("sent" if status in ("queued", "accepted", "sending") else status),
            m.MessageModel.twilio_sid.set(sid),
            m.MessageModel.sent_at.set(at),
            m.MessageModel.attempts.add(1),
            m.MessageModel.due_agency.remove(),
            m.MessageModel.due_at.remove(),
        ])

    def mark_retry(self, message: Any, retry_at: datetime, error_code: str | None) -> None:
        """A transient failure: leave the message due, so the outbound sweep sends it later."""
        actions = [
            m.MessageModel.status.set("queued"),
            m.MessageModel.attempts.add(1),
            m.MessageModel.due_at.set(retry_at),
        ]
        if error_code:
            actions.append(m.MessageModel.error_code.set(error_code))
        self._finish(message, actions)

    def mark_failed(self, message: Any, error_code: str | None) -> None:
        self._finish(message, [
            m.MessageModel.status.set("failed"),
            m.MessageModel.error_code.set(error_code or "unknown"),
            m.MessageModel.attempts.add(1),
            m.MessageModel.due_agency.remove(),
            m.MessageModel.due_at.remove(),
        ])

    @staticmethod
    def _finish(message: Any, actions: list[Any]) -> None:
        try:
            message.update(actions=actions)
        except UpdateError:
            # Someone (the sweep, a status callback) got there first; their state wins.
            pass

    # -- skipping and rescheduling ----------------------------------------------------------------

    def reschedule(self, client: Client, changes: dict[str, Any], events: Sequence[AuditEvent] = ()) -> bool:
        """Apply schedule changes to the file; False if it changed meanwhile (the next run re-reads)."""
        from .store import ConcurrentUpdate

        try:
            self._store.update_client(client, changes, events)
        except ConcurrentUpdate:
            return False
        return True

    # -- the worker's list ------------------------------------------------------------------------

    def followups_of(self, agency_id: str, staff_id: str, limit: int) -> list[FollowupRow]:
        rows = []
        for item in m.FollowupModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False, limit=limit):
            rows.append(FollowupRow(
                agency_id=agency_id,
                staff_id=staff_id,
                client_id=item.client_id,
                kind=item.kind,
                at=item.at,
                replied_at=item.replied_at,
                score=int(item.score) if item.score is not None else None,
            ))
        return rows

    def record_score(self, agency_id: str, staff_id: str, client_id: str, survey_at: datetime, score: int,
                     replied_at: datetime) -> bool:
        """Put a survey's score on its follow-up row (for the inbound feature, next to SURVEY_SCORED).

        The row of a survey is keyed by the instant it was sent, which the run also stores on the
        file as ``last_survey_at``; so ``record_score(..., client.last_survey_at, score, at)`` finds it.
        False when there is no such row.
        """
        item = m.FollowupModel(agency_staff=agency_staff(agency_id, staff_id), sk=sort_key(survey_at, client_id))
        try:
            item.update(actions=[m.FollowupModel.score.set(score), m.FollowupModel.replied_at.set(replied_at)],
                        condition=m.FollowupModel.sk.exists())
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise  # a throttle is not "no such row": never drop a score silently
        return True

    def last_inbound(self, client_ids: Iterable[str]) -> dict[str, datetime | None]:
        """``last_inbound_at`` of each file, in BatchGets of up to 100 keys."""
        ids = list(dict.fromkeys(client_ids))
        found: dict[str, datetime | None] = {}
        for start in range(0, len(ids), 100):
            chunk = ids[start:start + 100]
            for item in m.ClientModel.batch_get(chunk, attributes_to_get=["client_id", "last_inbound_at"]):
                found[item.client_id] = item.last_inbound_at
        return found
