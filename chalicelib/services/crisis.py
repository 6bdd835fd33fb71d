"""Crisis after hours (SPEC §5.9): a message that reads as a crisis reaches the on-call person at once.

The inbound decision (``domain.inbound.decide``) has already answered the client with the
emergency line first; this use case, run after the message is filed, marks the inquiry
``crisis`` and alerts the policy's on-call staff member (``on_call``): a notification of type
``crisis``, and an SMS to ``on_call_number`` when the policy gives one. Without an on-call person
the agency's supervisors are notified instead, so a crisis never waits for 9:00 unseen.

The SMS says which worker's client wrote and where to look, never the client's number or words
(it leaves the agency's systems). It goes from the case manager's SMS work number, or any of the
agency's SMS numbers. One alert per client per closed period (a claim), however many messages.
Nothing here opens an exception to the worker's own boundaries: their replies are still held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.twilio_gateway import OutboundMessage
from ..domain.audit import AuditEvent, AuditType
from ..domain.model import Channel, Client, Role
from ..domain.notifications import Notification
from ..domain.policy import Policy

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.crisis")

CLAIM_TTL = timedelta(days=7)


class CrisisAlerts:
    def __init__(self, uow: Callable[[], UnitOfWork], gateway: Any) -> None:
        self._uow = uow
        self._gateway = gateway

    def alert(self, client: Client, inquiry_id: str | None, period: str, policy: Policy, at: datetime) -> bool:
        """Mark the inquiry and tell the on-call person, once per client and closed period."""
        if inquiry_id:
            self._mark(inquiry_id)
        uow = self._uow()
        if not uow.claims.take(f"crisis#{client.client_id}#{period}", at, CLAIM_TTL):
            return False
        recipients = [policy.on_call_staff_id] if policy.on_call_staff_id else sorted(
            uow.staff.ids_with_role(client.agency_id, Role.SUPERVISOR))
        text = (f"Crisis: a client of {client.case_manager_id} wrote after hours with words of danger. "
                f"They were given the emergency line ({policy.emergency_line}). Open the console: inquiry {inquiry_id}.")
        notes = [
            Notification(recipient_id=who, type="crisis", at=at, client_id=client.client_id, inquiry_id=inquiry_id,
                         message=text, notification_id=f"crisis-{client.client_id}-{who}")
            for who in recipients
        ]
        uow.notifications.send(client.agency_id, notes)
        sms = self._sms(client, policy, text) if policy.on_call_number else False
        uow.audit.append([AuditEvent(
            agency_id=client.agency_id, type=AuditType.CRISIS_ALERTED, at=at, actor="system",
            client_id=client.client_id, staff_id=client.case_manager_id,
            details={"inquiry_id": inquiry_id, "to": recipients, "sms": sms},
        )])
        return True

    def _mark(self, inquiry_id: str) -> None:
        for _ in range(3):
            with self._uow() as uow:
                inquiry = uow.inquiries.get(inquiry_id)
                if inquiry is None or inquiry.crisis:
                    return
                uow.inquiries.mark_crisis(inquiry)
                if uow.commit_unless_changed():  # else the inquiry moved (answered, joined): read it again
                    return
        log.warning("inquiry %s kept changing; not marked crisis", inquiry_id)

    def _sms(self, client: Client, policy: Policy, text: str) -> bool:
        numbers = [n.number for n in self._uow().numbers.of(client.agency_id, client.case_manager_id)
                   if Channel.SMS in n.channels]
        if not numbers:
            log.warning("no SMS work number to alert the on-call person from (agency %s)", client.agency_id)
            return False
        try:
            self._gateway.send(OutboundMessage(from_number=sorted(numbers)[0], to=policy.on_call_number or "",
                                               channel=Channel.SMS, body=text))
        except Exception as err:  # the notification is in; the SMS failing must not lose the message
            log.error("on-call SMS failed: %s", type(err).__name__)
            return False
        return True
