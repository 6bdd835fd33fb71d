"""``make run``'s stand-in for API Gateway's WebSocket API, on loopback (issue 23).

Chalice's local server has no WebSockets, and the deployed code posts events through API
Gateway's management API with boto3. This stand-in speaks both sides of the same wire protocol:

- browsers open ``ws://127.0.0.1:<port>/?ticket=...``; each socket gets a connection id and the
  app's own ``$connect``/``$default``/``$disconnect`` handlers run with API Gateway-shaped events
  (``requestContext.connectionId``, ``routeKey``, ``eventType``, ``domainName``, ``stage``,
  ``apiId``; ``queryStringParameters`` on connect). A connect handler's non-2xx status refuses
  the handshake with that status, as API Gateway does;
- the management API on a second port: ``POST /@connections/{id}`` (the raw body becomes one text
  frame), ``GET /@connections/{id}`` (when it connected, its source), ``DELETE /@connections/{id}``
  (closes it); an unknown id is ``410 Gone`` with ``GoneException``, which boto3 raises as
  ``client.exceptions.GoneException``. Requests are not signature-checked.

``CMDM_WS_URL`` and ``CMDM_WS_MANAGEMENT_URL`` point the app at it, so the service calls it through
boto3 exactly as it calls AWS. Nothing here is deployed; the tests start the same stand-in.
Tests may also close every socket and refuse new ones for a while (``drop_all``, ``accepting``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

CONNECTION_PATH = re.compile(r"^(?:/[^@]*)?/@connections/([^/?]+)$")
ID_ALPHABET = string.ascii_letters + string.digits
STAGE = "local"
API_ID = "local"

log = logging.getLogger("cmdm.local")

Handler = Callable[[dict[str, Any], Any], Any]

#: The stand-in ``start_for`` started in this process (``make run``, the browser tests' server).
running: WebSocketStandIn | None = None


def app_handlers(application: Any) -> dict[str, Handler]:
    """The app's WebSocket handlers by route key, as Chalice registered them."""
    return {route: application.handler_map[config.name] for route, config in application.websocket_handlers.items()}


class WebSocketStandIn:
    """The WebSocket server and the management API; ``start()`` returns (ws URL, management URL)."""

    def __init__(self, handlers: dict[str, Handler], host: str = "127.0.0.1") -> None:
        from websockets.sync.server import serve

        self.handlers = handlers
        self.host = host
        self.accepting = True  # tests: False refuses new sockets (503), as a gateway that is down would
        self._sockets: dict[str, Any] = {}
        self._opened: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one frame at a time, whichever thread posts it
        quiet = logging.getLogger("cmdm.ws")
        quiet.setLevel(logging.WARNING)  # not a line per socket in make run's console
        self._ws = serve(self._session, host, 0, process_request=self._handshake, logger=quiet)
        self._http = ThreadingHTTPServer((host, 0), self._management_handler())
        self._http.daemon_threads = True

    # -- addresses -------------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._ws.socket.getsockname()[1]}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self._http.server_address[1]}"

    def start(self) -> tuple[str, str]:
        threading.Thread(target=self._ws.serve_forever, name="cmdm-ws", daemon=True).start()
        threading.Thread(target=self._http.serve_forever, name="cmdm-ws-management", daemon=True).start()
        return self.ws_url, self.management_url

    def stop(self) -> None:
        self.drop_all()
        self._ws.shutdown()
        self._http.shutdown()
        self._http.server_close()

    # -- API Gateway's side ----------------------------------------------------------------------

    def _event(self, route: str, event_type: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "requestContext": {
                "routeKey": route, "eventType": event_type, "connectionId": connection_id,
                "domainName": f"{self.host}:{self._ws.socket.getsockname()[1]}", "stage": STAGE, "apiId": API_ID,
                "requestTimeEpoch": int(now.timestamp() * 1000), "messageDirection": "IN",
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, route: str, event: dict[str, Any]) -> int:
        handler = self.handlers.get(route)
        if handler is None:
            return 200
        try:
            answer = handler(event, None)
        except Exception as err:  # an unhandled error in a Lambda is a 500 at the gateway
            log.error("websocket %s handler failed: %s", route, type(err).__name__)
            return 500
        status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
        return int(status)

    def _handshake(self, connection: Any, request: Any) -> Any:
        if not self.accepting:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "the stand-in refuses sockets for now\n")
        # API Gateway's ids look like "L0SM9cOFvHcCIhw=": letters and digits, and a final "=".
        connection_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(15)) + "="
        connection.cmdm_id = connection_id
        query = dict(parse_qsl(urlsplit(request.path).query))
        headers = {k: v for k, v in request.headers.raw_items() if k.lower() not in ("cookie", "authorization")}
        event = self._event("$connect", "CONNECT", connection_id, queryStringParameters=query or None,
                            headers=headers)
        status = self._invoke("$connect", event)
        if not 200 <= status < 300:
            return connection.respond(HTTPStatus(status), "refused\n")
        # Postable from now on, as API Gateway's are once $connect answered 2xx (the session thread
        # starts only after the handshake's answer has gone).
        with self._lock:
            self._sockets[connection_id] = connection
            self._opened[connection_id] = datetime.now(UTC)
        return None

    def _session(self, connection: Any) -> None:
        connection_id = getattr(connection, "cmdm_id", None)
        if connection_id is None:
            return
        try:
            for frame in connection:
                body = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                self._invoke("$default", self._event("$default", "MESSAGE", connection_id, body=body))
        except Exception:  # the browser went away mid-frame: the same as a close
            pass
        finally:
            with self._lock:
                self._sockets.pop(connection_id, None)
                self._opened.pop(connection_id, None)
            self._invoke("$disconnect", self._event("$disconnect", "DISCONNECT", connection_id))

    # -- what tests may do -----------------------------------------------------------------------

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._sockets)

    def drop_all(self) -> int:
        """Close every open socket (the network went away, or the gateway's two hours ended)."""
        with self._lock:
            sockets = list(self._sockets.values())
        for socket in sockets:
            try:
                socket.close(code=1001, reason="going away")
            except Exception:
                pass
        return len(sockets)

    # -- the management API ----------------------------------------------------------------------

    def _management_handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Management(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                return

            def _answer(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _socket(self) -> tuple[str, Any] | None:
                match = CONNECTION_PATH.match(urlsplit(self.path).path)
                if not match:
                    self._answer(404, {"message": "Not Found"}, "NotFoundException")
                    return None
                connection_id = unquote(match.group(1))
                with stand_in._lock:
                    socket = stand_in._sockets.get(connection_id)
                if socket is None:
                    self._answer(410, {"message": "Gone"}, "GoneException")
                    return None
                return connection_id, socket

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                found = self._socket()
                if found is None:
                    return
                try:
                    with stand_in._send_lock:
                        found[1].send(data.decode("utf-8", "replace"))
                except Exception:  # closed meanwhile (or its handshake never finished): gone
                    with stand_in._lock:
                        stand_in._sockets.pop(found[0], None)
                        stand_in._opened.pop(found[0], None)
                    self._answer(410, {"message": "Gone"}, "GoneException")
                    return
                self._answer(200)

            def do_GET(self) -> None:  # noqa: N802
                found = self._socket()
                if found is None:
                    return
                connection_id, socket = found
                with stand_in._lock:
                    opened = stand_in._opened.get(connection_id) or datetime.now(UTC)
                address = socket.remote_address[0] if socket.remote_address else stand_in.host
                # The wire's names, as API Gateway sends them (boto3 reads them as ConnectedAt, Identity...).
                self._answer(200, {"connectedAt": opened.isoformat(), "lastActiveAt": opened.isoformat(),
                                   "identity": {"sourceIp": address, "userAgent": ""}})

            def do_DELETE(self) -> None:  # noqa: N802
                found = self._socket()
                if found is None:
                    return
                try:
                    found[1].close(code=1000, reason="closed by the service")
                except Exception:
                    pass
                self._answer(204)

        return Management


def start_for(application: Any) -> WebSocketStandIn:
    """The stand-in for ``application`` (the Chalice app), started; sets the environment the
    container reads (``CMDM_WS_URL``, ``CMDM_WS_MANAGEMENT_URL``)."""
    global running
    # Chalice's WebSocket handlers read the Lambda runtime's AWS_REGION before calling ours.
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "ca-central-1"))
    stand_in = WebSocketStandIn(app_handlers(application))
    ws_url, management_url = stand_in.start()
    running = stand_in
    os.environ["CMDM_WS_URL"] = ws_url
    os.environ["CMDM_WS_MANAGEMENT_URL"] = management_url
    return stand_in
