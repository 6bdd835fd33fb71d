"""The numbers table: the agency's work numbers, the only code that maps them to ``WorkNumber``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.errors import Conflict
from ..domain.model import Channel, WorkNumber
from . import models as m
from .keys import agency_staff
from .unit_of_work import condition_failed, raises

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork


def number_from(item: m.NumberModel) -> WorkNumber:
    return WorkNumber(
        number=item.number,
        agency_id=item.agency_id,
        staff_id=item.staff_id,
        channels=frozenset(Channel(c) for c in item.channels),
        moving_from=frozenset(item.moving_from or ()),
    )


def _unavailable() -> Exception:
    # Say no more than "not yours": whose it is, or that it is anyone's, is not this agency's business.
    return Conflict("this agency may not use this number", code="number_unavailable")


class NumberRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, number: str) -> WorkNumber | None:
        try:
            return number_from(m.NumberModel.get(number))
        except DoesNotExist:
            return None

    def of(self, agency_id: str, staff_id: str) -> list[WorkNumber]:
        # The index projects all attributes, so no second read is needed.
        return [number_from(i) for i in m.NumberModel.by_staff.query(agency_staff(agency_id, staff_id))]

    def of_staff(self, agency_id: str, staff_ids: Iterable[str]) -> list[WorkNumber]:
        """The work numbers of these staff members (one Query each)."""
        return [n for staff_id in staff_ids for n in self.of(agency_id, staff_id)]

    def put(self, number: WorkNumber, now: datetime) -> None:
        """Queue a number's record: created, or overwritten only by its own agency."""
        item = m.NumberModel(
            number=number.number,
            agency_id=number.agency_id,
            staff_id=number.staff_id,
            agency_staff=agency_staff(number.agency_id, number.staff_id),
            channels={c.value for c in number.channels},
            updated_at=now,
            moving_from=set(number.moving_from) or None,
        )
        condition = m.NumberModel.number.does_not_exist() | (m.NumberModel.agency_id == number.agency_id)
        self._uow.save(item, condition=condition, on_conflict=raises(_unavailable))

    def moved_all(self, number: WorkNumber) -> None:
        """Every client of ``number.moving_from`` has moved: the re-assignment is complete."""
        try:
            m.NumberModel(number=number.number).update(
                actions=[m.NumberModel.moving_from.remove()],
                condition=(m.NumberModel.staff_id == number.staff_id) & (m.NumberModel.agency_id == number.agency_id),
            )
        except UpdateError as err:
            if not condition_failed(err):
                raise
            # Re-assigned again meanwhile: that request carries the pending move on.
