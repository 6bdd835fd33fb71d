"""GET /clients on DynamoDB (moto): the caseload indexes and the search items are written in the
same unit of work as the file, follow it to a new worker, leave with erasure, and a page is always
the same few keyed calls (issue 22)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from chalicelib.adapters import models as m
from chalicelib.domain.caseload import search_terms
from tests.conftest import auth, new_client, register_numbers
from tests.fault_helpers import DynamoTap
from tests.store_helpers import update_client
from tests.twilio_helpers import inbound, sms_form

EDMONTON = ZoneInfo("America/Edmonton")


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def items_of(client_id: str) -> list[m.SearchModel]:
    """Every search item of a file (a test-only scan)."""
    return [i for i in m.SearchModel.scan() if i.client_id == client_id]


def names(http: Any, who: dict[str, str], query: str = "") -> list[str]:
    r = http.call("GET", f"/clients{query}", who)
    assert r.status_code == 200, r.body
    return [c["name"] for c in r.json["clients"]]


def test_a_new_file_is_indexed_and_findable_in_the_same_write(http, agency):
    with at("2026-11-23T10:00"):
        client = new_client(http, agency["amal"], phone="+15873550103", channel="sms", consent=False)
    item = m.ClientModel.get(client["client_id"])
    assert item.last_activity_at == item.created_at
    assert (item.state_staff, item.state_agency) == ("calgary-cfn#amal#no_consent", "calgary-cfn#no_consent")
    found = items_of(client["client_id"])
    assert {i.term_key.split("#", 1)[1] for i in found} == item.search_terms == search_terms("Fatima", "+15873550103")
    assert {i.staff_term for i in found} == {f"calgary-cfn#amal#{t}" for t in item.search_terms}


def test_every_kind_of_activity_moves_the_file_to_the_top_in_the_same_write(http, agency):
    with at("2026-11-23T09:00"):
        first = new_client(http, agency["amal"], phone="+15875550131", channel="sms")
    with at("2026-11-23T09:05"):
        second = new_client(http, agency["amal"], phone="+15875550132", channel="sms")
    assert [c["client_id"] for c in http.call("GET", "/clients", agency["amal"]).json["clients"]] == \
        [second["client_id"], first["client_id"]]
    with at("2026-11-23T10:00"), DynamoTap() as tap:  # a message in: one transaction, as before
        assert inbound(http.client, sms_form("+15875550131", "+15873550101", "Bonjour")).status_code == 200
    assert tap.by_operation()["TransactWriteItems"] == 1 and tap.by_operation()["UpdateItem"] == 0
    listed = http.call("GET", "/clients", agency["amal"]).json["clients"]
    assert [c["client_id"] for c in listed] == [first["client_id"], second["client_id"]]
    assert listed[0]["last_activity_at"] == "2026-11-23T10:00:00-06:00" and listed[0]["open_inquiry"]["status"] == "open"
    assert names(http, agency["amal"], "?filter=waiting") == ["Fatima"]
    with at("2026-11-23T11:00"):  # the answer goes out: activity, and the file stops waiting
        r = http.call("POST", f"/clients/{second['client_id']}/messages", agency["amal"], {"body": "Hello"})
        assert r.status_code == 201, r.body
    assert http.call("GET", "/clients", agency["amal"]).json["clients"][0]["client_id"] == second["client_id"]
    with at("2026-11-23T12:00"):  # a status change
        r = http.call("PUT", f"/clients/{first['client_id']}/status", agency["amal"], {"status": "closed", "reason": "moved"})
        assert r.status_code == 200, r.body
    listed = http.call("GET", "/clients?filter=closed", agency["amal"]).json["clients"]
    assert [c["client_id"] for c in listed] == [first["client_id"]]
    assert listed[0]["last_activity_at"] == "2026-11-23T12:00:00-06:00"


def test_a_file_written_before_the_indexes_appears_after_its_next_write_or_the_reindex_command(http, agency):
    from chalicelib import cli

    with at("2026-11-23T09:00"):
        old = new_client(http, agency["amal"], phone="+15875550133", channel="sms")
        untouched = new_client(http, agency["amal"], phone="+15875550134", channel="sms")
    for cid in (old["client_id"], untouched["client_id"]):  # as an item written by the earlier version
        m.ClientModel.get(cid).update(actions=[m.ClientModel.last_activity_at.remove(), m.ClientModel.state_staff.remove(),
                                               m.ClientModel.state_agency.remove(), m.ClientModel.search_terms.remove()])
        for item in items_of(cid):
            item.delete()
    assert names(http, agency["amal"]) == []
    update_client(old["client_id"], {"next_followup_at": None})  # any write, even one that is no activity
    assert names(http, agency["amal"]) == ["Fatima"]
    assert m.ClientModel.get(old["client_id"]).last_activity_at == m.ClientModel.get(old["client_id"]).created_at
    assert cli.main(["reindex-clients", "--agency", "calgary-cfn"]) == 0
    assert len(names(http, agency["amal"])) == 2
    assert len(names(http, agency["amal"], "?q=0134")) == 1
    assert cli.main(["reindex-clients"]) == 0  # twice: nothing changes
    assert len(items_of(untouched["client_id"])) == len(search_terms("Fatima", "+15875550134"))


def test_the_search_items_follow_the_file_to_its_new_worker(http, agency):
    with at("2026-11-23T09:00"):
        client = new_client(http, agency["amal"], phone="+15875550135", channel="sms")
        http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir"})
        r = http.call("PUT", "/numbers/%2B15873550101", agency["admin"], {"staff_id": "samir", "channels": ["sms", "whatsapp"]})
        assert r.status_code == 200, r.body
    assert names(http, auth("samir"), "?q=587-555-0135") == ["Fatima"]
    assert names(http, agency["amal"], "?q=0135") == []
    assert {i.staff_term.split("#")[1] for i in items_of(client["client_id"])} == {"samir"}
    assert m.ClientModel.get(client["client_id"]).state_staff == "calgary-cfn#samir#reachable"


def test_erasure_leaves_nothing_searchable_and_the_file_in_no_listing(http, agency):
    with at("2026-11-23T09:00"):
        client = new_client(http, agency["amal"], phone="+15875550136", channel="sms")
        assert http.call("PUT", f"/clients/{client['client_id']}/status", agency["admin"],
                         {"status": "closed", "reason": "moved"}).status_code == 200
        assert http.call("DELETE", f"/clients/{client['client_id']}", agency["admin"]).status_code == 200
    assert items_of(client["client_id"]) == []
    item = m.ClientModel.get(client["client_id"])
    assert (item.last_activity_at, item.state_staff, item.state_agency, item.search_terms) == (None, None, None, None)
    for query in ("", "?filter=closed", "?q=fatima", "?q=0136"):
        assert names(http, agency["admin"], query) == []


def test_a_page_costs_the_same_keyed_calls_and_never_a_scan(http, agency):
    with at("2026-11-23T09:00"):
        for i in range(7):
            new_client(http, agency["amal"], phone=f"+1587555014{i}", channel="sms")
    from chalicelib import bootstrap

    bootstrap.container().absences.directory("calgary-cfn")  # warm, as a running container is
    for query in ("?limit=3", "?limit=3&q=fatima", "?limit=3&q=587%20555%200140", "?limit=3&filter=waiting",
                  "?limit=3&status=active"):
        with DynamoTap() as tap:
            page = http.call("GET", f"/clients{query}", agency["amal"])
        ops = tap.by_operation()
        assert page.status_code == 200 and ops["Scan"] == 0, (query, ops)
        states = 5 if "status=active" in query else 1  # one Query per state listed
        assert ops["Query"] == states and ops["BatchGetItem"] <= 1, (query, ops)


def test_a_foreign_or_altered_cursor_is_refused_and_a_forged_position_stays_in_its_own_partition(http, agency):
    halifax = auth("admin-h", "admin", "halifax-isans")
    register_numbers("halifax-isans", "+19025550101")
    assert http.call("PUT", "/numbers/%2B19025550101", halifax, {"staff_id": "w-h", "channels": ["sms"]}).status_code == 200
    with at("2026-11-23T09:00"):
        for i in range(3):
            new_client(http, agency["amal"], phone=f"+1587555015{i}", channel="sms")
            new_client(http, halifax, phone=f"+1902555015{i}", channel="sms", manager="w-h")
    mine = http.call("GET", "/clients?limit=1", agency["amal"]).json["next"]
    theirs = http.call("GET", "/clients?limit=1", halifax).json["next"]
    for who, cursor in ((halifax, mine), (agency["amal"], theirs), (agency["jean"], mine), (agency["supervisor"], mine),
                        (agency["amal"], mine[:-4]), (agency["amal"], "%%%"), (agency["amal"], "x" * 9000)):
        r = http.call("GET", f"/clients?limit=1&next={cursor}", who)
        assert r.status_code == 400 and r.json["error"]["code"] == "invalid_input", r.body
        assert r.json["error"]["field"] == "next"
    assert http.call("GET", f"/clients?limit=1&q=fatima&next={mine}", agency["amal"]).status_code == 400
    # A well-formed cursor for one's own list whose position names another agency's file: the query
    # still reads only the caller's partition, so the page holds only the caller's files.
    from chalicelib.adapters.caseload_pages import _encode
    from chalicelib.adapters.clients_repository import _activity_partitions

    foreign = next(c for c in m.ClientModel.scan() if c.agency_id == "halifax-isans")
    partitions = _activity_partitions("calgary-cfn", ["amal"], None)
    forged = _encode(partitions, [[m.ClientModel.last_activity_at.serialize(foreign.last_activity_at), foreign.client_id]])
    r = http.call("GET", f"/clients?next={forged}", agency["amal"])
    assert r.status_code == 200, r.body
    assert {c["case_manager_id"] for c in r.json["clients"]} <= {"amal"} and len(r.json["clients"]) <= 3
