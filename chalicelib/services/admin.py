"""Administration use cases: staff records and work-provisioned numbers (SPEC §4.4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import InvalidInput, NotFound
from ..domain.model import Principal, Role, Staff, WorkNumber
from .access import require_admin
from .ports import Store
from .retry import retry_on_conflict


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


class AdminService:
    def __init__(self, store: Store, on_staff_change: Callable[[str], None] | None = None) -> None:
        self._store = store
        # Forget cached staff records of the agency (the access checks read them), see bootstrap.
        self._on_staff_change = on_staff_change or (lambda agency_id: None)

    def put_staff(self, principal: Principal, command: PutStaff) -> tuple[Staff, bool]:
        require_admin(principal)
        if principal.founding and (command.role is not Role.ADMIN or not command.active):
            raise InvalidInput("role", "the first staff record of an agency is its own active admin")
        if command.staff_id == principal.staff_id and (command.role is not Role.ADMIN or not command.active):
            raise InvalidInput("role", "an admin may not demote or deactivate themself; ask another admin")
        now = utcnow()
        existing = self._store.staff.get(principal.agency_id, command.staff_id)
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
        self._store.staff.put(staff, now, event)
        self._on_staff_change(principal.agency_id)
        return staff, existing is None

    def put_number(self, principal: Principal, command: PutNumber) -> WorkNumber:
        require_admin(principal)
        staff = self._store.staff.get(principal.agency_id, command.staff_id)
        if staff is None:
            raise NotFound("no such staff member in this agency")
        if not staff.active:
            raise InvalidInput("staff_id", "this staff member is deactivated")
        if staff.role is not Role.WORKER:
            raise InvalidInput("staff_id", "work numbers are assigned to workers")
        now = utcnow()
        previous = self._store.get_number(command.number)
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
        self._store.put_number(number, now, [event])
        if number.moving_from:
            for from_staff in sorted(number.moving_from):
                retry_on_conflict(lambda f=from_staff: self._store.move_clients(
                    principal.agency_id, f, command.staff_id, command.channels, now, principal.staff_id))
            self._store.moved_all(number)
            number = replace(number, moving_from=frozenset())
        return number


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
