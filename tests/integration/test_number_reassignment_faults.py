"""Re-assigning a work number survives a throttle half-way through moving its clients (issue 11, item 1).

The number and the list of workers whose clients still have to move are written together; each
client then moves in its own transaction. A throttle mid-way answers 500, and the retry of the same
``PUT /numbers`` finishes the move: nobody is left with clients no one can message.
"""

from __future__ import annotations

from typing import Any

import time_machine

from tests.conftest import auth, new_client
from tests.fault_helpers import THROTTLE, DynamoTap

AMAL_NUMBER = "%2B15873550101"
PHONES = ("+15875550141", "+15875550142", "+15875550143")


def moves_a_client(call: Any) -> bool:
    return call.operation == "TransactWriteItems" and any(t.endswith("clients") for t in call.tables)


def test_a_throttle_during_the_client_move_is_finished_by_the_retry(http, agency):
    from chalicelib.adapters import models as m

    with time_machine.travel("2026-11-24T17:00Z", tick=False):
        clients = [new_client(http, agency["amal"], phone=p, channel="sms", language="en")["client_id"] for p in PHONES]
        http.call("PUT", "/staff/samir", agency["admin"], {"role": "worker", "name": "Samir"})
        body = {"staff_id": "samir", "channels": ["sms", "whatsapp"]}

        with DynamoTap().fail(2, THROTTLE, match=moves_a_client) as tap:  # the second client's move
            first = http.call("PUT", f"/numbers/{AMAL_NUMBER}", agency["admin"], body)
        assert tap.fired and first.status_code == 500
        assert m.NumberModel.get("+15873550101").moving_from == {"amal"}  # the unfinished move is on record

        retried = http.call("PUT", f"/numbers/{AMAL_NUMBER}", agency["admin"], body)
        assert retried.status_code == 200, retried.body

    assert {m.ClientModel.get(c).case_manager_id for c in clients} == {"samir"}
    assert m.NumberModel.get("+15873550101").moving_from is None
    caseload = http.call("GET", "/clients", auth("samir")).json["clients"]
    assert sorted(c["client_id"] for c in caseload) == sorted(clients)
    assert http.call("GET", "/clients", agency["amal"]).json["clients"] == []
    reassigned = [e for e in m.AuditModel.query("calgary-cfn") if e.type == "number.reassigned" and e.client_id]
    assert sorted(e.client_id for e in reassigned) == sorted(clients)  # each client moved exactly once
