"""Operators register Twilio numbers to agencies (``cli numbers register``, ``numbers list``).

A number belongs to one agency before anyone can use it: ``PUT /numbers/{number}`` (services.admin)
assigns only a number registered to the admin's own agency. Registering a number another agency
holds is refused unless the operator moves it deliberately (``move=True``); the move is one write
conditioned on the registration read, and releases the worker who held it in the agency it leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput
from ..domain.model import NumberRegistration
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

OPERATOR = "operator"  # the audit events' actor: no staff member registers numbers


class RegisteredElsewhere(Conflict):
    """The number is registered to another agency; only a deliberate move takes it from there."""

    code = "number_registered_elsewhere"

    def __init__(self, number: str, agency_id: str) -> None:
        super().__init__(f"{number} is registered to agency {agency_id}")
        self.number = number
        self.agency_id = agency_id


@dataclass(frozen=True)
class Registered:
    number: str
    outcome: str  # registered | already | moved (a dry run: would-register | already | would-move)
    from_agency: str | None = None  # moved: the agency it left
    released_staff: str | None = None  # moved: the worker there who held it


class NumberRegistry:
    def __init__(self, uow: Callable[[], UnitOfWork], policy_of: Callable[[str], Any]) -> None:
        self._uow = uow
        self._policy_of = policy_of  # raises KeyError for an agency without a policy

    def register(self, agency_id: str, number: str, *, move: bool = False, dry_run: bool = False) -> Registered:
        """Register ``number`` to ``agency_id``; again for the same agency changes nothing.

        ``RegisteredElsewhere`` when another agency has it, unless ``move``; ``dry_run`` writes nothing.
        """
        try:
            self._policy_of(agency_id)
        except KeyError:
            raise InvalidInput("agency", f"no agency {agency_id!r} has a policy in this deployment") from None
        number = v.e164(number, "number")
        return retry_on_conflict(lambda: self._register_once(agency_id, number, move, dry_run))

    def registered(self, agency_id: str) -> list[NumberRegistration]:
        return self._uow().numbers.registered(agency_id)

    def _register_once(self, agency_id: str, number: str, move: bool, dry_run: bool) -> Registered:
        uow = self._uow()
        now = utcnow()
        current = uow.numbers.registration(number)
        if current is not None and current.belongs_to(agency_id):
            return Registered(number, "already")
        if current is not None and not move:
            raise RegisteredElsewhere(number, current.agency_id)
        holder = current.holder.staff_id if current is not None and current.holder is not None else None
        if dry_run:
            if current is None:
                return Registered(number, "would-register")
            return Registered(number, "would-move", current.agency_id, holder)
        registered = AuditEvent(agency_id=agency_id, type=AuditType.NUMBER_REGISTERED, at=now, actor=OPERATOR,
                                details={"number": number, "moved": current is not None})
        with uow:
            if current is None:
                uow.numbers.register(number, agency_id, now)
                uow.audit.add([registered])
            else:
                uow.numbers.move(current, agency_id, now)
                uow.audit.add([registered, AuditEvent(
                    agency_id=current.agency_id, type=AuditType.NUMBER_RELEASED, at=now, actor=OPERATOR,
                    staff_id=holder, details={"number": number, "from_staff": holder})])
            uow.commit()
        if current is None:
            return Registered(number, "registered")
        return Registered(number, "moved", current.agency_id, holder)
