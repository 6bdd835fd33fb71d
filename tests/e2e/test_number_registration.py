"""Numbers belong to an agency before its admin can assign them (issue 20, item 5).

An operator registers each Twilio number to one agency (``cli numbers register``); ``PUT
/numbers/{number}`` assigns only numbers registered to the admin's own agency. Another agency's
number and a number nobody registered both answer 404, word for word, so neither existence nor
ownership leaks; and another agency's clients keep landing in their own agency.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from tests.conftest import SPARE_NUMBER, auth, new_client, register_numbers
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound, whatsapp_form

FATIMA = "+15875550123"
AMAL_NUMBER = "+15873550101"
NOT_REGISTERED = {"error": {"code": "not_found", "message": "no such number is registered to this agency"}}


def path(number: str) -> str:
    return f"/numbers/%2B{number[1:]}"


def halifax(http: Any) -> dict[str, str]:
    return auth("admin-h", "admin", "halifax-isans")  # its worker w-h is on record (the agency fixture)


def test_an_admin_assigns_a_number_registered_to_their_agency(http: Any, agency: Any) -> None:
    r = http.call("PUT", path(SPARE_NUMBER), agency["admin"], {"staff_id": "jean", "channels": ["sms"]})
    assert r.status_code == 200, r.body
    assert r.json == {"number": SPARE_NUMBER, "staff_id": "jean", "channels": ["sms"]}
    listed = http.call("GET", "/numbers", agency["admin"]).json["numbers"]
    assert {"number": SPARE_NUMBER, "staff_id": "jean", "channels": ["sms"]} in listed


def test_another_agencys_admin_cannot_assign_its_number_and_its_clients_keep_landing_at_home(
    api: Any, http: Any, agency: Any
) -> None:
    with time_machine.travel("2026-11-24T17:00Z", tick=False):
        fatima = new_client(http, agency["amal"])
        for number in (AMAL_NUMBER, SPARE_NUMBER):  # held by Amal, and registered to Calgary but held by nobody
            before = every_stored_text()
            r = http.call("PUT", path(number), halifax(http), {"staff_id": "w-h", "channels": ["sms", "whatsapp"]})
            assert (r.status_code, r.json) == (404, NOT_REGISTERED)
            assert every_stored_text() == before
        r = inbound(api, whatsapp_form(FATIMA, AMAL_NUMBER, "Is my appointment still on Friday?"))
        assert r.status_code == 200, r.body
    messages = http.call("GET", f"/clients/{fatima['client_id']}/messages", agency["amal"]).json["messages"]
    assert [m["body"] for m in messages if m["direction"] == "inbound"] == ["Is my appointment still on Friday?"]
    assert http.call("GET", "/clients", auth("w-h", agency="halifax-isans")).json["clients"] == []
    numbers = http.call("GET", "/numbers", agency["admin"]).json["numbers"]
    assert {"number": AMAL_NUMBER, "staff_id": "amal", "channels": ["sms", "whatsapp"]} in numbers


def test_a_number_nobody_registered_is_not_found_and_nothing_is_written(http: Any, agency: Any) -> None:
    before = every_stored_text()
    r = http.call("PUT", path("+15873550188"), agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert (r.status_code, r.json) == (404, NOT_REGISTERED)
    preview = http.call("GET", "/numbers/%2B15873550188/reassignment?staff_id=amal&channels=sms", agency["admin"])
    assert (preview.status_code, preview.json) == (404, NOT_REGISTERED)
    assert every_stored_text() == before


def test_once_registered_to_an_agency_its_admin_may_assign_it(http: Any, agency: Any) -> None:
    body = {"staff_id": "w-h", "channels": ["sms"]}
    assert http.call("PUT", path("+19025550100"), halifax(http), body).status_code == 404
    register_numbers("halifax-isans", "+19025550100")
    r = http.call("PUT", path("+19025550100"), halifax(http), body)
    assert r.status_code == 200 and r.json["staff_id"] == "w-h"
    # ... and it is still not Calgary's to take.
    r = http.call("PUT", path("+19025550100"), agency["admin"], {"staff_id": "amal", "channels": ["sms"]})
    assert (r.status_code, r.json) == (404, NOT_REGISTERED)


def test_a_message_to_a_registered_number_nobody_holds_yet_is_acknowledged_and_stores_nothing(
    api: Any, agency: Any
) -> None:
    before = every_stored_text()
    r = inbound(api, whatsapp_form(FATIMA, SPARE_NUMBER, "hello?"))
    assert r.status_code == 200 and b"<Message>" not in r.body
    assert every_stored_text() == before


def test_an_assignment_racing_a_move_to_another_agency_answers_404_and_writes_nothing(
    http: Any, agency: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m
    from chalicelib.adapters.numbers_repository import NumberRepository

    read = NumberRepository.registration
    moved: list[str] = []

    def read_then_the_operator_moves_it(self: NumberRepository, number: str) -> Any:
        found = read(self, number)
        if not moved:  # between the admin's read and write, the operator moves the number to Halifax
            moved.append(number)
            bootstrap.container().number_registry.register("halifax-isans", number, move=True)
        return found

    def assignments() -> list[str]:
        return [e.event_id for e in m.AuditModel.query("calgary-cfn")
                if e.type in ("number.assigned", "number.reassigned")]

    before = assignments()
    monkeypatch.setattr(NumberRepository, "registration", read_then_the_operator_moves_it)
    r = http.call("PUT", path(SPARE_NUMBER), agency["admin"], {"staff_id": "jean", "channels": ["sms"]})
    assert (r.status_code, r.json) == (404, NOT_REGISTERED)
    item = m.NumberModel.get(SPARE_NUMBER)
    assert (item.agency_id, item.staff_id) == ("halifax-isans", None)
    assert assignments() == before


def test_two_assignments_racing_for_one_number_are_applied_one_after_the_other(
    http: Any, agency: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters import models as m
    from chalicelib.adapters.numbers_repository import NumberRepository

    assert http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir"}).status_code == 201
    read = NumberRepository.registration
    raced: list[int] = []

    def read_then_another_admin_assigns_it(self: NumberRepository, number: str) -> Any:
        found = read(self, number)
        if not raced:  # another request gives the number to Samir between this read and its write
            raced.append(1)
            r = http.call("PUT", path(AMAL_NUMBER), agency["admin"], {"staff_id": "samir", "channels": ["sms"]})
            assert r.status_code == 200, r.body
        return found

    monkeypatch.setattr(NumberRepository, "registration", read_then_another_admin_assigns_it)
    r = http.call("PUT", path(AMAL_NUMBER), agency["admin"], {"staff_id": "jean", "channels": ["sms"]})
    assert r.status_code == 200, r.body
    assert m.NumberModel.get(AMAL_NUMBER).staff_id == "jean"
    # The second write read again: it re-assigned Samir's number, not Amal's.
    kinds = [(e.type, e.details.attribute_values.get("from_staff"), e.agency_staff)
             for e in m.AuditModel.query("calgary-cfn")
             if e.type in ("number.assigned", "number.reassigned") and e.client_id is None]
    assert sorted(kinds)[-2:] == [("number.reassigned", "amal", "calgary-cfn#samir"),
                                  ("number.reassigned", "samir", "calgary-cfn#jean")]
