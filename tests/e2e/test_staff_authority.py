"""Access comes from the agency's policy and staff records, not from the token (issue 11, items 7, 14).

SPEC §4.3: a subject without an active staff record has no access; a role changed through
``PUT /staff`` takes effect within a minute; an admin-group token may create its own record while
the agency has no staff at all. An agency without a policy file is refused up front (403).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import auth, new_client
from tests.storage_dump import every_stored_text

AMAL_NUMBER = "+15873550101"

STAFF_ROUTES = [
    ("GET", "/clients", None),
    ("POST", "/clients", {"case_manager_id": "amal", "phone": "+15875550123", "channel": "sms",
                          "language": "en", "name": "Ana"}),
    ("GET", "/inquiries", None),
    ("GET", "/notifications", None),
    ("GET", "/followups", None),
    ("GET", "/audit?from=2026-01-01&to=2026-01-31", None),
    ("GET", "/reports/compliance?from=2026-01-01&to=2026-01-31", None),
    ("GET", "/reports/usage?from=2026-01-01&to=2026-01-31", None),
    ("PUT", "/staff/amal", {"role": "worker", "name": "Amal"}),
    ("PUT", "/numbers/%2B15873550109", {"staff_id": "amal", "channels": ["sms"]}),
    ("GET", "/clients/cl_x", None),
    ("GET", "/clients/cl_x/messages", None),
]


def _error(r: Any) -> dict[str, Any]:
    body = json.loads(r.body)
    assert set(body) == {"error"}, r.body
    return body["error"]


# -- item 7: an agency this deployment has no policy for -----------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ROUTES)
@pytest.mark.parametrize("role", ["admin", "worker"])
def test_a_token_of_an_agency_without_a_policy_is_refused_up_front_and_nothing_is_written(
    http: Any, aws: Any, method: str, path: str, body: Any, role: str
) -> None:
    before = every_stored_text()
    r = http.call(method, path, auth("admin-n" if role == "admin" else "amal", role, "no-such-agency"), body)
    assert r.status_code == 403, r.body
    assert _error(r)["code"] == "agency_not_configured"
    assert every_stored_text() == before


def test_founding_an_agency_without_a_policy_is_refused(http: Any, aws: Any) -> None:
    r = http.call("PUT", "/staff/admin-n", auth("admin-n", "admin", "no-such-agency"), {"role": "admin", "name": "N"})
    assert r.status_code == 403 and _error(r)["code"] == "agency_not_configured"
    assert every_stored_text() == ""


def test_an_inbound_message_to_a_number_whose_agency_lost_its_policy_is_acknowledged_and_audited(
    api: Any, aws: Any
) -> None:
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m
    from chalicelib.domain.model import Channel, WorkNumber
    from tests.twilio_helpers import inbound, sms_form

    # A number registered while the agency's policy file existed; the file has since been removed.
    at = datetime(2026, 1, 5, tzinfo=UTC)
    with bootstrap.container().uow() as uow:
        uow.numbers.register("+15873550177", "gone-agency", at)
        uow.commit()
    with bootstrap.container().uow() as uow:
        uow.numbers.put(WorkNumber("+15873550177", "gone-agency", "w1", frozenset({Channel.SMS})), at)
        uow.commit()
    form = sms_form("+15875550123", "+15873550177", "my private words")
    first, again = inbound(api, form), inbound(api, form)
    assert first.status_code == 200 and again.status_code == 200, first.body
    assert b"<Message>" not in first.body
    refused = [i for i in m.AuditModel.scan() if i.type == "message.refused"]
    assert [(i.agency_id, i.details["reason"]) for i in refused] == [("gone-agency", "agency_not_configured")]
    stored = every_stored_text()
    assert "my private words" not in stored and "+15875550123" not in stored


# -- item 14: the staff record is the authority ---------------------------------------------------


def test_a_token_whose_subject_has_no_staff_record_has_no_access(http: Any, agency: Any) -> None:
    client = new_client(http, agency["amal"])
    for who in (auth("ghost", "admin"), auth("ghost", "supervisor"), auth("ghost", "worker")):
        before = every_stored_text()
        for method, path, body in STAFF_ROUTES + [("GET", f"/clients/{client['client_id']}", None),
                                                  ("DELETE", f"/clients/{client['client_id']}/consent", {})]:
            r = http.call(method, path, who, body)
            assert r.status_code == 403, (method, path, r.body)
            assert _error(r)["code"] == "no_staff_record"
        assert every_stored_text() == before


def test_the_role_comes_from_the_staff_record_not_from_the_tokens_groups(http: Any, agency: Any) -> None:
    # amal is a worker: a token claiming the admin group gives her no admin powers.
    forged = auth("amal", "admin")
    r = http.call("PUT", "/staff/amal", forged, {"role": "admin", "name": "Amal"})
    assert r.status_code == 403, r.body
    assert http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31", forged).status_code == 403
    # sup-maria's token says worker, her record says supervisor: she sees the agency.
    assert http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31", auth("sup-maria", "worker")).status_code == 200


def test_a_deactivated_member_loses_access_at_once_and_comes_back_when_reactivated(http: Any, agency: Any) -> None:
    assert http.call("GET", "/clients", agency["jean"]).status_code == 200
    r = http.call("PUT", "/staff/jean", agency["admin"], {"role": "worker", "name": "Jean", "active": False})
    assert r.status_code == 200 and r.json["active"] is False
    r = http.call("GET", "/clients", agency["jean"])
    assert r.status_code == 403 and _error(r)["code"] == "no_staff_record"
    r = http.call("PUT", "/numbers/%2B15873550109", agency["admin"], {"staff_id": "jean", "channels": ["sms"]})
    assert r.status_code == 400 and _error(r)["field"] == "staff_id"
    r = http.call("PUT", "/staff/jean", agency["admin"], {"active": True})
    assert r.status_code == 200 and r.json["active"] is True
    assert http.call("GET", "/clients", agency["jean"]).status_code == 200


def test_a_demoted_admin_loses_admin_powers(http: Any, agency: Any) -> None:
    r = http.call("PUT", "/staff/sup-maria", agency["admin"], {"role": "admin", "name": "Maria"})
    assert r.status_code == 200
    maria = auth("sup-maria", "supervisor")  # the token's group is stale either way
    assert http.call("PUT", "/staff/newbie", maria, {"role": "worker", "name": "N"}).status_code == 201
    assert http.call("PUT", "/staff/sup-maria", agency["admin"], {"role": "supervisor", "name": "Maria"}).status_code == 200
    r = http.call("PUT", "/staff/newbie2", maria, {"role": "worker", "name": "N"})
    assert r.status_code == 403 and _error(r)["code"] == "forbidden"


def test_an_admin_may_not_demote_or_deactivate_themself(http: Any, agency: Any) -> None:
    for body in ({"role": "worker", "name": "Lee"}, {"role": "admin", "name": "Lee", "active": False}):
        r = http.call("PUT", "/staff/admin-lee", agency["admin"], body)
        assert r.status_code == 400, r.body
    assert http.call("GET", "/clients", agency["admin"]).status_code == 200


def test_an_admin_token_may_found_an_agency_once_and_only_as_its_own_admin(http: Any, aws: Any) -> None:
    first = auth("admin-h", "admin", "halifax-isans")
    other = auth("admin-h2", "admin", "halifax-isans")
    worker_token = auth("w-h", "worker", "halifax-isans")
    # Not for someone else's record, not as a worker, not with a worker's token.
    assert http.call("PUT", "/staff/w-h", first, {"role": "worker", "name": "W"}).status_code == 403
    assert http.call("PUT", "/staff/admin-h", first, {"role": "worker", "name": "H"}).status_code == 400
    assert http.call("PUT", "/staff/w-h", worker_token, {"role": "admin", "name": "W"}).status_code == 403
    assert every_stored_text() == ""
    r = http.call("PUT", "/staff/admin-h", first, {"role": "admin", "name": "H"})
    assert r.status_code == 201, r.body
    # The agency has staff now: a second admin-group token can no longer found it.
    r = http.call("PUT", "/staff/admin-h2", other, {"role": "admin", "name": "H2"})
    assert r.status_code == 403 and _error(r)["code"] == "no_staff_record"
    assert http.call("PUT", "/staff/w-h", first, {"role": "worker", "name": "W"}).status_code == 201


def test_two_founders_racing_for_an_empty_agency_found_it_once(aws: Any) -> None:
    """Both requests are authorised while the agency is still empty; only the first write founds it."""
    from chalicelib import bootstrap
    from chalicelib.domain.errors import Conflict
    from chalicelib.domain.model import Principal, Role
    from chalicelib.services.admin import PutStaff

    c = bootstrap.container()
    lee = c.authority.authorise(Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN})),
                                founding_staff_id="admin-h")
    kim = c.authority.authorise(Principal("admin-k", "halifax-isans", frozenset({Role.ADMIN})),
                                founding_staff_id="admin-k")
    assert lee.founding and kim.founding
    c.admin.put_staff(lee, PutStaff("admin-h", Role.ADMIN, "H"))
    with pytest.raises(Conflict) as refused:
        c.admin.put_staff(kim, PutStaff("admin-k", Role.ADMIN, "K"))
    assert refused.value.code == "agency_founded"
    assert [s.staff_id for s in c.staff.list("halifax-isans")] == ["admin-h"]


def test_a_role_change_made_in_another_container_takes_effect_within_a_minute(aws: Any) -> None:
    """Two containers share the tables; each caches the directory for a minute (a fake clock)."""
    from chalicelib import bootstrap
    from chalicelib.adapters.policy_loader import PolicyStore
    from chalicelib.adapters.unit_of_work import UnitOfWork
    from chalicelib.domain.errors import Forbidden
    from chalicelib.domain.model import Principal, Role
    from chalicelib.services.absences import AbsenceService
    from chalicelib.services.admin import AdminService, PutStaff
    from chalicelib.services.authority import Authority
    from tests.conftest import ROOT

    store = bootstrap.container()
    now = [1000.0]
    policies = PolicyStore(ROOT / "policies")
    cached = AbsenceService(store.staff, policies, clock=lambda: now[0])
    authority = Authority(cached.directory, store.staff, policies)
    lee = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
    other_container = AdminService(UnitOfWork)
    founder = authority.authorise(lee, founding_staff_id="admin-lee")
    other_container.put_staff(founder, PutStaff("admin-lee", Role.ADMIN, "Lee"))
    other_container.put_staff(authority.authorise(lee), PutStaff("maria", Role.ADMIN, "Maria"))
    maria = Principal("maria", "calgary-cfn", frozenset({Role.WORKER}))
    assert authority.authorise(maria).roles == frozenset({Role.ADMIN})  # not cached yet: read afresh
    now[0] += 61
    assert authority.authorise(maria).roles == frozenset({Role.ADMIN})  # the directory now holds her
    other_container.put_staff(authority.authorise(lee), PutStaff("maria", Role.WORKER, "Maria"))
    now[0] += 30
    assert authority.authorise(maria).roles == frozenset({Role.ADMIN})  # cached: at most a minute
    now[0] += 31
    assert authority.authorise(maria).roles == frozenset({Role.WORKER})
    other_container.put_staff(authority.authorise(lee), PutStaff("maria", Role.WORKER, "Maria", active=False))
    now[0] += 61
    with pytest.raises(Forbidden):
        authority.authorise(maria)
