"""Administration use cases: staff records and work-provisioned numbers (SPEC §4.4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.conflicts import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.model import Channel, Principal, Role, Staff, WorkNumber
from .access import require_admin
from .clients import agency_country
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PutStaff:
    """``PUT /staff/{staff_id}``: what the request says; a field it leaves out (None here) keeps its
    stored value. A new member needs ``role`` and ``name``; ``active`` defaults to true."""

    staff_id: str
    role: Role | None = None
    name: str | None = None
    active: bool | None = None
    phone: str | None = None  # E.164, or national format until the agency's country is known
    remove_phone: bool = False  # ``"phone": null``

    @classmethod
    def parse(cls, staff_id: str, payload: Any) -> PutStaff:
        body = v.require_object(payload)
        active = body.get("active")
        if "active" in body and not isinstance(active, bool):
            raise InvalidInput("active", "must be true or false")
        phone = body.get("phone")
        if isinstance(phone, str) and not phone.strip().startswith("+"):
            phone = v.text(body, "phone", max_len=30)  # read in the agency's country by ``put_staff``
        elif phone is not None:
            phone = v.e164(phone, "phone")
        return cls(
            staff_id=v.identifier(staff_id, "staff_id"),
            role=v.role(body.get("role")) if "role" in body else None,
            name=v.text(body, "name") if "name" in body else None,
            active=active,
            phone=phone,
            remove_phone="phone" in body and phone is None,
        )

    def applied_to(self, existing: Staff | None, agency_id: str, phone: str | None, now: datetime) -> Staff:
        """The member after this request: ``existing`` with what the request says (``phone`` as read
        in the agency's country); a new member when there is none (400 without role or name)."""
        if existing is None:
            if self.role is None:
                raise InvalidInput("role", "is required to create a staff member")
            if self.name is None:
                raise InvalidInput("name", "is required to create a staff member")
            return Staff(agency_id=agency_id, staff_id=self.staff_id, role=self.role, name=self.name,
                         created_at=now, active=True if self.active is None else self.active, phone=phone)
        return replace(
            existing,
            role=existing.role if self.role is None else self.role,
            name=existing.name if self.name is None else self.name,
            active=existing.active if self.active is None else self.active,
            phone=None if self.remove_phone else phone or existing.phone,
        )


@dataclass(frozen=True)
class PutNumber:
    number: str  # E.164; or as typed in national format until ``put_number`` knows the agency's country
    staff_id: str
    channels: frozenset

    @classmethod
    def parse(cls, number: str, payload: Any) -> PutNumber:
        body = v.require_object(payload)
        national = isinstance(number, str) and bool(number.strip()) and not number.strip().startswith("+")
        return cls(
            number=number.strip() if national else v.e164(number, "number"),
            staff_id=v.identifier(body.get("staff_id"), "staff_id"),
            channels=v.channels(body.get("channels")),
        )


#: The one answer to an admin for a number that is not registered to their agency, whether it is
#: another agency's or nobody's: whose it is, or that it is anyone's, is not this agency's business.
NOT_REGISTERED = "no such number is registered to this agency"


def number_not_registered() -> NotFound:
    return NotFound(NOT_REGISTERED)


def _already_founded() -> Exception:
    return Conflict("another request founded this agency at the same moment; ask its admin for a staff record",
                    code="agency_founded")


class AdminService:
    def __init__(self, uow: Callable[[], UnitOfWork], on_staff_change: Callable[[str], None] | None = None,
                 policies: Any = None) -> None:
        self._uow = uow
        # Forget cached staff records of the agency (the access checks read them), see bootstrap.
        self._on_staff_change = on_staff_change or (lambda agency_id: None)
        self._policies = policies  # the agency's country, for a phone typed in national format

    def put_staff(self, principal: Principal, command: PutStaff) -> tuple[Staff, bool]:
        """Create a member, or change what the request says and keep the rest (SPEC §4.4).

        The change is conditioned on the version read: an edit that loses to a concurrent one (of
        the member or of their absences) is refused with 409 ``conflict``, never silently lost.
        """
        require_admin(principal)
        now = utcnow()
        uow = self._uow()
        existing = uow.staff.get(principal.agency_id, command.staff_id, consistent=True)
        phone = self._phone(uow, principal.agency_id, command)
        staff = command.applied_to(existing, principal.agency_id, phone, now)
        if principal.founding and (staff.role is not Role.ADMIN or not staff.active):
            raise InvalidInput("role", "the first staff record of an agency is its own active admin")
        if staff.staff_id == principal.staff_id and (staff.role is not Role.ADMIN or not staff.active):
            raise InvalidInput("role", "an admin may not demote or deactivate themself; ask another admin")
        event = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.STAFF_UPDATED,
            at=now,
            actor=principal.staff_id,
            staff_id=command.staff_id,
            details={"role": staff.role, "created": existing is None, "active": staff.active,
                     "founding": principal.founding,
                     "phone_changed": staff.phone != (existing.phone if existing else None)},
        )
        with uow:
            if principal.founding:
                # Two founders who both found the agency empty: one claim, so only one of them founds it.
                uow.claims.found_agency(principal.agency_id, principal.staff_id, now, _already_founded)
            if existing is None:
                uow.staff.add(staff, now)
            else:
                uow.staff.update(existing, staff, now)
            uow.audit.add([event])
            try:
                uow.commit()
            except ConcurrentUpdate:
                raise Conflict("this staff member was changed by another request meanwhile; "
                               "read the record again and retry") from None
        self._on_staff_change(principal.agency_id)
        return replace(staff, version=existing.version + 1 if existing else 1), existing is None

    def _phone(self, uow: UnitOfWork, agency_id: str, command: PutStaff) -> str | None:
        """The request's phone in E.164: as given, or read in the agency's country (the policy's,
        else that of the member's work numbers) when typed in national format."""
        if command.phone is None or command.phone.startswith("+"):
            return command.phone
        country = agency_country(self._policies, agency_id, lambda: uow.numbers.of(agency_id, command.staff_id))
        return v.phone(command.phone, "phone", country)

    def put_number(self, principal: Principal, command: PutNumber) -> WorkNumber:
        """Assign a number registered to the admin's agency (``cli numbers register``) to a worker.

        A number registered to another agency, or to none, is not found: the same answer for both.
        """
        require_admin(principal)
        if not command.number.startswith("+"):  # national format: read in the agency's country
            country = agency_country(self._policies, principal.agency_id, lambda: [])
            command = replace(command, number=v.phone(command.number, "number", country))
        staff = self._uow().staff.get(principal.agency_id, command.staff_id)
        if staff is None:
            raise NotFound("no such staff member in this agency")
        if not staff.active:
            raise InvalidInput("staff_id", "this staff member is deactivated")
        if staff.role is not Role.WORKER:
            raise InvalidInput("staff_id", "work numbers are assigned to workers")
        now = utcnow()
        # A concurrent assignment (or an operator moving the registration) changes what was read:
        # read again and decide again.
        number = retry_on_conflict(lambda: self._assign(principal, command, now))
        if number.moving_from:
            for from_staff in sorted(number.moving_from):
                retry_on_conflict(lambda f=from_staff: self._move_clients(
                    principal.agency_id, f, command.staff_id, command.channels, now, principal.staff_id))
            self._uow().numbers.moved_all(number)
            number = replace(number, moving_from=frozenset())
        return number

    def _assign(self, principal: Principal, command: PutNumber, now: datetime) -> WorkNumber:
        uow = self._uow()
        registration = uow.numbers.registration(command.number)
        if registration is None or not registration.belongs_to(principal.agency_id):
            raise number_not_registered()
        previous = registration.holder
        moved_from = previous.staff_id if previous is not None else None
        reassigned = moved_from is not None and moved_from != command.staff_id
        # Whose clients must move to the new holder: the previous holder's, and any move an earlier
        # request wrote but did not finish (a throttle mid-way); recorded with the number itself.
        pending = set(previous.moving_from) if previous is not None else set()
        if reassigned and moved_from is not None:
            pending.add(moved_from)
        pending.discard(command.staff_id)
        number = WorkNumber(
            number=command.number,
            agency_id=principal.agency_id,
            staff_id=command.staff_id,
            channels=command.channels,
            moving_from=frozenset(pending),
        )
        event = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.NUMBER_REASSIGNED if reassigned else AuditType.NUMBER_ASSIGNED,
            at=now,
            actor=principal.staff_id,
            staff_id=command.staff_id,
            details={"channels": sorted(c.value for c in command.channels), "from_staff": moved_from},
        )
        with uow:
            uow.numbers.put(number, now, holder=moved_from)
            uow.audit.add([event])
            uow.commit()
        return number

    def _move_clients(self, agency_id: str, from_staff: str, to_staff: str, channels: frozenset[Channel],
                      now: datetime, actor: str) -> int:
        """Give the clients a re-assigned number serves, and their open clocks, to the new worker.

        Each client moves in its own unit of work; clients already moved are no longer found under
        ``from_staff``, so running the move again after a failure finishes it (``WorkNumber.moving_from``).
        """
        moved = 0
        for found in self._uow().clients.of_case_manager(agency_id, from_staff):
            if found.channel not in channels:
                continue
            with self._uow() as uow:
                client = uow.clients.get(found.client_id)
                if client is None:
                    continue
                inquiry = uow.inquiries.get(client.open_inquiry_id) if client.open_inquiry_id else None
                # The open clock moves with the client unless a covering colleague holds it.
                moves_clock = inquiry is not None and inquiry.awaiting_answer and inquiry.staff_id == from_staff
                uow.clients.update(client, {"case_manager_id": to_staff})
                if moves_clock and inquiry is not None:
                    uow.inquiries.move(inquiry, to_staff)
                uow.audit.add([AuditEvent(
                    agency_id=agency_id, type=AuditType.NUMBER_REASSIGNED, at=now, actor=actor,
                    client_id=client.client_id, staff_id=to_staff,
                    details={"from_staff": from_staff, "to_staff": to_staff,
                             "inquiry_id": inquiry.inquiry_id if moves_clock and inquiry else None},
                )])
                uow.commit()  # ConcurrentUpdate: the caller re-runs the move
            moved += 1
        return moved


def staff_view(staff: Staff, *, for_admin: bool = False) -> Mapping[str, Any]:
    """A staff record; its ``phone`` only for an admin (never for a client, SPEC §4.4)."""
    view: dict[str, Any] = {
        "staff_id": staff.staff_id,
        "role": staff.role.value,
        "name": staff.name,
        "active": staff.active,
        "created_at": staff.created_at.isoformat(),
    }
    if for_admin:
        view["phone"] = staff.phone
    return view


def number_view(number: WorkNumber) -> Mapping[str, Any]:
    return {
        "number": number.number,
        "staff_id": number.staff_id,
        "channels": sorted(c.value for c in number.channels),
    }
