"""Staff, numbers, client files and consent through HTTP (issue 2, SPEC §4.3–4.4)."""

from __future__ import annotations

import time_machine

from chalicelib.adapters import models as m
from tests.conftest import auth, new_client, token


def audit_types(agency: str = "calgary-cfn") -> list[str]:
    return [e.type for e in m.AuditModel.query(agency)]


def test_admin_creates_staff_then_updates_them(http, agency):
    r = http.call("PUT", "/staff/new-worker", agency["admin"], {"role": "worker", "name": "Samir"})
    assert r.status_code == 201 and r.json["role"] == "worker"
    r = http.call("PUT", "/staff/new-worker", agency["admin"], {"role": "supervisor", "name": "Samir B."})
    assert r.status_code == 200 and r.json["name"] == "Samir B."


def test_worker_cannot_create_staff(http, agency):
    r = http.call("PUT", "/staff/x", agency["amal"], {"role": "admin", "name": "Me"})
    assert r.status_code == 403
    assert r.json["error"]["code"] == "forbidden"


def test_bad_role_is_a_400_naming_the_field(http, agency):
    r = http.call("PUT", "/staff/x", agency["admin"], {"role": "boss", "name": "X"})
    assert r.status_code == 400 and r.json["error"]["field"] == "role"


def test_a_number_in_national_format_is_read_in_the_agencys_country(http, agency):
    r = http.call("PUT", "/numbers/5873550101", agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert r.status_code == 200 and r.json["number"] == "+15873550101", r.body


def test_a_number_that_is_no_phone_number_is_a_400_naming_the_field(http, agency):
    r = http.call("PUT", "/numbers/12ab", agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert r.status_code == 400 and r.json["error"]["field"] == "number"
    r = http.call("PUT", "/numbers/55501", agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert r.status_code == 400 and r.json["error"]["field"] == "number"


def test_number_of_another_agency_cannot_be_taken(http, agency):
    halifax_admin = auth("admin-h", "admin", "halifax-isans")
    http.call("PUT", "/staff/admin-h", halifax_admin, {"role": "admin", "name": "H"})
    http.call("PUT", "/staff/w-h", halifax_admin, {"role": "worker", "name": "W"})
    r = http.call("PUT", "/numbers/%2B15873550101", halifax_admin, {"staff_id": "w-h", "channels": ["sms"]})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_number_goes_only_to_a_worker_of_the_agency(http, agency):
    r = http.call("PUT", "/numbers/%2B15873550109", agency["admin"], {"staff_id": "ghost", "channels": ["sms"]})
    assert r.status_code == 404
    r = http.call("PUT", "/numbers/%2B15873550109", agency["admin"], {"staff_id": "sup-maria", "channels": ["sms"]})
    assert r.status_code == 400 and r.json["error"]["field"] == "staff_id"


def test_worker_opens_a_file_for_their_client(http, agency):
    r = http.call("POST", "/clients", agency["amal"], {
        "case_manager_id": "amal", "phone": "+1 587 555 0123", "channel": "whatsapp", "language": "AR", "name": "Fatima"})
    assert r.status_code == 201, r.body
    body = r.json
    assert body["phone"] == "+15875550123" and body["language"] == "ar"
    assert body["consent"]["state"] == "none" and body["open_inquiry"] is None
    assert body["status"] == "active" and body["can_message"] is False
    assert "client.created" in audit_types()


def test_duplicate_phone_and_channel_is_a_conflict(http, agency):
    new_client(http, agency["amal"], consent=False)
    r = http.call("POST", "/clients", agency["amal"], {
        "case_manager_id": "amal", "phone": "+15875550123", "channel": "whatsapp", "language": "ar", "name": "Again"})
    assert r.status_code == 409 and r.json["error"]["code"] == "client_exists"


def test_client_fields_are_validated_one_by_one(http, agency):
    good = {"case_manager_id": "amal", "phone": "+15875550123", "channel": "sms", "language": "en", "name": "A"}
    for field, bad in (("phone", "12345"), ("phone", "+999"), ("channel", "telegram"), ("language", "!!"),
                       ("name", ""), ("case_manager_id", None), ("name", "x\u0000y")):
        r = http.call("POST", "/clients", agency["amal"], {**good, field: bad})
        assert r.status_code == 400, (field, bad, r.body)
        assert r.json["error"]["field"] == field


def test_malformed_json_is_a_400_not_a_500(http, agency):
    r = agency["amal"]
    resp = http.client.http.post("/clients", headers=r, body=b"{not json")
    assert resp.status_code == 400
    resp = http.client.http.post("/clients", headers=r, body="[1, 2]")
    assert resp.status_code == 400
    resp = http.client.http.post("/clients", headers=r, body=b"\xff\xfe")
    assert resp.status_code == 400


def test_huge_body_is_refused(http, agency):
    resp = http.client.http.post("/clients", headers=agency["amal"], body=b"{" + b" " * 70000 + b"}")
    assert resp.status_code == 413


def test_worker_cannot_open_a_file_for_a_colleague(http, agency):
    r = http.call("POST", "/clients", agency["jean"], {
        "case_manager_id": "amal", "phone": "+15875550123", "channel": "sms", "language": "en", "name": "A"})
    assert r.status_code == 403


def test_supervisor_cannot_open_files(http, agency):
    r = http.call("POST", "/clients", agency["supervisor"], {
        "case_manager_id": "amal", "phone": "+15875550123", "channel": "sms", "language": "en", "name": "A"})
    assert r.status_code == 403


def test_file_needs_a_work_number_for_the_channel(http, agency):
    http.call("PUT", "/staff/newbie", agency["admin"], {"role": "worker", "name": "New"})
    r = http.call("POST", "/clients", agency["admin"], {
        "case_manager_id": "newbie", "phone": "+15875550123", "channel": "sms", "language": "en", "name": "A"})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_work_number"


def test_consent_given_then_withdrawn_is_audited(http, agency):
    client = new_client(http, agency["amal"])
    assert client["consent"]["state"] == "given" and client["can_message"] is True
    assert client["consent"]["channels"] == ["whatsapp"]
    r = http.call("DELETE", f"/clients/{client['client_id']}/consent", agency["amal"], {"reason": "client asked"})
    assert r.status_code == 200
    assert r.json["consent"]["state"] == "withdrawn" and r.json["can_message"] is False
    types = audit_types()
    assert "consent.given" in types and "consent.withdrawn" in types


def test_withdrawing_without_consent_is_a_conflict(http, agency):
    client = new_client(http, agency["amal"], consent=False)
    r = http.call("DELETE", f"/clients/{client['client_id']}/consent", agency["amal"], {"reason": "x"})
    assert r.status_code == 409


def test_consent_fields_are_validated(http, agency):
    client = new_client(http, agency["amal"], consent=False)
    base = {"form_version": "v1", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["sms"]}
    for field, bad in (("signed_at", "yesterday"), ("signed_at", "2099-01-05T10:00:00"), ("channels", []),
                       ("channels", ["pigeon"]), ("form_version", None), ("circle_of_care", "everyone")):
        r = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {**base, field: bad})
        assert r.status_code == 400 and r.json["error"]["field"] == field, (field, r.body)


def test_consent_cannot_be_signed_in_the_future(http, agency):
    client = new_client(http, agency["amal"], consent=False)
    with time_machine.travel("2026-03-02T10:00:00-07:00", tick=False):
        r = http.call("PUT", f"/clients/{client['client_id']}/consent", auth("amal"), {
            "form_version": "v1", "signed_at": "2026-03-03T10:00:00-07:00", "channels": ["whatsapp"]})
    assert r.status_code == 400


def test_colleague_is_forbidden_and_other_agency_sees_nothing(http, agency):
    client = new_client(http, agency["amal"])
    path = f"/clients/{client['client_id']}"
    assert http.call("GET", path, agency["amal"]).status_code == 200
    assert http.call("GET", path, agency["supervisor"]).status_code == 200
    assert http.call("GET", path, agency["jean"]).status_code == 403
    assert http.call("GET", path, auth("admin-x", "admin", "ottawa-ociso")).status_code == 404
    assert http.call("GET", "/clients/cl_doesnotexist", agency["admin"]).status_code == 404


def test_supervisor_may_read_but_not_change_consent(http, agency):
    client = new_client(http, agency["amal"])
    r = http.call("DELETE", f"/clients/{client['client_id']}/consent", agency["supervisor"], {"reason": "x"})
    assert r.status_code == 403


def test_missing_bad_and_expired_tokens_are_401(http, agency):
    client = new_client(http, agency["amal"])
    path = f"/clients/{client['client_id']}"
    assert http.call("GET", path, {}).status_code == 401
    assert http.call("GET", path, {"Authorization": "Bearer not.a.jwt"}).status_code == 401
    forged = token("amal")[:-4] + "AAAA"
    assert http.call("GET", path, {"Authorization": f"Bearer {forged}"}).status_code == 401
    expired = token("amal", ttl=-10)
    r = http.call("GET", path, {"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthenticated"


def test_times_are_written_in_agency_local_offset(http, agency):
    with time_machine.travel("2026-07-06T16:00:00+00:00", tick=False):
        client = new_client(http, auth("amal"))
    assert client["created_at"].endswith("-06:00")  # Calgary in July (UTC-6)


def test_caseload_lists_a_workers_own_files_and_the_whole_agency_for_supervisors(http, agency):
    from tests.conftest import new_client

    fatima = new_client(http, agency["amal"], phone="+15875550123")
    joseph = new_client(http, agency["jean"], phone="+15875550124", channel="sms", language="fr", manager="jean")
    mine = http.call("GET", "/clients", agency["amal"]).json["clients"]
    assert [c["client_id"] for c in mine] == [fatima["client_id"]]
    everyone = http.call("GET", "/clients", agency["supervisor"]).json["clients"]
    assert {c["client_id"] for c in everyone} == {fatima["client_id"], joseph["client_id"]}
    jeans = http.call("GET", "/clients?staff_id=jean", agency["admin"]).json["clients"]
    assert [c["client_id"] for c in jeans] == [joseph["client_id"]]
    assert http.call("GET", "/clients?staff_id=jean", agency["amal"]).status_code == 403
    from tests.conftest import auth

    assert http.call("GET", "/clients", auth("admin-h", "admin", "halifax-isans")).json["clients"] == []
