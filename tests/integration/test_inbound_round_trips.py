"""What an inbound message costs in DynamoDB (SPEC §6: keyed reads, few round trips, measured).

Counted with ``DynamoTap`` around PynamoDB's single API entry point, so every GetItem, Query,
Scan and TransactWriteItems the webhook makes is seen. Counts only, never timings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.conftest import new_client
from tests.fault_helpers import DynamoTap
from tests.twilio_helpers import inbound, sms_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"
STRANGER = "+15875550199"
MAX_ROUND_TRIPS = 3


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


@pytest.fixture
def fatima(http: Any, agency: dict[str, Any]) -> dict[str, Any]:
    with at("2026-11-20T10:00"):
        return new_client(http, agency["amal"])


def warm_up(api: Any) -> None:
    """What a warm container has cached: the work number and the agency's staff directory."""
    from chalicelib import bootstrap

    send_counted(api, sms_form(STRANGER, AMAL_NUMBER, "warm the number cache with a stranger"))
    bootstrap.container().absences.directory("calgary-cfn")


def send_counted(api: Any, form: dict[str, str]) -> DynamoTap:
    with DynamoTap() as tap:
        response = inbound(api, form)
    assert response.status_code == 200, response.body
    return tap


def test_warm_in_hours_message_costs_at_most_three_round_trips_and_no_scan(api: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T10:00"):
        send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "warms the container's number cache"))
        tap = send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "second question"))
    ops = tap.by_operation()
    assert tap.round_trips <= MAX_ROUND_TRIPS, ops
    assert ops["Scan"] == 0
    assert ops == {"GetItem": 2, "TransactWriteItems": 1}


def test_warm_message_that_opens_an_inquiry_is_still_one_transaction(api: Any, agency: Any, fatima: Any) -> None:
    with at("2026-11-23T09:30"):
        warm_up(api)
        tap = send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "first question opens the inquiry"))
    ops = tap.by_operation()
    assert tap.round_trips <= MAX_ROUND_TRIPS and ops["Scan"] == 0, ops
    assert ops["TransactWriteItems"] == 1


def test_after_hours_message_with_its_reply_is_filed_in_the_same_three_round_trips(
    api: Any, agency: Any, fatima: Any
) -> None:
    with at("2026-11-27T18:00"):
        warm_up(api)
        tap = send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "after hours"))
    ops = tap.by_operation()
    assert tap.round_trips <= MAX_ROUND_TRIPS and ops["Scan"] == 0, ops


def test_cold_container_reads_the_work_number_once_then_never_again(api: Any, agency: Any, fatima: Any) -> None:
    from chalicelib import bootstrap

    bootstrap.container().inbound.numbers.clear()
    bootstrap.container().absences.clear_cache()
    with at("2026-11-23T10:00"):
        cold = send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "cold"))
        warm = send_counted(api, whatsapp_form(FATIMA, AMAL_NUMBER, "warm"))
    # Cold: the work number (GetItem) and the agency's staff directory (one Query) are read once.
    assert cold.round_trips == warm.round_trips + 2
    assert sum(1 for c in cold.calls if any(t.endswith("numbers") for t in c.tables)) == 1
    assert not any(any(t.endswith("numbers") for t in c.tables) for c in warm.calls)


def test_replayed_delivery_costs_no_more_than_the_first(api: Any, agency: Any, fatima: Any) -> None:
    form = whatsapp_form(FATIMA, AMAL_NUMBER, "once")
    with at("2026-11-23T10:00"):
        send_counted(api, form)
        replay = send_counted(api, form)
    ops = replay.by_operation()
    assert replay.round_trips <= MAX_ROUND_TRIPS and ops["Scan"] == 0, ops
    assert [c.ok for c in replay.calls if c.operation == "TransactWriteItems"] == [False]


def test_every_table_talks_through_one_connection_so_a_cold_container_builds_one_client(aws: None) -> None:
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m

    _ = bootstrap.container().uow  # configures the models
    shared = m.transaction_connection()
    assert {id(model._get_connection().connection) for model in m.ALL_MODELS} == {id(shared)}
