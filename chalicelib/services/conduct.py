"""The conduct policy: warnings, suspension and closure of a client file (CMDM §4–5, §9; issue 5).

CMDM: offensive or off-topic content gets a reminder, then a request to come in person, then the
end of the service. A warning is recorded on the file (``warnings`` += 1, audit ``CLIENT_WARNED``);
once the file has the policy's ``conduct.warnings_before_meeting`` warnings it is
``flagged_for_meeting``. The case manager (or an admin) may suspend or close the file, or make it
active again (audit ``CLIENT_STATUS`` with ``conduct`` telling whether it was under the conduct
policy, which the usage report counts as "removed"). A file that is not active leaves the follow-up
indexes at once, so no automated message reaches it; an active one re-enters them.

Each step tells the client (SPEC §5.5), in their language, as a message of kind ``notice`` filed
with the change: ``conduct_reminder`` for a warning, ``conduct_meeting`` for the warning that
reaches the threshold, ``service_ended`` when the file is suspended or closed under the conduct
policy. It goes at once while the agency is open, else at the next opening (the sweep sends it).
On WhatsApp outside the 24-hour window it goes as the policy's approved template of the same name
(``whatsapp_templates``), by the rule follow-ups follow (``domain.outbound.automatic_template``);
without one it is filed ``failed`` (``whatsapp_window_closed``) and not sent. A notice counts (the
usage report, ``notice.sent``) only once Twilio has accepted it (``services/automatic.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain import followups as rules
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput
from ..domain.messages import Direction, Message, MessageKind, MessageRef, MessageStatus
from ..domain.model import Client, ClientStatus, Principal
from ..domain.outbound import NoApprovedTemplate, automatic_template
from .access import manageable_client
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

MAX_REASON = 500
CONDUCT_REMINDER = "conduct_reminder"
CONDUCT_MEETING = "conduct_meeting"
SERVICE_ENDED = "service_ended"
log = logging.getLogger("cmdm.conduct")


@dataclass(frozen=True)
class Warn:
    reason: str

    @classmethod
    def parse(cls, payload: Any) -> Warn:
        body = v.require_object(payload)
        return cls(reason=v.text(body, "reason", max_len=MAX_REASON) or "")


@dataclass(frozen=True)
class ChangeStatus:
    status: ClientStatus
    reason: str | None
    conduct: bool

    @classmethod
    def parse(cls, payload: Any) -> ChangeStatus:
        body = v.require_object(payload)
        status = ClientStatus(v.one_of(body.get("status"), "status", [s.value for s in ClientStatus]))
        # Suspending or closing a file always needs a reason on record; re-activating may omit it.
        reason = v.text(body, "reason", required=status is not ClientStatus.ACTIVE, max_len=MAX_REASON)
        conduct = body.get("conduct", False)
        if not isinstance(conduct, bool):
            raise InvalidInput("conduct", "must be true or false")
        if conduct and status is ClientStatus.ACTIVE:
            raise InvalidInput("conduct", "only a suspension or a closure is made under the conduct policy")
        return cls(status=status, reason=reason, conduct=conduct)


class ConductService:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any,
                 covering_for: Callable[[Principal], frozenset[str]] | None = None,
                 notices: bool = True, send_now: Callable[[MessageRef, datetime], str] | None = None) -> None:
        self._uow = uow
        self._policies = policies
        self._covering_for = covering_for or (lambda principal: frozenset())
        # Whether the client is told (a conduct notice), and how a due one is sent (the sweep's release).
        self._notices = notices
        self._send_now = send_now

    def _load(self, principal: Principal, client_id: str) -> Client:
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        return manageable_client(principal, client, covering=self._covering_for(principal))

    def _apply(self, principal: Principal, client_id: str,
               change: Callable[[Client, datetime], tuple[dict[str, Any], AuditEvent] | None],
               notice_for: Callable[[Client, dict[str, Any]], str | None] = lambda client, changes: None) -> Client:
        """Read, decide, write with the file's version; re-read and decide again if it moved.

        ``notice_for`` names the template the client is told with (SPEC §5.5), filed in the same
        transaction as the change and sent at once when open (held until the next opening if not).
        """
        def attempt() -> tuple[Client, Message | None, datetime]:
            client = self._load(principal, client_id)  # read again on every attempt
            now = utcnow()
            decided = change(client, now)
            if decided is None:
                return client, None, now
            changes, event = decided
            template = notice_for(client, changes) if self._notices else None
            notice = self._notice(client, template, now) if template else None
            with self._uow() as uow:
                uow.clients.update(client, changes)
                uow.audit.add([event])
                if notice is not None:
                    uow.messages.add(notice)
                    uow.audit.add([self._notice_filed(client, event, notice)])
                uow.commit()
            known = {k: val for k, val in changes.items() if hasattr(client, k)}
            return replace(client, version=client.version + 1, **known), notice, now

        try:
            client, notice, now = retry_on_conflict(attempt)
        except ConcurrentUpdate:
            raise Conflict("the client file is being changed by someone else; please retry",
                           code="concurrent_update") from None
        if notice is not None and self._send_now is not None and notice.status is MessageStatus.QUEUED:
            try:
                self._send_now(notice.ref, now)
            except Exception as err:  # filed and due: the sweep sends it; nothing is lost
                log.error("conduct notice not sent at once: %s", type(err).__name__)
        return client

    def _notice(self, client: Client, template: str, now: datetime) -> Message | None:
        """The notice message, in the client's language; None when the client may not be messaged."""
        if client.messaging_refusal(notice=True) is not None:
            return None
        policy = self._policies.get(client.agency_id)
        calendar = policy.calendar
        send_at = now if calendar.is_open(now) else calendar.next_opening(now)
        message_id = new_id("msg")
        notice = Message(
            client_id=client.client_id, message_id=message_id,
            agency_id=client.agency_id, staff_id=client.case_manager_id, channel=client.channel,
            direction=Direction.OUTBOUND, body=policy.render(template, client.language),
            status=MessageStatus.QUEUED, at=now, due_at=send_at, kind=MessageKind.NOTICE,
        )
        try:
            # Decided for when it goes: WhatsApp's window may close before the next opening.
            approved = automatic_template(template, client.channel, client.last_inbound_at, send_at,
                                          policy.whatsapp_templates)
        except NoApprovedTemplate as closed:  # on record, never sent as free text WhatsApp refuses
            return replace(notice, status=MessageStatus.FAILED, due_at=None, error_code=closed.code)
        return replace(notice, template=approved)

    @staticmethod
    def _notice_filed(client: Client, event: AuditEvent, notice: Message) -> AuditEvent:
        return AuditEvent(
            agency_id=client.agency_id, type=AuditType.MESSAGE_FILED, at=event.at, actor="system",
            client_id=client.client_id, staff_id=client.case_manager_id,
            details={k: val for k, val in {
                "direction": "outbound", "kind": MessageKind.NOTICE.value, "channel": client.channel.value,
                "message_id": notice.message_id, "template": event.details.get("notice"),
                "whatsapp_template": notice.template, "error_code": notice.error_code}.items() if val is not None},
        )

    def warn(self, principal: Principal, client_id: str, command: Warn) -> Client:
        def change(client: Client, now: datetime) -> tuple[dict[str, Any], AuditEvent]:
            if client.status is ClientStatus.CLOSED:
                raise Conflict("the client file is closed", code="file_closed")
            policy = self._policies.get(client.agency_id)
            warnings = client.warnings + 1
            flagged = client.flagged_for_meeting or warnings >= policy.warnings_before_meeting
            event = AuditEvent(
                agency_id=client.agency_id,
                type=AuditType.CLIENT_WARNED,
                at=now,
                actor=principal.staff_id,
                client_id=client.client_id,
                staff_id=client.case_manager_id,
                details={"reason": command.reason, "warnings": warnings, "flagged_for_meeting": flagged,
                         "notice": _warning_notice(warnings, policy.warnings_before_meeting)},
            )
            return {"warnings": warnings, "flagged_for_meeting": flagged}, event

        def notice(client: Client, changes: dict[str, Any]) -> str:
            return _warning_notice(int(changes["warnings"]), self._policies.get(client.agency_id).warnings_before_meeting)

        return self._apply(principal, client_id, change, notice)

    def change_status(self, principal: Principal, client_id: str, command: ChangeStatus) -> Client:
        def change(client: Client, now: datetime) -> tuple[dict[str, Any], AuditEvent] | None:
            if client.status is command.status:
                return None  # already so: nothing to record
            changes: dict[str, Any] = {"status": command.status, "status_reason": command.reason}
            if command.status is ClientStatus.CLOSED:
                changes["closed_at"] = now
            elif command.status is ClientStatus.ACTIVE:
                changes["closed_at"] = None
            if command.status is ClientStatus.ACTIVE:
                # Back in the indexes (when consented and not opted out), counted from today.
                policy = self._policies.get(client.agency_id)
                changes.update(rules.schedule_changes(replace(client, status=ClientStatus.ACTIVE), policy, now))
            else:
                changes.update(rules.UNSCHEDULE)
            event = AuditEvent(
                agency_id=client.agency_id,
                type=AuditType.CLIENT_STATUS,
                at=now,
                actor=principal.staff_id,
                client_id=client.client_id,
                staff_id=client.case_manager_id,
                details={"status": command.status.value, "previous": client.status.value,
                         "reason": command.reason, "conduct": command.conduct,
                         "notice": SERVICE_ENDED if command.conduct else None},
            )
            return changes, event

        def notice(client: Client, changes: dict[str, Any]) -> str | None:
            return SERVICE_ENDED if command.conduct else None  # only conduct ends are the client's to hear

        return self._apply(principal, client_id, change, notice)


def _warning_notice(warnings: int, threshold: int) -> str:
    """The warning that reaches the threshold asks the client to come in; earlier ones remind."""
    return CONDUCT_MEETING if warnings >= threshold else CONDUCT_REMINDER
