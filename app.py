"""CMDM's HTTP edge: Twilio webhooks, the staff API and the scheduled jobs.

Each route parses the request, identifies the caller, calls one service and shapes the answer.
Domain errors become HTTP statuses here and nowhere else. Importing this module builds nothing:
``bootstrap.container()`` wires storage and Twilio on the first request.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    SignatureInvalid,
    Unauthenticated,
    Unprocessable,
)
from chalicelib.log_privacy import quiet_payload_loggers

app = Chalice(app_name="cmdm")
app.log.setLevel(logging.INFO)
quiet_payload_loggers()  # SPEC §5.7: no library may print a client's number or a body, even at DEBUG
log = logging.getLogger("cmdm")

MAX_JSON_BYTES = 64 * 1024

# Scheduled jobs by name, so `make run`'s timer and the tests can run them in-process.
JOBS: dict[str, Callable[[], Any]] = {}

STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (SignatureInvalid, 403),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
)


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


def _staff_authorizer() -> CognitoUserPoolAuthorizer | None:
    """In the aws stage API Gateway checks Cognito ID tokens before the Lambda runs (SPEC §4.3).

    Reads only the environment (no AWS call). Locally and in tests, tokens are checked in code.
    """
    pool_arn = os.environ.get("CMDM_COGNITO_POOL_ARN")
    if os.environ.get("CMDM_STAGE") != "aws" or not pool_arn:
        return None
    return CognitoUserPoolAuthorizer("cmdm-staff", provider_arns=[pool_arn])


STAFF_AUTHORIZER = _staff_authorizer()


def staff_route(path: str, methods: list[str]) -> Callable[[Callable[..., Any]], Any]:
    """A staff API route: JSON in and out, behind the Cognito authorizer in AWS."""
    if STAFF_AUTHORIZER is None:
        return app.route(path, methods=methods)
    return app.route(path, methods=methods, authorizer=STAFF_AUTHORIZER)


def error_response(err: DomainError) -> Response:
    status = 413 if isinstance(err, PayloadTooLarge) else 400
    for cls, code in STATUS_BY_ERROR:
        if isinstance(err, cls):
            status = code
            break
    body: dict[str, Any] = {"code": err.code, "message": err.message}
    if isinstance(err, InvalidInput):
        body["field"] = err.field
    return Response(body={"error": body}, status_code=status, headers={"Content-Type": "application/json"})


def handled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain errors into JSON errors; an unexpected failure is logged without any content."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as err:
            return error_response(err)
        except Exception as err:  # the last line of defence: never leak a body or a number
            log.error("unhandled error in %s: %s", view.__name__, type(err).__name__)
            return Response(
                body={"error": {"code": "internal", "message": "internal error, nothing was lost; please retry"}},
                status_code=500,
                headers={"Content-Type": "application/json"},
            )

    return wrapper


def json_body() -> Any:
    raw = app.current_request.raw_body or b""
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"request body larger than {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body", "is not valid UTF-8 JSON") from None
    except RecursionError:  # absurdly deep nesting: refuse it rather than crash the parser
        raise InvalidInput("body", "is nested too deeply") from None


def principal(*, founding_staff_id: str | None = None) -> Any:
    """The caller as their staff record says; 401 without a valid token, 403 without a record."""
    request = app.current_request
    container = bootstrap.container()
    claimed = container.verifier.principal(request.headers, request.context)
    return container.authority.authorise(claimed, founding_staff_id=founding_staff_id)


def created(body: Any) -> Response:
    return Response(body=body, status_code=201, headers={"Content-Type": "application/json"})


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


# A path no route has: Chalice's local gateway (``make run``, the tests) and API Gateway would answer
# 403 "Missing Authentication Token", or, with an Authorization header, a message quoting the
# bearer token. These catch-all routes (up to ``UNKNOWN_ROUTE_DEPTH`` segments, deeper than any real
# route) answer 404 in our shape instead; in AWS the gateway responses in infra/resources.yaml
# cover whatever API Gateway refuses before a route is matched.
UNKNOWN_ROUTE_DEPTH = 12
UNKNOWN_ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def unknown_route(**_segments: str) -> Response:
    return error_response(NotFound("no such route or method; see the staff API table in the README",
                                   code="no_such_route"))


for _depth in range(UNKNOWN_ROUTE_DEPTH + 1):
    _path = "/" + "/".join(f"{{unknown{i}}}" for i in range(_depth))
    app.route(_path, methods=UNKNOWN_ROUTE_METHODS, content_types=["*/*"])(unknown_route)


# --- administration ----------------------------------------------------------------------------


@staff_route("/staff/{staff_id}", ["PUT"])
@handled
def put_staff(staff_id: str) -> Any:
    from chalicelib.services.admin import PutStaff, staff_view

    who = principal(founding_staff_id=unquote(staff_id))
    staff, is_new = bootstrap.container().admin.put_staff(who, PutStaff.parse(unquote(staff_id), json_body()))
    view = staff_view(staff, for_admin=True)  # only an admin may put a staff record
    return created(view) if is_new else view


@staff_route("/numbers/{number}", ["PUT"])
@handled
def put_number(number: str) -> Any:
    from chalicelib.services.admin import PutNumber, number_view

    who = principal()
    result = bootstrap.container().admin.put_number(who, PutNumber.parse(unquote(number), json_body()))
    return number_view(result)


# --- client files ------------------------------------------------------------------------------


def _zone(agency_id: str) -> Any:
    return bootstrap.container().policies.get(agency_id).calendar.zone()


@staff_route("/clients", ["POST"])
@handled
def create_client() -> Any:
    from chalicelib.services.clients import CreateClient
    from chalicelib.views import client_view

    who = principal()
    client = bootstrap.container().clients.create(who, CreateClient.parse(json_body()))
    return created(client_view(client, _zone(client.agency_id)))


@staff_route("/clients", ["GET"])
@handled
def list_clients() -> Any:
    from chalicelib.views import client_view

    who = principal()
    params = app.current_request.query_params or {}
    found = bootstrap.container().clients.caseload_with_inquiries(who, params.get("staff_id"))
    zone = _zone(who.agency_id)
    return {"clients": [client_view(c, zone, inquiry) for c, inquiry in found]}


@staff_route("/clients/{client_id}", ["GET"])
@handled
def get_client(client_id: str) -> Any:
    from chalicelib.views import client_view

    who = principal()
    c = bootstrap.container()
    client, inquiry = c.clients.get(who, client_id)
    view = client_view(client, _zone(client.agency_id), inquiry)
    view["absences"] = c.absences.covering_file(client.agency_id, client.case_manager_id)
    return view


@staff_route("/clients/{client_id}/consent", ["PUT"])
@handled
def put_consent(client_id: str) -> Any:
    from chalicelib.services.clients import GiveConsent
    from chalicelib.views import client_view

    who = principal()
    client = bootstrap.container().clients.give_consent(who, client_id, GiveConsent.parse(json_body()))
    return client_view(client, _zone(client.agency_id))


@staff_route("/clients/{client_id}/consent", ["DELETE"])
@handled
def delete_consent(client_id: str) -> Any:
    from chalicelib.services.clients import WithdrawConsent
    from chalicelib.views import client_view

    who = principal()
    client = bootstrap.container().clients.withdraw_consent(who, client_id, WithdrawConsent.parse(json_body()))
    return client_view(client, _zone(client.agency_id))


# --- Twilio webhooks and the messages of a file ---------------------------------------------

MAX_FORM_BYTES = 64 * 1024
FORM = ["application/x-www-form-urlencoded"]


def twilio_form(path: str) -> dict[str, str]:
    """The webhook's form, once Twilio's signature over every received field checks out.

    Twilio signs ``CMDM_PUBLIC_URL`` + path plus all POSTed fields (it adds fields without notice,
    so nothing is filtered before the check). Anything unsigned or mis-signed is refused with 403
    before a single field is read.
    """
    from urllib.parse import parse_qsl

    request = app.current_request
    raw = request.raw_body or b""  # Chalice has already undone API Gateway's base64
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"request body larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body", "is not a valid UTF-8 form") from None
    form = dict(pairs)
    signature = request.headers.get("x-twilio-signature", "")
    container = bootstrap.container()
    url = container.settings.public_url + path
    if not signature or not container.request_validator.validate(url, form, signature):
        raise SignatureInvalid("the X-Twilio-Signature header does not match this request")
    return form


def twiml(reply: str | None, outcome: Any = None) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if reply:
        response.message(reply)
    headers = {"Content-Type": "text/xml"}
    if outcome is not None:  # what happened, for the simulator and operators: no content, no number
        headers["X-CMDM-Outcome"] = outcome.label
        if outcome.refusal:
            headers["X-CMDM-Reason"] = outcome.refusal
    return Response(body=str(response), status_code=200, headers=headers)


@app.route("/webhooks/twilio/messages", methods=["POST"], content_types=FORM)
@handled
def twilio_message() -> Any:
    from chalicelib.services.inbound import InboundForm

    form = InboundForm.parse(twilio_form("/webhooks/twilio/messages"))
    outcome = bootstrap.container().inbound.receive(form)
    return twiml(outcome.reply, outcome)


@app.route("/webhooks/twilio/status", methods=["POST"], content_types=FORM)
@handled
def twilio_status() -> Any:
    from chalicelib.services.inbound import StatusForm

    form = StatusForm.parse(twilio_form("/webhooks/twilio/status"))
    bootstrap.container().inbound.delivery_status(form)
    return twiml(None)


@staff_route("/clients/{client_id}/messages", ["GET"])
@handled
def get_messages(client_id: str) -> Any:
    from chalicelib.views import message_view

    who = principal()
    container = bootstrap.container()
    client, messages = container.clients.messages(who, client_id)
    zone = _zone(client.agency_id)
    link = container.media_bucket.link
    return {"messages": [message_view(msg, zone, link) for msg in messages]}


def copy_media_job() -> int:
    return bootstrap.container().media.copy_due()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def copy_media(event: Any) -> None:
    """Copies new client media from Twilio into the agency bucket and deletes Twilio's copy."""
    copy_media_job()

# --- staff messages and boundaries -------------------------------------------------------------


@staff_route("/clients/{client_id}/messages", ["POST"])
@handled
def post_staff_message(client_id: str) -> Any:
    from chalicelib.services.messaging import SendStaffMessage, send_view

    who = principal()
    command = SendStaffMessage.parse(json_body(), app.current_request.headers.get("idempotency-key"))
    outcome = bootstrap.container().messaging.send(who, unquote(client_id), command)
    body = send_view(outcome, _zone(outcome.message.agency_id))
    status = 202 if outcome.status == "held" else 201
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@staff_route("/clients/{client_id}/uploads", ["POST"])
@handled
def post_upload(client_id: str) -> Any:
    """A presigned POST for one attachment: the browser sends the file straight to the media bucket."""
    from chalicelib.services.messaging import RequestUpload

    who = principal()
    return created(bootstrap.container().messaging.upload(who, unquote(client_id), RequestUpload.parse(json_body())))


@staff_route("/clients/{client_id}/messages/{message_id}", ["DELETE"])
@handled
def cancel_held_message(client_id: str, message_id: str) -> Any:
    from chalicelib.services.messaging import cancelled_view

    who = principal()
    message = bootstrap.container().messaging.cancel(who, unquote(client_id), unquote(message_id))
    return cancelled_view(message, _zone(message.agency_id))


@staff_route("/clients/{client_id}/compose", ["GET"])
@handled
def compose_preview(client_id: str) -> Any:
    """What a message written now would do (sent now, or held until the next opening; WhatsApp's
    template outside its window), from the server's rules: the console shows it before Send."""
    from chalicelib.services.messaging import compose_view

    client_id = unquote(client_id)
    who = principal()
    language = (app.current_request.query_params or {}).get("lang", "en")
    preview = bootstrap.container().messaging.compose(who, client_id, language if language in ("en", "fr") else "en")
    return compose_view(preview, _zone(preview.client.agency_id))


@staff_route("/inquiries", ["GET"])
@handled
def list_inquiries() -> Any:
    from chalicelib.views import inquiry_view

    who = principal()
    params = app.current_request.query_params or {}
    if params.get("from") or params.get("to"):  # the inquiries behind a dashboard figure (issue 15)
        found = bootstrap.container().supervision.inquiries_in_period(who, params)
    else:
        found = bootstrap.container().messaging.inquiries(who, params.get("status", "open"))
    zone = _zone(who.agency_id)
    return {"inquiries": [inquiry_view(i, zone) for i in found]}


@staff_route("/notifications", ["GET"])
@handled
def list_notifications() -> Any:
    from chalicelib.services.messaging import notification_view

    who = principal()
    params = app.current_request.query_params or {}
    unread = params.get("unread", "").lower() in ("1", "true", "yes")
    found = bootstrap.container().messaging.notifications(who, unread_only=unread)
    zone = _zone(who.agency_id)
    # ``unread``: how many of them are unread, for the console's badge
    return {"notifications": [notification_view(n, zone) for n in found], "unread": sum(1 for n in found if not n.read)}


@staff_route("/notifications/{notification_id}/read", ["PUT"])
@handled
def read_notification(notification_id: str) -> Any:
    from chalicelib.services.messaging import notification_view

    who = principal()
    note = bootstrap.container().messaging.mark_read(who, unquote(notification_id))
    return notification_view(note, _zone(who.agency_id))


@staff_route("/staff/{staff_id}/absences/{absence_id}", ["DELETE"])
@handled
def delete_absence(staff_id: str, absence_id: str) -> Any:
    who = principal()
    bootstrap.container().absences.remove(who, unquote(staff_id), unquote(absence_id))
    return {"staff_id": unquote(staff_id), "absence_id": unquote(absence_id), "removed": True}


@staff_route("/staff/{staff_id}/absences/{absence_id}", ["PUT"])
@handled
def put_absence(staff_id: str, absence_id: str) -> Any:
    from chalicelib.services.absences import PutAbsence, absence_view

    who = principal()
    staff_id = unquote(staff_id)
    command = PutAbsence.parse(unquote(absence_id), json_body())
    absence, is_new = bootstrap.container().absences.put(who, staff_id, command)
    return created(absence_view(staff_id, absence)) if is_new else absence_view(staff_id, absence)

# --- follow-ups and conduct -----------------------------------------------------------------------


@staff_route("/followups", ["GET"])
@handled
def list_followups() -> Any:
    from chalicelib.services.followups import ListFollowups

    who = principal()
    query = ListFollowups.parse(app.current_request.query_params)
    return {"followups": bootstrap.container().followups.list(who, query)}


@staff_route("/clients/{client_id}/warnings", ["POST"])
@handled
def warn_client(client_id: str) -> Any:
    from chalicelib.services.conduct import Warn
    from chalicelib.views import client_view

    who = principal()
    client = bootstrap.container().conduct.warn(who, client_id, Warn.parse(json_body()))
    return created(client_view(client, _zone(client.agency_id)))


@staff_route("/clients/{client_id}/status", ["PUT"])
@handled
def put_client_status(client_id: str) -> Any:
    from chalicelib.services.conduct import ChangeStatus
    from chalicelib.views import client_view

    who = principal()
    client = bootstrap.container().conduct.change_status(who, client_id, ChangeStatus.parse(json_body()))
    return client_view(client, _zone(client.agency_id))


# --- supervision and data rights (issue 6) -------------------------------------------------------


def _report(kind: str, body: dict[str, Any]) -> Any:
    """JSON, or CSV when the caller asks for it with ``Accept: text/csv``."""
    from chalicelib.services.reports import to_csv

    accept = (app.current_request.headers or {}).get("accept") or ""
    if "text/csv" not in accept.lower():
        return body
    headers = {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{kind}.csv"'}
    if body.get("next"):  # a paged audit trail: the cursor of the next page travels in a header
        headers["X-Next-After"] = body["next"]
    return Response(body=to_csv(kind, body), status_code=200, headers=headers)


@staff_route("/audit", ["GET"])
@handled
def get_audit() -> Any:
    who = principal()
    return _report("audit", bootstrap.container().reports.audit(who, app.current_request.query_params))


@staff_route("/reports/compliance", ["GET"])
@handled
def get_compliance_report() -> Any:
    who = principal()
    return _report("compliance", bootstrap.container().reports.compliance(who, app.current_request.query_params))


@staff_route("/reports/usage", ["GET"])
@handled
def get_usage_report() -> Any:
    who = principal()
    return _report("usage", bootstrap.container().reports.usage(who, app.current_request.query_params))


@staff_route("/clients/{client_id}/referrals", ["POST"])
@handled
def post_referral(client_id: str) -> Any:
    from chalicelib.services.referrals import RecordReferral
    from chalicelib.views import referral_view

    who = principal()
    client, referral = bootstrap.container().referrals.record(who, unquote(client_id), RecordReferral.parse(json_body()))
    return created({"client_id": client.client_id, **referral_view(referral, _zone(client.agency_id))})


# --- information posts (issue 16, SPEC §5.8) ----------------------------------------------------


@staff_route("/posts", ["POST"])
@handled
def create_post() -> Any:
    from chalicelib.services.posts import CreatePost, post_view

    who = principal()
    post = bootstrap.container().posts.create(who, CreatePost.parse(json_body()))
    return Response(body=post_view(post, _zone(who.agency_id)), status_code=202,
                    headers={"Content-Type": "application/json"})


@staff_route("/posts/{post_id}", ["GET"])
@handled
def get_post(post_id: str) -> Any:
    from chalicelib.services.posts import post_view

    who = principal()
    return post_view(bootstrap.container().posts.get(who, unquote(post_id)), _zone(who.agency_id))


@staff_route("/clients/{client_id}/export", ["GET"])
@handled
def export_client(client_id: str) -> Any:
    who = principal()
    return bootstrap.container().data_rights.export(who, client_id)


@staff_route("/clients/{client_id}", ["DELETE"])
@handled
def erase_client(client_id: str) -> Any:
    who = principal()
    return bootstrap.container().data_rights.erase(who, client_id)


# --- the supervisor's and administrator's console (issue 15) --------------------------------------


@staff_route("/reports/dashboard", ["GET"])
@handled
def get_dashboard() -> Any:
    """The compliance figures per worker with the links behind them, and the charts' series."""
    who = principal()
    return bootstrap.container().supervision.dashboard(who, app.current_request.query_params)


@staff_route("/reviews", ["GET"])
@handled
def list_reviews() -> Any:
    """Overrides and breaches of a period, each with whether (and by whom) it was reviewed."""
    who = principal()
    return bootstrap.container().supervision.reviews(who, app.current_request.query_params)


@staff_route("/reviews/{review_id}", ["PUT"])
@handled
def put_review(review_id: str) -> Any:
    from chalicelib.services.supervision import Review

    who = principal()
    return bootstrap.container().supervision.review(who, unquote(review_id), Review.parse(json_body()))


@staff_route("/staff", ["GET"])
@handled
def list_staff() -> Any:
    who = principal()
    return bootstrap.container().supervision.staff(who)


@staff_route("/numbers", ["GET"])
@handled
def list_numbers() -> Any:
    who = principal()
    return bootstrap.container().supervision.numbers(who)


@staff_route("/numbers/{number}/reassignment", ["GET"])
@handled
def preview_reassignment(number: str) -> Any:
    """What PUT /numbers/{number} would move, before it happens."""
    who = principal()
    params = app.current_request.query_params or {}
    return bootstrap.container().supervision.reassignment_preview(who, unquote(number), params)


@staff_route("/policy", ["GET"])
@handled
def get_policy() -> Any:
    """The agency policy as a client would read it now (read-only)."""
    who = principal()
    return bootstrap.container().supervision.policy_view(who)


# --- scheduled jobs ----------------------------------------------------------------------------

def run_job(name: str) -> Any:
    """Run a scheduled job in-process: ``make run``'s timer and the tests use this.

    Each feature registers its job in ``JOBS`` next to its ``@app.schedule`` function.
    """
    return JOBS[name]()


JOBS["copy_media"] = copy_media_job


def clear_refused_at_twilio_job() -> dict[str, int]:
    return bootstrap.container().twilio_cleanup.run()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def clear_refused_at_twilio(event: Any) -> None:
    """Deletes the media and redacts the body, at Twilio, of every message CMDM refused."""
    clear_refused_at_twilio_job()


JOBS["clear_refused_at_twilio"] = clear_refused_at_twilio_job


def run_sweep_clocks(budget_seconds: float | None = None) -> Any:
    """Send held messages whose time came; record breaches once and escalate them (SPEC §4.4)."""
    from chalicelib.adapters.metrics import record_breaches

    summary = bootstrap.container().sweep.run(budget_seconds=budget_seconds)
    record_breaches(int(summary.get("breached", 0)))  # the CloudWatch alarm on clock breaches reads this
    return summary


@app.schedule(Rate(5, unit=Rate.MINUTES))
def sweep_clocks(event: Any) -> Any:
    # Stop sending a few seconds before Lambda's timeout; what is left stays due for the next run.
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return run_sweep_clocks(max(1.0, remaining() / 1000 - 8) if callable(remaining) else None)


JOBS["sweep_clocks"] = run_sweep_clocks


# Follow-ups, check-ins and surveys (issue 5): every 15 minutes, in UTC; local time is worked out in
# code. With CMDM_FOLLOWUP_QUEUE_URL set (or a queue name in the aws stage) the run only queues
# batches of due clients and ``followup_worker`` handles them; otherwise it handles them inline.
FOLLOWUP_QUEUE = os.environ.get("CMDM_FOLLOWUP_QUEUE", "cmdm-local-followups")


def followups_job() -> dict[str, int]:
    summary = bootstrap.container().followups.run()
    log.info("run_followups: %s", summary)  # counts only: no numbers, no bodies
    return summary


@app.schedule(Rate(15, unit=Rate.MINUTES))
def run_followups(event: Any) -> dict[str, int]:
    return followups_job()


@app.on_sqs_message(queue=FOLLOWUP_QUEUE, batch_size=1)
def followup_worker(event: Any) -> dict[str, int]:
    """One queued batch of due clients of one agency (the same code as the inline run)."""
    totals = _process_queued(event, bootstrap.container().followups.process_batch)
    log.info("followup_worker: %s", totals)
    return totals


def _process_queued(event: Any, process: Callable[[Any], dict[str, int]]) -> dict[str, int]:
    """Each SQS record's JSON body through ``process`` (``None`` for a body that is not JSON), counts summed."""
    totals: dict[str, int] = {}
    for record in event:
        try:
            body = json.loads(record.body)
        except (TypeError, ValueError):
            body = None
        for key, count in process(body).items():
            totals[key] = totals.get(key, 0) + count
    return totals


JOBS["run_followups"] = followups_job


def _erase_expired_files() -> Any:
    summary = bootstrap.container().data_rights.erase_expired()
    return summary if any(summary.values()) else None  # the local job loop prints only news


@app.schedule(Rate(1, unit=Rate.DAYS))
def erase_expired(event: Any) -> Any:
    """Daily: erase closed files whose retention period (policy ``retention.closed_files``) has run out."""
    return _erase_expired_files()


JOBS["erase_expired"] = _erase_expired_files


def _roll_up_reports() -> Any:
    summary = bootstrap.container().rollup.run()
    return summary if any(summary.values()) else None  # days, compliance_days, deferred


@app.schedule(Rate(1, unit=Rate.HOURS))
def roll_up_reports(event: Any) -> Any:
    """Hourly: roll the days that are over up into the report counters (one item per agency and day)."""
    return _roll_up_reports()


JOBS["roll_up_reports"] = _roll_up_reports


# Information posts (issue 16): every minute the due posts are handed out, to the posts queue when
# one is configured (``post_worker`` sends each batch), else inline.
POSTS_QUEUE = os.environ.get("CMDM_POSTS_QUEUE", "cmdm-local-posts")


def _send_posts() -> Any:
    summary = bootstrap.container().posts.run()
    return summary or None


@app.schedule(Rate(1, unit=Rate.MINUTES))
def send_posts(event: Any) -> Any:
    return _send_posts()


@app.on_sqs_message(queue=POSTS_QUEUE, batch_size=1)
def post_worker(event: Any) -> dict[str, int]:
    """One queued batch of a post's recipients (the same code as the inline path)."""
    totals = _process_queued(event, bootstrap.container().posts.process_batch)
    log.info("post_worker: %s", totals)  # counts only
    return totals


JOBS["send_posts"] = _send_posts


# --- the staff console (issue 14, SPEC §4.6): static files from chalicelib/web/ ---------------------

from chalicelib.console import console as _console  # noqa: E402  (a blueprint: reads nothing at import)

app.register_blueprint(_console)


def _console_service() -> Any:
    from chalicelib.services.console import ConsoleService

    c = bootstrap.container()
    return ConsoleService(c.staff, c.policies, c.settings)


@staff_route("/me", ["GET"])
@handled
def get_me() -> Any:
    """The caller's staff record: the console shows the pages of the role the agency gave them."""
    return _console_service().me(principal())


@staff_route("/inbox", ["GET"])
@handled
def get_inbox() -> Any:
    """Clients waiting for an answer, soonest due first, with their clocks (one Query per case manager)."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.services.inbox import InboxService, inbox_view

    who = principal()
    c = bootstrap.container()
    now = utcnow()
    items, names = InboxService(c.uow().clients.waiting, c.absences, c.policies).inbox(who, now)
    return inbox_view(items, names, who, now, _zone(who.agency_id))


@app.route("/dev/staff", methods=["GET"])
@handled
def dev_staff() -> Any:
    """``local``/``test`` only: the seeded staff, for the console's sign-in page (404 in aws)."""
    return {"agencies": _console_service().sign_in_list()}


@app.route("/dev/tokens", methods=["POST"])
@handled
def dev_token() -> Any:
    """``local``/``test`` only: a token for one seeded staff member (404 in aws)."""
    from chalicelib.services.console import DevSignIn

    return created(_console_service().dev_token(DevSignIn.parse(json_body())))
