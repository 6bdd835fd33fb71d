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


# -- a file that moves while the referral is written (the one retry helper, adapters/retry.py) --


def _no_waiting(monkeypatch) -> list[float]:
    """The retry helper's backoff, recorded instead of slept."""
    from types import SimpleNamespace

    from chalicelib.adapters import retry

    waits: list[float] = []
    monkeypatch.setattr(retry, "time", SimpleNamespace(sleep=waits.append))
    return waits


def test_a_referral_written_while_a_colleague_edits_the_file_is_read_again_and_recorded_once(
        http, agency, monkeypatch):
    from tests.fault_helpers import DynamoTap, matching

    waits = _no_waiting(monkeypatch)
    cid = new_client(http, agency["amal"])["client_id"]

    def colleague_renames_the_client() -> None:  # lands between the referral's read and its write
        m.ClientModel.get(cid).update(actions=[m.ClientModel.name.set("Fatima B.")])

    with DynamoTap().before(1, colleague_renames_the_client, match=matching("TransactWriteItems")) as tap:
        r = http.call("POST", f"/clients/{cid}/referrals", agency["amal"], REFERRAL)
    assert r.status_code == 201, r.body
    assert [c.ok for c in tap.calls if c.operation == "TransactWriteItems"] == [False, True]
    assert len(waits) == 1  # one jittered pause before the second attempt
    file = http.call("GET", f"/clients/{cid}", agency["amal"]).json
    assert file["name"] == "Fatima B." and [x["referral_id"] for x in file["referrals"]] == [r.json["referral_id"]]
    audited = [e for e in m.AuditModel.query("calgary-cfn") if e.type == "referral.recorded"]
    assert len(audited) == 1


def test_a_file_that_never_stops_moving_answers_409_busy_and_records_nothing(http, agency, monkeypatch):
    from chalicelib.adapters.retry import ATTEMPTS
    from tests.fault_helpers import DynamoTap, matching

    waits = _no_waiting(monkeypatch)
    cid = new_client(http, agency["amal"])["client_id"]
    tap = DynamoTap()
    for nth in range(1, ATTEMPTS + 1):  # every attempt loses on the file's version
        tap.fail(nth, "TransactionCanceledException", match=matching("TransactWriteItems"),
                 reasons=["ConditionalCheckFailed", "None"])
    with tap:
        r = http.call("POST", f"/clients/{cid}/referrals", agency["amal"], REFERRAL)
    assert r.status_code == 409 and r.json["error"]["code"] == "busy", r.body
    assert tap.fired and len(waits) == ATTEMPTS - 1
    assert http.call("GET", f"/clients/{cid}", agency["amal"]).json["referrals"] == []
    assert [e for e in m.AuditModel.query("calgary-cfn") if e.type == "referral.recorded"] == []
