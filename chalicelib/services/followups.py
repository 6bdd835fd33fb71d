"""Weekly follow-ups, monthly check-ins and satisfaction surveys (CMDM; SPEC §5.5, issue 5).

``run`` is what the 15-minute schedule calls. For each agency that is open and past today's send
slot it Queries the three sparse "due" indexes (never a scan), then handles each due file with
``process``: re-read the file by key, ask the pure ``followups.plan`` what to do, and when it says
send, write the claim, the message (``sending``), the schedule and its ``message.filed`` audit in
one transaction before handing the message to Twilio. The follow-up counts only once Twilio has
accepted it: the worker's follow-up row and ``followup.sent`` are written with the change to
``sent`` (``services/automatic.py``); a send Twilio refuses is ``failed`` and counts nowhere. With a fan-out queue configured, ``run`` only
queues batches of client ids and the SQS handler calls ``process`` with them: the same code path.

Nothing is sent twice: the once-only claim of (kind, client, period) is written in the same
transaction as the message, and the file's version guards against a concurrent run that read the
same file. A transient Twilio failure leaves the message due (``due_agency``/``due_at``) for the
outbound sweep to retry; so does a crash between the transaction and Twilio's answer.

WhatsApp allows free-form messages only within 24 hours of the client's last inbound message.
A quiet client is by definition outside that window, so WhatsApp follow-ups normally use the
policy's approved template of the same name (``whatsapp_templates``); an agency without one for
that kind skips the period with an audited reason rather than sending something Twilio refuses.
The rule is ``domain.outbound.automatic_template``, the one conduct notices and posts follow too.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import ConcurrentUpdate, Duplicate, StoreUnavailable
from ..domain import followups as rules
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Forbidden, InvalidInput
from ..domain.followups import FollowupKind
from ..domain.messages import Direction, Message, MessageKind, MessageStatus
from ..domain.model import Client, Principal, Role
from ..domain.outbound import NoApprovedTemplate, automatic_template
from ..domain.policy import Policy
from .automatic import register_accepted
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.followups")

#: A message filed but not yet confirmed by Twilio becomes due for the sweep after this long.
UNCONFIRMED_GRACE = timedelta(minutes=10)
#: After a transient Twilio failure the sweep retries no sooner than this.
RETRY_DELAY = timedelta(minutes=5)
#: Client ids per queued batch (one SQS message each).
BATCH_SIZE = 25
MAX_LIST = 200
#: Attempts at recording that Twilio accepted a follow-up (a throttle must not lose it).
ACCEPTED_WRITE_ATTEMPTS = 6


@dataclass(frozen=True)
class ListFollowups:
    staff_id: str | None = None
    limit: int = 100

    @classmethod
    def parse(cls, params: Any) -> ListFollowups:
        params = params or {}
        staff_id = params.get("staff_id")
        limit_text = params.get("limit")
        limit = 100
        if limit_text is not None:
            if not re.fullmatch(r"[0-9]{1,6}", str(limit_text)) or not 1 <= int(limit_text) <= MAX_LIST:
                raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_LIST}")
            limit = int(limit_text)
        return cls(staff_id=v.identifier(staff_id, "staff_id") if staff_id is not None else None, limit=limit)


@dataclass
class _RunCache:
    """Per-run memo of the lookups many clients of one worker share (name, work numbers)."""

    names: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, list[Any]] = field(default_factory=dict)


def _iso(at: datetime, zone: Any) -> str:
    return at.astimezone(zone).isoformat()


class FollowupService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        policies: Any,
        gateway: Any,
        *,
        status_callback: str | None = None,
        fanout: Any = None,
    ) -> None:
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per use
        self._policies = policies
        self._gateway = gateway
        self._status_callback = status_callback
        self._fanout = fanout

    # -- the scheduled run -----------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """One scheduled run over every agency; a summary of what happened (counts, no content)."""
        now = now or utcnow()
        summary: Counter[str] = Counter()
        for policy in self._policies.all():
            if not rules.slot_passed_today(now, policy):
                continue
            ids = self._uow().clients.due_ids(policy.agency_id, now)
            if not ids:
                continue
            if self._fanout is not None:
                bodies = [
                    {"agency_id": policy.agency_id, "client_ids": ids[i:i + BATCH_SIZE]}
                    for i in range(0, len(ids), BATCH_SIZE)
                ]
                self._fanout.send(bodies)
                summary["queued"] += len(ids)
            else:
                summary.update(self.process(policy.agency_id, ids, now))
        return dict(summary)

    def process_batch(self, body: Any) -> dict[str, int]:
        """The SQS handler's entry: ``{"agency_id", "client_ids": [...]}``; a bad body is dropped."""
        if not isinstance(body, dict) or not isinstance(body.get("agency_id"), str):
            return {"malformed": 1}
        ids = [c for c in body.get("client_ids") or [] if v.is_identifier(c)]
        return self.process(body["agency_id"], ids)

    def process(self, agency_id: str, client_ids: Sequence[str], now: datetime | None = None) -> dict[str, int]:
        """Handle due files of one agency (inline, or one queued batch)."""
        now = now or utcnow()
        counts: Counter[str] = Counter()
        try:
            policy = self._policies.get(agency_id)
        except KeyError:
            return {"unknown_agency": len(client_ids)}
        if not rules.slot_passed_today(now, policy):
            # A batch that waited in the queue past closing: the files stay due for the next slot.
            return {"closed": len(client_ids)}
        cache = _RunCache()
        for client_id in client_ids:
            try:
                outcome = self._one(policy, client_id, now, cache)
            except Exception as err:  # one bad file must not stop the run; it stays due for the next
                log.error("follow-up for one client failed: %s", type(err).__name__)
                outcome = "error"
            counts[outcome] += 1
        return dict(counts)

    # -- one client ------------------------------------------------------------------------------

    def _one(self, policy: Policy, client_id: str, now: datetime, cache: _RunCache) -> str:
        client = self._uow().clients.get(client_id)
        if client is None or client.agency_id != policy.agency_id:
            return "missing"
        plan = rules.plan(client, policy, now)
        if plan.send is None:
            if plan.changes:
                self._reschedule(client, dict(plan.changes))
            return plan.reason or "not_due"
        kind = plan.send

        number = self._work_number(client, cache)
        if number is None:
            return self._skip(client, kind, policy, now, "no_work_number")
        values = {"client_name": client.name, "case_manager": self._staff_name(client, cache)}
        body = policy.render(kind.value, client.language, **values)
        try:
            template = automatic_template(kind.value, client.channel, client.last_inbound_at, now,
                                          policy.whatsapp_templates)
        except NoApprovedTemplate as closed:
            return self._skip(client, kind, policy, now, closed.code)
        content_sid = policy.whatsapp_templates[template].content_sid if template else None
        variables = policy.whatsapp_variables(template, **values) if template else {}

        message = Message(
            message_id=new_id("msg"),
            client_id=client.client_id,
            agency_id=client.agency_id,
            direction=Direction.OUTBOUND,
            kind=MessageKind(kind.value),
            channel=client.channel,
            staff_id=client.case_manager_id,
            from_number=number,
            body=body,
            at=now,
            status=MessageStatus.SENDING,
            # Until the send is confirmed the message is due for the sweep, a little later: a crash
            # between this write and Twilio's answer leaves it retried, never lost.
            due_at=now + UNCONFIRMED_GRACE,
            template=template,
        )
        filed = self._event(client, now, AuditType.MESSAGE_FILED, {
            "direction": "outbound", "kind": kind.value, "channel": client.channel.value,
            "message_id": message.message_id, "template": template,
        })
        assert plan.period is not None
        # One unit of work: the once-only claim of this period, the file's schedule (on its version),
        # the message and its audit; a message is never sent twice for one period nor sent without a
        # trace in the file. What counts it comes once Twilio has accepted it (``_send``).
        with self._uow() as uow:
            uow.claims.claim_followup(kind, client.client_id, plan.period, message.message_id, now)
            uow.clients.update(client, dict(plan.changes))
            uow.messages.add(message)
            uow.audit.add([filed])
            try:
                uow.commit()
            except Duplicate:
                # This period's message already went (an earlier run whose schedule write was lost, or
                # a concurrent one): move the schedule on without sending.
                self._reschedule(client, rules.skip_period(kind, client, policy, now))
                return "already_sent"
            except ConcurrentUpdate:
                return "stale"
        return self._send(message, client, number, body, content_sid, variables, now)

    def _send(self, message: Message, client: Client, number: str, body: str, content_sid: str | None,
              variables: dict[str, str], now: datetime) -> str:
        from ..adapters.twilio_gateway import OutboundMessage, PermanentSendError, TransientSendError

        outbound = OutboundMessage(
            from_number=number,
            to=client.phone,
            channel=client.channel,
            body=None if content_sid else body,
            content_sid=content_sid,
            content_variables=variables,
            status_callback=self._status_callback,
        )
        try:
            result = self._gateway.send(outbound)
        except PermanentSendError as err:
            self._uow().messages.automated_outcome(message, MessageStatus.FAILED, error_code=err.code or "unknown")
            return "failed"
        except TransientSendError as err:
            self._uow().messages.automated_outcome(message, MessageStatus.QUEUED, retry_at=now + RETRY_DELAY,
                                                  error_code=err.code)
            return "retry"
        except Exception as err:  # an unexpected client error: treat as transient, never lose it
            log.error("follow-up send failed: %s", type(err).__name__)
            self._uow().messages.automated_outcome(message, MessageStatus.QUEUED, retry_at=now + RETRY_DELAY)
            return "retry"
        self._accepted(message, result.sid, message.template, now)
        return "sent"

    def _accepted(self, message: Message, sid: str, template: str | None, now: datetime) -> None:
        """Twilio has it: sent, the worker's follow-up row and ``followup.sent``, in one unit of work.

        A throttle is retried with backoff (the message is out: it must be recorded); a conflict means
        the sweep took the message over after its grace ran out, and its own send is what counts.
        """
        def record() -> None:
            with self._uow() as uow:
                register_accepted(uow, message, sid=sid, now=now, template=template)
                uow.commit()

        try:
            retry_on_conflict(record, attempts=ACCEPTED_WRITE_ATTEMPTS, also=(StoreUnavailable,))
        except ConcurrentUpdate:
            log.warning("follow-up %s was accepted after the sweep took it over", message.message_id)

    def _skip(self, client: Client, kind: FollowupKind, policy: Policy, now: datetime, reason: str) -> str:
        event = self._event(client, now, AuditType.FOLLOWUP_SKIPPED, {"kind": kind.value, "reason": reason})
        self._reschedule(client, rules.skip_period(kind, client, policy, now), [event])
        return reason

    def _reschedule(self, client: Client, changes: dict[str, Any], events: Sequence[AuditEvent] = ()) -> bool:
        """Apply schedule changes to the file; False if it changed meanwhile (the next run re-reads)."""
        with self._uow() as uow:
            uow.clients.update(client, changes)
            uow.audit.add(events)
            return uow.commit_unless_changed()

    @staticmethod
    def _event(client: Client, now: datetime, type_: AuditType, details: dict[str, Any]) -> AuditEvent:
        return AuditEvent(
            agency_id=client.agency_id,
            type=type_,
            at=now,
            actor="system",
            client_id=client.client_id,
            staff_id=client.case_manager_id,
            details={k: val for k, val in details.items() if val is not None},
        )

    def _work_number(self, client: Client, cache: _RunCache) -> str | None:
        staff_id = client.case_manager_id
        if staff_id not in cache.numbers:
            cache.numbers[staff_id] = list(self._uow().numbers.of(client.agency_id, staff_id))
        for number in sorted(cache.numbers[staff_id], key=lambda n: n.number):
            if client.channel in number.channels:
                return str(number.number)
        return None

    def _staff_name(self, client: Client, cache: _RunCache) -> str:
        staff_id = client.case_manager_id
        if staff_id not in cache.names:
            staff = self._uow().staff.get(client.agency_id, staff_id)
            cache.names[staff_id] = staff.name if staff is not None else staff_id
        return cache.names[staff_id]

    # -- GET /followups --------------------------------------------------------------------------

    def list(self, principal: Principal, query: ListFollowups) -> list[dict[str, Any]]:
        """The caller's follow-ups (a supervisor's or admin's: one worker's, or every worker's)."""
        if query.staff_id is not None and query.staff_id != principal.staff_id and not principal.sees_whole_agency():
            raise Forbidden("workers see their own follow-ups only")
        if query.staff_id is not None:
            staff_ids = [query.staff_id]
        elif principal.sees_whole_agency():
            staff_ids = [s.staff_id for s in self._uow().staff.list(principal.agency_id) if s.role is Role.WORKER]
        else:
            staff_ids = [principal.staff_id]
        rows = []
        for staff_id in staff_ids:
            rows.extend(self._uow().followups.of(principal.agency_id, staff_id, query.limit))
        rows.sort(key=lambda r: r.at, reverse=True)
        rows = rows[: query.limit]
        inbound = self._uow().clients.last_inbound(r.client_id for r in rows)
        zone = self._policies.get(principal.agency_id).calendar.zone()
        out = []
        for row in rows:
            replied_at = row.replied_at
            last = inbound.get(row.client_id)
            if replied_at is None and last is not None and last > row.at:
                replied_at = last
            item: dict[str, Any] = {
                "client_id": row.client_id,
                "staff_id": row.staff_id,
                "kind": row.kind,
                "at": _iso(row.at, zone),
                "replied": replied_at is not None,
            }
            if replied_at is not None:
                item["replied_at"] = _iso(replied_at, zone)
            if row.score is not None:
                item["score"] = row.score
            out.append(item)
        return out
