"""Who may call what: every staff endpoint in ``app.routes`` x every kind of caller.

The route list is read from the application, so a new endpoint without a row here fails
``test_every_endpoint_has_a_row_in_the_matrix``. Twilio webhooks are left out: they are
authenticated by Twilio's signature, not by staff tokens (their own tests cover forgeries).

Cells: a status code, ``OK`` (the caller is allowed: anything but 401/403/404 and never a 5xx;
a 400 or 409 about the body or the file's state is fine) or ``OK_OR_FORBIDDEN`` (an endpoint
whose owner decides whether that role may act, e.g. an admin sending a message; it must still
not be a 401, 404 or 5xx). Another agency's administrator gets 404 for Calgary's objects, and
whatever it does get back never contains a Calgary client id or phone number.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine

from app import app
from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, whatsapp_form

OK = "ok"
OK_OR_FORBIDDEN = "ok-or-403"
CALLERS = ("nobody", "other_agency_admin", "other_worker", "supervisor", "case_manager", "admin")
WEBHOOK_PREFIX = "/webhooks/twilio"
# The console's static files take no token and hold no data (tests/e2e/test_console_serving.py).
CONSOLE_FILES = "/console"
PERIOD = "?from=2026-03-02&to=2026-03-02"


def row(nobody: Any, other_agency_admin: Any, other_worker: Any, supervisor: Any, case_manager: Any,
        admin: Any, *, query: str = "", body: Any = None, params: dict[str, str] | None = None) -> dict[str, Any]:
    return {"expect": dict(zip(CALLERS, (nobody, other_agency_admin, other_worker, supervisor, case_manager, admin),
                               strict=True)), "query": query, "body": body, "params": params or {}}


CONSENT = {"form_version": "v2", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["whatsapp"]}

# (method, path) -> expected status per caller. Rows for endpoints not built yet are skipped.
MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    ("PUT", "/staff/{staff_id}"): row(401, OK, 403, 403, 403, OK, body={"role": "worker", "name": "New"}),
    ("PUT", "/numbers/{number}"): row(401, 404, 403, 403, 403, OK,
                                      body={"staff_id": "amal", "channels": ["sms", "whatsapp"]}),
    ("POST", "/clients"): row(401, 404, 403, 403, OK, OK, body={
        "case_manager_id": "amal", "phone": "+15875550177", "channel": "sms", "language": "en", "name": "N"}),
    ("GET", "/clients"): row(401, OK, OK, OK, OK, OK),
    ("GET", "/clients/{client_id}"): row(401, 404, 403, OK, OK, OK),
    ("PUT", "/clients/{client_id}/consent"): row(401, 404, 403, 403, OK, OK, body=CONSENT),
    ("DELETE", "/clients/{client_id}/consent"): row(401, 404, 403, 403, OK, OK, body={"reason": "matrix"}),
    ("GET", "/clients/{client_id}/export"): row(401, 404, 403, 403, OK, OK),
    ("DELETE", "/clients/{client_id}"): row(401, 404, 403, 403, 403, OK),
    ("GET", "/audit"): row(401, OK, 403, OK, 403, OK, query=PERIOD),
    ("GET", "/reports/compliance"): row(401, OK, 403, OK, 403, OK, query=PERIOD),
    ("GET", "/reports/usage"): row(401, OK, 403, OK, 403, OK, query=PERIOD),
    # Built by other issues (SPEC §4.4); checked as soon as they exist.
    ("GET", "/clients/{client_id}/messages"): row(401, 404, 403, OK, OK, OK),
    ("POST", "/clients/{client_id}/messages"): row(401, 404, 403, 403, OK, OK_OR_FORBIDDEN,
                                                   body={"body": "Hello from the matrix"}),
    # An attachment's presigned upload (issue 14): whoever may send may upload.
    ("POST", "/clients/{client_id}/uploads"): row(401, 404, 403, 403, OK, OK_OR_FORBIDDEN,
                                                  body={"content_type": "image/png", "size": 100}),
    # What Send would do now (the console's composer): whoever may send may ask.
    ("GET", "/clients/{client_id}/compose"): row(401, 404, 403, 403, OK, OK_OR_FORBIDDEN),
    ("GET", "/inquiries"): row(401, OK, OK, OK, OK, OK, query="?status=open"),
    ("PUT", "/clients/{client_id}/status"): row(401, 404, 403, 403, OK_OR_FORBIDDEN, OK,
                                                body={"status": "suspended", "reason": "matrix"}),
    ("POST", "/clients/{client_id}/warnings"): row(401, 404, 403, 403, OK, OK, body={"reason": "matrix"}),
    # Issue 16: referrals (the case manager only), posts (workers to their caseload, admins to the agency).
    ("POST", "/clients/{client_id}/referrals"): row(401, 404, 403, 403, OK, 403, body={
        "to": "Legal clinic", "service": "tenancy", "client_consented": True}),
    ("POST", "/posts"): row(401, OK, OK, 403, OK, OK, body={"body": "Job fair on Thursday"}),
    ("GET", "/posts/{post_id}"): row(401, 404, 404, 404, 404, 404, params={"post_id": "post_not_there"}),
    ("GET", "/followups"): row(401, OK_OR_FORBIDDEN, OK, OK_OR_FORBIDDEN, OK, OK_OR_FORBIDDEN),
    ("GET", "/notifications"): row(401, OK, OK, OK, OK, OK),
    # The case manager records their own absence, covered by the other worker.
    ("PUT", "/staff/{staff_id}/absences/{absence_id}"): row(
        401, 404, 403, 403, OK, OK, params={"staff_id": "amal", "absence_id": "matrix-leave"},
        body={"start": "2026-03-02", "end": "2026-03-06", "cover_id": "jean"}),
    # Nobody may remove an absence that does not exist; who may remove one is in test_staff_messages.
    ("DELETE", "/staff/{staff_id}/absences/{absence_id}"): row(
        401, 404, 403, 403, 404, 404, params={"staff_id": "amal", "absence_id": "no-such-leave"}),
    # A message id nobody wrote: not found for everyone; who may cancel a real one is in test_case_lifecycle.
    ("DELETE", "/clients/{client_id}/messages/{message_id}"): row(
        401, 404, 404, 404, 404, 404, params={"message_id": "msg_not_there"}),
    # A notification is only ever its recipient's: everyone else's id is simply not found.
    ("PUT", "/notifications/{notification_id}/read"): row(
        401, 404, 404, 404, 404, 404, params={"notification_id": "nt_not_yours"}),
    # The console's inbox: each caller's own waiting clients (another agency's admin: their own, empty).
    ("GET", "/inbox"): row(401, OK, OK, OK, OK, OK),
    # Only the caller's own record; a token without a staff record in its agency has no access.
    # Another agency's admin has a staff record of their own: /me shows it (nothing of Calgary's).
    ("GET", "/me"): row(401, OK, OK, OK, OK, OK),
    # The supervisor's and administrator's console (issue 15).
    ("GET", "/reports/dashboard"): row(401, OK, 403, OK, 403, OK, query=PERIOD),
    ("GET", "/reviews"): row(401, OK, 403, OK, 403, OK, query=PERIOD),
    ("PUT", "/reviews/{review_id}"): row(401, 404, 403, 404, 403, 404, body={},
                                         params={"review_id": "2026-03-02T17:00:00.000000Z%23ev_none"}),
    ("GET", "/staff"): row(401, OK, 403, OK, 403, OK),
    ("GET", "/numbers"): row(401, OK, 403, OK, 403, OK),
    ("GET", "/numbers/{number}/reassignment"): row(401, 404, 403, 403, 403, OK, query="?staff_id=jean&channels=sms"),
    ("GET", "/policy"): row(401, OK, 403, OK, 403, OK),
    # The local/test sign-in list (404 in aws, tests/integration/test_console_signin.py).
    ("GET", "/dev/staff"): row(200, 200, 200, 200, 200, 200),
    ("POST", "/dev/tokens"): row(201, 201, 201, 201, 201, 201, body={"agency_id": "calgary-cfn", "staff_id": "amal"}),
}


def staff_endpoints() -> list[tuple[str, str]]:
    found = []
    for path, entries in app.routes.items():
        if path.startswith((WEBHOOK_PREFIX, CONSOLE_FILES)):
            continue
        if all(e.view_name == "unknown_route" for e in entries.values()):
            continue  # the catch-all 404 of unknown paths (tests/e2e/test_error_shape.py)
        found.extend((method, path) for method in entries)
    return sorted(found)


def test_every_endpoint_has_a_row_in_the_matrix():
    unknown = [f"{method} {path}" for method, path in staff_endpoints() if (method, path) not in MATRIX]
    assert not unknown, f"add these endpoints to MATRIX in {__file__}: {', '.join(unknown)}"


def _fill(path: str, params: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    missing = [n for n in names if n not in params]
    assert not missing, f"the matrix does not know how to fill {missing} in {path}"
    for name in names:
        path = path.replace("{" + name + "}", params[name])
    return path


def _accepts(expected: Any, status: int) -> bool:
    if expected == OK:
        return status < 500 and status not in (401, 403, 404)
    if expected == OK_OR_FORBIDDEN:
        return status < 500 and status not in (401, 404)
    return status == expected


@pytest.mark.parametrize(("method", "path"), [e for e in staff_endpoints() if e in MATRIX])
def test_each_caller_gets_the_expected_status(http, agency, method, path):
    spec = MATRIX[(method, path)]
    with time_machine.travel("2026-11-18T10:00:00-06:00", tick=False):  # a Wednesday, open hours
        _check_row(http, agency, method, path, spec)


def _check_row(http: Any, agency: dict[str, Any], method: str, path: str, spec: dict[str, Any]) -> None:
    client = new_client(http, agency["amal"], phone="+15875550123")
    # The client writes in, so Calgary has a message, an open inquiry and audit events to leak.
    r = inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "Is my lease renewal still on?"))
    assert r.status_code == 200, r.body
    params = {"client_id": client["client_id"], "staff_id": "matrix-new", "number": "%2B15873550101",
              **spec["params"]}
    callers = {
        "nobody": None,
        "other_agency_admin": auth("admin-h", "admin", "halifax-isans"),
        "other_worker": agency["jean"],
        "supervisor": agency["supervisor"],
        "case_manager": agency["amal"],
        "admin": agency["admin"],
    }
    url = _fill(path, params) + spec["query"]
    failures = []
    for caller in CALLERS:  # refusals first, so the allowed calls that change things come last
        r = http.call(method, url, callers[caller], spec["body"])
        expected = spec["expect"][caller]
        if not _accepts(expected, r.status_code):
            failures.append(f"{caller}: expected {expected}, got {r.status_code} {r.body[:200]!r}")
        if r.status_code in (401, 403, 404) and r.json is not None:
            assert set(r.json) == {"error"}, r.body
        sent = {k.lower(): v for k, v in r.headers.items()}  # SPEC §4.3, whatever the answer
        assert sent.get("cache-control") == "no-store", f"{method} {path} as {caller}: {sent}"
        assert sent.get("x-content-type-options") == "nosniff", f"{method} {path} as {caller}: {sent}"
        if caller == "other_agency_admin":
            text = (r.body or b"").decode("utf-8", "replace")
            # "lease renewal": a phrase of the client's message that no policy template uses
            leaked = [x for x in (client["client_id"], "+15875550123", "lease renewal") if x in text]
            assert not leaked, f"{method} {path} leaks {leaked} to another agency: {text[:300]}"
    assert not failures, f"{method} {path}:\n" + "\n".join(failures)


def test_another_agencys_reports_count_nothing_of_calgary(http, agency):
    new_client(http, agency["amal"])
    halifax = auth("admin-h", "admin", "halifax-isans")
    r = http.call("GET", "/reports/usage?from=2026-01-01&to=2026-12-31", halifax)
    assert r.status_code == 200 and set(r.json["totals"].values()) <= {0, None}
    r = http.call("GET", "/reports/compliance?from=2026-01-01&to=2026-12-31", halifax)
    assert {w["staff_id"] for w in r.json["workers"]} <= {"w-h"}  # Halifax's own worker, none of Calgary's
    assert r.json["totals"]["inquiries"] == 0
