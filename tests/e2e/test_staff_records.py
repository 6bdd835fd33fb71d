"""Staff records keep what an edit does not say, and no edit of a member or their absences is lost
(issue 20, items 2 and 3; SPEC §4.4 ``PUT /staff/{staff_id}``).

A field left out of ``PUT /staff`` keeps its stored value; the staff item carries a version that
every change of the member or of their absences is conditioned on, so an edit decided from a
stale read is refused with 409 ``conflict`` and the other edit stays. The races here are made
deterministic by running the competing edit between the loser's read and its write; the same
promises under real threads are in ``test_local_stack_staff_concurrency.py``.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

ABSENCE = {"start": "2026-02-11", "end": "2026-02-13", "cover_id": "jean"}


def _error(r: Any) -> dict[str, Any]:
    body = json.loads(r.body)
    assert set(body) == {"error"}, r.body
    return body["error"]


def _member(http: Any, admin: dict[str, str], staff_id: str) -> dict[str, Any]:
    r = http.call("GET", "/staff", admin)
    assert r.status_code == 200, r.body
    [member] = [s for s in r.json["staff"] if s["staff_id"] == staff_id]
    return member


def _absence_ids(http: Any, admin: dict[str, str], staff_id: str) -> list[str]:
    return [a["absence_id"] for a in _member(http, admin, staff_id)["absences"]]


# -- item 3: a field left out keeps its stored value ------------------------------------------------


def test_a_deactivated_member_edited_without_active_stays_deactivated(http: Any, agency: Any) -> None:
    r = http.call("PUT", "/staff/jean", agency["admin"], {"role": "worker", "name": "Jean", "active": False})
    assert r.status_code == 200 and r.json["active"] is False
    r = http.call("PUT", "/staff/jean", agency["admin"], {"role": "worker", "name": "Jean T."})
    assert r.status_code == 200, r.body
    assert r.json["active"] is False and r.json["name"] == "Jean T."
    assert _member(http, agency["admin"], "jean")["active"] is False
    r = http.call("GET", "/clients", agency["jean"])
    assert r.status_code == 403 and _error(r)["code"] == "no_staff_record"


def test_a_name_only_edit_keeps_the_role_and_a_role_only_edit_keeps_the_name(http: Any, agency: Any) -> None:
    r = http.call("PUT", "/staff/sup-maria", agency["admin"], {"name": "Maria Santos"})
    assert r.status_code == 200, r.body
    assert (r.json["role"], r.json["name"], r.json["active"]) == ("supervisor", "Maria Santos", True)
    r = http.call("PUT", "/staff/sup-maria", agency["admin"], {"role": "admin"})
    assert r.status_code == 200, r.body
    assert (r.json["role"], r.json["name"]) == ("admin", "Maria Santos")
    member = _member(http, agency["admin"], "sup-maria")
    assert (member["role"], member["name"], member["active"]) == ("admin", "Maria Santos", True)


def test_an_empty_edit_changes_nothing_and_keeps_the_members_absences(http: Any, agency: Any) -> None:
    assert http.call("PUT", "/staff/amal/absences/leave", agency["amal"], ABSENCE).status_code == 201
    before = _member(http, agency["admin"], "amal")
    r = http.call("PUT", "/staff/amal", agency["admin"], {})
    assert r.status_code == 200, r.body
    assert _member(http, agency["admin"], "amal") == before


def test_creating_a_member_still_needs_a_role_and_a_name(http: Any, agency: Any) -> None:
    for body, field in (({"name": "Samir"}, "role"), ({"role": "worker"}, "name"), ({}, "role"),
                        ({"phone": "+14035550199"}, "role")):
        r = http.call("PUT", "/staff/samir", agency["admin"], body)
        assert r.status_code == 400, (body, r.body)
        assert _error(r)["field"] == field
    assert "samir" not in {s["staff_id"] for s in http.call("GET", "/staff", agency["admin"]).json["staff"]}
    r = http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir"})
    assert r.status_code == 201 and r.json["active"] is True and r.json["phone"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"role": None}, "role"), ({"name": None}, "name"), ({"name": "  "}, "name"), ({"active": None}, "active"),
    ({"active": "no"}, "active"), ({"phone": "not a phone"}, "phone"), ({"phone": 4035550199}, "phone"),
    ({"phone": "+1403"}, "phone"), ({"phone": ""}, "phone"),
])
def test_an_edit_saying_something_invalid_is_a_400_naming_the_field_and_changes_nothing(
        http: Any, agency: Any, body: dict[str, Any], field: str) -> None:
    before = _member(http, agency["admin"], "amal")
    r = http.call("PUT", "/staff/amal", agency["admin"], body)
    assert r.status_code == 400, r.body
    assert _error(r)["field"] == field
    assert _member(http, agency["admin"], "amal") == before


def test_an_admin_still_may_not_deactivate_themself_with_a_partial_edit(http: Any, agency: Any) -> None:
    for body in ({"active": False}, {"role": "worker"}):
        r = http.call("PUT", "/staff/admin-lee", agency["admin"], body)
        assert r.status_code == 400 and _error(r)["field"] == "role", r.body
    assert http.call("PUT", "/staff/admin-lee", agency["admin"], {"name": "Lee Chen"}).status_code == 200
    assert _member(http, agency["admin"], "admin-lee")["role"] == "admin"


# -- item 3: the worker's own phone -----------------------------------------------------------------


def test_a_workers_phone_is_stored_in_e164_kept_when_left_out_and_removed_with_null(http: Any, agency: Any) -> None:
    r = http.call("PUT", "/staff/amal", agency["admin"], {"phone": "+1 403 555 0199"})
    assert r.status_code == 200 and r.json["phone"] == "+14035550199", r.body
    r = http.call("PUT", "/staff/amal", agency["admin"], {"name": "Amal H."})
    assert r.status_code == 200 and r.json["phone"] == "+14035550199"
    assert _member(http, agency["admin"], "amal")["phone"] == "+14035550199"
    r = http.call("PUT", "/staff/amal", agency["admin"], {"phone": None})
    assert r.status_code == 200 and r.json["phone"] is None
    assert _member(http, agency["admin"], "amal")["phone"] is None


def test_a_phone_in_national_format_is_read_in_the_agencys_country(http: Any, agency: Any) -> None:
    r = http.call("PUT", "/staff/jean", agency["admin"], {"phone": "(403) 555-0142"})
    assert r.status_code == 200 and r.json["phone"] == "+14035550142", r.body
    r = http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir", "phone": "587 555 0177"})
    assert r.status_code == 201 and r.json["phone"] == "+15875550177", r.body


def test_only_admins_see_a_workers_phone(http: Any, agency: Any) -> None:
    assert http.call("PUT", "/staff/amal", agency["admin"], {"phone": "+14035550199"}).status_code == 200
    assert _member(http, agency["admin"], "amal")["phone"] == "+14035550199"
    r = http.call("GET", "/staff", agency["supervisor"])
    assert r.status_code == 200
    assert all("phone" not in s for s in r.json["staff"])
    assert "+14035550199" not in r.body.decode() and "4035550199" not in r.body.decode()
    for who in (agency["amal"], agency["supervisor"]):
        r = http.call("GET", "/me", who)
        assert r.status_code == 200 and "4035550199" not in r.body.decode()


# -- item 2: a stale version is refused with 409 conflict ------------------------------------------


def _meanwhile_put_staff(staff_id: str, body: dict[str, Any]) -> None:
    """Another admin's edit, made through the services while the request under test is running."""
    from chalicelib import bootstrap
    from chalicelib.domain.model import Principal, Role
    from chalicelib.services.admin import PutStaff

    lee = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
    bootstrap.container().admin.put_staff(lee, PutStaff.parse(staff_id, body))


def _meanwhile_put_absence(staff_id: str, absence_id: str, body: dict[str, Any]) -> None:
    from chalicelib import bootstrap
    from chalicelib.domain.model import Principal, Role
    from chalicelib.services.absences import PutAbsence

    lee = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
    bootstrap.container().absences.put(lee, staff_id, PutAbsence.parse(absence_id, body))


def _meanwhile_delete_absence(staff_id: str, absence_id: str) -> None:
    from chalicelib import bootstrap
    from chalicelib.domain.model import Principal, Role

    lee = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
    bootstrap.container().absences.remove(lee, staff_id, absence_id)


@pytest.fixture
def interleave(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``interleave(method, edit)``: run ``edit`` once, right after the next call of the
    ``StaffRepository`` method ``method`` has read the item (so that call's write is stale)."""
    from chalicelib.adapters.staff_repository import StaffRepository

    def arrange(method: str, edit: Any) -> None:
        original = getattr(StaffRepository, method)
        pending = [edit]

        def read_then_edit(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            if pending:
                pending.pop()()
            return result

        monkeypatch.setattr(StaffRepository, method, read_then_edit)

    return arrange


def test_a_staff_edit_decided_from_a_stale_read_is_a_409_conflict_and_the_other_edit_stays(
        http: Any, agency: Any, interleave: Any) -> None:
    interleave("get", lambda: _meanwhile_put_staff("jean", {"active": False}))
    r = http.call("PUT", "/staff/jean", agency["admin"], {"name": "Jean T."})
    assert r.status_code == 409, r.body
    assert _error(r)["code"] == "conflict"
    member = _member(http, agency["admin"], "jean")
    assert (member["name"], member["active"]) == ("Jean", False)  # the winner's edit, not a mix


def test_an_absence_put_decided_from_a_stale_read_is_a_409_conflict_and_the_other_absence_stays(
        http: Any, agency: Any, interleave: Any) -> None:
    interleave("put_absence", lambda: _meanwhile_put_absence("amal", "first", ABSENCE))
    r = http.call("PUT", "/staff/amal/absences/second", agency["amal"], {**ABSENCE, "start": "2026-03-02",
                                                                        "end": "2026-03-03"})
    assert r.status_code == 409, r.body
    assert _error(r)["code"] == "conflict"
    assert _absence_ids(http, agency["admin"], "amal") == ["first"]
    r = http.call("PUT", "/staff/amal/absences/second", agency["amal"], {**ABSENCE, "start": "2026-03-02",
                                                                        "end": "2026-03-03"})
    assert r.status_code == 201  # asked again, it is recorded beside the other
    assert _absence_ids(http, agency["admin"], "amal") == ["first", "second"]


def test_an_absence_delete_racing_a_put_is_a_409_conflict_and_never_brings_the_absence_back(
        http: Any, agency: Any, interleave: Any) -> None:
    assert http.call("PUT", "/staff/amal/absences/gone", agency["amal"], ABSENCE).status_code == 201

    interleave("put_absence", lambda: _meanwhile_delete_absence("amal", "gone"))
    r = http.call("PUT", "/staff/amal/absences/new", agency["amal"], {**ABSENCE, "start": "2026-03-02",
                                                                     "end": "2026-03-03"})
    assert r.status_code == 409 and _error(r)["code"] == "conflict", r.body
    assert _absence_ids(http, agency["admin"], "amal") == []  # the delete stays deleted


def test_an_absence_delete_decided_from_a_stale_read_is_a_409_conflict(http: Any, agency: Any,
                                                                        interleave: Any) -> None:
    assert http.call("PUT", "/staff/amal/absences/gone", agency["amal"], ABSENCE).status_code == 201

    interleave("remove_absence", lambda: _meanwhile_put_absence("amal", "other", {**ABSENCE, "start": "2026-03-02",
                                                                               "end": "2026-03-03"}))
    r = http.call("DELETE", "/staff/amal/absences/gone", agency["amal"])
    assert r.status_code == 409 and _error(r)["code"] == "conflict", r.body
    assert _absence_ids(http, agency["admin"], "amal") == ["gone", "other"]


def test_a_staff_edit_racing_an_absence_put_never_drops_the_absence(http: Any, agency: Any,
                                                                     interleave: Any) -> None:
    interleave("get", lambda: _meanwhile_put_absence("amal", "leave", ABSENCE))
    r = http.call("PUT", "/staff/amal", agency["admin"], {"name": "Amal H."})
    assert r.status_code == 409 and _error(r)["code"] == "conflict", r.body
    assert _absence_ids(http, agency["admin"], "amal") == ["leave"]
    assert http.call("PUT", "/staff/amal", agency["admin"], {"name": "Amal H."}).status_code == 200
    member = _member(http, agency["admin"], "amal")
    assert (member["name"], [a["absence_id"] for a in member["absences"]]) == ("Amal H.", ["leave"])


def test_two_creations_of_one_member_at_once_create_it_once(http: Any, agency: Any, interleave: Any) -> None:
    interleave("get", lambda: _meanwhile_put_staff("samir", {"role": "worker", "name": "Samir"}))
    r = http.call("PUT", "/staff/samir", agency["admin"], {"role": "supervisor", "name": "Samir B."})
    assert r.status_code == 409 and _error(r)["code"] == "conflict", r.body
    member = _member(http, agency["admin"], "samir")
    assert (member["role"], member["name"]) == ("worker", "Samir")


# -- items written before the version existed ---------------------------------------------------------


def _drop_version(staff_id: str) -> None:
    """Make the stored item look as it did before versions: no ``version`` attribute."""
    from chalicelib.adapters import models as m

    boto3.client("dynamodb", region_name="ca-central-1").update_item(
        TableName=m.StaffModel.Meta.table_name, Key={"agency_id": {"S": "calgary-cfn"}, "staff_id": {"S": staff_id}},
        UpdateExpression="REMOVE #v", ExpressionAttributeNames={"#v": "version"})
    assert m.StaffModel.get("calgary-cfn", staff_id, consistent_read=True).version is None


def test_members_stored_without_a_version_are_read_as_version_0_and_still_change(http: Any, agency: Any) -> None:
    from chalicelib.adapters import models as m

    assert http.call("PUT", "/staff/amal/absences/leave", agency["amal"], ABSENCE).status_code == 201
    _drop_version("amal")
    assert http.call("PUT", "/staff/amal", agency["admin"], {"name": "Amal H."}).status_code == 200
    assert m.StaffModel.get("calgary-cfn", "amal", consistent_read=True).version == 1
    _drop_version("amal")
    r = http.call("PUT", "/staff/amal/absences/more", agency["amal"], {**ABSENCE, "start": "2026-03-02",
                                                                      "end": "2026-03-03"})
    assert r.status_code == 201, r.body
    _drop_version("amal")
    assert http.call("DELETE", "/staff/amal/absences/leave", agency["amal"]).status_code == 200
    member = _member(http, agency["admin"], "amal")
    assert (member["name"], [a["absence_id"] for a in member["absences"]]) == ("Amal H.", ["more"])
    assert http.call("GET", "/clients", agency["amal"]).status_code == 200


def test_a_stale_edit_of_a_member_stored_without_a_version_is_a_409_conflict(http: Any, agency: Any,
                                                                              interleave: Any) -> None:
    _drop_version("jean")

    interleave("get", lambda: _meanwhile_put_staff("jean", {"active": False}))
    r = http.call("PUT", "/staff/jean", agency["admin"], {"name": "Jean T."})
    assert r.status_code == 409 and _error(r)["code"] == "conflict", r.body
    assert _member(http, agency["admin"], "jean")["active"] is False


def test_the_staff_repository_conditions_an_update_on_the_version_it_read(aws: Any) -> None:
    from datetime import UTC, datetime

    from chalicelib.adapters.unit_of_work import ConcurrentUpdate, UnitOfWork
    from chalicelib.domain.model import Role, Staff

    at = datetime(2026, 2, 10, 17, tzinfo=UTC)
    with UnitOfWork() as uow:
        uow.staff.add(Staff("calgary-cfn", "amal", Role.WORKER, "Amal", at), at)
        uow.commit()
    read = UnitOfWork().staff.get("calgary-cfn", "amal", consistent=True)
    assert read is not None and read.version == 1
    with UnitOfWork() as uow:
        uow.staff.update(read, Staff("calgary-cfn", "amal", Role.WORKER, "Amal H.", at), at)
        uow.commit()
    with UnitOfWork() as uow, pytest.raises(ConcurrentUpdate):
        uow.staff.update(read, Staff("calgary-cfn", "amal", Role.SUPERVISOR, "Amal", at), at)
        uow.commit()
    stored = UnitOfWork().staff.get("calgary-cfn", "amal", consistent=True)
    assert stored is not None and (stored.role, stored.name, stored.version) == (Role.WORKER, "Amal H.", 2)
    with UnitOfWork() as uow, pytest.raises(ConcurrentUpdate):
        uow.staff.add(Staff("calgary-cfn", "amal", Role.ADMIN, "Someone else", at), at)
        uow.commit()
