"""Who may call what: every staff endpoint in ``app.routes`` x every kind of caller.

The route list is read from the application, so a new endpoint without a row here fails
``test_every_endpoint_has_a_row_in_the_matrix``. Twilio webhooks are left out: they are
authenticated by Twilio's signature, not by staff tokens (their own tests cover forgeries).

Cells: the exact status code each caller gets (200 read or changed, 201 created, 202 accepted to
be sent later, 401/403/404 refused). The callers call in the order of ``CALLERS``, refusals first,
on one file; a row whose allowed calls would change what the next one finds gives each caller a
file of its own (``fresh``), a body of its own (``bodies``) or a file in the state the call needs
(``closed``), so an allowed cell shows the call succeeding rather than a 409 about the file's
state. Another agency's administrator gets 404 for Calgary's objects, and whatever it does get
back never contains a Calgary client id or phone number.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine

from app import app
from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, whatsapp_form

CALLERS = ("nobody", "other_agency_admin", "other_worker", "supervisor", "case_manager", "admin")
WEBHOOK_PREFIX = "/webhooks/twilio"
# The console's static files take no token and hold no data (tests/e2e/test_console_serving.py).
CONSOLE_FILES = "/console"
PERIOD = "?from=2026-03-02&to=2026-03-02"


def row(nobody: int, other_agency_admin: int, other_worker: int, supervisor: int, case_manager: int,
        admin: int, *, query: str = "", body: Any = None, params: dict[str, str] | None = None,
        bodies: dict[str, Any] | None = None, fresh: bool = False, closed: bool = False) -> dict[str, Any]:
    return {"expect": dict(zip(CALLERS, (nobody, other_agency_admin, other_worker, supervisor, case_manager, admin),
                               strict=True)), "query": query, "body": body, "params": params or {},
            "bodies": bodies or {}, "fresh": fresh, "closed": closed}


CONSENT = {"form_version": "v2", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["whatsapp"]}

# (method, path) -> expected status per caller. Rows for endpoints not built yet are skipped.
MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    # Another agency's admin creates "matrix-new" in their own agency; Calgary's admin in Calgary.
    ("PUT", "/staff/{staff_id}"): row(401, 201, 403, 403, 403, 201, body={"role": "worker", "name": "New"}),
    ("PUT", "/numbers/{number}"): row(401, 404, 403, 403, 403, 200,
                                      body={"staff_id": "amal", "channels": ["sms", "whatsapp"]}),
    ("POST", "/clients"): row(401, 404, 403, 403, 201, 201, body={
        "case_manager_id": "amal", "phone": "+15875550177", "channel": "sms", "language": "en", "name": "N"},
        bodies={"admin": {"case_manager_id": "amal", "phone": "+15875550178", "channel": "sms", "language": "en",
                          "name": "N"}}),
    ("GET", "/clients"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/clients/{client_id}"): row(401, 404, 403, 200, 200, 200),
    ("PUT", "/clients/{client_id}/consent"): row(401, 404, 403, 403, 200, 200, body=CONSENT),
    ("DELETE", "/clients/{client_id}/consent"): row(401, 404, 403, 403, 200, 200, body={"reason": "matrix"},
                                                    fresh=True),
    ("GET", "/clients/{client_id}/export"): row(401, 404, 403, 403, 200, 200),
    ("DELETE", "/clients/{client_id}"): row(401, 404, 403, 403, 403, 200, closed=True),
    ("GET", "/audit"): row(401, 200, 403, 200, 403, 200, query=PERIOD),
    ("GET", "/reports/compliance"): row(401, 200, 403, 200, 403, 200, query=PERIOD),
    ("GET", "/reports/usage"): row(401, 200, 403, 200, 403, 200, query=PERIOD),
    # Built by other issues (SPEC §4.4); checked as soon as they exist.
    ("GET", "/clients/{client_id}/messages"): row(401, 404, 403, 200, 200, 200),
    # Only the case manager (or the colleague covering) writes to the client; an admin is refused.
    ("POST", "/clients/{client_id}/messages"): row(401, 404, 403, 403, 201, 403,
                                                   body={"body": "Hello from the matrix"}),
    # An attachment's presigned upload (issue 14): whoever may send may upload.
    ("POST", "/clients/{client_id}/uploads"): row(401, 404, 403, 403, 201, 403,
                                                  body={"content_type": "image/png", "size": 100}),
    # A call (issue 25): whoever may send may call. Amal has no phone on her staff record here, so
    # past every access check she gets 409 no_staff_phone (tests/e2e/test_calls.py places calls).
    ("POST", "/clients/{client_id}/calls"): row(401, 404, 403, 403, 409, 403, body={}),
    # What Send would do now (the console's composer): whoever may send may ask.
    ("GET", "/clients/{client_id}/compose"): row(401, 404, 403, 403, 200, 403),
    ("GET", "/inquiries"): row(401, 200, 200, 200, 200, 200, query="?status=open"),
    ("PUT", "/clients/{client_id}/status"): row(401, 404, 403, 403, 200, 200,
                                                body={"status": "suspended", "reason": "matrix"}),
    ("POST", "/clients/{client_id}/warnings"): row(401, 404, 403, 403, 201, 201, body={"reason": "matrix"}),
    # Issue 16: referrals (the case manager only), posts (workers to their caseload, admins to the agency).
    ("POST", "/clients/{client_id}/referrals"): row(401, 404, 403, 403, 201, 403, body={
        "to": "Legal clinic", "service": "tenancy", "client_consented": True}),
    # A post is fanned out after the answer: accepted (202), whoever writes it.
    ("POST", "/posts"): row(401, 202, 202, 403, 202, 202, body={"body": "Job fair on Thursday"}),
    ("GET", "/posts/{post_id}"): row(401, 404, 404, 404, 404, 404, params={"post_id": "post_not_there"}),
    ("GET", "/followups"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/notifications"): row(401, 200, 200, 200, 200, 200),
    # The case manager records their own absence (201), covered by the other worker; the admin then
    # changes that same absence (200).
    ("PUT", "/staff/{staff_id}/absences/{absence_id}"): row(
        401, 404, 403, 403, 201, 200, params={"staff_id": "amal", "absence_id": "matrix-leave"},
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
    # Issue 23: the notification centre (each caller's own), a crisis mark, the emergency contact.
    ("PUT", "/notifications/{notification_id}"): row(
        401, 404, 404, 404, 404, 404, params={"notification_id": "20260302T170000000000Z.nt_not_yours"},
        body={"read": True}),
    ("POST", "/notifications/read"): row(401, 200, 200, 200, 200, 200),
    # A message id nobody wrote: who may mark is checked first (403), then the message (404).
    ("PUT", "/clients/{client_id}/messages/{message_id}/crisis"): row(
        401, 404, 403, 403, 404, 404, params={"message_id": "msg_not_there"}, body={"crisis": True}),
    ("PUT", "/clients/{client_id}/emergency-contact"): row(
        401, 404, 403, 403, 200, 200, body={"name": "Amina", "phone": "+14035550142", "relation": "sister"}),
    # The console's inbox: each caller's own waiting clients (another agency's admin: their own, empty).
    ("GET", "/inbox"): row(401, 200, 200, 200, 200, 200),
    # Only the caller's own record; a token without a staff record in its agency has no access.
    # Another agency's admin has a staff record of their own: /me shows it (nothing of Calgary's).
    ("GET", "/me"): row(401, 200, 200, 200, 200, 200),
    # Live updates (issue 23): a ticket for any member's own socket; this stage has no WebSocket API,
    # so every member hears 404 live_unavailable, and nobody without a token gets that far
    # (tests/e2e/test_live_push.py covers the tickets themselves).
    ("POST", "/live/tickets"): row(401, 404, 404, 404, 404, 404, body={}),
    # The supervisor's and administrator's console (issue 15).
    ("GET", "/reports/dashboard"): row(401, 200, 403, 200, 403, 200, query=PERIOD),
    ("GET", "/reviews"): row(401, 200, 403, 200, 403, 200, query=PERIOD),
    ("PUT", "/reviews/{review_id}"): row(401, 404, 403, 404, 403, 404, body={},
                                         params={"review_id": "2026-03-02T17:00:00.000000Z%23ev_none"}),
    ("GET", "/staff"): row(401, 200, 403, 200, 403, 200),
    ("GET", "/numbers"): row(401, 200, 403, 200, 403, 200),
    ("GET", "/numbers/{number}/reassignment"): row(401, 404, 403, 403, 403, 200, query="?staff_id=jean&channels=sms"),
    ("GET", "/policy"): row(401, 200, 403, 200, 403, 200),
    # Issue 22: private case notes (the case manager, a covering colleague and admins write them;
    # supervisors read them), and snippets (every role reads its agency's; admins change them, another
    # agency's admin in their own agency; a snippet nobody wrote is not found for those who may delete).
    ("POST", "/clients/{client_id}/notes"): row(401, 404, 403, 403, 201, 201, body={"body": "Matrix note"}),
    ("GET", "/clients/{client_id}/notes"): row(401, 404, 403, 200, 200, 200),
    ("GET", "/clients/{client_id}/snippets"): row(401, 404, 403, 200, 200, 200),
    ("GET", "/snippets"): row(401, 200, 200, 200, 200, 200),
    ("PUT", "/snippets/{snippet_id}"): row(401, 201, 403, 403, 403, 201, params={"snippet_id": "matrix"},
                                           body={"title": "Matrix", "language": "en", "body": "Hello {first_name}"}),
    ("DELETE", "/snippets/{snippet_id}"): row(401, 404, 403, 403, 403, 404, params={"snippet_id": "matrix-none"}),
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
    if spec["closed"]:
        r = http.call("PUT", f"/clients/{client['client_id']}/status", agency["admin"],
                      {"status": "closed", "reason": "matrix"})
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
    secrets = [client["client_id"], "+15875550123", "lease renewal"]  # the phrase is in no policy template
    failures = []
    for n, caller in enumerate(CALLERS):  # refusals first, so the allowed calls that change things come last
        if spec["fresh"]:  # a file of its own: what an earlier caller changed is not in the way
            phone = f"+1587555014{n}"
            own = new_client(http, agency["amal"], phone=phone)
            params["client_id"] = own["client_id"]
            secrets += [own["client_id"], phone]
        url = _fill(path, params) + spec["query"]
        r = http.call(method, url, callers[caller], spec["bodies"].get(caller, spec["body"]))
        expected = spec["expect"][caller]
        if r.status_code != expected:
            failures.append(f"{caller}: expected {expected}, got {r.status_code} {r.body[:200]!r}")
        if r.status_code in (401, 403, 404) and r.json is not None:
            assert set(r.json) == {"error"}, r.body
        sent = {k.lower(): v for k, v in r.headers.items()}  # SPEC §4.3, whatever the answer
        assert sent.get("cache-control") == "no-store", f"{method} {path} as {caller}: {sent}"
        assert sent.get("x-content-type-options") == "nosniff", f"{method} {path} as {caller}: {sent}"
        if caller == "other_agency_admin":
            text = (r.body or b"").decode("utf-8", "replace")
            leaked = [x for x in secrets if x in text]
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
