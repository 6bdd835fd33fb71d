"""Live updates end to end (issue 23): the staff API, the stand-in of API Gateway's WebSocket API and
its management API (chalicelib/local_live.py), and boto3 calling it exactly as it calls AWS.

A socket opens with a ticket from ``POST /live/tickets``; a webhook's commit reaches the sockets
of the staff who may see the file, never another agency's; the management API posts, reports a
socket, closes it, and answers ``GoneException`` for one it does not know, after which the
service forgets that socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine
from websockets.sync.client import ClientConnection, connect

from app import app
from chalicelib import bootstrap
from chalicelib.local_live import WebSocketStandIn, app_handlers
from tests.conftest import auth, new_client
from tests.twilio_helpers import inbound, sms_form

OPEN = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # Tuesday 10:00 in Calgary


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, aws: None) -> Iterator[WebSocketStandIn]:
    monkeypatch.setenv("AWS_REGION", "ca-central-1")
    running = WebSocketStandIn(app_handlers(app))
    ws_url, management_url = running.start()
    monkeypatch.setenv("CMDM_WS_URL", ws_url)
    monkeypatch.setenv("CMDM_WS_MANAGEMENT_URL", management_url)
    bootstrap.reset()
    yield running
    running.stop()
    bootstrap.reset()


def management(stand_in: WebSocketStandIn) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=stand_in.management_url, region_name="ca-central-1")


def open_socket(http: Any, who: dict[str, str]) -> ClientConnection:
    r = http.call("POST", "/live/tickets", who)
    assert r.status_code == 201, r.body
    assert r.json["expires_in"] == 60
    return connect(f"{r.json['url']}/?ticket={r.json['ticket']}")


def events(socket: ClientConnection, wait: float = 0) -> list[dict[str, Any]]:
    """Everything the socket has received so far; with ``wait``, up to that many seconds for the
    first frame (posted to the management API, it is still on its way to the socket)."""
    found = []
    timeout = wait
    while True:
        try:
            found.append(json.loads(socket.recv(timeout=timeout)))
            timeout = 0
        except TimeoutError:
            return found


def delivered() -> None:
    assert bootstrap.container().live_dispatch.wait_idle(10)


def test_the_management_api_posts_reports_and_closes_a_socket_and_answers_gone_after(http, agency, stand_in):
    with time_machine.travel(OPEN, tick=True), open_socket(http, agency["amal"]) as socket:
        (connection_id,) = stand_in.connection_ids()
        api = management(stand_in)
        api.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "hello"}')
        assert json.loads(socket.recv(timeout=5)) == {"type": "hello"}
        assert api.get_connection(ConnectionId=connection_id)["Identity"]["SourceIp"] == "127.0.0.1"
        api.delete_connection(ConnectionId=connection_id)
        with pytest.raises(api.exceptions.GoneException):
            api.post_to_connection(ConnectionId=connection_id, Data=b"{}")
        with pytest.raises(api.exceptions.GoneException):
            api.get_connection(ConnectionId="NeverOpened0000=")


def test_a_client_message_reaches_the_case_manager_and_supervisor_sockets_and_no_other_agency(http, agency, stand_in):
    with time_machine.travel(OPEN, tick=True):
        client = new_client(http, agency["admin"], phone="+15875550123", channel="sms", language="en")
        halifax_admin = auth("admin-h", "admin", "halifax-isans")
        with open_socket(http, agency["amal"]) as amal, open_socket(http, agency["supervisor"]) as maria, \
                open_socket(http, agency["jean"]) as jean, open_socket(http, halifax_admin) as halifax:
            r = inbound(http.client, sms_form("+15875550123", "+15873550101", "Is the office open on Friday?"))
            assert r.status_code == 200
            delivered()
            to_amal, to_maria = events(amal, wait=5), events(maria, wait=5)
            assert {"type": "client_changed", "client_id": client["client_id"], "what": ["file", "inbox", "messages"],
                    "alert": "message"} in to_amal
            assert any(e["client_id"] == client["client_id"] and "alert" not in e for e in to_maria)
            assert events(jean) == [] and events(halifax) == []
            # Nothing personal travels on the socket: ids and words for what changed, never a body or a number.
            assert "Friday" not in json.dumps(to_amal + to_maria) and "+1587" not in json.dumps(to_amal)


def test_a_socket_the_gateway_no_longer_knows_is_forgotten(http, agency, stand_in):
    from chalicelib.domain.live import LiveConnection
    from chalicelib.domain.model import Role

    with time_machine.travel(OPEN, tick=True):
        client = new_client(http, agency["admin"], phone="+15875550124", channel="sms", language="en")
        repository = bootstrap.container().live_connections
        repository.add(LiveConnection("ClosedLongAgo00=", "calgary-cfn", "amal", Role.WORKER, OPEN), OPEN + timedelta(hours=2))
        assert [c.connection_id for c in repository.of_staff("calgary-cfn", "amal", OPEN)] == ["ClosedLongAgo00="]
        r = inbound(http.client, sms_form("+15875550124", "+15873550101", "Hello?"))
        assert r.status_code == 200 and client["client_id"]
        delivered()
        assert repository.of_staff("calgary-cfn", "amal", OPEN) == []


def test_a_ticket_opens_one_socket_once_and_nothing_else_opens_one(http, agency, stand_in):
    from websockets.exceptions import InvalidStatus

    with time_machine.travel(OPEN, tick=True):
        r = http.call("POST", "/live/tickets", agency["amal"])
        url = f"{r.json['url']}/?ticket={r.json['ticket']}"
        with connect(url):
            pass
        for refused in (url, f"{r.json['url']}/?ticket=made-up", f"{r.json['url']}/"):
            with pytest.raises(InvalidStatus) as err:
                connect(refused)
            assert err.value.response.status_code == 401
    assert http.call("POST", "/live/tickets", None).status_code == 401  # no token, no ticket


def test_a_ticket_expires_after_a_minute(http, agency, stand_in):
    from websockets.exceptions import InvalidStatus

    with time_machine.travel(OPEN, tick=False) as traveller:
        r = http.call("POST", "/live/tickets", agency["amal"])
        traveller.shift(timedelta(seconds=61))
        with pytest.raises(InvalidStatus) as err:
            connect(f"{r.json['url']}/?ticket={r.json['ticket']}")
        assert err.value.response.status_code == 401


def test_without_a_websocket_api_the_ticket_route_says_so(http, agency):
    r = http.call("POST", "/live/tickets", agency["amal"])
    assert r.status_code == 404 and r.json["error"]["code"] == "live_unavailable"
