"""A week of real traffic (signed webhooks, staff messages, the clock sweep), then the reports,
closure through the status endpoint and erasure: every figure hand-counted from the timeline.

Calgary, November 2026 (UTC-7), Monday 16 to Friday 20:

| local time   | what happens                                                         |
|--------------|----------------------------------------------------------------------|
| Mon 11:00    | Fatima (amal's client) texts: inquiry A opens, due Tue 11:00          |
| Mon 11:30    | amal sends a holding reply: A's first response (30 business minutes); |
|              | A stays open, complex, due Mon 23 09:00 (11:30 + P5D is a Saturday)   |
| Mon 20:00    | Joseph (jean's client) texts after hours: automatic reply; B opens    |
| Mon 20:30    | jean answers: held until Tue 09:00                                    |
| Tue 09:05    | sweep releases jean's message: B answered, 5 business minutes         |
| Tue 21:00    | amal writes to Fatima with an emergency override: A answered, on time |
| Wed 10:00    | Fatima texts again: C opens, due Thu 10:00                            |
| Thu 10:05    | sweep: C breached                                                     |
| Fri 12:00    | Fatima's file is closed (she moved away), then erased by an admin     |
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib.adapters import models as m
from tests.conftest import new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound, sms_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER, JEAN_NUMBER = "+15873550101", "+15873550102"
FATIMA, JOSEPH = "+15875550123", "+15875550124"
BODIES = {
    "a": "J'ai besoin d'aide avec mon bail",
    "hold": "Je regarde votre dossier et je reviens vers vous",
    "b": "Can I bring my son to the appointment?",
    "jean": "Yes, your son is welcome.",
    "override": "The shelter on 5th Ave has a bed for you tonight",
    "c": "Merci, le propriétaire a répondu",
}


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def text_in(http, sender: str, to: str, body: str) -> None:
    r = inbound(http.client, sms_form(sender, to, body))
    assert r.status_code == 200, r.body


def week(http, agency) -> tuple[str, str]:
    with local("2026-11-16T09:30"):
        fatima = new_client(http, agency["amal"], phone=FATIMA, channel="sms", language="fr")["client_id"]
        joseph = new_client(http, agency["jean"], phone=JOSEPH, channel="sms", language="en",
                            manager="jean")["client_id"]
    with local("2026-11-16T11:00"):
        text_in(http, FATIMA, AMAL_NUMBER, BODIES["a"])
    with local("2026-11-16T11:30"):
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"], {"body": BODIES["hold"], "holding": True})
        assert r.status_code == 201, r.body
    with local("2026-11-16T20:00"):
        text_in(http, JOSEPH, JEAN_NUMBER, BODIES["b"])
    with local("2026-11-16T20:30"):
        r = http.call("POST", f"/clients/{joseph}/messages", agency["jean"], {"body": BODIES["jean"]})
        assert r.status_code == 202, r.body
    with local("2026-11-17T09:05"):
        application.run_job("sweep_clocks")
    with local("2026-11-17T21:00"):
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"],
                      {"body": BODIES["override"], "override_reason": "eviction tonight"})
        assert r.status_code == 201, r.body
    with local("2026-11-18T10:00"):
        text_in(http, FATIMA, AMAL_NUMBER, BODIES["c"])
    with local("2026-11-19T10:05"):
        application.run_job("sweep_clocks")
    return fatima, joseph


def test_a_real_week_gives_the_hand_counted_reports_and_erasure_leaves_nothing(http, agency):
    fatima, joseph = week(http, agency)
    sup = agency["supervisor"]

    r = http.call("GET", "/reports/compliance?from=2026-11-16&to=2026-11-20", sup)
    assert r.status_code == 200, r.body
    workers = {w["staff_id"]: w for w in r.json["workers"]}
    # Recounted for issue 13's meaning of "answered" (SPEC §5.2): the holding reply no longer answers A.
    assert workers["amal"] == {
        "staff_id": "amal",
        "inquiries": 2,  # A and C, both opened this week on amal's clock
        # A: the holding reply (Mon 11:30) only met the first-response clock and gave A until Mon 23
        # 09:00; the override (Tue 21:00) answered it, on time. Without it A would still be open.
        "answered_on_time": 1,
        "breached": 1,  # C: opened Wed 10:00 (A was closed by then), unanswered at Thu 10:00
        # A's first response is the holding reply, 30 business minutes after 11:00; C has none.
        "first_response_p50_business_minutes": 30.0, "first_response_p90_business_minutes": 30.0,
        "held_after_hours": 0,  # amal's after-hours message went with an override, not held
        "overrides": [{"at": "2026-11-17T21:00:00-06:00", "client_id": fatima, "reason": "eviction tonight"}],
        "auto_replies": 0,  # Fatima never wrote while closed
        "holding_replies": 1,  # Mon 11:30, counted once (its audit is inquiry.holding_reply, not answered)
        "opted_out": 0,  # nobody opted out while waiting
    }
    assert workers["jean"] == {
        "staff_id": "jean",
        "inquiries": 1,  # B
        # B: jean's message was written Mon 20:30 while B was open, so on release (Tue 09:05) it
        # answers B; it was due Wed 09:00 (the clock starts Tue 09:00): on time.
        "answered_on_time": 1,
        "breached": 0,
        "first_response_p50_business_minutes": 5.0, "first_response_p90_business_minutes": 5.0,  # 09:00-09:05
        "held_after_hours": 1,  # Mon 20:30
        "overrides": [],
        "auto_replies": 1,  # Joseph's after-hours reply, Mon 20:00 (it answers nothing)
        "holding_replies": 0,
        "opted_out": 0,
    }
    totals = r.json["totals"]
    # 3 inquiries (A, B, C); on time: A and B; breached: C.
    assert (totals["inquiries"], totals["answered_on_time"], totals["breached"]) == (3, 2, 1)
    # First responses of the agency: 5 (B) and 30 (A) minutes: p50 5, p90 30 (nearest rank).
    assert (totals["first_response_p50_business_minutes"], totals["first_response_p90_business_minutes"]) == (5.0, 30.0)

    r = http.call("GET", "/reports/usage?from=2026-11-01&to=2026-11-30", sup)
    assert r.json["totals"] == {
        "active_clients": 2, "new_clients": 2, "clients_left": 0, "clients_removed": 0,  # Fatima, Joseph
        "participants": 2,  # both texted
        "inquiries": 3,  # A, B, C
        "inquiries_answered": 2,  # A (by the override, not the holding reply) and B (released); C breached
        "messages_in": 3,  # A, B, C
        "messages_out": 3,  # the holding reply, jean's released message, the override
        "automatic_messages": 1,  # Joseph's after-hours reply
        "private_messages": 6, "posts": 0, "referrals": 0, "followups": 0, "survey_responses": 0,
        "survey_mean_score": None, "calls": 0, "call_minutes": 0,
    }

    r = http.call("GET", "/audit?from=2026-11-16&to=2026-11-20&staff_id=jean", sup)
    types = [e["type"] for e in r.json["events"]]
    assert {"staff_message.held", "staff_message.released", "auto_reply.sent", "inquiry.answered"} <= set(types)
    assert r.json["events"] == sorted(r.json["events"], key=lambda e: e["at"]) and all(e["staff_id"] == "jean" for e in r.json["events"])
    r = http.call("GET", "/audit?from=2026-11-16&to=2026-11-20&staff_id=amal", sup)
    amal_types = [e["type"] for e in r.json["events"]]
    assert amal_types.count("inquiry.holding_reply") == 1 and amal_types.count("inquiry.answered") == 1

    # Fatima moves away: her file is closed through the status endpoint, then erased.
    with local("2026-11-20T12:00"):
        r = http.call("DELETE", f"/clients/{fatima}", agency["admin"])
        assert r.status_code == 409
        r = http.call("PUT", f"/clients/{fatima}/status", agency["amal"], {"status": "closed", "reason": "moved away"})
        assert r.status_code == 200, r.body
        assert [c.client_id for c in m.ClientModel.closed_files.query("calgary-cfn")] == [fatima]
        export = http.call("GET", f"/clients/{fatima}/export", agency["admin"])
        assert [x["body"] for x in export.json["messages"] if x["kind"] in ("client", "staff")] == [
            BODIES["a"], BODIES["hold"], BODIES["override"], BODIES["c"]]
        assert len(export.json["inquiries"]) == 2
        r = http.call("DELETE", f"/clients/{fatima}", agency["admin"])
        assert r.status_code == 200, r.body

    dump = every_stored_text()
    assert FATIMA not in dump and FATIMA[1:] not in dump
    for key in ("a", "hold", "override", "c"):
        assert BODIES[key] not in dump, key
    assert JOSEPH in dump and BODIES["b"] in dump  # the other file is untouched

    r = http.call("GET", "/reports/usage?from=2026-11-01&to=2026-11-30", sup)
    # Closed because she moved away (not at her request through consent or STOP, not for conduct):
    # not "left"; she is no longer a member, and the counts survive her erasure.
    totals = r.json["totals"]
    assert (totals["new_clients"], totals["clients_left"], totals["active_clients"], totals["messages_in"]) == (2, 0, 1, 3)
    assert (r.json["totals"]["active_clients"], r.json["totals"]["messages_in"]) == (1, 3)
    r = http.call("GET", "/reports/compliance?from=2026-11-16&to=2026-11-20", sup)
    assert r.json["totals"]["inquiries"] == 3  # the erased file's inquiries still count
