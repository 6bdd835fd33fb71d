"""Live updates' edge (issue 23): the ticket route, the WebSocket handlers' bodies, the queue worker.

Chalice's WebSocket decorators work only on the app itself (a blueprint's handlers would not get
Chalice's ``WebsocketEvent``), so ``app.py`` declares ``on_ws_connect``/``on_ws_message``/
``on_ws_disconnect`` and calls ``connect``/``message``/``disconnect`` here. The blueprint's import
name is ``app`` (as ``api/jobs.py``'s), so ``live_worker``'s Lambda handler is ``app.live_worker``.

A socket opens with ``?ticket=`` from ``POST /live/tickets`` (``services/live.py`` says why a ticket
and not the token); nothing here logs a ticket, a token or a connection's query string.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.edge import created, endpoint
from chalicelib.domain.errors import DomainError

log = logging.getLogger("cmdm")

live = Blueprint("app")

#: The queue ``live_worker`` reads (CMDM_LIVE_QUEUE in the deployed stage's configuration).
LIVE_QUEUE = os.environ.get("CMDM_LIVE_QUEUE", "cmdm-local-live")
#: The queue handlers of this blueprint (each a Lambda function ``app.<name>``).
HANDLERS = ("live_worker",)
REFUSED = {"statusCode": 401, "body": "unauthenticated"}
OK = {"statusCode": 200}


@endpoint(live, "/live/tickets", ["POST"])
def live_ticket(who: Any) -> Any:
    """A one-use ticket (60 s) and the WebSocket URL to open with it."""
    return created(bootstrap.container().live_sockets.ticket(who))


def _raw(event: Any) -> dict[str, Any]:
    raw = event.to_dict() if hasattr(event, "to_dict") else event
    return raw if isinstance(raw, dict) else {}


def connect(event: Any) -> dict[str, Any]:
    """``$connect``: a non-2xx status refuses the socket (API Gateway closes the handshake)."""
    params = _raw(event).get("queryStringParameters") or {}
    ticket = params.get("ticket") if isinstance(params, dict) else None
    try:
        bootstrap.container().live_sockets.connect(ticket if isinstance(ticket, str) else None, event.connection_id)
    except DomainError:
        return REFUSED
    except Exception as err:  # storage trouble: refuse; the console retries with a new ticket
        log.error("live socket not opened: %s", type(err).__name__)
        return {"statusCode": 500}
    return OK


def message(event: Any) -> dict[str, Any]:
    """``$default``: the console's keep-alive (API Gateway closes a socket idle for ten minutes).
    Nothing a browser sends changes anything."""
    try:
        body = json.loads(_raw(event).get("body") or "null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("action") != "ping":
        return {"statusCode": 400}
    return OK


def disconnect(event: Any) -> dict[str, Any]:
    try:
        bootstrap.container().live_sockets.disconnect(event.connection_id)
    except Exception as err:  # TTL removes it anyway
        log.warning("closed live socket not forgotten: %s", type(err).__name__)
    return OK


@live.on_sqs_message(queue=LIVE_QUEUE, batch_size=10)
def live_worker(event: Any) -> dict[str, int]:
    """Changes queued by committing requests, posted to the sockets that may hear of them."""
    from chalicelib.services.live import changes_from_queue

    bodies = []
    for record in event:
        try:
            bodies.append(json.loads(record.body))
        except (TypeError, ValueError):
            continue
    publisher = bootstrap.container().live_publisher
    if publisher is None:
        return {"sent": 0, "gone": 0, "failed": 0}
    summary = publisher.deliver(changes_from_queue(bodies)).summary()
    log.info("live_worker: %s", summary)  # counts only
    return summary
