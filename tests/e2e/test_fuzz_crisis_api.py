"""Fuzzing issue 23's bodies and ids (SPEC §6): never a 500, a JSON error, nothing half-written.

The emergency contact, a crisis mark on a client message and a notification's read mark, each from
a valid body mutated by ``hypothesis`` (the strategies and checks of ``test_fuzz_staff_api``), and
notification ids of every shape: a refusal writes nothing, an acceptance reads back whole.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.test_fuzz_staff_api import check, encode, fuzz_client, mutated, odd_text, raw_bodies, send
from tests.hypothesis_profiles import fuzz_settings
from tests.twilio_helpers import inbound, whatsapp_form

pytestmark = pytest.mark.usefixtures("per_item_transaction_rollback")

CONTACT = {"name": "Amina Haddad", "phone": "+14035550142", "relation": "sister"}


@fuzz_settings()
@given(body=st.one_of(mutated(CONTACT).map(encode), raw_bodies))
def test_fuzzed_emergency_contacts_never_fail_or_half_write(http, agency, body):
    client = fuzz_client(http, agency)
    response, tap = send(http, "PUT", f"/clients/{client}/emergency-contact", agency["amal"], body)
    payload = check(response, tap, "PUT emergency-contact")
    if response.status_code == 200:
        stored = http.call("GET", f"/clients/{client}", agency["amal"]).json["emergency_contact"]
        assert stored == payload["emergency_contact"] and stored["phone"].startswith("+")


def a_client_message(http, agency) -> tuple[str, str]:
    client = fuzz_client(http, agency)
    found = agency.get("_fuzz_message")
    if found is None:
        r = inbound(http.client, whatsapp_form("+15875550123", "+15873550101", "hello"))
        assert r.status_code == 200, r.body
        thread = http.call("GET", f"/clients/{client}/messages", agency["amal"]).json["messages"]
        found = next(m["id"] for m in thread if m["direction"] == "inbound")  # after hours, a reply follows
        agency["_fuzz_message"] = found
    return client, found


@fuzz_settings()
@given(body=st.one_of(mutated({"crisis": True, "reason": "she sounds desperate"}).map(encode), raw_bodies))
def test_fuzzed_crisis_marks_never_fail_or_half_write(http, agency, body):
    client, message = a_client_message(http, agency)
    response, tap = send(http, "PUT", f"/clients/{client}/messages/{message}/crisis", agency["amal"], body)
    payload = check(response, tap, "PUT crisis")
    if response.status_code == 200:
        thread = http.call("GET", f"/clients/{client}/messages", agency["amal"]).json["messages"]
        [stored] = [m for m in thread if m["id"] == message]
        assert stored["crisis"] is payload["crisis"]


@fuzz_settings()
@given(notification_id=st.one_of(odd_text, st.text(max_size=300), st.just("20261201T160000000000Z.crisis-x")),
       body=st.one_of(mutated({"read": True}).map(encode), raw_bodies))
def test_fuzzed_notification_marks_are_refused_cleanly(http, agency, notification_id, body):
    path = "/notifications/" + (quote(notification_id.encode("utf-8", "surrogatepass"), safe="") or "%20")
    response, tap = send(http, "PUT", path, agency["amal"], body)
    check(response, tap, "PUT notification")
    assert response.status_code in (400, 404, 405, 413), response.status_code  # 413: a body over 64 KiB
