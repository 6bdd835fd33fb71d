"""CMDM's HTTP edge: Twilio webhooks, the staff API and the scheduled jobs.

This module creates the Chalice app, registers the blueprints of ``chalicelib/api/`` (one per area;
``edge`` holds what every view shares) and the console's, and the HTTP middleware that answers every
error in the documented shape, never cached and never sniffed. Importing it builds nothing:
``bootstrap.container()`` wires storage and Twilio on the first request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.api import live as live_edge
from chalicelib.api.admin import admin
from chalicelib.api.alerts import alerts
from chalicelib.api.casework import casework
from chalicelib.api.clients import clients
from chalicelib.api.edge import (  # noqa: F401  (re-exported: the tests and tools import them from app)
    STAFF_AUTHORIZER,
    created,
    edge,
    error_response,
    handled,
    json_body,
    principal,
)
from chalicelib.api.jobs import (  # noqa: F401  (re-exported: the jobs' Lambda handlers are app.<name>)
    JOBS,
    clear_refused_at_twilio,
    copy_media,
    erase_expired,
    followup_worker,
    jobs,
    post_worker,
    roll_up_reports,
    run_followups,
    run_job,
    send_posts,
    sweep_clocks,
)
from chalicelib.api.supervision import supervision
from chalicelib.api.voice import voice
from chalicelib.api.webhooks import webhooks
from chalicelib.console import console
from chalicelib.log_privacy import quiet_payload_loggers
from chalicelib.snapstart import at_init

app = Chalice(app_name="cmdm")
app.experimental_feature_flags.update(["WEBSOCKETS"])  # live updates (issue 23): API Gateway WebSocket API
app.log.setLevel(logging.INFO)
quiet_payload_loggers()  # SPEC §5.7: no library may print a client's number or a body, even at DEBUG
log = logging.getLogger("cmdm")

# The edge first: its catch-all routes, and every view's ``edge.current_request``.
for _blueprint in (edge, admin, clients, casework, alerts, webhooks, voice, supervision, jobs, live_edge.live, console):
    app.register_blueprint(_blueprint)

live_worker = live_edge.live_worker  # the live-updates queue's Lambda handler is app.live_worker


# --- live updates (issue 23): Chalice runs WebSocket handlers only when the app declares them ------

@app.on_ws_connect()
def live_connect(event: Any) -> dict[str, Any]:
    return live_edge.connect(event)


@app.on_ws_message()
def live_message(event: Any) -> dict[str, Any]:
    return live_edge.message(event)


@app.on_ws_disconnect()
def live_disconnect(event: Any) -> dict[str, Any]:
    return live_edge.disconnect(event)


# --- errors Chalice answers itself ----------------------------------------------------------------

# Chalice refuses some requests before a view runs (415 for a body that is not the route's content
# type, 405 for a method the path lacks) and answers them {"Code", "Message"}, quoting a request
# header. Rewritten here into the documented shape with fixed texts.
CHALICE_ERRORS = {
    "UnsupportedMediaType": ("unsupported_media_type", "send a JSON body with Content-Type: application/json "
                             "(Twilio's webhooks: application/x-www-form-urlencoded)"),
    "MethodNotAllowedError": ("method_not_allowed", "this path does not take that method"),
    "BadRequestError": ("bad_request", "the request could not be read"),
    "BadRequest": ("bad_request", "the request could not be read"),
    "NotFoundError": ("not_found", "not found"),
    "UnauthorizedError": ("unauthenticated", "missing, invalid or expired token"),
    "ForbiddenError": ("forbidden", "access denied"),
    "ConflictError": ("conflict", "conflict"),
    "TooManyRequestsError": ("too_many_requests", "too many requests; please retry later"),
}


def documented_error(response: Response) -> Response:
    """``response`` itself, or Chalice's own error answer in our shape (never its message text)."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "error" in body or "Code" not in body:
        return response
    code, message = CHALICE_ERRORS.get(str(body.get("Code")), ("internal" if response.status_code >= 500 else
                                                                "refused", "the request was refused"))
    if response.status_code >= 500:
        message = "internal error, nothing was lost; please retry"
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    return Response(body={"error": {"code": code, "message": message}}, status_code=response.status_code,
                    headers=headers)


# Every answer holds (or may hold) personal information: no browser or proxy keeps a copy, and no
# browser second-guesses the content type (SPEC §4.3). A view may state its own caching policy (the
# console's static shell files do); nosniff is never optional.
NO_STORE = "no-store"
NOSNIFF = "nosniff"


def never_cached(response: Response) -> Response:
    """``response`` with ``Cache-Control: no-store`` (unless it states a policy) and ``nosniff``."""
    headers = {k: v for k, v in (response.headers or {}).items() if k.lower() != "x-content-type-options"}
    if not any(k.lower() == "cache-control" for k in headers):
        headers["Cache-Control"] = NO_STORE
    headers["X-Content-Type-Options"] = NOSNIFF
    response.headers = headers
    return response


@app.middleware("http")
def errors_in_the_documented_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every HTTP answer (views, webhooks, the console, Chalice's own refusals, a 500): documented
    errors, never cached, never sniffed."""
    try:
        return never_cached(documented_error(get_response(event)))
    except Exception as err:  # what escaped a view: Chalice would answer with its own shape
        log.error("unhandled error outside a view: %s", type(err).__name__)
        return never_cached(Response(
            body={"error": {"code": "internal", "message": "internal error, nothing was lost; please retry"}},
            status_code=500, headers={"Content-Type": "application/json"}))


# Lambda's init phase (and nothing outside Lambda): what the first event needs, built now; SnapStart hooks.
at_init()
