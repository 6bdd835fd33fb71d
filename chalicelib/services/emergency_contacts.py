"""A client's emergency contact (SPEC §4.4 ``PUT /clients/{id}/emergency-contact``, §5.9).

Whom the client agreed may be called in a crisis: a name, a phone number and how they are related.
The case manager (or the colleague covering) or an administrator records it; it is shown with
every crisis of the client (the conversation's crisis banner), is part of the file's export and
goes with the file's erasure. The audit trail records that it changed, never what it says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..adapters.conflicts import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput
from ..domain.model import Client, EmergencyContact, Principal
from .access import manageable_client
from .clients import agency_country
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

MAX_NAME = 100
MAX_RELATION = 60


@dataclass(frozen=True)
class SetEmergencyContact:
    name: str
    phone: str  # as typed: E.164, or national format until the agency's country is known
    relation: str

    @classmethod
    def parse(cls, payload: Any) -> SetEmergencyContact:
        body = v.require_object(payload)
        phone = body.get("phone")
        if not isinstance(phone, str) or not phone.strip() or len(phone) > 30:
            raise InvalidInput("phone", "must be a phone number, in E.164 form (+15875550123) or national format")
        return cls(name=v.text(body, "name", max_len=MAX_NAME) or "", phone=phone.strip(),
                   relation=v.text(body, "relation", max_len=MAX_RELATION) or "")


class EmergencyContacts:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any,
                 covering_for: Callable[[Principal], frozenset[str]] | None = None) -> None:
        self._uow = uow
        self._policies = policies
        self._covering_for = covering_for or (lambda principal: frozenset())

    def put(self, principal: Principal, client_id: str, command: SetEmergencyContact) -> Client:
        """Record the contact (replacing any earlier one); the phone is stored in E.164."""
        def attempt() -> Client:
            uow = self._uow()
            found = uow.clients.get(client_id) if v.is_identifier(client_id) else None
            client = manageable_client(principal, found, covering=self._covering_for(principal))
            country = agency_country(self._policies, client.agency_id,
                                     lambda: uow.numbers.of(client.agency_id, client.case_manager_id))
            contact = EmergencyContact(name=command.name, phone=v.phone(command.phone, "phone", country),
                                       relation=command.relation)
            with uow:
                uow.clients.update(client, {"emergency_contact": contact})
                uow.audit.add([AuditEvent(
                    agency_id=client.agency_id, type=AuditType.EMERGENCY_CONTACT_SET, at=utcnow(),
                    actor=principal.staff_id, client_id=client.client_id, staff_id=client.case_manager_id,
                    details={"replaced": client.emergency_contact is not None},
                )])
                uow.commit()
            return replace(client, emergency_contact=contact, version=client.version + 1)

        try:
            return retry_on_conflict(attempt)
        except ConcurrentUpdate:
            raise Conflict("the client file changed meanwhile; please retry", code="busy") from None


def emergency_contact_view(contact: EmergencyContact | None) -> dict[str, str] | None:
    """The contact as the API shows it (``client_view`` writes the same)."""
    if contact is None:
        return None
    return {"name": contact.name, "phone": contact.phone, "relation": contact.relation}
