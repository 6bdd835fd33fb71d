"""The numbers table: the agency's work numbers, the only code that maps them to ``WorkNumber``.

One item per Twilio number. An operator registers it to an agency (``register``, ``move``); the
agency's admin then assigns it to a worker (``put``), a write conditioned on the registration, so
a number is only ever assigned by the agency it is registered to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.model import Channel, NumberRegistration, WorkNumber
from . import models as m
from .keys import agency_staff
from .writes import WriteQueue, condition_failed


def number_from(item: m.NumberModel) -> WorkNumber:
    return WorkNumber(
        number=item.number,
        agency_id=item.agency_id,
        staff_id=item.staff_id,
        channels=frozenset(Channel(c) for c in item.channels or ()),
        moving_from=frozenset(item.moving_from or ()),
    )


def registration_from(item: m.NumberModel) -> NumberRegistration:
    return NumberRegistration(
        number=item.number,
        agency_id=item.agency_id,
        registered_at=item.registered_at,
        holder=number_from(item) if item.staff_id else None,
    )


class NumberRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def get(self, number: str) -> WorkNumber | None:
        """The number as a worker holds it; None when it is not registered or nobody holds it yet."""
        registration = self.registration(number)
        return registration.holder if registration is not None else None

    def registration(self, number: str) -> NumberRegistration | None:
        try:
            return registration_from(m.NumberModel.get(number))
        except DoesNotExist:
            return None

    def registered(self, agency_id: str) -> list[NumberRegistration]:
        """Every number registered to the agency, held or not, in number order (one Query)."""
        return [registration_from(i) for i in m.NumberModel.by_agency.query(agency_id)]

    def of(self, agency_id: str, staff_id: str) -> list[WorkNumber]:
        # The index projects all attributes, so no second read is needed.
        return [number_from(i) for i in m.NumberModel.by_staff.query(agency_staff(agency_id, staff_id))]

    def of_staff(self, agency_id: str, staff_ids: Iterable[str]) -> list[WorkNumber]:
        """The work numbers of these staff members (one Query each)."""
        return [n for staff_id in staff_ids for n in self.of(agency_id, staff_id)]

    # -- registration (operators) -----------------------------------------------------------------

    def register(self, number: str, agency_id: str, now: datetime) -> None:
        """Queue a new registration; registered meanwhile (to anyone): ``ConcurrentUpdate``, read again."""
        item = m.NumberModel(number=number, agency_id=agency_id, registered_at=now, updated_at=now)
        self._uow.save(item, condition=m.NumberModel.number.does_not_exist())

    def move(self, registration: NumberRegistration, agency_id: str, now: datetime) -> None:
        """Queue moving the registration to another agency: nobody there holds it yet, and the
        worker who held it in the agency it leaves no longer does. Conditioned on the registration
        read, so a move and an assignment (or two moves) never both win."""
        attr = m.NumberModel
        self._uow.update(
            m.NumberModel(number=registration.number),
            actions=[attr.agency_id.set(agency_id), attr.registered_at.set(now), attr.updated_at.set(now),
                     attr.staff_id.remove(), attr.agency_staff.remove(), attr.channels.remove(),
                     attr.moving_from.remove()],
            condition=attr.agency_id == registration.agency_id,
            add_version_condition=False,
        )

    # -- assignment (the agency's admin) ----------------------------------------------------------

    def put(self, number: WorkNumber, now: datetime, *, holder: str | None = None) -> None:
        """Queue assigning a registered number to ``number.staff_id``.

        Conditioned on the registration (the number is still registered to ``number.agency_id``: else
        the caller reads again and answers not found) and on the worker read before (``holder``,
        None when nobody held it): a failed condition is a ``ConcurrentUpdate``.
        """
        attr = m.NumberModel
        actions = [
            attr.staff_id.set(number.staff_id),
            attr.agency_staff.set(agency_staff(number.agency_id, number.staff_id)),
            attr.channels.set({c.value for c in number.channels}),
            attr.updated_at.set(now),
            attr.moving_from.set(set(number.moving_from)) if number.moving_from else attr.moving_from.remove(),
        ]
        held = attr.staff_id.does_not_exist() if holder is None else attr.staff_id == holder
        self._uow.update(
            m.NumberModel(number=number.number),
            actions=actions,
            condition=(attr.agency_id == number.agency_id) & held,
            add_version_condition=False,
        )

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
