"""What the staff console needs beyond the staff API: who is signed in, and the local sign-in.

The console (``chalicelib/web/``) reaches data only through the JSON API. Two small calls exist
for it: ``GET /me`` (the caller's own staff record, so the console shows the right pages for the
role the agency gave them, not the one the token claims), and, in the ``local`` and ``test``
stages only, the sign-in list of seeded staff with a token for each (SPEC §4.6). In ``aws``
those two local calls do not exist: staff sign in through Cognito's hosted UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import validation as v
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.model import Principal
from ..domain.zones import calendar_rules

# A console session lasts a working day; the browser drops the token when it runs out.
DEV_TOKEN_SECONDS = 8 * 3600


@dataclass(frozen=True)
class DevSignIn:
    agency_id: str
    staff_id: str

    @classmethod
    def parse(cls, payload: Any) -> DevSignIn:
        body = v.require_object(payload)
        return cls(agency_id=v.identifier(body.get("agency_id"), "agency_id"),
                   staff_id=v.identifier(body.get("staff_id"), "staff_id"))


class ConsoleService:
    def __init__(self, staff: Any, policies: Any, settings: Any) -> None:
        self._staff = staff  # adapters.staff_repository.StaffRepository
        self._policies = policies
        self._settings = settings

    def me(self, principal: Principal) -> dict[str, Any]:
        """The caller's staff record with their agency's name and time zone (one GetItem)."""
        staff = self._staff.get(principal.agency_id, principal.staff_id)
        if staff is None:
            raise Forbidden("no staff record for this sign-in in this agency; ask your administrator")
        policy = self._policies.get(principal.agency_id)
        return {
            "staff_id": staff.staff_id,
            "name": staff.name or staff.staff_id,
            "role": staff.role.value,
            "agency_id": staff.agency_id,
            "agency_name": policy.name,
            "timezone": policy.timezone,
            # Which zone and holiday rules this deployment runs (README "Time-zone rules").
            "rules": calendar_rules(),
        }

    # -- local and test stages only --------------------------------------------------------------

    def _require_dev(self) -> None:
        if self._settings.is_aws or not self._settings.jwt_secret:
            raise NotFound("no such page: staff sign in through the agency's sign-in page")

    def sign_in_list(self) -> list[dict[str, Any]]:
        """Every agency with a policy file and its staff (one Query per agency; a handful locally)."""
        self._require_dev()
        agencies = []
        for policy in sorted(self._policies.all(), key=lambda p: p.agency_id):
            staff = self._staff.list(policy.agency_id)
            if not staff:
                continue
            agencies.append({
                "agency_id": policy.agency_id,
                "name": policy.name,
                "staff": [{"staff_id": s.staff_id, "name": s.name or s.staff_id, "role": s.role.value}
                          for s in sorted(staff, key=lambda s: (s.role.value != "worker", s.name))],
            })
        return agencies

    def dev_token(self, command: DevSignIn) -> dict[str, Any]:
        """A token for a seeded staff member, signed with the stage's development secret."""
        from ..adapters.auth import mint_dev_token

        self._require_dev()
        try:
            self._policies.get(command.agency_id)
        except KeyError:
            raise InvalidInput("agency_id", "is not an agency with a policy file") from None
        staff = self._staff.get(command.agency_id, command.staff_id)
        if staff is None:
            raise InvalidInput("staff_id", "is not a staff member of this agency")
        token = mint_dev_token(self._settings.jwt_secret, staff.staff_id, staff.agency_id, staff.role.value,
                               DEV_TOKEN_SECONDS)
        return {"id_token": token, "expires_in": DEV_TOKEN_SECONDS}
