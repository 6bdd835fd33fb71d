"""Worker absences and cover (issue 4): who may answer an absent colleague's clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain import validation as v
from ..domain.absence import Absence, absence_on, covered_by, local_day, parse_day
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.model import Principal, Role
from ..domain.notifications import cover_notices

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


def _day(body: Mapping[str, Any], name: str) -> date:
    value = body.get(name)
    try:
        day = parse_day(value)
    except (ValueError, TypeError):
        raise InvalidInput(name, "must be a date in YYYY-MM-DD form") from None
    return v.day_in_range(day, name)


@dataclass(frozen=True)
class PutAbsence:
    absence_id: str
    start: date
    end: date
    cover_id: str
    note: str | None

    @classmethod
    def parse(cls, absence_id: str, payload: Any) -> PutAbsence:
        body = v.require_object(payload)
        start, end = _day(body, "start"), _day(body, "end")
        command = cls(
            absence_id=v.identifier(absence_id, "absence_id"),
            start=start,
            end=end,
            cover_id=v.identifier(body.get("cover_id"), "cover_id"),
            note=v.text(body, "note", required=False, max_len=500),
        )
        try:
            command.absence()
        except ValueError as err:
            field, _, message = str(err).partition(": ")
            raise InvalidInput(field or "end", message or str(err)) from None
        return command

    def absence(self) -> Absence:
        return Absence(self.absence_id, self.start, self.end, self.cover_id, self.note)


class AbsenceService:
    # Names and absences are read on every worker request (access checks) and every inbound
    # message (absence replies), so they are kept per container for a minute; a change made
    # through this container clears them at once.
    CACHE_SECONDS = 60.0

    def __init__(self, staff: Any, policies: Any, clock: Any = time.monotonic,
                 uow: Callable[[], UnitOfWork] | None = None) -> None:
        self._staff = staff  # adapters.staff_repository.StaffRepository, for the reads
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork, for each change
        self._policies = policies
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[Mapping[str, str], Mapping[str, Any]]]] = {}
        # Reads started by ``prefetch`` (when each started, and its result to come).
        self._reading: dict[str, tuple[float, Future[Any]]] = {}
        self._lock = threading.Lock()
        self._reader: ThreadPoolExecutor | None = None

    def _fresh(self, agency_id: str, now: float) -> tuple[Mapping[str, str], Mapping[str, Any]] | None:
        hit = self._cache.get(agency_id)
        return hit[1] if hit is not None and now - hit[0] < self.CACHE_SECONDS else None

    def prefetch(self, agency_id: str) -> None:
        """Start reading the agency's staff in the background unless it is cached.

        A cold container's first inbound message needs the directory only after it has read the
        sender's contact and file; reading it meanwhile saves one DynamoDB round trip of latency
        (issue 12, the first webhook). The read is joined by the next ``directory`` call.
        """
        now = self._clock()
        with self._lock:
            if self._fresh(agency_id, now) is not None or agency_id in self._reading:
                return
            if self._reader is None:
                self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmdm-directory")
            self._reading[agency_id] = (now, self._reader.submit(self._staff.directory, agency_id))

    def directory(self, agency_id: str) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        """(names by staff id, absences by staff id) of one agency: one Query, then cached."""
        now = self._clock()
        found = self._fresh(agency_id, now)
        if found is not None:
            return found
        with self._lock:
            pending = self._reading.pop(agency_id, None)
        if pending is not None and now - pending[0] < self.CACHE_SECONDS:
            started, future = pending
            found = future.result()
        else:
            started, found = now, self._staff.directory(agency_id)
        self._cache[agency_id] = (started, found)
        return found

    def clear_cache(self) -> None:
        with self._lock:
            self._reading.clear()
        self._cache.clear()

    def forget(self, agency_id: str) -> None:
        """Read the agency's staff afresh next time (a staff record changed in this container)."""
        with self._lock:
            self._reading.pop(agency_id, None)
        self._cache.pop(agency_id, None)

    def _today(self, agency_id: str, at: datetime | None = None) -> date:
        return local_day(at or utcnow(), self._policies.get(agency_id).calendar.zone())

    def put(self, principal: Principal, staff_id: str, command: PutAbsence) -> tuple[Absence, bool]:
        staff_id = v.identifier(staff_id, "staff_id")
        if not (principal.is_admin() or principal.staff_id == staff_id):
            raise Forbidden("only the worker themself or an administrator may record an absence")
        staff = self._staff.get(principal.agency_id, staff_id)
        if staff is None:
            raise NotFound("no such staff member in this agency")
        if command.cover_id == staff_id:
            raise InvalidInput("cover_id", "must be a colleague, not the absent worker")
        cover = self._staff.get(principal.agency_id, command.cover_id)
        if cover is None or cover.role is not Role.WORKER:
            raise InvalidInput("cover_id", "must be a worker of this agency")
        absence = command.absence()
        before = next((a for a in self._staff.absences_of(principal.agency_id, staff_id)
                       if a.absence_id == absence.absence_id), None)
        event = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.ABSENCE_RECORDED,
            at=utcnow(),
            actor=principal.staff_id,
            staff_id=staff_id,
            details={
                "absence_id": absence.absence_id,
                "start": absence.start.isoformat(),
                "end": absence.end.isoformat(),
                "cover_id": absence.cover_id,
            },
        )
        assert self._uow is not None
        with self._uow() as uow:
            is_new = uow.staff.put_absence(principal.agency_id, staff_id, absence, event.at)
            uow.audit.add([event])
            uow.notifications.add(principal.agency_id, cover_notices(staff_id, before, absence, event.at))
            _commit_unless_raced(uow)
        self._cache.pop(principal.agency_id, None)
        return absence, is_new

    def remove(self, principal: Principal, staff_id: str, absence_id: str) -> None:
        """The worker is back early, or the absence was entered by mistake."""
        staff_id = v.identifier(staff_id, "staff_id")
        if not (principal.is_admin() or principal.staff_id == staff_id):
            raise Forbidden("only the worker themself or an administrator may remove an absence")
        event = AuditEvent(agency_id=principal.agency_id, type=AuditType.ABSENCE_RECORDED, at=utcnow(),
                           actor=principal.staff_id, staff_id=staff_id,
                           details={"absence_id": absence_id, "removed": True})
        assert self._uow is not None
        before = next((a for a in self._staff.absences_of(principal.agency_id, staff_id)
                       if a.absence_id == absence_id), None)
        with self._uow() as uow:
            if not v.is_identifier(absence_id) or not uow.staff.remove_absence(principal.agency_id, staff_id,
                                                                               absence_id):
                raise NotFound("no such absence")
            uow.audit.add([event])
            uow.notifications.add(principal.agency_id, cover_notices(staff_id, before, None, event.at))
            _commit_unless_raced(uow)
        self._cache.pop(principal.agency_id, None)

    def covering_for(self, principal: Principal) -> frozenset[str]:
        """Colleagues whose absence today (agency-local) the caller covers; one Query, workers only."""
        if principal.sees_whole_agency():
            return frozenset()
        try:
            today = self._today(principal.agency_id)
        except KeyError:
            return frozenset()
        return covered_by(self.directory(principal.agency_id)[1], principal.staff_id, today)

    def covering_file(self, agency_id: str, staff_id: str, at: datetime | None = None) -> list[dict[str, Any]]:
        """The case manager's absences from today on (agency-local), each with who covers: what a
        file shows about who answers it while its worker is away (from the cached directory)."""
        names, absences = self.directory(agency_id)[:2]
        today = self._today(agency_id, at)
        return [{**absence_view(staff_id, a), "cover_name": names.get(a.cover_id, a.cover_id)}
                for a in sorted(absences.get(staff_id, ()), key=lambda a: a.start) if a.end >= today]

    def cover_of(self, agency_id: str, staff_id: str, at: datetime) -> str | None:
        """Who covers ``staff_id`` at ``at`` (agency-local day), or None."""
        absence = absence_on(self._staff.absences_of(agency_id, staff_id), self._today(agency_id, at))
        return None if absence is None else absence.cover_id


def _commit_unless_raced(uow: UnitOfWork) -> None:
    """Commit a change of a member's absences, conditioned on the version of their staff item as
    read: a change that loses to a concurrent edit is a 409 ``conflict``, never silently lost."""
    try:
        uow.commit()
    except ConcurrentUpdate:
        raise Conflict("this staff member's absences were changed by another request meanwhile; "
                       "read them again and retry") from None


def absence_view(staff_id: str, absence: Absence) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "absence_id": absence.absence_id,
        "start": absence.start.isoformat(),
        "end": absence.end.isoformat(),
        "cover_id": absence.cover_id,
        "note": absence.note,
    }
