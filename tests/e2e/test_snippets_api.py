"""Snippets through the HTTP API (issue 22): every role reads the agency's list, the holding reply is
in it per policy language, admins create, change and delete with conditioned writes, placeholders
are checked at save time and filled in on the server for each client."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from chalicelib.domain.policy import DEFAULT_TEMPLATES
from tests.conftest import auth, new_client

WEDNESDAY = datetime(2026, 11, 18, 16, tzinfo=UTC)  # 10:00 in Calgary: open; the next opening is Thursday 9:00

CONFIRM = {"title": "Appointment confirmed", "language": "en",
           "body": "Hello {first_name}, your appointment is confirmed. We are next open {next_opening}."}


def by_id(http, who) -> dict[str, dict]:
    r = http.call("GET", "/snippets", who)
    assert r.status_code == 200, r.body
    return {s["snippet_id"]: s for s in r.json["snippets"]}


def test_every_role_reads_the_list_with_the_holding_reply_seeded_in_each_policy_language(http, agency):
    for who in ("amal", "supervisor", "admin"):
        found = by_id(http, agency[who])
        assert {"holding-reply-en", "holding-reply-fr", "holding-reply-ar"} <= set(found)
    found = by_id(http, agency["amal"])
    english = found["holding-reply-en"]
    assert english["title"] == "Holding reply" and english["language"] == "en" and english["version"] == 1
    assert english["updated_by"] == "system" and english["updated_by_name"] is None
    assert english["body"] == DEFAULT_TEMPLATES["holding_reply"]["en"]  # its placeholders are the snippets' own
    assert english["placeholders"] == ["case_manager", "agency_name"]
    assert found["holding-reply-ar"]["title"] == "رد مؤقت"
    assert [s["snippet_id"] for s in http.call("GET", "/snippets?language=fr", agency["amal"]).json["snippets"]] == [
        "holding-reply-fr"]
    r = http.call("GET", "/snippets?language=not a language", agency["amal"])
    assert r.status_code == 400 and r.json["error"]["field"] == "language"
    assert http.call("GET", "/snippets", None).status_code == 401


def test_an_admin_creates_changes_and_deletes_a_snippet_and_each_change_is_audited(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        r = http.call("PUT", "/snippets/appointment-confirmed", agency["admin"], CONFIRM)
        assert r.status_code == 201, r.body
        traveller.shift(60)
        assert r.json == {"snippet_id": "appointment-confirmed", **CONFIRM, "placeholders": ["first_name", "next_opening"],
                          "updated_at": "2026-11-18T10:00:00-06:00", "updated_by": "admin-lee",
                          "updated_by_name": "Admin-Lee", "version": 1}
        r = http.call("PUT", "/snippets/appointment-confirmed", agency["admin"],
                      {**CONFIRM, "title": "Appointment booked", "version": 1})
        assert r.status_code == 200 and r.json["version"] == 2 and r.json["title"] == "Appointment booked"
        assert by_id(http, agency["amal"])["appointment-confirmed"]["title"] == "Appointment booked"
        traveller.shift(60)

        r = http.call("DELETE", "/snippets/appointment-confirmed?version=2", agency["admin"])
        assert r.status_code == 200 and r.json == {"snippet_id": "appointment-confirmed", "deleted": True}
        assert "appointment-confirmed" not in by_id(http, agency["amal"])
        assert http.call("DELETE", "/snippets/appointment-confirmed", agency["admin"]).status_code == 404

        events = http.call("GET", "/audit?type=snippet.saved,snippet.deleted", agency["admin"]).json["events"]
        assert [(e["type"], e["details"]["snippet_id"]) for e in events] == [
            ("snippet.saved", "appointment-confirmed"), ("snippet.saved", "appointment-confirmed"),
            ("snippet.deleted", "appointment-confirmed")]


def test_a_seeded_holding_reply_an_admin_deleted_stays_deleted(http, agency):
    assert "holding-reply-fr" in by_id(http, agency["admin"])
    assert http.call("DELETE", "/snippets/holding-reply-fr", agency["admin"]).status_code == 200
    assert "holding-reply-fr" not in by_id(http, agency["admin"])
    assert "holding-reply-fr" not in by_id(http, agency["amal"])


def test_only_an_admin_of_the_agency_changes_its_snippets(http, agency):
    for who in ("amal", "jean", "supervisor"):
        assert http.call("PUT", "/snippets/mine", agency[who], CONFIRM).status_code == 403
        assert http.call("DELETE", "/snippets/holding-reply-en", agency[who]).status_code == 403
    assert http.call("PUT", "/snippets/mine", None, CONFIRM).status_code == 401
    assert "mine" not in by_id(http, agency["admin"])
    # Another agency's admin writes in their own agency: Calgary's list never shows it, nor theirs Calgary's.
    halifax = auth("admin-h", "admin", "halifax-isans")
    assert http.call("PUT", "/snippets/halifax-only", halifax, CONFIRM).status_code == 201
    assert "halifax-only" not in by_id(http, agency["admin"])
    assert http.call("PUT", "/snippets/calgary-only", agency["admin"], CONFIRM).status_code == 201
    assert "calgary-only" not in by_id(http, halifax)
    assert http.call("DELETE", "/snippets/calgary-only", halifax).status_code == 404
    assert "calgary-only" in by_id(http, agency["admin"])


def test_an_edit_made_on_a_stale_copy_is_409_and_changes_nothing(http, agency):
    assert http.call("PUT", "/snippets/docs", agency["admin"], CONFIRM).status_code == 201
    assert http.call("PUT", "/snippets/docs", agency["admin"], {**CONFIRM, "title": "Second", "version": 1}).status_code == 200
    r = http.call("PUT", "/snippets/docs", agency["admin"], {**CONFIRM, "title": "Lost edit", "version": 1})
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"
    r = http.call("PUT", "/snippets/brand-new", agency["admin"], {**CONFIRM, "version": 3})
    assert r.status_code == 409  # says it read version 3 of a snippet that does not exist
    r = http.call("DELETE", "/snippets/docs?version=1", agency["admin"])
    assert r.status_code == 409
    after = by_id(http, agency["admin"])
    assert after["docs"]["title"] == "Second" and after["docs"]["version"] == 2 and "brand-new" not in after


def test_a_snippet_with_an_unknown_placeholder_or_bad_fields_is_refused_naming_what_to_fix(http, agency):
    cases = [
        ({**CONFIRM, "body": "Dear {client_name}, see you soon"}, "body", "{client_name}"),
        ({**CONFIRM, "body": "Hello {first_name, see you"}, "body", "brace"),
        ({**CONFIRM, "body": "Hello } there"}, "body", "brace"),
        ({**CONFIRM, "body": "Hello {}"}, "body", "{}"),
        ({**CONFIRM, "body": "  "}, "body", "empty"),
        ({**CONFIRM, "body": "x" * 1601}, "body", "1600"),
        ({**CONFIRM, "title": ""}, "title", "empty"),
        ({**CONFIRM, "title": "t" * 101}, "title", "100"),
        ({**CONFIRM, "language": "english please"}, "language", "BCP 47"),
        ({**CONFIRM, "language": None}, "language", "required"),
        ({**CONFIRM, "version": "1"}, "version", "whole number"),
        ({**CONFIRM, "version": -1}, "version", "whole number"),
    ]
    for body, field, words in cases:
        r = http.call("PUT", "/snippets/checked", agency["admin"], body)
        assert r.status_code == 400, (body, r.body)
        assert r.json["error"]["field"] == field and words in r.json["error"]["message"], r.body
    r = http.call("PUT", "/snippets/not%20an%20id", agency["admin"], CONFIRM)
    assert r.status_code == 400 and r.json["error"]["field"] == "snippet_id"
    r = http.call("DELETE", "/snippets/holding-reply-en?version=two", agency["admin"])
    assert r.status_code == 400 and r.json["error"]["field"] == "version"
    assert "checked" not in by_id(http, agency["admin"])


def test_a_clients_snippets_are_in_their_language_and_filled_in_for_them(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False):
        assert http.call("PUT", "/snippets/confirm-en", agency["admin"], CONFIRM).status_code == 201
        assert http.call("PUT", "/snippets/confirm-ar", agency["admin"], {
            "title": "تأكيد", "language": "ar", "body": "مرحبا {first_name}، نفتح مجددا {next_opening}."}).status_code == 201
        fatima = new_client(http, agency["amal"])  # Arabic, named "Fatima"
        r = http.call("GET", f"/clients/{fatima['client_id']}/snippets", agency["amal"])
        assert r.status_code == 200, r.body
        assert r.json["language"] == "ar"
        texts = {s["snippet_id"]: s["text"] for s in r.json["snippets"]}
        assert set(texts) == {"confirm-ar", "holding-reply-ar"}
        assert texts["confirm-ar"] == "مرحبا Fatima، نفتح مجددا الخميس الساعة 9:00 ص."
        assert "{" not in "".join(texts.values()) and "Amal" in texts["holding-reply-ar"]

        english = new_client(http, agency["amal"], phone="+15875550188", channel="sms", language="en")
        texts = {s["snippet_id"]: s["text"] for s in
                 http.call("GET", f"/clients/{english['client_id']}/snippets", agency["amal"]).json["snippets"]}
        # "9:00 a.m." ends the sentence with its own stop: never "a.m.."
        assert texts["confirm-en"] == "Hello Fatima, your appointment is confirmed. We are next open Thursday at 9:00 a.m."

        # A language the agency has no snippets in gets the English ones, and says so.
        spanish = new_client(http, agency["amal"], phone="+15875550177", channel="sms", language="es")
        r = http.call("GET", f"/clients/{spanish['client_id']}/snippets", agency["amal"]).json
        assert r["language"] == "en" and "confirm-en" in {s["snippet_id"] for s in r["snippets"]}

        assert http.call("GET", f"/clients/{fatima['client_id']}/snippets", agency["jean"]).status_code == 403
        halifax = auth("admin-h", "admin", "halifax-isans")
        assert http.call("GET", f"/clients/{fatima['client_id']}/snippets", halifax).status_code == 404


def test_the_holding_reply_snippet_is_the_text_the_holding_button_sends(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False):
        fatima = new_client(http, agency["amal"])
        preview = http.call("GET", f"/clients/{fatima['client_id']}/compose", agency["amal"]).json
        filled = {s["snippet_id"]: s["text"] for s in
                  http.call("GET", f"/clients/{fatima['client_id']}/snippets", agency["amal"]).json["snippets"]}
        assert filled["holding-reply-ar"] == preview["holding_reply"]["body"]
        # ...and the holding send path is the policy's, as before: a holding reply, the inquiry kept open.
        r = http.call("POST", f"/clients/{fatima['client_id']}/messages", agency["amal"],
                      {"body": preview["holding_reply"]["body"], "holding": True})
        assert r.status_code == 201 and r.json["holding"] is True, r.body


def test_a_new_snippet_with_the_id_of_an_existing_one_is_409_and_says_so(http, agency):
    assert http.call("PUT", "/snippets/taken", agency["admin"], CONFIRM).status_code == 201
    r = http.call("PUT", "/snippets/taken", agency["admin"], {**CONFIRM, "title": "Mine", "version": 0})
    assert r.status_code == 409 and "already exists" in r.json["error"]["message"]
    assert by_id(http, agency["admin"])["taken"]["title"] == CONFIRM["title"]
