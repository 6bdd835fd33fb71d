"""Referrals to another agency (SPEC §4.4, §5.8): only with the client's permission, part of the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine

from chalicelib.adapters import models as m
from tests.conftest import new_client

REFERRAL = {"to": "Calgary Legal Guidance", "service": "tenancy advice", "client_consented": True,
            "note": "eviction notice received, wants advice"}


def test_a_referral_needs_the_clients_explicit_permission(http, agency):
    cid = new_client(http, agency["amal"])["client_id"]
    for consented in (None, False, "true", 1):
        body = {**REFERRAL, "client_consented": consented}
        if consented is None:
            del body["client_consented"]
        r = http.call("POST", f"/clients/{cid}/referrals", agency["amal"], body)
        assert r.status_code == 400 and r.json["error"]["field"] == "client_consented", r.body
    assert http.call("GET", f"/clients/{cid}", agency["amal"]).json["referrals"] == []


def test_a_referral_is_in_the_file_the_export_the_audit_and_the_usage_report(http, agency):
    with time_machine.travel(datetime(2026, 3, 3, 17, tzinfo=UTC), tick=False):
        cid = new_client(http, agency["amal"])["client_id"]
        r = http.call("POST", f"/clients/{cid}/referrals", agency["amal"], REFERRAL)
        assert r.status_code == 201, r.body
        referral = r.json
        assert referral["referral_id"].startswith("ref_") and referral["to"] == REFERRAL["to"]
        assert referral["at"] == "2026-03-03T10:00:00-07:00"
        assert http.call("GET", f"/clients/{cid}", agency["amal"]).json["referrals"] == [
            {k: referral[k] for k in ("referral_id", "at", "by", "to", "service", "note")}]
        export = http.call("GET", f"/clients/{cid}/export", agency["amal"]).json
        assert export["client"]["referrals"][0]["service"] == "tenancy advice"
        audited = [e for e in export["audit"] if e["type"] == "referral.recorded"]
        assert len(audited) == 1 and audited[0]["details"]["referral_id"] == referral["referral_id"]
        assert "eviction" not in json.dumps(audited)  # the note stays in the file only
        usage = http.call("GET", "/reports/usage", agency["supervisor"]).json
        assert usage["totals"]["referrals"] == 1


def test_only_the_case_manager_records_referrals(http, agency):
    cid = new_client(http, agency["amal"])["client_id"]
    assert http.call("POST", f"/clients/{cid}/referrals", agency["jean"], REFERRAL).status_code == 403
    assert http.call("POST", f"/clients/{cid}/referrals", agency["supervisor"], REFERRAL).status_code == 403
    assert http.call("POST", "/clients/cl_nobody/referrals", agency["amal"], REFERRAL).status_code == 404
    r = http.call("POST", f"/clients/{cid}/referrals", agency["amal"], {"client_consented": True})
    assert r.status_code == 400 and r.json["error"]["field"] == "to"


def test_erasure_keeps_only_an_anonymous_count_of_referrals(http, agency):
    with time_machine.travel(datetime(2026, 3, 3, 17, tzinfo=UTC), tick=False):
        cid = new_client(http, agency["amal"])["client_id"]
        assert http.call("POST", f"/clients/{cid}/referrals", agency["amal"], REFERRAL).status_code == 201
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "case complete"})
        assert r.status_code == 200, r.body
        assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 200
        stored = json.dumps(m.ClientModel.get(cid).attribute_values, default=str)
        for text in (REFERRAL["to"], REFERRAL["service"], REFERRAL["note"]):
            assert text not in stored
        assert len(m.ClientModel.get(cid).referrals) == 1
        assert http.call("GET", "/reports/usage", agency["supervisor"]).json["totals"]["referrals"] == 1


def test_consent_records_whether_the_client_accepts_posts(http, agency):
    cid = new_client(http, agency["amal"], consent=False)["client_id"]
    consent = {"form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["whatsapp"],
               "circle_of_care": []}
    r = http.call("PUT", f"/clients/{cid}/consent", agency["amal"], {**consent, "posts": "yes"})
    assert r.status_code == 400 and r.json["error"]["field"] == "posts"
    assert http.call("PUT", f"/clients/{cid}/consent", agency["amal"], consent).json["consent"]["posts"] is False
    r = http.call("PUT", f"/clients/{cid}/consent", agency["amal"], {**consent, "posts": True})
    assert r.status_code == 200 and r.json["consent"]["posts"] is True
    assert http.call("GET", f"/clients/{cid}", agency["amal"]).json["consent"]["posts"] is True
