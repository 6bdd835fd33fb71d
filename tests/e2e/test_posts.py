"""Information posts through the HTTP API (SPEC §4.4, §5.8), sent inline (no queue in the test stage)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib.adapters import models as m
from tests.conftest import new_client
from tests.twilio_helpers import inbound, sms_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
CONSENT = {"form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "circle_of_care": []}


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def consent(http, who, cid: str, channel: str, posts: bool) -> None:
    r = http.call("PUT", f"/clients/{cid}/consent", who, {**CONSENT, "channels": [channel], "posts": posts})
    assert r.status_code == 200, r.body


def sms_client(http, who, n: int, *, posts: bool = True, language: str = "en", manager: str = "amal") -> str:
    cid = new_client(http, who, phone=f"+1587555{n:04d}", channel="sms", language=language, manager=manager,
                     consent=False)["client_id"]
    consent(http, who, cid, "sms", posts)
    return cid


def test_a_post_reaches_consenting_active_clients_of_the_caseload_in_their_language(http, agency):
    with local("2026-03-03T10:00"):
        yes = [sms_client(http, agency["amal"], i) for i in range(3)]
        arabic = sms_client(http, agency["amal"], 10, language="ar")
        no_posts = sms_client(http, agency["amal"], 11, posts=False)
        jeans = sms_client(http, agency["jean"], 12, manager="jean")
        stopped = sms_client(http, agency["amal"], 13)
        assert inbound(http.client, sms_form("+15875550013", "+15873550101", "STOP")).status_code == 200
        assert stopped
        r = http.call("POST", "/posts", agency["amal"],
                      {"body": "Job fair Thursday 2 pm", "audience": {"languages": ["en"]}})
        assert r.status_code == 202, r.body
        post = r.json
        assert (post["recipients"], post["sent"], post["pending"]) == (3, 3, 0)  # yes[0..2] only
        assert post["send_at"] == "2026-03-03T10:00:00-07:00" and post["status"] == "done"
        for cid in yes:
            msgs = http.call("GET", f"/clients/{cid}/messages", agency["amal"]).json["messages"]
            assert [(x["kind"], x["body"]) for x in msgs] == [("post", "Job fair Thursday 2 pm")]
        for cid in (arabic, no_posts, stopped):  # not English / no consent to posts / STOP
            msgs = http.call("GET", f"/clients/{cid}/messages", agency["amal"]).json["messages"]
            assert "post" not in [x["kind"] for x in msgs]
        assert http.call("GET", f"/clients/{jeans}/messages", agency["jean"]).json["messages"] == []
        assert http.call("GET", f"/posts/{post['post_id']}", agency["supervisor"]).json["sent"] == 3
        assert http.call("GET", f"/posts/{post['post_id']}", agency["jean"]).status_code == 403
        usage = http.call("GET", "/reports/usage", agency["supervisor"]).json["totals"]
        assert usage["posts"] == 1
        audit = http.call("GET", "/audit", agency["supervisor"]).json["events"]
        assert [e["details"]["recipients"] for e in audit if e["type"] == "post.created"] == [3]


def test_a_post_written_while_closed_waits_for_the_opening(http, agency):
    with local("2026-03-03T10:00"):
        cid = sms_client(http, agency["amal"], 1)
    with local("2026-03-06T18:30"):  # Friday evening
        r = http.call("POST", "/posts", agency["amal"], {"body": "Forms due Monday"})
        assert r.status_code == 202, r.body
        post = r.json
        assert post["send_at"] == "2026-03-09T09:00:00-06:00" and post["sent"] == 0 and post["pending"] == 1
    with local("2026-03-07T11:00"):
        application.run_job("send_posts")
        assert http.call("GET", f"/posts/{post['post_id']}", agency["amal"]).json["sent"] == 0
    with local("2026-03-09T09:01"):
        application.run_job("send_posts")
        assert http.call("GET", f"/posts/{post['post_id']}", agency["amal"]).json["sent"] == 1
        application.run_job("send_posts")  # nothing twice
        msgs = http.call("GET", f"/clients/{cid}/messages", agency["amal"]).json["messages"]
        assert [x["kind"] for x in msgs] == ["post"]


def test_whatsapp_outside_the_window_without_a_template_is_skipped(http, agency):
    with local("2026-03-03T10:00"):
        quiet = new_client(http, agency["amal"], phone="+15875550301", consent=False)["client_id"]
        consent(http, agency["amal"], quiet, "whatsapp", True)
        chatty = new_client(http, agency["amal"], phone="+15875550302", consent=False)["client_id"]
        consent(http, agency["amal"], chatty, "whatsapp", True)
        assert inbound(http.client, whatsapp_form("+15875550302", "+15873550101", "hello")).status_code == 200
    with local("2026-03-03T11:00"):
        post = http.call("POST", "/posts", agency["amal"], {"body": "Workshop"}).json
        assert (post["recipients"], post["sent"], post["skipped"]) == (2, 1, 1)
        kinds = [x["kind"] for x in http.call("GET", f"/clients/{chatty}/messages", agency["amal"]).json["messages"]]
        assert kinds == ["client", "post"]


def test_bad_posts_are_refused_naming_the_field(http, agency):
    for body, field in (({}, "body"), ({"body": " "}, "body"), ({"body": "x", "audience": []}, "audience"),
                        ({"body": "x", "audience": {"languages": "ar"}}, "audience.languages"),
                        ({"body": "x", "audience": {"languages": ["??"]}}, "audience.languages"),
                        ({"body": "x", "audience": {"age": 3}}, "audience"), ({"body": "x" * 2000}, "body")):
        r = http.call("POST", "/posts", agency["amal"], body)
        assert r.status_code == 400 and r.json["error"]["field"] == field, (body, r.body)
    assert http.call("POST", "/posts", agency["supervisor"], {"body": "x"}).status_code == 403
    assert http.call("GET", "/posts/post_nothing", agency["amal"]).status_code == 404


def test_an_admin_posts_to_the_whole_agency(http, agency):
    with local("2026-03-03T10:00"):
        sms_client(http, agency["amal"], 1)
        sms_client(http, agency["jean"], 2, manager="jean")
        post = http.call("POST", "/posts", agency["admin"], {"body": "Office closed Friday"}).json
        assert (post["scope"], post["recipients"], post["sent"]) == ("agency", 2, 2)
        froms = {x.from_number for x in m.MessageModel.scan() if x.kind == "post"}  # test-only scan
        assert froms == {"+15873550101", "+15873550102"}  # each from their own worker's number
