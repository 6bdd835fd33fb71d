"""The per-container staff directory (services.absences): read once, prefetched on a cold inbound message."""

from __future__ import annotations

import threading

from chalicelib.adapters.staff_repository import StaffDirectory
from chalicelib.services.absences import AbsenceService


class CountingStaff:
    def __init__(self) -> None:
        self.reads: list[str] = []
        self.started = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def directory(self, agency_id: str) -> StaffDirectory:
        self.started += 1
        which = self.started
        self.entered.set()
        if which == 1:
            self.release.wait(5)  # only the first read can be held back
        self.reads.append(agency_id)
        return StaffDirectory({"amal": f"Amal of {agency_id}"}, {}, {"read": which})  # type: ignore[dict-item]


def service(staff: CountingStaff, now: list[float]) -> AbsenceService:
    return AbsenceService(staff=staff, policies=None, clock=lambda: now[0])


def test_a_prefetched_directory_is_the_one_the_next_lookup_returns_with_a_single_read():
    staff, now = CountingStaff(), [100.0]
    absences = service(staff, now)
    absences.prefetch("calgary-cfn")
    assert absences.directory("calgary-cfn").names == {"amal": "Amal of calgary-cfn"}
    assert absences.directory("calgary-cfn").names == {"amal": "Amal of calgary-cfn"}
    assert staff.reads == ["calgary-cfn"]


def test_a_cached_directory_is_not_prefetched_again_until_it_is_a_minute_old():
    staff, now = CountingStaff(), [100.0]
    absences = service(staff, now)
    absences.directory("calgary-cfn")
    absences.prefetch("calgary-cfn")
    assert staff.reads == ["calgary-cfn"]
    now[0] += 61
    absences.prefetch("calgary-cfn")
    absences.directory("calgary-cfn")
    assert staff.reads == ["calgary-cfn", "calgary-cfn"]


def test_a_staff_change_in_this_container_drops_a_prefetch_in_flight():
    staff, now = CountingStaff(), [100.0]
    absences = service(staff, now)
    staff.release.clear()
    absences.prefetch("calgary-cfn")  # started before the change: its answer may be stale
    assert staff.entered.wait(5)
    absences.forget("calgary-cfn")
    staff.release.set()
    assert absences.directory("calgary-cfn").roles == {"read": 2}  # read afresh, not the stale prefetch
