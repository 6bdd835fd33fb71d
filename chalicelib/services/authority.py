"""What a verified token may do: the agency's policy and staff records decide (SPEC §4.3).

A token only says who is calling. Before any route runs, the caller's agency must have a policy
file (else 403: nothing is read or written for an agency the deployment does not know), and the
subject must have an active staff record, whose role replaces the token's groups. Records come
from the per-container staff directory (one Query per agency per minute), so a deactivated or
demoted member loses access within a minute; a subject missing from the cached directory is
looked up once more with a consistent read, so a member just added works at once.

The one exception starts an agency: while it has no staff at all, a token in the ``admin``
group may create its own staff record (``PUT /staff/{its own sub}``), as an admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..domain.errors import Forbidden
from ..domain.model import Principal, Role


class Authority:
    def __init__(self, directory: Callable[[str], Any], staff: Any, policies: Any) -> None:
        self._directory = directory  # agency id -> StaffDirectory (cached for a minute)
        self._staff = staff  # role(agency, staff) and agency_has_staff(agency): consistent reads
        self._policies = policies

    def authorise(self, claimed: Principal, *, founding_staff_id: str | None = None) -> Principal:
        """The caller as their staff record says, or ``Forbidden``.

        ``founding_staff_id`` is the staff id a ``PUT /staff`` would create: the only request
        through which a subject without a record may get one.
        """
        try:
            self._policies.get(claimed.agency_id)
        except KeyError:
            raise Forbidden("this agency has no policy on this deployment", code="agency_not_configured") from None
        role = self._directory(claimed.agency_id).roles.get(claimed.staff_id)
        if role is None:
            role = self._staff.role(claimed.agency_id, claimed.staff_id)
        if role is not None:
            return replace(claimed, roles=frozenset({role}), founding=False)
        if (founding_staff_id == claimed.staff_id and Role.ADMIN in claimed.roles
                and not self._staff.agency_has_staff(claimed.agency_id)):
            return replace(claimed, roles=frozenset({Role.ADMIN}), founding=True)
        raise Forbidden("no active staff record for this account in this agency", code="no_staff_record")
