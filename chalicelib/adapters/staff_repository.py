"""The staff table: staff members with their absences, mapped to domain types in this one place.

A staff item holds the member (role, name, active, phone) and their absences (with the colleague
who covers). The request paths read it three ways: one member (a consistent read, for the staff
record's authority over a token), the whole agency in one Query (names, absences and roles,
cached per container by ``services.absences``), and the supervisors to notify. Every change is
queued on the unit of work, to be committed with its audit event, and is conditioned on the
item's version as read: of two concurrent edits of a member or of their absences one is written
and the other fails with ``ConcurrentUpdate``; none is lost. Items written before the version
existed read as version 0, and their first change conditions on the version being absent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from pynamodb.exceptions import DoesNotExist

from ..domain.absence import Absence, parse_day
from ..domain.errors import Conflict
from ..domain.model import Role, Staff
from . import models as m
from .writes import WriteQueue

MAX_ABSENCES = 100  # per member, so the item stays far below DynamoDB's 400 KB


class StaffDirectory(NamedTuple):
    """One agency's staff as the request paths need them: names, absences, roles of active members."""

    names: dict[str, str]
    absences: dict[str, list[Absence]]
    roles: dict[str, Role]


def staff_from(item: m.StaffModel) -> Staff:
    return Staff(
        agency_id=item.agency_id,
        staff_id=item.staff_id,
        role=Role(item.role),
        name=item.name,
        created_at=item.created_at,
        active=item.active is not False,
        phone=item.phone,
        version=int(item.version or 0),
    )


def absence_from(item: m.AbsenceMap) -> Absence:
    return Absence(
        absence_id=item.absence_id,
        start=parse_day(item.start),
        end=parse_day(item.end),
        cover_id=item.cover_id,
        note=item.note,
    )


def _absence_item(absence: Absence) -> m.AbsenceMap:
    return m.AbsenceMap(absence_id=absence.absence_id, start=absence.start.isoformat(), end=absence.end.isoformat(),
                        cover_id=absence.cover_id, note=absence.note)


class StaffRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- members --------------------------------------------------------------------------------

    def get(self, agency_id: str, staff_id: str, *, consistent: bool = False) -> Staff | None:
        """One member; ``consistent`` before a change, so its version is the latest."""
        try:
            return staff_from(m.StaffModel.get(agency_id, staff_id, consistent_read=consistent))
        except DoesNotExist:
            return None

    def list(self, agency_id: str) -> list[Staff]:
        return [staff_from(i) for i in m.StaffModel.query(agency_id)]

    def add(self, staff: Staff, now: datetime) -> None:
        """A new member (version 1); ``ConcurrentUpdate`` if another request created them meanwhile."""
        item = m.StaffModel(agency_id=staff.agency_id, staff_id=staff.staff_id, role=staff.role.value,
                            name=staff.name, created_at=staff.created_at, updated_at=now, absences=[],
                            active=staff.active, phone=staff.phone)
        self._uow.save(item, condition=m.StaffModel.staff_id.does_not_exist())

    def update(self, before: Staff, after: Staff, now: datetime) -> None:
        """Write what changed from ``before`` (as read) to ``after``, their absences untouched, if the
        item is still at ``before.version`` (else ``ConcurrentUpdate``)."""
        actions = [m.StaffModel.updated_at.set(now)]
        if after.role is not before.role:
            actions.append(m.StaffModel.role.set(after.role.value))
        if after.name != before.name:
            actions.append(m.StaffModel.name.set(after.name))
        if after.active != before.active:
            actions.append(m.StaffModel.active.set(after.active))
        if after.phone != before.phone:
            actions.append(m.StaffModel.phone.set(after.phone) if after.phone else m.StaffModel.phone.remove())
        self._uow.update(_versioned(before.agency_id, before.staff_id, before.version), actions=actions,
                         condition=m.StaffModel.staff_id.exists())

    def role(self, agency_id: str, staff_id: str) -> Role | None:
        """One member's role if their record exists and is active (a consistent GetItem)."""
        try:
            item = m.StaffModel.get(agency_id, staff_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Role(item.role) if item.active is not False else None

    def agency_has_staff(self, agency_id: str) -> bool:
        """Whether any staff record exists in the agency (a consistent Query of one item)."""
        return any(True for _ in m.StaffModel.query(agency_id, limit=1, consistent_read=True))

    def ids_with_role(self, agency_id: str, role: Role) -> list[str]:
        return [i.staff_id for i in m.StaffModel.query(agency_id) if i.role == role.value and i.active is not False]

    def with_absences(self, agency_id: str) -> list[tuple[Staff, list[Absence]]]:
        """Each member (active or not) with their absences, in one Query."""
        return [(staff_from(i), [absence_from(a) for a in (i.absences or [])]) for i in m.StaffModel.query(agency_id)]

    def directory(self, agency_id: str) -> StaffDirectory:
        """Every member's name, absences and (when active) role, in one Query of the agency's staff."""
        names: dict[str, str] = {}
        absences: dict[str, list[Absence]] = {}
        roles: dict[str, Role] = {}
        for item in m.StaffModel.query(agency_id):
            names[item.staff_id] = item.name
            absences[item.staff_id] = [absence_from(a) for a in (item.absences or [])]
            if item.active is not False:
                roles[item.staff_id] = Role(item.role)
        return StaffDirectory(names, absences, roles)

    # -- absences -------------------------------------------------------------------------------

    def absences_of(self, agency_id: str, staff_id: str) -> list[Absence]:
        try:
            item = m.StaffModel.get(agency_id, staff_id)
        except DoesNotExist:
            return []
        return [absence_from(a) for a in (item.absences or [])]

    def remove_absence(self, agency_id: str, staff_id: str, absence_id: str) -> bool:
        """Delete one absence (e.g. the worker came back early); False when there was none."""
        try:
            item = m.StaffModel.get(agency_id, staff_id, consistent_read=True)
        except DoesNotExist:
            return False
        previous = item.absences or []
        kept = [a for a in previous if a.absence_id != absence_id]
        if len(kept) == len(previous):
            return False
        # Conditioned on the version read: an absence recorded meanwhile is not overwritten, and
        # this one is not brought back by a concurrent edit that still had it.
        self._uow.update(_versioned(agency_id, staff_id, item.version), actions=[m.StaffModel.absences.set(kept)],
                         condition=m.StaffModel.staff_id.exists())
        return True

    def put_absence(self, agency_id: str, staff_id: str, absence: Absence, at: datetime) -> bool:
        """Create or replace one absence of a member; True when it is new.

        Absences that ended more than a year before this one starts are dropped, and a member keeps
        at most ``MAX_ABSENCES``.
        """
        item = m.StaffModel.get(agency_id, staff_id, consistent_read=True)
        horizon = (absence.start - timedelta(days=365)).isoformat()
        previous = item.absences or []
        kept = [a for a in previous if a.absence_id != absence.absence_id and a.end >= horizon]
        is_new = not any(a.absence_id == absence.absence_id for a in previous)
        if len(kept) >= MAX_ABSENCES:
            raise Conflict(f"a staff member keeps at most {MAX_ABSENCES} absences", code="too_many_absences")
        kept.append(_absence_item(absence))
        kept.sort(key=lambda a: (a.start, a.absence_id))
        self._uow.update(_versioned(agency_id, staff_id, item.version),
                         actions=[m.StaffModel.absences.set(kept), m.StaffModel.updated_at.set(at)],
                         condition=m.StaffModel.staff_id.exists())
        return is_new


def _versioned(agency_id: str, staff_id: str, version: int | None) -> m.StaffModel:
    """The key of a staff item with the version it was read at: PynamoDB conditions the write on
    that version (on its absence for an item never versioned, read as 0) and increments it."""
    item = m.StaffModel(agency_id=agency_id, staff_id=staff_id)
    if version:
        item.version = version
    return item

