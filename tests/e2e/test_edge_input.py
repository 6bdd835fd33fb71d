"""Input at the edges (issue 11, items 8, 10 and 11): a clear 400 or a quiet 200, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import new_client
from tests.storage_dump import every_stored_text


def _assert_error_shape(r: Any, status: int) -> None:
    assert r.status_code == status, r.body
    body = json.loads(r.body)
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), r.body


@pytest.mark.parametrize("signed_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                       "0001-01-01T00:00:00+00:00"])
def test_a_consent_signed_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                          signed_at: str) -> None:
    client = new_client(http, agency["amal"], consent=False)
    before = every_stored_text()
    r = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {
        "form_version": "CFN-2026", "signed_at": signed_at, "channels": ["whatsapp"],
        "circle_of_care": ["settlement team"]})
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "signed_at"
    assert every_stored_text() == before


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-05"), ("9999-12-27", "9999-12-31")])
def test_an_absence_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                    start: str, end: str) -> None:
    before = every_stored_text()
    r = http.call("PUT", "/staff/amal/absences/far-away", agency["amal"],
                  {"start": start, "end": end, "cover_id": "jean"})
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "start"
    assert every_stored_text() == before


@pytest.mark.parametrize("path", ["/reports/compliance", "/reports/usage", "/audit"])
@pytest.mark.parametrize("period", ["from=9999-12-01&to=9999-12-31", "from=0001-01-01&to=0001-01-31"])
def test_a_report_period_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                         path: str, period: str) -> None:
    r = http.call("GET", f"{path}?{period}", agency["supervisor"])
    _assert_error_shape(r, 400)


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A3", "%EF%BC%95", "1e3", "-1", "%20"])
def test_a_followups_limit_that_is_not_ascii_digits_is_refused_with_400(http: Any, agency: Any,
                                                                        limit: str) -> None:
    r = http.call("GET", f"/followups?limit={limit}", agency["amal"])
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "limit"


# -- item 10: a short code is nobody's file ------------------------------------------------------

AMAL_NUMBER = "+15873550101"


def _audit_items() -> list[Any]:
    from chalicelib.adapters import models as m

    return list(m.AuditModel.scan())


def test_an_sms_from_a_short_code_is_acknowledged_with_200_audited_once_and_filed_nowhere(
    api: Any, http: Any, agency: Any
) -> None:
    from tests.twilio_helpers import inbound, sms_form

    fatima = new_client(http, agency["amal"], channel="sms")
    form = sms_form("32665", AMAL_NUMBER, "Your code is 123456")  # Twilio's short-code shape
    before = len(_audit_items())
    first = inbound(api, form)
    again = inbound(api, form)  # Twilio's retry of the same MessageSid
    assert first.status_code == 200 and again.status_code == 200, first.body
    assert b"<Message>" not in first.body and b"<Message>" not in again.body
    events = _audit_items()[before:]
    refused = [e for e in _audit_items() if e.type == "message.refused"]
    assert len(refused) == 1 and len(events) == 1
    assert refused[0].details["reason"] == "short_code_sender"
    assert refused[0].agency_id == "calgary-cfn" and refused[0].client_id is None
    assert http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"] == []
    assert "123456" not in every_stored_text()
    assert "32665" not in every_stored_text()


def test_a_whatsapp_sender_that_looks_like_a_short_code_is_still_refused_with_400(api: Any, agency: Any) -> None:
    from tests.twilio_helpers import inbound, whatsapp_form

    r = inbound(api, whatsapp_form("32665", AMAL_NUMBER, "hi"))
    _assert_error_shape(r, 400)


# -- item 11: national format in the agency's country ------------------------------------------


@pytest.mark.parametrize("typed", ["(403) 555-0199", "403-555-0199", "1 403 555 0199", "403.555.0199"])
def test_a_phone_in_national_format_is_read_in_the_agencys_country_and_stored_in_e164(
    http: Any, agency: Any, typed: str
) -> None:
    r = http.call("POST", "/clients", agency["amal"], {"case_manager_id": "amal", "phone": typed,
                                                      "channel": "sms", "language": "en", "name": "Ana"})
    assert r.status_code == 201, r.body
    assert r.json["phone"] == "+14035550199"
    again = http.call("GET", f"/clients/{r.json['client_id']}", agency["amal"])
    assert again.json["phone"] == "+14035550199"


@pytest.mark.parametrize("typed", ["(403) 555-019", "555-0199", "call me", "+1 (403) 555-01999"])
def test_a_phone_that_is_no_number_of_the_agencys_country_is_refused_and_nothing_is_written(
    http: Any, agency: Any, typed: str
) -> None:
    before = every_stored_text()
    r = http.call("POST", "/clients", agency["amal"], {"case_manager_id": "amal", "phone": typed,
                                                      "channel": "sms", "language": "en", "name": "Ana"})
    _assert_error_shape(r, 400)
    assert json.loads(r.body)["error"]["field"] == "phone"
    assert every_stored_text() == before


def test_an_inbound_message_from_a_file_opened_in_national_format_lands_in_that_file(
    api: Any, http: Any, agency: Any
) -> None:
    from tests.twilio_helpers import inbound, sms_form

    client = new_client(http, agency["amal"], phone="(587) 555-0123", channel="sms")
    assert inbound(api, sms_form("+15875550123", AMAL_NUMBER, "hello from my phone")).status_code == 200
    found = http.call("GET", f"/clients/{client['client_id']}/messages", agency["amal"]).json["messages"]
    assert [m["body"] for m in found if m["direction"] == "inbound"] == ["hello from my phone"]
