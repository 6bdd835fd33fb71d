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
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PutStaff:
    staff_id: str
    role: Role
    name: str
    active: bool = True

    @classmethod
    def parse(cls, staff_id: str, payload: Any) -> PutStaff:
        body = v.require_object(payload)
        active = body.get("active", True)
        if not isinstance(active, bool):
            raise InvalidInput("active", "must be true or false")
        return cls(
            staff_id=v.identifier(staff_id, "staff_id"),
            role=v.role(body.get("role")),
            name=v.text(body, "name") or "",
            active=active,
        )


@dataclass(frozen=True)
class PutNumber:
    number: str
    staff_id: str
    channels: frozenset

    @classmethod
    def parse(cls, number: str, payload: Any) -> PutNumber:
        body = v.require_object(payload)
        return cls(
            number=v.e164(number, "number"),
            staff_id=v.identifier(body.get("staff_id"), "staff_id"),
            channels=v.channels(body.get("channels")),
        )


def _already_founded() -> Exception:
    return Conflict("another request founded this agency at the same moment; ask its admin for a staff record",
                    code="agency_founded")


class AdminService:
    def __init__(self, uow: Callable[[], UnitOfWork], on_staff_change: Callable[[str], None] | None = None) -> None:
        self._uow = uow
        # Forget cached staff records of the agency (the access checks read them), see bootstrap.
        self._on_staff_change = on_staff_change or (lambda agency_id: None)

    def put_staff(self, principal: Principal, command: PutStaff) -> tuple[Staff, bool]:
        require_admin(principal)
        if principal.founding and (command.role is not Role.ADMIN or not command.active):
            raise InvalidInput("role", "the first staff record of an agency is its own active admin")
        if command.staff_id == principal.staff_id and (command.role is not Role.ADMIN or not command.active):
            raise InvalidInput("role", "an admin may not demote or deactivate themself; ask another admin")
        now = utcnow()
        uow = self._uow()
        existing = uow.staff.get(principal.agency_id, command.staff_id)
        staff = Staff(
            agency_id=principal.agency_id,
            staff_id=command.staff_id,
            role=command.role,
            name=command.name,
            created_at=existing.created_at if existing else now,
            active=command.active,
        )
        event = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.STAFF_UPDATED,
            at=now,
            actor=principal.staff_id,
            staff_id=command.staff_id,
            details={"role": command.role, "created": existing is None, "active": command.active,
                     "founding": principal.founding},
        )
        with uow:
            if principal.founding:
                # Two founders who both found the agency empty: one claim, so only one of them founds it.
                uow.claims.add(f"founding#{principal.agency_id}", now, None, _already_founded,
                               ref=principal.staff_id, also_conflict=True)
            uow.staff.put(staff, now)
            uow.audit.add([event])
            uow.commit()
        self._on_staff_change(principal.agency_id)
        return staff, existing is None

    def put_number(self, principal: Principal, command: PutNumber) -> WorkNumber:
        require_admin(principal)
        uow = self._uow()
        staff = uow.staff.get(principal.agency_id, command.staff_id)
        if staff is None:
            raise NotFound("no such staff member in this agency")
        if not staff.active:
            raise InvalidInput("staff_id", "this staff member is deactivated")
        if staff.role is not Role.WORKER:
            raise InvalidInput("staff_id", "work numbers are assigned to workers")
        now = utcnow()
        previous = uow.numbers.get(command.number)
        ours = previous is not None and previous.agency_id == principal.agency_id
        moved_from = previous.staff_id if previous is not None and ours else None
        reassigned = moved_from is not None and moved_from != command.staff_id
        # Whose clients must move to the new holder: the previous holder's, and any move an earlier
        # request wrote but did not finish (a throttle mid-way); recorded with the number itself.
        pending = set(previous.moving_from) if previous is not None and ours else set()
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
            uow.numbers.put(number, now)
            uow.audit.add([event])
            uow.commit()
        if number.moving_from:
            for from_staff in sorted(number.moving_from):
                try:
                    retry_on_conflict(lambda f=from_staff: self._move_clients(
                        principal.agency_id, f, command.staff_id, command.channels, now, principal.staff_id))
                except ConcurrentUpdate:  # the number records the move; the same request finishes it
                    raise Conflict("client files kept changing while they moved to the new holder; "
                                   "send the same request again to finish", code="busy") from None
            uow.numbers.moved_all(number)
            number = replace(number, moving_from=frozenset())
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


def staff_view(staff: Staff) -> Mapping[str, Any]:
    return {
        "staff_id": staff.staff_id,
        "role": staff.role.value,
        "name": staff.name,
        "active": staff.active,
        "created_at": staff.created_at.isoformat(),
    }


def number_view(number: WorkNumber) -> Mapping[str, Any]:
    return {
        "number": number.number,
        "staff_id": number.staff_id,
        "channels": sorted(c.value for c in number.channels),
    }
