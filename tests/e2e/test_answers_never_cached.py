"""API answers are never cached or sniffed (issue 20, item 7; SPEC §4.3).

Exports, files and errors hold personal information: every answer of the API carries
``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff``, whether a view wrote it, Chalice
refused the request itself, or something failed. The console's static files state their own
caching policy and are never sniffed either. ``tests/e2e/test_authz_matrix.py`` checks the same two
headers on every staff endpoint for every kind of caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, new_sid, post, sms_form, status_form, whatsapp_form

OPEN_HOURS = "2026-11-18T10:00:00-06:00"  # a Wednesday
PERIOD = "from=2026-11-18&to=2026-11-18"
CONSENT = {"form_version": "v2", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["sms"],
           "circle_of_care": ["settlement team"]}
NEW_CLIENT = {"case_manager_id": "amal", "phone": "+15875550177", "channel": "sms", "language": "en", "name": "N"}


def headers_of(r: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in r.headers.items()}


def raw(http: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> Any:
    return http.client.http.request(method, path, headers=headers, body=body)


# name -> (call(http, agency, client_id) -> response, expected status)
Case = tuple[Callable[[Any, dict[str, Any], str], Any], int]
CASES: dict[str, Case] = {
    # answers of views, JSON
    "GET /clients": (lambda h, a, c: h.call("GET", "/clients", a["amal"]), 200),
    "GET /clients/{id}": (lambda h, a, c: h.call("GET", f"/clients/{c}", a["amal"]), 200),
    "POST /clients": (lambda h, a, c: h.call("POST", "/clients", a["amal"], NEW_CLIENT), 201),
    "PUT /clients/{id}/consent": (lambda h, a, c: h.call("PUT", f"/clients/{c}/consent", a["amal"], CONSENT), 200),
    "DELETE /clients/{id}/consent": (
        lambda h, a, c: h.call("DELETE", f"/clients/{c}/consent", a["amal"], {"reason": "asked"}), 200),
    "POST /clients/{id}/messages": (
        lambda h, a, c: h.call("POST", f"/clients/{c}/messages", a["amal"], {"body": "Hello"}), 201),
    "GET /clients/{id}/messages": (lambda h, a, c: h.call("GET", f"/clients/{c}/messages", a["amal"]), 200),
    "GET /clients/{id}/export": (lambda h, a, c: h.call("GET", f"/clients/{c}/export", a["amal"]), 200),
    "PUT /staff/{id}": (lambda h, a, c: h.call("PUT", "/staff/new-one", a["admin"], {"role": "worker", "name": "N"}),
                        201),
    "GET /audit": (lambda h, a, c: h.call("GET", f"/audit?{PERIOD}", a["admin"]), 200),
    "GET /dev/staff": (lambda h, a, c: h.call("GET", "/dev/staff"), 200),
    # CSV exports
    "GET /audit as CSV": (lambda h, a, c: raw(h, "GET", f"/audit?{PERIOD}", {**a["admin"], "Accept": "text/csv"}),
                          200),
    "GET /reports/usage as CSV": (
        lambda h, a, c: raw(h, "GET", f"/reports/usage?{PERIOD}", {**a["supervisor"], "Accept": "text/csv"}), 200),
    "GET /reports/compliance as CSV": (
        lambda h, a, c: raw(h, "GET", f"/reports/compliance?{PERIOD}", {**a["admin"], "Accept": "text/csv"}), 200),
    # errors the views answer
    "400 invalid JSON": (lambda h, a, c: raw(h, "POST", "/clients", a["amal"], b"{not json"), 400),
    "400 invalid field": (lambda h, a, c: h.call("POST", "/clients", a["amal"], {**NEW_CLIENT, "phone": "x"}), 400),
    "401 no token": (lambda h, a, c: h.call("GET", "/clients"), 401),
    "401 bad token": (lambda h, a, c: h.call("GET", f"/clients/{c}", {"Authorization": "Bearer not-a-jwt"}), 401),
    "403 worker asks for the audit": (lambda h, a, c: h.call("GET", f"/audit?{PERIOD}", a["amal"]), 403),
    "403 another worker's client": (lambda h, a, c: h.call("PUT", f"/clients/{c}/consent", a["jean"], CONSENT), 403),
    "404 another agency's client": (
        lambda h, a, c: h.call("GET", f"/clients/{c}", auth("admin-h", "admin", "halifax-isans")), 404),
    "404 no such client": (lambda h, a, c: h.call("GET", "/clients/cl_not_there", a["amal"]), 404),
    "404 DELETE a message nobody wrote": (
        lambda h, a, c: h.call("DELETE", f"/clients/{c}/messages/msg_not_there", a["amal"]), 404),
    "409 a client who withdrew consent": (
        lambda h, a, c: (h.call("DELETE", f"/clients/{c}/consent", a["amal"], {"reason": "asked"}),
                         h.call("POST", f"/clients/{c}/messages", a["amal"], {"body": "Hi"}))[1], 409),
    "409 erasing a file still open": (lambda h, a, c: h.call("DELETE", f"/clients/{c}", a["admin"]), 409),
    "413 too large": (lambda h, a, c: raw(h, "POST", "/clients", a["amal"], b'{"name": "' + b"x" * 70_000 + b'"}'),
                      413),
    # errors Chalice answers before any view runs
    "404 unknown route": (lambda h, a, c: h.call("GET", "/nope/deeper", a["amal"]), 404),
    "405 method the path lacks": (lambda h, a, c: raw(h, "PATCH", "/clients", a["amal"], b"{}"), 405),
    "415 not JSON": (lambda h, a, c: raw(h, "POST", "/clients", {**a["amal"], "Content-Type": "text/plain"}, b"x"),
                     415),
    # Twilio's webhooks: TwiML, empty TwiML and a forged request
    "webhook TwiML": (lambda h, a, c: inbound(h.client, sms_form("+15875550123", "+15873550101", "Hello?")), 200),
    "webhook from an unknown sender": (
        lambda h, a, c: inbound(h.client, whatsapp_form("+15875550166", "+15873550101", "Hi")), 200),
    "status callback": (lambda h, a, c: post(h.client, "/webhooks/twilio/status", status_form(new_sid(), "delivered")),
                        200),
    "403 unsigned webhook": (
        lambda h, a, c: inbound(h.client, sms_form("+15875550123", "+15873550101", "Hi"), sign=False), 403),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_api_answer_is_never_stored_and_never_sniffed(http, agency, case):
    call, expected = CASES[case]
    with time_machine.travel(OPEN_HOURS, tick=False):
        client = new_client(http, agency["amal"], phone="+15875550123", channel="sms", language="en")
        r = call(http, agency, client["client_id"])
    assert r.status_code == expected, r.body[:300]
    got = headers_of(r)
    assert got.get("cache-control") == "no-store", got
    assert got.get("x-content-type-options") == "nosniff", got


def test_a_csv_export_is_csv_and_never_stored(http, agency):
    with time_machine.travel(OPEN_HOURS, tick=False):
        new_client(http, agency["amal"])
        r = raw(http, "GET", f"/audit?{PERIOD}", {**agency["admin"], "Accept": "text/csv"})
    got = headers_of(r)
    assert r.status_code == 200 and got["content-type"].startswith("text/csv")
    assert got["cache-control"] == "no-store" and got["x-content-type-options"] == "nosniff"


def test_a_view_that_fails_answers_500_never_stored_and_never_sniffed(http, agency, monkeypatch):
    from chalicelib import bootstrap

    def broken() -> Any:
        raise RuntimeError("storage is down")

    monkeypatch.setattr(bootstrap, "container", broken)
    r = http.call("GET", "/clients", agency["amal"])
    got = headers_of(r)
    assert r.status_code == 500 and r.json["error"]["code"] == "internal"
    assert got["cache-control"] == "no-store" and got["x-content-type-options"] == "nosniff"


def test_a_failure_outside_any_view_answers_500_never_stored_and_never_sniffed(http, agency, monkeypatch):
    import app as app_module

    def broken(response: Any) -> Any:
        raise RuntimeError("the edge itself failed")

    monkeypatch.setattr(app_module, "documented_error", broken)
    r = http.call("GET", "/clients", agency["amal"])
    got = headers_of(r)
    assert r.status_code == 500 and r.json["error"]["code"] == "internal"
    assert got["cache-control"] == "no-store" and got["x-content-type-options"] == "nosniff"


def test_a_header_a_view_sets_in_another_case_still_ends_with_one_nosniff_and_no_store():
    from chalice import Response

    from app import never_cached

    r = never_cached(Response(body="x", headers={"x-content-type-options": "sniff-away"}))
    assert r.headers == {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@pytest.mark.parametrize("path", ["/console", "/console/index.html", "/console/js/main.js", "/console/console.css",
                                  "/console/i18n/fr.json", "/console/config.json"])
def test_the_consoles_files_are_never_sniffed_and_always_revalidated(api, path):
    r = api.http.get(path)
    got = headers_of(r)
    assert r.status_code == 200, path
    assert got["x-content-type-options"] == "nosniff"
    assert got["cache-control"] in ("no-cache", "no-store")


def test_the_consoles_config_and_its_404s_are_never_stored(api):
    config = api.http.get("/console/config.json")
    missing = api.http.get("/console/js/nothing.js")
    assert missing.status_code == 404 and json.loads(missing.body)["error"]["code"] == "not_found"
    for r in (config, missing):
        got = headers_of(r)
        assert got["cache-control"] == "no-store" and got["x-content-type-options"] == "nosniff"
