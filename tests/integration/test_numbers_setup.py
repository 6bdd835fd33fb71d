"""``cli numbers configure`` against a local stand-in for Twilio's REST API (issue 7).

The stand-in is an ``http.server`` thread on 127.0.0.1 that answers the IncomingPhoneNumbers
list and update calls with Twilio-shaped JSON; the official ``twilio`` client reaches it through
``CMDM_TWILIO_API_BASE``. The work numbers come from the real numbers table (moto), registered
and assigned by the ``agency`` fixture. ``cli numbers register`` and ``numbers list`` (issue 20,
item 5) are at the end.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import bootstrap, cli
from tests.conftest import PUBLIC_URL, TEST_ENV

ACCOUNT = TEST_ENV["TWILIO_ACCOUNT_SID"]
AMAL, JEAN = "+15873550101", "+15873550102"


class FakeTwilio:
    """The IncomingPhoneNumbers part of Twilio's API, recording every request."""

    def __init__(self, numbers: dict[str, str], account: str = ACCOUNT) -> None:
        self.account = account
        self.authorizations: set[str] = set()
        # phone number -> PN sid; every number starts pointing at some old URL
        self.numbers = {
            sid: {"sid": sid, "phone_number": phone, "sms_url": "https://old.example/sms", "sms_method": "POST",
                  "status_callback": "", "status_callback_method": "POST"}
            for phone, sid in numbers.items()
        }
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                fake.requests.append(("GET", url.path, query))
                fake.authorizations.add(self.headers.get("Authorization", ""))
                if url.path != f"/2010-04-01/Accounts/{fake.account}/IncomingPhoneNumbers.json":
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                wanted = query.get("PhoneNumber", [None])[0]
                found = [n for n in fake.numbers.values() if wanted in (None, n["phone_number"])]
                self._reply(200, {
                    "incoming_phone_numbers": found, "end": max(len(found) - 1, 0), "first_page_uri": url.path,
                    "next_page_uri": None, "page": 0, "page_size": 50, "previous_page_uri": None, "start": 0,
                    "uri": self.path,
                })

            def do_POST(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(("POST", url.path, form))
                fake.authorizations.add(self.headers.get("Authorization", ""))
                sid = url.path.rsplit("/", 1)[-1].removesuffix(".json")
                path = f"/2010-04-01/Accounts/{fake.account}/IncomingPhoneNumbers/{sid}.json"
                if url.path != path or sid not in fake.numbers:
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                record = fake.numbers[sid]
                for field, key in (("SmsUrl", "sms_url"), ("SmsMethod", "sms_method"),
                                   ("SmsFallbackUrl", "sms_fallback_url"), ("SmsFallbackMethod", "sms_fallback_method"),
                                   ("StatusCallback", "status_callback"),
                                   ("VoiceUrl", "voice_url"), ("VoiceMethod", "voice_method"),
                                   ("StatusCallbackMethod", "status_callback_method")):
                    if field in form:
                        record[key] = form[field][0]
                self._reply(200, record)

        return Handler

    def updates(self) -> list[tuple[str, dict[str, list[str]]]]:
        return [(path, form) for method, path, form in self.requests if method == "POST"]


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch, agency: dict[str, Any]) -> Iterator[FakeTwilio]:
    fake = FakeTwilio({AMAL: "PN" + "a" * 32, JEAN: "PN" + "b" * 32})
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("CMDM_TWILIO_API_BASE", f"http://127.0.0.1:{server.server_address[1]}")
    bootstrap.reset()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        bootstrap.reset()


def test_configure_points_every_sms_number_at_the_webhooks(twilio: FakeTwilio, capsys: Any) -> None:
    assert cli.main(["numbers", "configure"]) == 0
    updates = twilio.updates()
    assert sorted(path.rsplit("/", 1)[-1] for path, _ in updates) == ["PN" + "a" * 32 + ".json", "PN" + "b" * 32 + ".json"]
    for _, form in updates:
        assert form == {
            "SmsUrl": [f"{PUBLIC_URL}/webhooks/twilio/messages"],
            "SmsMethod": ["POST"],
            "SmsFallbackUrl": [f"{PUBLIC_URL}/webhooks/twilio/messages"],
            "SmsFallbackMethod": ["POST"],
            # Calls to the number (SPEC §5.10); a number's status callback is its calls'.
            "VoiceUrl": [f"{PUBLIC_URL}/webhooks/twilio/voice"],
            "VoiceMethod": ["POST"],
            "StatusCallback": [f"{PUBLIC_URL}/webhooks/twilio/voice/status"],
            "StatusCallbackMethod": ["POST"],
        }
    lookups = [q for method, _, q in twilio.requests if method == "GET"]
    assert sorted(q["PhoneNumber"][0] for q in lookups) == [AMAL, JEAN]
    out = capsys.readouterr().out
    assert "configured" in out
    # Both numbers also carry WhatsApp: the sender's URL is set in Twilio, and we say how.
    assert "WhatsApp senders" in out and f"whatsapp:{AMAL}" in out
    assert f"{PUBLIC_URL}/webhooks/twilio/messages" in out


def test_configure_is_idempotent(twilio: FakeTwilio, capsys: Any) -> None:
    assert cli.main(["numbers", "configure"]) == 0
    twilio.requests.clear()
    assert cli.main(["numbers", "configure"]) == 0
    assert twilio.updates() == []
    assert "unchanged" in capsys.readouterr().out


def test_dry_run_changes_nothing(twilio: FakeTwilio, capsys: Any) -> None:
    assert cli.main(["numbers", "configure", "--dry-run"]) == 0
    assert twilio.updates() == []
    assert "would-configure" in capsys.readouterr().out


def test_a_number_missing_from_the_twilio_account_is_reported(twilio: FakeTwilio, capsys: Any) -> None:
    del twilio.numbers["PN" + "b" * 32]
    assert cli.main(["numbers", "configure"]) == 1
    out = capsys.readouterr().out
    assert JEAN in out and "missing" in out
    assert len(twilio.updates()) == 1  # the other number is still configured


def test_only_the_chosen_agency(twilio: FakeTwilio, capsys: Any) -> None:
    assert cli.main(["numbers", "configure", "--agency", "ottawa-ociso"]) == 1
    assert "no work numbers assigned for agency ottawa-ociso" in capsys.readouterr().out
    assert twilio.requests == []
    assert cli.main(["numbers", "configure", "--agency", "calgary-cfn"]) == 0
    assert len(twilio.updates()) == 2


def test_refuses_a_public_url_twilio_cannot_reach(twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: Any) -> None:
    monkeypatch.setenv("CMDM_PUBLIC_URL", "http://127.0.0.1:8000")
    bootstrap.reset()
    assert cli.main(["numbers", "configure"]) == 2
    assert "CMDM_PUBLIC_URL" in capsys.readouterr().out
    assert twilio.requests == []


def test_public_url_option_wins_over_the_environment(twilio: FakeTwilio, capsys: Any) -> None:
    custom = "https://cmdm.agency.example.ca/api/"
    assert cli.main(["numbers", "configure", "--public-url", custom]) == 0
    for _, form in twilio.updates():
        assert form["SmsUrl"] == ["https://cmdm.agency.example.ca/api/webhooks/twilio/messages"]
        assert form["StatusCallback"] == ["https://cmdm.agency.example.ca/api/webhooks/twilio/voice/status"]
    assert len(twilio.updates()) == 2
    assert cli.main(["numbers", "configure", "--public-url", "http://plain.example"]) == 2


def test_in_the_aws_stage_the_twilio_credentials_come_from_secrets_manager(
    twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import boto3

    account, token = "AC" + "2" * 32, "token-from-the-secret"
    secret = boto3.client("secretsmanager", region_name="ca-central-1").create_secret(
        Name="cmdm/numbers-test/twilio", SecretString=json.dumps({"account_sid": account, "auth_token": token})
    )
    twilio.account = account
    monkeypatch.setenv("CMDM_STAGE", "aws")
    monkeypatch.setenv("CMDM_TWILIO_SECRET_ID", secret["ARN"])
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    bootstrap.reset()
    assert cli.main(["numbers", "configure"]) == 0
    assert len(twilio.updates()) == 2
    basic = "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()
    assert twilio.authorizations == {basic}


# -- issue 20, item 5: numbers belong to an agency before its admin can assign them ----------------

HALIFAX_NUMBER = "+19025550100"


def registrations() -> dict[str, tuple[str, str | None]]:
    from chalicelib.adapters import models as m

    return {i.number: (i.agency_id, i.staff_id) for i in m.NumberModel.scan()}


def test_register_gives_numbers_to_the_agency_and_its_admin_may_then_assign_them(
    http: Any, agency: dict[str, Any], capsys: Any
) -> None:
    from tests.conftest import auth

    halifax = auth("admin-h", "admin", "halifax-isans")
    body = {"staff_id": "w-h", "channels": ["sms"]}
    assert http.call("PUT", f"/numbers/%2B{HALIFAX_NUMBER[1:]}", halifax, body).status_code == 404
    assert cli.main(["numbers", "register", "--agency", "halifax-isans", HALIFAX_NUMBER]) == 0
    assert f"{HALIFAX_NUMBER}     registered" in capsys.readouterr().out
    assert registrations()[HALIFAX_NUMBER] == ("halifax-isans", None)
    r = http.call("PUT", f"/numbers/%2B{HALIFAX_NUMBER[1:]}", halifax, body)
    assert r.status_code == 200, r.body
    # Registering it again changes nothing, and keeps the worker who holds it.
    assert cli.main(["numbers", "register", "--agency", "halifax-isans", HALIFAX_NUMBER]) == 0
    assert "already" in capsys.readouterr().out
    assert registrations()[HALIFAX_NUMBER] == ("halifax-isans", "w-h")


def test_a_number_registered_to_another_agency_is_refused_and_stays_where_it_is(
    agency: dict[str, Any], capsys: Any
) -> None:
    from tests.storage_dump import every_stored_text

    before = every_stored_text()
    assert cli.main(["numbers", "register", "--agency", "halifax-isans", AMAL]) == 1
    out = capsys.readouterr().out
    assert f"{AMAL}     refused: registered to agency calgary-cfn; --move" in out
    assert every_stored_text() == before


def test_move_takes_a_number_to_another_agency_and_releases_its_worker(
    http: Any, agency: dict[str, Any], capsys: Any
) -> None:
    from chalicelib.adapters import models as m
    from tests.conftest import auth

    assert cli.main(["numbers", "register", "--agency", "halifax-isans", "--move", AMAL]) == 0
    assert "moved  (from agency calgary-cfn; amal there no longer holds it)" in capsys.readouterr().out
    assert registrations()[AMAL] == ("halifax-isans", None)
    assert AMAL not in [n["number"] for n in http.call("GET", "/numbers", agency["admin"]).json["numbers"]]
    # Calgary's admin may no longer give it back; Halifax's may assign it.
    r = http.call("PUT", f"/numbers/%2B{AMAL[1:]}", agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert r.status_code == 404
    halifax = auth("admin-h", "admin", "halifax-isans")
    assert http.call("PUT", f"/numbers/%2B{AMAL[1:]}", halifax, {"staff_id": "w-h", "channels": ["sms"]}).status_code == 200
    # Each agency's audit says what happened to it, and nothing about the other agency.
    released = [e for e in m.AuditModel.query("calgary-cfn") if e.type == "number.released"]
    assert [(e.actor, e.details.attribute_values) for e in released] == [
        ("operator", {"number": AMAL, "from_staff": "amal"})]
    registered = [e for e in m.AuditModel.query("halifax-isans") if e.type == "number.registered"]
    assert [e.details.attribute_values for e in registered] == [{"number": AMAL, "moved": True}]
    assert "calgary" not in str(registered[0].details.attribute_values)


def test_dry_run_registers_nothing(agency: dict[str, Any], capsys: Any) -> None:
    from tests.storage_dump import every_stored_text

    before = every_stored_text()
    argv = ["numbers", "register", "--agency", "halifax-isans", "--dry-run", "--move", HALIFAX_NUMBER, AMAL]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "would-register" in out and "would-move  (from agency calgary-cfn; amal there no longer holds it)" in out
    assert every_stored_text() == before


def test_register_refuses_an_unknown_agency_and_a_number_that_is_not_e164(agency: dict[str, Any], capsys: Any) -> None:
    assert cli.main(["numbers", "register", "--agency", "no-such-agency", HALIFAX_NUMBER]) == 2
    assert "no agency 'no-such-agency' has a policy" in capsys.readouterr().out
    assert cli.main(["numbers", "register", "--agency", "halifax-isans", "9025550100"]) == 1
    assert "refused: number:" in capsys.readouterr().out
    assert cli.main(["numbers", "register", "--agency", "halifax-isans"]) == 2
    assert HALIFAX_NUMBER not in registrations()


def test_from_twilio_registers_the_accounts_numbers_no_other_agency_holds(twilio: FakeTwilio, capsys: Any) -> None:
    twilio.numbers["PN" + "c" * 32] = {**twilio.numbers["PN" + "a" * 32], "sid": "PN" + "c" * 32,
                                       "phone_number": HALIFAX_NUMBER}
    assert cli.main(["numbers", "register", "--agency", "halifax-isans", "--from-twilio"]) == 1  # two refused
    out = capsys.readouterr().out
    assert "the Twilio account has 3 number(s)" in out
    assert f"{HALIFAX_NUMBER}     registered" in out
    assert out.count("refused: registered to agency calgary-cfn") == 2
    found = registrations()
    assert (found[HALIFAX_NUMBER], found[AMAL], found[JEAN]) == (
        ("halifax-isans", None), ("calgary-cfn", "amal"), ("calgary-cfn", "jean"))
    assert twilio.updates() == []  # listing the account changes nothing at Twilio


def test_list_shows_each_registration_and_who_holds_it(agency: dict[str, Any], capsys: Any) -> None:
    assert cli.main(["numbers", "list", "--agency", "calgary-cfn"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        f"  {AMAL:<16} {'calgary-cfn':<20} {'amal':<16} sms,whatsapp",
        f"  {JEAN:<16} {'calgary-cfn':<20} {'jean':<16} sms,whatsapp",
        f"  {'+15873550109':<16} {'calgary-cfn':<20} {'-':<16} (unassigned)",
    ]
    assert cli.main(["numbers", "list", "--agency", "ottawa-ociso"]) == 0
    assert "no numbers registered to agency ottawa-ociso" in capsys.readouterr().out
    assert cli.main(["numbers", "list"]) == 0
    assert capsys.readouterr().out.count("calgary-cfn") == 3
