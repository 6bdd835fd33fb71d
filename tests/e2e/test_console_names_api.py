"""What the console needs to show people, not ids, and to accept numbers as people type them (issue 22).

The week is ``tests/e2e/test_supervision_flow.py``'s: amal's override and breach for Fatima, jean's
held answer to Joseph. Staff names are the ``agency`` fixture's ("Amal", "Jean", "Sup-Maria").
"""

from __future__ import annotations

import re

from tests.conftest import SPARE_NUMBER, auth
from tests.e2e.test_supervision_flow import local, week

PERIOD = "from=2026-11-16&to=2026-11-22"


def test_each_staff_message_names_its_author(http, agency):
    fatima, _joseph = week(http, agency)
    messages = http.call("GET", f"/clients/{fatima}/messages", agency["amal"]).json["messages"]
    staff = [m for m in messages if m["kind"] == "staff"]
    assert staff and {(m["staff_id"], m["staff_name"]) for m in staff} == {("amal", "Amal")}
    assert {m["staff_name"] for m in messages if m["direction"] == "inbound"} == {None}


def test_inquiries_of_a_period_name_their_client_and_worker(http, agency):
    fatima, joseph = week(http, agency)
    r = http.call("GET", f"/inquiries?{PERIOD}", agency["supervisor"])
    assert r.status_code == 200, r.body
    named = {(i["client_id"], i["client_name"], i["staff_name"]) for i in r.json["inquiries"]}
    assert named == {(fatima, "Fatima", "Amal"), (joseph, "Fatima", "Jean")}  # new_client names every client Fatima


def test_the_audit_page_names_the_clients_and_staff_it_lists_in_json_only(http, agency):
    fatima, _joseph = week(http, agency)
    body = http.call("GET", f"/audit?{PERIOD}&type=boundary.override", agency["supervisor"]).json
    assert body["client_names"] == {fatima: "Fatima"}
    assert body["staff_names"]["amal"] == "Amal" and body["staff_names"]["sup-maria"] == "Sup-Maria"
    response = http.client.http.get(f"/audit?{PERIOD}&type=boundary.override",
                                    headers={**agency["supervisor"], "Accept": "text/csv"})
    assert b"Fatima" not in response.body  # the CSV is the trail itself: ids, as before


def test_another_agencys_file_gets_no_name_even_if_its_id_is_asked(http, agency):
    fatima, _joseph = week(http, agency)
    from chalicelib import bootstrap
    from chalicelib.domain.model import Principal, Role

    halifax = Principal(staff_id="admin-h", agency_id="halifax-isans", roles=frozenset({Role.ADMIN}))
    assert bootstrap.container().supervision.client_names(halifax, {fatima, "not an id"}) == {}


def test_reviews_name_who_overrode_and_who_reviewed(http, agency):
    week(http, agency)
    sup = agency["supervisor"]
    override = http.call("GET", f"/reviews?{PERIOD}&kind=override", sup).json["items"][0]
    assert (override["staff_name"], override["reviewed_by_name"]) == ("Amal", None)
    with local("2026-11-20T09:15"):
        assert http.call("PUT", f"/reviews/{override['id'].replace('#', '%23')}", sup, {}).status_code == 200
    done = http.call("GET", f"/reviews?{PERIOD}&kind=override", sup).json["items"][0]
    assert (done["reviewed_by"], done["reviewed_by_name"]) == ("sup-maria", "Sup-Maria")


def test_no_template_of_the_policy_view_shows_a_raw_placeholder(http, agency):
    with local("2026-11-20T18:00"):
        body = http.call("GET", "/policy", agency["supervisor"]).json
    texts = [x["text"] for tpl in body["templates"] for x in tpl["texts"]]
    assert texts and [t for t in texts if re.search(r"\{\w+\}", t)] == []
    absence = next(x for x in body["templates"] if x["name"] == "absence")["texts"]
    assert "Amal is away right now. Jean will help you" in next(x["text"] for x in absence if x["language"] == "en")


def test_a_work_number_typed_the_national_way_is_previewed_and_assigned(http, agency):
    admin = agency["admin"]
    national = "587 355 0109"  # SPARE_NUMBER, as a Calgary administrator would type it
    r = http.call("GET", "/numbers/587%20355%200109/reassignment?staff_id=jean&channels=sms", admin)
    assert r.status_code == 200, r.body
    assert (r.json["number"], r.json["change"]) == (SPARE_NUMBER, "new")
    r = http.call("PUT", "/numbers/(587)%20355-0109", admin, {"staff_id": "jean", "channels": ["sms"]})
    assert r.status_code == 200, r.body
    assert r.json["number"] == SPARE_NUMBER
    held = {n["number"]: n["staff_id"] for n in http.call("GET", "/numbers", admin).json["numbers"]}
    assert held[SPARE_NUMBER] == "jean" and national not in held


def test_a_national_number_that_is_not_one_is_refused_naming_the_field(http, agency):
    admin = agency["admin"]
    for path in ("/numbers/12%2034/reassignment?staff_id=jean&channels=sms", "/numbers/12%2034"):
        method, body = ("GET", None) if "reassignment" in path else ("PUT", {"staff_id": "jean", "channels": ["sms"]})
        r = http.call(method, path, admin, body)
        assert r.status_code == 400 and r.json["error"]["field"] == "number", r.body


def test_a_halifax_admin_reads_a_national_number_in_canada_too(http, agency):
    halifax = auth("admin-h", "admin", agency="halifax-isans")
    r = http.call("GET", "/numbers/902%20555%200100/reassignment?staff_id=w-h&channels=sms", halifax)
    # the number is Canadian (Halifax's policy country) and not registered to Halifax: the usual 404
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found", r.body
