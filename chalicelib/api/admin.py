"""Administration: staff records, agency numbers and absences; the console's caller and sign-in."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.edge import created, endpoint, json_body, query

admin = Blueprint(__name__)


@endpoint(admin, "/staff/{staff_id}", ["PUT"], founding="staff_id")
def put_staff(who: Any, staff_id: str) -> Any:
    from chalicelib.services.admin import PutStaff, staff_view

    staff, is_new = bootstrap.container().admin.put_staff(who, PutStaff.parse(staff_id, json_body()))
    view = staff_view(staff, for_admin=True)  # only an admin may put a staff record
    return created(view) if is_new else view


@endpoint(admin, "/numbers/{number}", ["PUT"])
def put_number(who: Any, number: str) -> Any:
    from chalicelib.services.admin import PutNumber, number_view

    result = bootstrap.container().admin.put_number(who, PutNumber.parse(number, json_body()))
    return number_view(result)


@endpoint(admin, "/staff/{staff_id}/absences/{absence_id}", ["DELETE"])
def delete_absence(who: Any, staff_id: str, absence_id: str) -> Any:
    bootstrap.container().absences.remove(who, staff_id, absence_id)
    return {"staff_id": staff_id, "absence_id": absence_id, "removed": True}


@endpoint(admin, "/staff/{staff_id}/absences/{absence_id}", ["PUT"])
def put_absence(who: Any, staff_id: str, absence_id: str) -> Any:
    from chalicelib.services.absences import PutAbsence, absence_view

    command = PutAbsence.parse(absence_id, json_body())
    absence, is_new = bootstrap.container().absences.put(who, staff_id, command)
    return created(absence_view(staff_id, absence)) if is_new else absence_view(staff_id, absence)


@endpoint(admin, "/staff", ["GET"])
def list_staff(who: Any) -> Any:
    return bootstrap.container().supervision.staff(who)


@endpoint(admin, "/numbers", ["GET"])
def list_numbers(who: Any) -> Any:
    return bootstrap.container().supervision.numbers(who)


@endpoint(admin, "/numbers/{number}/reassignment", ["GET"])
def preview_reassignment(who: Any, number: str) -> Any:
    """What PUT /numbers/{number} would move, before it happens."""
    return bootstrap.container().supervision.reassignment_preview(who, number, query())


@endpoint(admin, "/policy", ["GET"])
def get_policy(who: Any) -> Any:
    """The agency policy as a client would read it now (read-only)."""
    return bootstrap.container().supervision.policy_view(who)


# --- the staff console (issue 14, SPEC §4.6): who is signed in, and the local sign-in ------------


@endpoint(admin, "/me", ["GET"])
def get_me(who: Any) -> Any:
    """The caller's staff record: the console shows the pages of the role the agency gave them."""
    return bootstrap.container().console.me(who)


@endpoint(admin, "/dev/staff", ["GET"], staff=False)
def dev_staff() -> Any:
    """``local``/``test`` only: the seeded staff, for the console's sign-in page (404 in aws)."""
    return {"agencies": bootstrap.container().console.sign_in_list()}


@endpoint(admin, "/dev/tokens", ["POST"], staff=False)
def dev_token() -> Any:
    """``local``/``test`` only: a token for one seeded staff member (404 in aws)."""
    from chalicelib.services.console import DevSignIn

    return created(bootstrap.container().console.dev_token(DevSignIn.parse(json_body())))
