"""The supervisor's and administrator's console API (issue 15), over a week of real traffic.

The week is ``tests/e2e/test_supervision_flow.py``'s (signed webhooks, staff messages, the sweep):
Fatima (amal) writes Mon 11:00, gets a holding reply at 11:30, an override on Tue 21:00, writes
again Wed 10:00 and that inquiry breaches Thu 10:05; Joseph (jean) writes Mon 20:00 after hours,
jean's answer is held and released Tue 09:05. Every figure below is counted from that timeline.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest

from tests.conftest import auth
from tests.e2e.test_supervision_flow import BODIES, local, week

PERIOD = "from=2026-11-16&to=2026-11-22"


def follow(http, who, link):
    return http.call("GET", f"{link['path']}?{urlencode(link['query'])}", who)


def test_the_dashboard_gives_each_workers_figures_rates_and_the_charts_of_the_week(http, agency):
    fatima, joseph = week(http, agency)
    r = http.call("GET", f"/reports/dashboard?{PERIOD}", agency["supervisor"])
    assert r.status_code == 200, r.body
    body = r.json
    workers = {w["staff_id"]: w for w in body["workers"]}
    assert set(workers) == {"amal", "jean"}
    amal, jean = workers["amal"], workers["jean"]
    assert (amal["inquiries"], amal["answered_on_time"], amal["breached"], amal["on_time_rate"]) == (2, 1, 1, 0.5)
    assert (jean["inquiries"], jean["answered_on_time"], jean["breached"], jean["on_time_rate"]) == (1, 1, 0, 1.0)
    assert (amal["holding_replies"], len(amal["overrides"]), jean["held_after_hours"], jean["auto_replies"]) == (1, 1, 1, 1)
    assert amal["name"] == "Amal"
    # the same figures as the compliance report, for the same period
    report = http.call("GET", f"/reports/compliance?{PERIOD}", agency["supervisor"]).json
    for row in report["workers"]:
        mine = workers[row["staff_id"]]
        assert {k: mine[k] for k in row} == row

    # one week, one breach (Thursday, amal's)
    assert body["breaches_by_week"] == [{
        "from": "2026-11-16", "to": "2026-11-22", "breaches": 1, "by_worker": {"amal": 1},
        "link": {"path": "/audit", "query": {"from": "2026-11-16", "to": "2026-11-22", "type": "inquiry.breached"}},
    }]
    # client messages by hour of the week: Mon 11h, Mon 20h (closed), Wed 10h
    pressure = body["after_hours"]
    assert (pressure["messages"], pressure["after_hours"]) == (3, 1)
    cells = {(c["weekday"], c["hour"]): c for c in pressure["cells"]}
    assert len(cells) == 7 * 24
    assert {k: (c["messages"], c["after_hours"]) for k, c in cells.items() if c["messages"]} == {
        (0, 11): (1, 0), (0, 20): (1, 1), (2, 10): (1, 0)}
    assert (cells[(0, 9)]["open_minutes"], cells[(0, 16)]["open_minutes"], cells[(0, 17)]["open_minutes"]) == (60, 60, 0)
    assert cells[(5, 11)]["open_minutes"] == 0  # Saturday

    # each figure links to what it counts
    breached = follow(http, agency["supervisor"], amal["links"]["breached"])
    assert breached.status_code == 200, breached.body
    assert [(i["client_id"], i["status"]) for i in breached.json["inquiries"]] == [(fatima, "breached")]
    on_time = follow(http, agency["supervisor"], jean["links"]["answered_on_time"]).json["inquiries"]
    assert [i["client_id"] for i in on_time] == [joseph]
    assert len(follow(http, agency["supervisor"], amal["links"]["inquiries"]).json["inquiries"]) == 2
    overrides = follow(http, agency["supervisor"], amal["links"]["overrides"]).json["events"]
    assert [(e["type"], e["details"]["reason"]) for e in overrides] == [("boundary.override", "eviction tonight")]
    holding = follow(http, agency["supervisor"], amal["links"]["holding_replies"]).json["events"]
    assert [e["type"] for e in holding] == ["staff_message.sent"]
    held = follow(http, agency["supervisor"], jean["links"]["held_after_hours"]).json["events"]
    assert [e["type"] for e in held] == ["staff_message.held"]
    breaches = follow(http, agency["supervisor"], body["breaches_by_week"][0]["link"]).json["events"]
    assert [(e["type"], e["client_id"]) for e in breaches] == [("inquiry.breached", fatima)]


def test_the_dashboard_is_refused_to_workers_and_defaults_to_this_month(http, agency):
    assert http.call("GET", f"/reports/dashboard?{PERIOD}", agency["amal"]).status_code == 403
    with local("2026-11-18T12:00"):
        r = http.call("GET", "/reports/dashboard", agency["admin"])
    assert r.status_code == 200 and (r.json["from"], r.json["to"]) == ("2026-11-01", "2026-11-18")
    assert [w["from"] for w in r.json["breaches_by_week"]] == ["2026-11-01", "2026-11-02", "2026-11-09", "2026-11-16"]


def test_a_worker_lists_only_their_own_inquiries_of_a_period(http, agency):
    fatima, joseph = week(http, agency)
    r = http.call("GET", f"/inquiries?{PERIOD}", agency["jean"])
    assert r.status_code == 200 and [i["client_id"] for i in r.json["inquiries"]] == [joseph]
    assert http.call("GET", f"/inquiries?{PERIOD}&staff_id=amal", agency["jean"]).status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ("/inquiries?from=2026-11-16&to=2026-13-01", "to"),
    ("/inquiries?from=2026-11-16&to=2026-11-22&breached=maybe", "breached"),
    ("/inquiries?from=2026-11-16&to=2026-11-22&status=lost", "status"),
    ("/audit?from=2026-11-16&to=2026-11-22&type=DROP%20TABLE", "type"),
    ("/audit?from=2026-11-16&to=2026-11-22&holding=yes", "holding"),
    ("/reviews?from=2026-11-16&to=2026-11-22&kind=all", "kind"),
])
def test_bad_filters_are_refused_naming_the_field(http, agency, query, field):
    r = http.call("GET", query, agency["supervisor"])
    assert r.status_code == 400 and r.json["error"]["field"] == field


def test_a_supervisor_reviews_the_override_and_the_breach_once_each_in_the_audit_trail(http, agency):
    fatima, _joseph = week(http, agency)
    sup = agency["supervisor"]
    assert http.call("GET", "/notifications?unread=true", sup).json["unread"] == 2  # the override and the breach

    r = http.call("GET", f"/reviews?{PERIOD}", sup)
    assert r.status_code == 200, r.body
    items = r.json["items"]
    assert [i["kind"] for i in items] == ["breach", "override"]  # newest first
    breach, override = items
    assert (override["reason"], override["message"], override["staff_id"]) == (
        "eviction tonight", BODIES["override"], "amal")
    assert (override["client_id"], override["client_name"], override["at"]) == (fatima, "Fatima", "2026-11-17T21:00:00-06:00")
    assert (breach["client_id"], breach["inquiry_status"], breach["due_at"]) == (fatima, "breached", "2026-11-19T10:00:00-06:00")
    assert r.json["unreviewed"] == 2 and not override["reviewed"]

    assert http.call("PUT", f"/reviews/{override['id'].replace('#', '%23')}", agency["amal"], {}).status_code == 403
    with local("2026-11-20T09:15"):
        r = http.call("PUT", f"/reviews/{override['id'].replace('#', '%23')}", sup, {"note": "justified: eviction"})
    assert r.status_code == 200, r.body
    assert (r.json["reviewed_by"], r.json["reviewed_at"]) == ("sup-maria", "2026-11-20T09:15:00-06:00")
    again = http.call("PUT", f"/reviews/{override['id'].replace('#', '%23')}", agency["admin"], {})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_reviewed"

    listed = http.call("GET", f"/reviews?{PERIOD}&reviewed=false", sup).json
    assert [i["kind"] for i in listed["items"]] == ["breach"]
    done = http.call("GET", f"/reviews?{PERIOD}&kind=override", sup).json["items"]
    assert [(i["reviewed"], i["reviewed_by"]) for i in done] == [(True, "sup-maria")]
    trail = http.call("GET", "/audit?from=2026-11-20&to=2026-11-20&type=review.recorded", sup).json["events"]
    assert [(e["actor"], e["details"]["event_id"], e["details"]["note"]) for e in trail] == [
        ("sup-maria", override["event_id"], "justified: eviction")]


def test_reviews_of_another_agency_or_of_other_events_are_not_found(http, agency):
    week(http, agency)
    override = http.call("GET", f"/reviews?{PERIOD}&kind=override", agency["supervisor"]).json["items"][0]
    halifax = auth("sup-h", "supervisor", agency="halifax-isans")
    assert http.call("PUT", f"/reviews/{override['id'].replace('#', '%23')}", halifax, {}).status_code in (403, 404)
    held = http.call("GET", f"/audit?{PERIOD}&type=staff_message.held", agency["supervisor"]).json["events"][0]
    sk = held["id"]
    assert http.call("PUT", f"/reviews/{sk}", agency["supervisor"], {}).status_code == 404
    assert http.call("PUT", "/reviews/not-an-id", agency["supervisor"], {}).status_code == 404


def test_the_audit_csv_of_one_type_has_only_those_events(http, agency):
    week(http, agency)
    response = http.client.http.get(f"/audit?{PERIOD}&type=boundary.override,inquiry.breached",
                                    headers={**agency["supervisor"], "Accept": "text/csv"})
    table = list(csv.DictReader(io.StringIO(response.body.decode("utf-8"))))
    assert [row["type"] for row in table] == ["boundary.override", "inquiry.breached"]


def test_staff_and_numbers_are_listed_for_supervisors_and_refused_to_workers(http, agency):
    r = http.call("GET", "/staff", agency["supervisor"])
    assert r.status_code == 200, r.body
    staff = {s["staff_id"]: s for s in r.json["staff"]}
    assert set(staff) == {"admin-lee", "sup-maria", "amal", "jean"}
    assert staff["amal"]["numbers"] == [{"number": "+15873550101", "channels": ["sms", "whatsapp"]}]
    assert staff["amal"]["active"] is True and staff["amal"]["role"] == "worker"
    assert http.call("GET", "/staff", agency["amal"]).status_code == 403
    numbers = http.call("GET", "/numbers", agency["admin"]).json["numbers"]
    assert [(n["number"], n["staff_id"]) for n in numbers] == [("+15873550101", "amal"), ("+15873550102", "jean")]


def test_a_reassignment_is_previewed_before_it_moves_the_caseload(http, agency):
    fatima, joseph = week(http, agency)
    admin = agency["admin"]
    r = http.call("GET", "/numbers/%2B15873550101/reassignment?staff_id=jean&channels=sms,whatsapp", admin)
    assert r.status_code == 200, r.body
    preview = r.json
    assert (preview["change"], preview["from_staff"], preview["to_staff"]) == ("reassign", "amal", "jean")
    assert (preview["clients_moving"], preview["open_clocks_moving"]) == (1, 1)  # Fatima and her breached inquiry
    assert preview["clients"] == [{"client_id": fatima, "name": "Fatima", "channel": "sms"}]
    assert preview["by_channel"] == {"sms": 1, "whatsapp": 0}
    # nothing moved yet
    assert [c["client_id"] for c in http.call("GET", "/clients", agency["jean"]).json["clients"]] == [joseph]
    assert http.call("GET", "/numbers/%2B15873550101/reassignment?staff_id=jean&channels=whatsapp",
                     admin).json["clients_moving"] == 0
    assert http.call("GET", "/numbers/%2B15873550101/reassignment?staff_id=jean&channels=sms",
                     agency["supervisor"]).status_code == 403
    assert http.call("GET", "/numbers/%2B15873550101/reassignment?staff_id=jean&channels=fax", admin).status_code == 400
    r = http.call("PUT", "/numbers/%2B15873550101", admin, {"staff_id": "jean", "channels": ["sms", "whatsapp"]})
    assert r.status_code == 200, r.body
    assert {c["client_id"] for c in http.call("GET", "/clients", agency["jean"]).json["clients"]} == {fatima, joseph}


def test_the_policy_view_renders_each_template_in_each_language_with_the_next_opening_now(http, agency):
    with local("2026-11-20T18:00"):  # Friday evening: the clock would start Monday 9:00
        r = http.call("GET", "/policy", agency["supervisor"])
    assert r.status_code == 200, r.body
    body = r.json
    assert (body["open_now"], body["next_opening"]) == (False, "2026-11-23T09:00:00-06:00")
    assert body["next_open_text"]["en"] == "Monday at 9:00 a.m."
    assert body["languages"] == ["en", "ar", "fr"]
    after = {t["language"]: t for t in next(x for x in body["templates"] if x["name"] == "after_hours")["texts"]}
    assert after["en"]["text"].startswith("Thank you for your message. Our office is closed now. "
                                          "We will answer you from Monday at 9:00 a.m.")
    assert after["en"]["text"].endswith("If this is an emergency, call 911.") and after["en"]["translated"]
    assert body["next_open_text"]["fr"] in after["fr"]["text"] and "{next_open}" not in after["ar"]["text"]
    assert body["hours"]["mon"] == [["09:00", "17:00"]] and body["hours"]["sat"] == []
    assert http.call("GET", "/policy", agency["amal"]).status_code == 403
