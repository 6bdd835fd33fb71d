"""GET /inbox (issue 14): who is waiting for an answer, soonest due first, clocks from the server."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from tests.conftest import auth, new_client
from tests.fault_helpers import DynamoTap
from tests.twilio_helpers import inbound, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
JEAN_NUMBER = "+15873550102"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def client_writes(http: Any, phone: str, body: str, to: str = AMAL_NUMBER) -> None:
    r = inbound(http.client, whatsapp_form(phone, to, body))
    assert r.status_code == 200, r.body


def test_the_inbox_lists_waiting_clients_soonest_due_first_with_server_clocks(http, agency):
    with at("2026-11-23T08:00"):  # a Monday
        first = new_client(http, agency["amal"], phone="+15875550131")
        second = new_client(http, agency["amal"], phone="+15875550132", language="fr")
        new_client(http, agency["amal"], phone="+15875550133")  # never writes: not waiting
    with at("2026-11-23T10:00"):
        client_writes(http, "+15875550132", "Bonjour, j'ai une question sur mon bail")
    with at("2026-11-23T11:00"):
        client_writes(http, "+15875550131", "مرحبا " + "long question " * 20)
    with at("2026-11-23T12:30"):
        client_writes(http, "+15875550132", "Et aussi   sur   l'électricité")  # joins the open inquiry
        r = http.call("GET", "/inbox", agency["amal"])
    assert r.status_code == 200, r.body
    items = r.json["items"]
    assert [i["client_id"] for i in items] == [second["client_id"], first["client_id"]]
    top = items[0]
    assert top["name"] == "Fatima" and top["channel"] == "whatsapp" and top["language"] == "fr"
    assert top["last_message"] == "Et aussi sur l'électricité"  # the last message, on one line
    assert top["waiting_since"] == "2026-11-23T10:00:00-06:00"  # since the inquiry opened
    assert top["waited_seconds"] == 150 * 60
    assert top["due_at"] == "2026-11-24T10:00:00-06:00"  # CMDM: 24 h calendar clock
    assert top["seconds_left"] == (21 * 60 + 30) * 60 and top["overdue"] is False
    assert len(items[1]["last_message"]) == 120 and items[1]["last_message"].endswith("…")
    assert r.json["now"] == "2026-11-23T12:30:00-06:00"


def test_an_answered_client_leaves_the_inbox_and_an_overdue_one_is_marked(http, agency):
    with at("2026-11-23T08:00"):
        answered = new_client(http, agency["amal"], phone="+15875550141")
        late = new_client(http, agency["amal"], phone="+15875550142")
    with at("2026-11-23T10:00"):
        client_writes(http, "+15875550141", "question one")
        client_writes(http, "+15875550142", "question two")
        r = http.call("POST", f"/clients/{answered['client_id']}/messages", agency["amal"], {"body": "Here is the answer"})
        assert r.status_code == 201, r.body
    with at("2026-11-24T11:00"):
        items = http.call("GET", "/inbox", agency["amal"]).json["items"]
    assert [i["client_id"] for i in items] == [late["client_id"]]
    assert items[0]["overdue"] is True and items[0]["seconds_left"] == -3600


def test_a_worker_sees_only_their_own_and_covered_colleagues_waiting_clients(http, agency):
    with at("2026-11-23T08:00"):
        mine = new_client(http, agency["amal"], phone="+15875550151")
        jeans = new_client(http, agency["jean"], phone="+15875550152", manager="jean")
    with at("2026-11-23T10:00"):
        client_writes(http, "+15875550151", "for amal")
        client_writes(http, "+15875550152", "for jean", to=JEAN_NUMBER)
        assert [i["client_id"] for i in http.call("GET", "/inbox", agency["amal"]).json["items"]] == [mine["client_id"]]
        assert [i["client_id"] for i in http.call("GET", "/inbox", agency["jean"]).json["items"]] == [jeans["client_id"]]
        r = http.call("PUT", "/staff/jean/absences/leave-1", agency["jean"],
                      {"start": "2026-11-23", "end": "2026-11-27", "cover_id": "amal"})
        assert r.status_code in (200, 201), r.body
        items = http.call("GET", "/inbox", agency["amal"]).json["items"]
        supervisor = http.call("GET", "/inbox", agency["supervisor"]).json["items"]
        stranger = http.call("GET", "/inbox", auth("admin-h", "admin", "halifax-isans"))
        ghost = http.call("GET", "/inbox", auth("ghost", "admin"))
    assert {i["client_id"]: i["covering"] for i in items} == {mine["client_id"]: False, jeans["client_id"]: True}
    assert [i["case_manager_name"] for i in items if i["covering"]] == ["Jean"]
    assert {i["client_id"] for i in supervisor} == {mine["client_id"], jeans["client_id"]}
    assert stranger.status_code == 200 and stranger.json["items"] == []  # Halifax's own inbox: empty
    assert "Fatima" not in stranger.body.decode()
    assert ghost.status_code == 403 and "Fatima" not in ghost.body.decode()  # no staff record, no access


def _inbox_round_trips(http: Any, who: dict[str, str]) -> tuple[int, int]:
    from chalicelib import bootstrap

    bootstrap.container().absences.directory("calgary-cfn")  # a warm container has it cached
    with DynamoTap() as tap:
        r = http.call("GET", "/inbox", who)
    assert r.status_code == 200, r.body
    assert tap.by_operation().get("Scan", 0) == 0
    return tap.round_trips, len(r.json["items"])


def test_the_inbox_costs_the_same_round_trips_for_3_and_for_30_waiting_clients(http, agency):
    trips = []
    for size in (3, 30):
        with at("2026-11-23T08:00"):
            phones = [f"+1587556{size:02d}{i:02d}" for i in range(size)]
            for phone in phones:
                new_client(http, agency["amal"], phone=phone)
        with at("2026-11-23T10:00"):
            for phone in phones:
                client_writes(http, phone, "waiting")
            trips.append(_inbox_round_trips(http, agency["amal"]))
    assert trips[0][1] == 3 and trips[1][1] == 33
    assert trips[0][0] == trips[1][0] == 1  # one Query of the waiting index


def test_an_erased_file_is_not_in_anyones_inbox(http, agency):
    with at("2026-11-23T08:00"):
        gone = new_client(http, agency["amal"], phone="+15875550161")
    with at("2026-11-23T10:00"):
        client_writes(http, "+15875550161", "a secret question")
        r = http.call("PUT", f"/clients/{gone['client_id']}/status", agency["admin"], {"status": "closed", "reason": "moved"})
        assert r.status_code == 200, r.body
    with time_machine.travel(datetime(2030, 1, 7, 17, tzinfo=EDMONTON), tick=False):
        r = http.call("DELETE", f"/clients/{gone['client_id']}", agency["admin"])
        assert r.status_code == 200, r.body
        body = http.call("GET", "/inbox", agency["supervisor"]).body.decode()
    assert gone["client_id"] not in body and "secret" not in body
