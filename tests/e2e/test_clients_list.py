"""GET /clients over HTTP (issue 22, SPEC §4.4): the caller's caseload, paged, filtered and searched,
and the composer's one-word outcome (``next_send``) of GET /clients/{id}/compose."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import auth, new_client
from tests.e2e.test_log_privacy import E164, every_log_line  # noqa: F401  (a fixture)
from tests.twilio_helpers import inbound, sms_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
ITEM_FIELDS = {"client_id", "name", "phone", "channel", "language", "status", "consent", "open_inquiry", "last_activity_at"}


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def listing(http: Any, who: dict[str, str], **params: str) -> Any:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    r = http.call("GET", f"/clients?{query}" if query else "/clients", who)
    assert r.status_code == 200, r.body
    return r.json


def names(http: Any, who: dict[str, str], **params: str) -> list[str]:
    return [c["name"] for c in listing(http, who, **params)["clients"]]


def open_file(http: Any, who: dict[str, str], name: str, phone: str, *, manager: str = "amal",
              channel: str = "sms", consent: bool = True) -> str:
    r = http.call("POST", "/clients", who, {"case_manager_id": manager, "phone": phone, "channel": channel,
                                           "language": "fr", "name": name})
    assert r.status_code == 201, r.body
    if consent:
        r = http.call("PUT", f"/clients/{r.json['client_id']}/consent", who, {
            "form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": [channel],
            "circle_of_care": []})
        assert r.status_code == 200, r.body
    return str(r.json["client_id"])


@pytest.fixture
def caseload(http: Any, agency: Any) -> dict[str, str]:
    """Amal: Fatima (waiting), Nadia (no consent yet), Zoé (opted out), Omar (closed); Jean: Joseph."""
    ids = {}
    with at("2026-11-23T09:00"):
        ids["fatima"] = open_file(http, agency["amal"], "Fatima Al-Hassan", "+15873550103")
    with at("2026-11-23T09:10"):
        ids["nadia"] = open_file(http, agency["amal"], "Nadia Rahimi", "+15873550104", consent=False)
    with at("2026-11-23T09:20"):
        ids["zoe"] = open_file(http, agency["amal"], "Zoé Martin", "+15873550105")
    with at("2026-11-23T09:30"):
        ids["omar"] = open_file(http, agency["amal"], "Omar Benali", "+15873550106")
    with at("2026-11-23T09:40"):
        ids["joseph"] = open_file(http, agency["admin"], "Joseph Kabila", "+15873550107", manager="jean")
    with at("2026-11-23T10:00"):
        assert inbound(http.client, sms_form("+15873550105", "+15873550101", "STOP")).status_code == 200
    with at("2026-11-23T10:30"):
        r = http.call("PUT", f"/clients/{ids['omar']}/status", agency["amal"], {"status": "closed", "reason": "moved"})
        assert r.status_code == 200, r.body
    with at("2026-11-23T11:00"):
        assert inbound(http.client, sms_form("+15873550103", "+15873550101", "Bonjour, mon rendez-vous ?")).status_code == 200
    return ids


def test_a_worker_lists_their_caseload_most_recent_activity_first_with_each_files_inquiry(http, agency, caseload):
    body = listing(http, agency["amal"])
    assert [c["name"] for c in body["clients"]] == ["Fatima Al-Hassan", "Omar Benali", "Zoé Martin", "Nadia Rahimi"]
    assert body["next"] is None
    first = body["clients"][0]
    assert ITEM_FIELDS <= first.keys()
    assert first["last_activity_at"] == "2026-11-23T11:00:00-06:00"
    detail = http.call("GET", f"/clients/{caseload['fatima']}", agency["amal"]).json
    assert first["open_inquiry"] == detail["open_inquiry"] and first["open_inquiry"]["status"] == "open"
    assert body["clients"][1]["open_inquiry"] is None


def test_pages_are_linked_by_an_opaque_cursor_and_cover_everything_once(http, agency, caseload):
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "1", **({"next": cursor} if cursor else {})}
        body = listing(http, agency["supervisor"], **params)
        seen += [c["name"] for c in body["clients"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
        assert "amal" not in cursor and "calgary" not in cursor  # opaque: no key in the clear
    assert seen == ["Fatima Al-Hassan", "Omar Benali", "Zoé Martin", "Joseph Kabila", "Nadia Rahimi"]
    assert pages in (5, 6)


@pytest.mark.parametrize("typed", ["+15873550103", "587 355 0103", "(587) 355-0103", "587-355-0103", "5873550103",
                                   "15873550103", "550103", "0103"])
def test_the_phone_number_in_any_format_finds_the_client(http, agency, caseload, typed):
    assert names(http, agency["amal"], q=typed) == ["Fatima Al-Hassan"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("fatima", ["Fatima Al-Hassan"]), ("HASS", ["Fatima Al-Hassan"]), ("zoe", ["Zoé Martin"]),
    ("ZOÉ mar", ["Zoé Martin"]), ("martin zoe", ["Zoé Martin"]), ("artin", []), ("joseph", []),
])
def test_part_of_the_name_finds_the_client_whatever_the_case_and_accents(http, agency, caseload, typed, expected):
    assert names(http, agency["amal"], q=typed) == expected


@pytest.mark.parametrize(("params", "expected"), [
    ({"filter": "waiting"}, ["Fatima Al-Hassan"]),
    ({"filter": "no_consent"}, ["Nadia Rahimi"]),
    ({"filter": "opted_out"}, ["Zoé Martin"]),
    ({"filter": "closed"}, ["Omar Benali"]),
    ({"status": "closed"}, ["Omar Benali"]),
    ({"status": "active"}, ["Fatima Al-Hassan", "Zoé Martin", "Nadia Rahimi"]),
    ({"status": "suspended"}, []),
    ({"status": "active", "filter": "closed"}, []),
    ({"filter": "waiting", "q": "587 355 0103"}, ["Fatima Al-Hassan"]),
    ({"filter": "closed", "q": "fatima"}, []),
])
def test_filters_narrow_the_list(http, agency, caseload, params, expected):
    assert names(http, agency["amal"], **params) == expected


def test_a_worker_never_sees_a_colleagues_files_unless_covering_and_no_agency_sees_another(http, agency, caseload):
    assert names(http, agency["jean"]) == ["Joseph Kabila"]
    assert names(http, agency["jean"], q="fatima") == []
    assert names(http, agency["jean"], q="0103") == []
    assert http.call("GET", "/clients?staff_id=amal", agency["jean"]).status_code == 403
    halifax = auth("admin-h", "admin", "halifax-isans")
    assert names(http, halifax) == [] and names(http, halifax, q="0103") == [] and names(http, halifax, q="fatima") == []
    r = http.call("PUT", "/staff/amal/absences/winter-leave", agency["amal"],
                  {"start": "2026-12-07", "end": "2026-12-11", "cover_id": "jean"})
    assert r.status_code in (200, 201), r.body
    with at("2026-12-08T10:00"):  # Jean covers Amal today: her files are his to find
        assert names(http, agency["jean"], q="587 355 0103") == ["Fatima Al-Hassan"]
        assert names(http, agency["jean"]) == ["Fatima Al-Hassan", "Omar Benali", "Zoé Martin", "Joseph Kabila",
                                               "Nadia Rahimi"]
        assert names(http, agency["jean"], staff_id="amal", filter="no_consent") == ["Nadia Rahimi"]
    with at("2026-12-14T10:00"):  # Amal is back
        assert names(http, agency["jean"], q="fatima") == []


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "filter=everyone", "status=open", "q=" + "x" * 101,
                                   "next=not-a-cursor", "staff_id=a%20b"])
def test_bad_listing_requests_are_clear_400s(http, agency, query):
    r = http.call("GET", f"/clients?{query}", agency["amal"])
    assert r.status_code == 400, r.body
    assert r.json["error"]["code"] == "invalid_input" and r.json["error"]["field"]


def test_the_composer_says_in_one_word_what_send_will_do(http, agency):
    with at("2026-11-23T08:00"):
        sms = new_client(http, agency["amal"], phone="+15875550161", channel="sms", language="fr")
        whatsapp = new_client(http, agency["amal"], phone="+15875550162")
        none = new_client(http, agency["amal"], phone="+15875550163", channel="sms", consent=False)

    def next_send(client: dict[str, Any], lang: str = "en") -> dict[str, Any]:
        r = http.call("GET", f"/clients/{client['client_id']}/compose?lang={lang}", agency["amal"])
        assert r.status_code == 200, r.body
        return r.json["next_send"]

    with at("2026-11-23T10:00"):
        assert next_send(sms) == {"outcome": "now"}
        assert next_send(whatsapp) == {"outcome": "template", "template": "staff_reopen",
                                       "reason": "whatsapp_window_closed"}
        assert next_send(none) == {"outcome": "refused", "reason": "no_consent"}
        assert inbound(http.client, whatsapp_form("+15875550162", "+15873550101", "hello")).status_code == 200
        assert next_send(whatsapp) == {"outcome": "now"}
    with at("2026-11-27T18:30"):  # Friday evening: held until Monday's opening
        assert next_send(sms, "fr") == {"outcome": "held", "send_at": "2026-11-30T09:00:00-06:00",
                                        "send_at_text": "lundi à 9 h", "template": None}
        assert next_send(whatsapp)["template"] == "staff_reopen"  # by Monday the window has closed
        sent = http.call("POST", f"/clients/{sms['client_id']}/messages", agency["amal"], {"body": "Bonjour"})
        assert sent.status_code == 202 and sent.json["send_at"] == "2026-11-30T09:00:00-06:00"
    with at("2026-11-30T10:00"):
        assert inbound(http.client, sms_form("+15875550161", "+15873550101", "STOP")).status_code == 200
        assert next_send(sms) == {"outcome": "refused", "reason": "opted_out"}
        assert http.call("PUT", f"/clients/{none['client_id']}/status", agency["amal"],
                         {"status": "closed", "reason": "moved"}).status_code == 200
        assert next_send(none) == {"outcome": "refused", "reason": "file_closed"}


def test_searching_by_number_or_name_logs_no_number_and_no_name(http, agency, caseload, every_log_line):  # noqa: F811
    for typed in ("587 355 0103", "+15873550103", "(587) 355-0104", "5873550105", "0106", "Fatima al"):
        body = listing(http, agency["amal"], q=typed, limit="1")
        if body["next"]:
            listing(http, agency["amal"], q=typed, limit="1", next=body["next"])
    assert http.call("GET", "/clients?q=587%20355%200103&next=forged", agency["amal"]).status_code == 400
    lines = every_log_line.lines
    leaks = [line for line in lines if E164.search(line) or "5873550" in line or "Fatima" in line or "fatima" in line]
    assert not leaks, "\n".join(x[:300] for x in leaks[:5])
