"""Issue 23 item 2 (SPEC §4.4): the notification centre through the HTTP API.

``GET /notifications`` (newest first, the caller's own, with names and the unread counts),
``PUT /notifications/{id}`` ``{"read": bool}``, ``POST /notifications/read``; a review done settles
the supervisors' breach or override notification (the ``Reviews`` badge). Calgary, travelled time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def centre(http, who, query: str = "") -> dict:
    r = http.call("GET", "/notifications" + query, who)
    assert r.status_code == 200, r.body
    return r.json


def crisis_in(http) -> None:
    r = inbound(http.client, whatsapp_form(FATIMA, AMAL_NUMBER, "he will kill me"))
    assert r.status_code == 200, r.body


def test_the_caller_reads_their_notifications_newest_first_with_names_and_marks_them_read(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
        assert centre(http, agency["amal"]) == {"notifications": [], "unread": 0, "unread_reviews": 0}
    with local("2026-12-01T10:00"):
        crisis_in(http)
    with local("2026-12-01T20:00"):  # an override after hours: a notification to review
        r = http.call("POST", f"/clients/{fatima}/messages", agency["amal"],
                      {"body": "Go to the shelter tonight", "override_reason": "danger tonight"})
        assert r.status_code == 201, r.body

    sup = centre(http, agency["supervisor"])
    assert [n["type"] for n in sup["notifications"]] == ["override", "crisis"]  # newest first
    assert sup["unread"] == 2 and sup["unread_reviews"] == 1
    override, crisis = sup["notifications"]
    assert override["to_review"] is True and crisis["to_review"] is False
    assert override["staff_id"] == "amal" and override["staff_name"] == "Amal"
    assert crisis["client_name"] == "Fatima" and crisis["at"] == "2026-12-01T10:00:00-06:00"
    assert centre(http, agency["supervisor"], "?unread=true&limit=1")["notifications"][0]["id"] == override["id"]

    r = http.call("PUT", f"/notifications/{crisis['id']}", agency["supervisor"], {"read": True})
    assert r.status_code == 200 and r.json["read"] is True and r.json["id"] == crisis["id"]
    after = centre(http, agency["supervisor"])
    assert after["unread"] == 1 and [n["read"] for n in after["notifications"]] == [False, True]
    assert [n["id"] for n in centre(http, agency["supervisor"], "?unread=true")["notifications"]] == [override["id"]]
    r = http.call("PUT", f"/notifications/{crisis['id']}", agency["supervisor"], {"read": False})  # unread again
    assert r.status_code == 200 and centre(http, agency["supervisor"])["unread"] == 2

    r = http.call("POST", "/notifications/read", agency["supervisor"])
    assert r.status_code == 200 and r.json == {"marked": 2, "unread": 0}
    done = centre(http, agency["supervisor"])
    assert done["unread"] == 0 and done["unread_reviews"] == 0 and all(n["read"] for n in done["notifications"])
    assert centre(http, agency["amal"])["unread"] == 1  # amal's own are hers: untouched


def test_the_older_read_path_still_works(http, agency):
    with local("2026-12-01T08:00"):
        new_client(http, agency["amal"], language="en")
    with local("2026-12-01T10:00"):
        crisis_in(http)
    [note] = centre(http, agency["amal"])["notifications"]
    r = http.call("PUT", f"/notifications/{note['id']}/read", agency["amal"])
    assert r.status_code == 200 and r.json["read"] is True
    assert centre(http, agency["amal"])["unread"] == 0


def test_a_notification_is_only_its_recipients_and_another_agency_sees_nothing(http, agency):
    with local("2026-12-01T08:00"):
        fatima = new_client(http, agency["amal"], language="en")["client_id"]
    with local("2026-12-01T10:00"):
        crisis_in(http)
    [note] = centre(http, agency["amal"])["notifications"]
    path = f"/notifications/{note['id']}"
    halifax = auth("admin-h", "admin", "halifax-isans")
    assert http.call("PUT", path, None, {"read": True}).status_code == 401
    for who in (agency["jean"], agency["admin"], halifax):
        r = http.call("PUT", path, who, {"read": True})
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", r.body
        assert fatima not in r.body.decode()
    # The supervisor was told too: the same id names their own copy, which they alone mark.
    assert http.call("PUT", path, agency["supervisor"], {"read": True}).status_code == 200
    assert centre(http, halifax) == {"notifications": [], "unread": 0, "unread_reviews": 0}
    assert http.call("POST", "/notifications/read", halifax).json == {"marked": 0, "unread": 0}
    assert centre(http, agency["amal"])["unread"] == 1  # nobody else could touch it
    for bad in ("nope", "20261201T160000000000Z.", "x" * 300, "20269999T999999999999Z.crisis-x"):
        assert http.call("PUT", f"/notifications/{bad}", agency["amal"], {"read": True}).status_code == 404
    for body in ({"read": "yes"}, {"read": 1}, []):
        r = http.call("PUT", path, agency["amal"], body)
        assert r.status_code == 400, r.body
    assert http.call("GET", "/notifications?limit=0", agency["amal"]).status_code == 400
    assert http.call("GET", "/notifications?limit=abc", agency["amal"]).status_code == 400


def test_a_review_done_settles_the_supervisors_notification_and_the_reviews_badge_clears(http, agency):
    with local("2026-12-01T08:00"):
        new_client(http, agency["amal"], language="en")
        omar = new_client(http, agency["amal"], phone="+15875550124", language="en")["client_id"]
        r = http.call("PUT", "/staff/sup-two", agency["admin"], {"role": "supervisor", "name": "Sam"})
        assert r.status_code == 201, r.body
    with local("2026-12-01T10:00"):
        r = inbound(http.client, whatsapp_form(FATIMA, AMAL_NUMBER, "When is my appointment?"))
        assert r.status_code == 200
    with local("2026-12-01T20:00"):
        r = http.call("POST", f"/clients/{omar}/messages", agency["amal"],  # Fatima still waits
                      {"body": "Tomorrow 10:00", "override_reason": "court date tomorrow"})
        assert r.status_code == 201, r.body
    with local("2026-12-03T09:05"):
        application.run_job("sweep_clocks")  # the inquiry (opened Tue 10:00, due Wed 10:00) breached
    two = auth("sup-two", "supervisor")
    for who in (agency["supervisor"], two):
        badge = centre(http, who)
        assert badge["unread_reviews"] == 2 and {n["type"] for n in badge["notifications"]} == {"breach", "override"}
    with local("2026-12-03T09:30"):
        reviews = http.call("GET", "/reviews?from=2026-12-01&to=2026-12-03&reviewed=false", agency["supervisor"])
        assert reviews.status_code == 200 and len(reviews.json["items"]) == 2, reviews.body
        first, second = reviews.json["items"]
        assert http.call("PUT", f"/reviews/{first['id'].replace('#', '%23')}", agency["supervisor"], {}).status_code == 200
        assert centre(http, agency["supervisor"])["unread_reviews"] == 1
        assert centre(http, two)["unread_reviews"] == 1  # a review is the agency's, done once for all
        assert http.call("PUT", f"/reviews/{second['id'].replace('#', '%23')}", two, {}).status_code == 200
    for who in (agency["supervisor"], two):
        assert centre(http, who)["unread_reviews"] == 0 and centre(http, who)["unread"] == 0
