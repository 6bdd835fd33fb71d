"""Whom a filed client message tells at once (SPEC §5.9, §4.4), in the unit of work that files it.

``domain.inbound.decide`` says which alerts a message raises (``Decision.alerts``); this module
queues them on the filing's unit of work, so a message is never filed without its alerts nor
alerted without being filed, and Twilio's retry of a failed webhook does both:

* a crisis word while closed: the on-call person, as before (``services.crisis``);
* a crisis word while open: whoever answers the file today (the case manager or the colleague
  covering) and every supervisor, a ``crisis`` notification each, once per crisis (the file's
  crisis mark, written with the filing and conditioned on its absence, makes it once);
* a voice note while closed: the on-call person (the supervisors when the policy names none), a
  ``voice_note`` notification, once per client and closed period;
* a new inquiry of an absent worker's client: the colleague covering, ``new_message``.

A message joining an open inquiry with a crisis word marks that inquiry too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ..domain import inbound as rules
from ..domain.audit import AuditEvent, AuditType
from ..domain.crisis import crisis_recipients, new_message_notice, open_crisis_notices, voice_note_notices
from ..domain.messages import Message
from ..domain.model import Client, Role
from ..domain.policy import Policy

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork
    from .crisis import CrisisAlerts, OnCallSms


class InboundAlerts:
    def __init__(self, on_call: CrisisAlerts) -> None:
        self._on_call = on_call

    def queue(self, uow: UnitOfWork, decision: rules.Decision, client: Client, message: Message, policy: Policy,
              at: datetime, *, opened: bool) -> OnCallSms | None:
        """Queue on ``uow`` what ``decision`` raises for ``message`` (filed on ``client``); returns the
        on-call SMS to send once committed. ``opened``: the message opened its inquiry (already
        marked crisis when it is one)."""
        inquiry_id = message.inquiry_id
        if decision.crisis and not opened and inquiry_id:
            inquiry = uow.inquiries.get(inquiry_id)
            if inquiry is not None and not inquiry.crisis:
                uow.inquiries.mark_crisis(inquiry)  # versioned: answered meanwhile, the filing is read again
        sms = None
        if rules.Alert.CRISIS_ON_CALL in decision.alerts:
            sms = self._on_call.queue(uow, client, inquiry_id, decision.closed_period or at.isoformat(), policy, at,
                                      mark=False)
        answerer = decision.answerer or client.case_manager_id
        if rules.Alert.CRISIS_OPEN in decision.alerts:
            supervisors = uow.staff.ids_with_role(client.agency_id, Role.SUPERVISOR)
            recipients = crisis_recipients(answerer, supervisors)
            uow.notifications.add(client.agency_id, open_crisis_notices(client, recipients, at, inquiry_id,
                                                                       key=inquiry_id or message.message_id))
            uow.audit.add([self._event(client, AuditType.CRISIS_ALERTED, at, inquiry_id, recipients,
                                       while_open=True)])
        if rules.Alert.VOICE_NOTE in decision.alerts and decision.closed_period is not None:
            self._voice_note(uow, client, message, policy, decision.closed_period, at)
        if rules.Alert.NEW_FOR_COVER in decision.alerts and inquiry_id and answerer != client.case_manager_id:
            uow.notifications.add(client.agency_id, [new_message_notice(client, answerer, at, inquiry_id)])
        return sms

    def send(self, sms: OnCallSms) -> bool:
        return self._on_call.send(sms)

    def _voice_note(self, uow: UnitOfWork, client: Client, message: Message, policy: Policy, period: str,
                    at: datetime) -> None:
        if not uow.claims.alert_voice_note_once(client.client_id, period, at):
            return
        recipients = [policy.on_call_staff_id] if policy.on_call_staff_id else sorted(
            uow.staff.ids_with_role(client.agency_id, Role.SUPERVISOR))
        uow.notifications.add(client.agency_id, voice_note_notices(client, recipients, at, message.inquiry_id,
                                                                   message.message_id))
        uow.audit.add([self._event(client, AuditType.VOICE_NOTE_ALERTED, at, message.inquiry_id, recipients,
                                   message_id=message.message_id)])

    @staticmethod
    def _event(client: Client, kind: AuditType, at: datetime, inquiry_id: str | None, recipients: list[str],
               **details: object) -> AuditEvent:
        return AuditEvent(agency_id=client.agency_id, type=kind, at=at, actor="system", client_id=client.client_id,
                          staff_id=client.case_manager_id,
                          details={"inquiry_id": inquiry_id, "to": recipients, **details})
