"""Crisis after hours (SPEC §5.9): a message that reads as a crisis reaches the on-call person at once.

The inbound decision (``domain.inbound.decide``) has already answered the client with the
emergency line first; this use case marks the inquiry ``crisis`` and alerts the policy's on-call
staff member (``on_call``): a notification of type ``crisis``, and an SMS to ``on_call_number``
when the policy gives one. Without an on-call person the agency's supervisors are notified
instead, so a crisis never waits for 9:00 unseen.

The alert's writes (the inquiry's mark, the once-per-period claim, the notifications and the
audit event) are queued on the unit of work that files the message, so they commit with it or not
at all: a failed write leaves no claim behind, and Twilio's retry of the webhook files the message
and alerts. Only the SMS leaves after the commit (``send``); it could not be taken back.

The SMS says which worker's client wrote and where to look, never the client's number or words
(it leaves the agency's systems). It goes from the case manager's SMS work number, or any of the
agency's SMS numbers. One alert per client per closed period (a claim), however many messages.
Nothing here opens an exception to the worker's own boundaries: their replies are still held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.twilio_gateway import OutboundMessage
from ..domain.audit import AuditEvent, AuditType
from ..domain.model import Channel, Client, Role
from ..domain.notifications import Notification
from ..domain.policy import Policy

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.crisis")


@dataclass(frozen=True)
class OnCallSms:
    """The SMS to the on-call number, sent once the alert is committed."""

    from_number: str
    to: str
    text: str


class CrisisAlerts:
    def __init__(self, uow: Callable[[], UnitOfWork], gateway: Any) -> None:
        self._uow = uow
        self._gateway = gateway

    def queue(self, uow: UnitOfWork, client: Client, inquiry_id: str | None, period: str, policy: Policy,
              at: datetime, *, mark: bool) -> OnCallSms | None:
        """Queue on ``uow`` the marking of the inquiry (``mark``: it existed before this message)
        and, once per client and closed period, the alert; returns the SMS to send after the commit.

        Two crisis messages of one client at once both read the claim free: the second's commit
        fails on it (``ConcurrentUpdate``), and its retry reads it taken and alerts nobody twice.
        """
        if mark and inquiry_id:
            inquiry = uow.inquiries.get(inquiry_id)
            if inquiry is not None and not inquiry.crisis:
                uow.inquiries.mark_crisis(inquiry)  # versioned: answered meanwhile, the filing is read again
        if not uow.claims.alert_crisis_once(client.client_id, period, at):
            return None
        recipients = [policy.on_call_staff_id] if policy.on_call_staff_id else sorted(
            uow.staff.ids_with_role(client.agency_id, Role.SUPERVISOR))
        text = (f"Crisis: a client of {client.case_manager_id} wrote after hours with words of danger. "
                f"They were given the emergency line ({policy.emergency_line}). Open the console: inquiry {inquiry_id}.")
        uow.notifications.add(client.agency_id, [
            Notification(recipient_id=who, type="crisis", at=at, client_id=client.client_id, inquiry_id=inquiry_id,
                         message=text, notification_id=f"crisis-{client.client_id}-{who}")
            for who in recipients
        ])
        sms = self._sms(client, policy, text) if policy.on_call_number else None
        uow.audit.add([AuditEvent(
            agency_id=client.agency_id, type=AuditType.CRISIS_ALERTED, at=at, actor="system",
            client_id=client.client_id, staff_id=client.case_manager_id,
            # sms: an SMS to the on-call number goes with the alert (a failure to send it is logged)
            details={"inquiry_id": inquiry_id, "to": recipients, "sms": sms is not None},
        )])
        return sms

    def send(self, sms: OnCallSms) -> bool:
        """Send the on-call SMS of a committed alert; a failure is logged (the notification is in)."""
        try:
            self._gateway.send(OutboundMessage(from_number=sms.from_number, to=sms.to, channel=Channel.SMS,
                                               body=sms.text))
        except Exception as err:  # the message and the alert are filed; the SMS failing must not undo them
            log.error("on-call SMS failed: %s", type(err).__name__)
            return False
        return True

    def _sms(self, client: Client, policy: Policy, text: str) -> OnCallSms | None:
        numbers = [n.number for n in self._uow().numbers.of(client.agency_id, client.case_manager_id)
                   if Channel.SMS in n.channels]
        if not numbers:
            log.warning("no SMS work number to alert the on-call person from (agency %s)", client.agency_id)
            return None
        return OnCallSms(from_number=sorted(numbers)[0], to=policy.on_call_number or "", text=text)
