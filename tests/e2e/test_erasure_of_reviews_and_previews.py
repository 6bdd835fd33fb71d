"""Erasure leaves no review note and no last words (issue 20, item 4; SPEC §5.7).

A supervisor's note on the review of an override is free text written about the client: erasure
removes it from the audit trail (the table and ``GET /audit``), and keeps only the anonymous fact
that the override was reviewed, by whom and when. The inbox's copy of the client's last message
(``last_inbound_preview`` on the file) goes with the bodies.

Calgary, November 2026 (UTC-7): Fatima texts Tue 24 10:00, amal writes to her with an override
Tue 20:00, the supervisor reviews it Wed 09:15, the file is closed and erased Fri 27.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from chalicelib.adapters import models as m
from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound, sms_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER, FATIMA = "+15873550101", "+15875550123"
PERIOD = "from=2026-11-23&to=2026-11-29"
LAST_WORDS = "My cousin in Red Deer can take me in next week"
OVERRIDE_REASON = "she sleeps in her car from tonight"
NOTE = "justified: her sister's husband threatened her again"


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def quote(review_id: str) -> str:
    return review_id.replace("#", "%23")


def reviewed_override(http, agency) -> tuple[str, dict]:
    """Fatima's file, her last message, an override to her and its review with a note; then closed."""
    with local("2026-11-24T09:30"):
        cid = new_client(http, agency["amal"], phone=FATIMA, channel="sms", language="en")["client_id"]
    with local("2026-11-24T10:00"):
        assert inbound(http.client, sms_form(FATIMA, AMAL_NUMBER, LAST_WORDS)).status_code == 200
    with local("2026-11-24T20:00"):
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"],
                      {"body": "I found a bed for you tonight", "override_reason": OVERRIDE_REASON})
        assert r.status_code == 201, r.body
    [override] = http.call("GET", f"/reviews?{PERIOD}&kind=override", agency["supervisor"]).json["items"]
    with local("2026-11-25T09:15"):
        r = http.call("PUT", f"/reviews/{quote(override['id'])}", agency["supervisor"], {"note": NOTE})
        assert r.status_code == 200, r.body
    with local("2026-11-27T10:00"):
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved away"})
        assert r.status_code == 200, r.body
    return cid, override


def review_events(http, agency) -> list[dict]:
    r = http.call("GET", f"/audit?{PERIOD}&type=review.recorded", agency["supervisor"])
    assert r.status_code == 200, r.body
    return r.json["events"]


def test_erasure_removes_the_review_note_and_keeps_that_the_override_was_reviewed(http, agency):
    cid, override = reviewed_override(http, agency)
    [before] = review_events(http, agency)
    assert before["details"]["note"] == NOTE and NOTE in every_stored_text()

    with local("2026-11-27T11:00"):
        assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 200

    assert NOTE not in every_stored_text()
    [after] = review_events(http, agency)
    assert after["details"] == {"event_id": override["event_id"], "kind": "override"}
    assert (after["actor"], after["client_id"], after["at"]) == ("sup-maria", cid, "2026-11-25T09:15:00-06:00")
    [listed] = http.call("GET", f"/reviews?{PERIOD}&kind=override", agency["supervisor"]).json["items"]
    assert (listed["reviewed"], listed["reviewed_by"], listed["reviewed_at"]) == (
        True, "sup-maria", "2026-11-25T09:15:00-06:00")
    assert (listed["reason"], listed["message"], listed["client_name"]) == (None, None, None)


def test_a_review_of_an_erased_clients_override_may_not_add_a_note(http, agency):
    with local("2026-11-24T09:30"):
        cid = new_client(http, agency["amal"], phone=FATIMA, channel="sms", language="en")["client_id"]
    with local("2026-11-24T20:00"):
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"],
                      {"body": "I found a bed for you tonight", "override_reason": OVERRIDE_REASON})
        assert r.status_code == 201, r.body
    with local("2026-11-27T10:00"):
        assert http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved away"}).status_code == 200
        assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 200
    [override] = http.call("GET", f"/reviews?{PERIOD}&kind=override", agency["supervisor"]).json["items"]

    with local("2026-11-27T11:00"):
        r = http.call("PUT", f"/reviews/{quote(override['id'])}", agency["supervisor"], {"note": NOTE})
        assert r.status_code == 409 and r.json["error"]["code"] == "client_erased", r.body
        assert NOTE not in every_stored_text()
        r = http.call("PUT", f"/reviews/{quote(override['id'])}", agency["supervisor"], {})
    assert r.status_code == 200 and r.json["note"] is None, r.body
    [event] = review_events(http, agency)
    assert event["details"] == {"event_id": override["event_id"], "kind": "override"}


def test_erasure_removes_the_clients_last_words_from_the_file(http, agency):
    cid, _override = reviewed_override(http, agency)
    assert m.ClientModel.get(cid).last_inbound_preview.startswith(LAST_WORDS[:40])
    assert sum(LAST_WORDS[:40] in part for part in every_stored_text().split("\n")) == 2  # the message, the file

    with local("2026-11-27T11:00"):
        assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 200

    assert m.ClientModel.get(cid).last_inbound_preview is None
    assert LAST_WORDS[:20] not in every_stored_text()
