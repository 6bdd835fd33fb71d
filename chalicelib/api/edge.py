"""What every view shares: one decorator for routing, authentication and errors; the caller; JSON.

``endpoint`` registers a view on its blueprint (behind the Cognito authorizer in AWS for the staff
API), URL-decodes its path ids, identifies the caller (passed as ``who``) and turns domain errors
into HTTP statuses, here and nowhere else. Importing this module builds nothing:
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

from chalice import Blueprint, CognitoUserPoolAuthorizer, Response

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

log = logging.getLogger("cmdm")

# The request of the moment, whichever blueprint's view runs: app.py registers this blueprint first.
edge = Blueprint(__name__)

MAX_JSON_BYTES = 64 * 1024

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


def request() -> Any:
    return edge.current_request


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


def endpoint(bp: Blueprint, path: str, methods: list[str], *, staff: bool = True,
             content_types: list[str] | None = None,
             founding: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """A route of ``bp``: path ids URL-decoded, domain errors answered in the documented shape.

    ``staff`` (the staff API): JSON in and out, behind the Cognito authorizer in AWS, and the view
    gets the caller first (``who``). ``founding`` names the path id that may be the agency's first
    staff member (``PUT /staff/{staff_id}``). Otherwise (webhooks, the local sign-in) no caller.
    """
    options: dict[str, Any] = {"methods": methods}
    if content_types is not None:
        options["content_types"] = content_types
    if staff and STAFF_AUTHORIZER is not None:
        options["authorizer"] = STAFF_AUTHORIZER

    def decorate(view: Callable[..., Any]) -> Any:
        @functools.wraps(view)
        def run(**ids: str) -> Any:
            ids = {name: unquote(value) for name, value in ids.items()}
            if not staff:
                return view(**ids)
            who = principal(founding_staff_id=ids[founding] if founding else None)
            return view(who, **ids)

        return bp.route(path, **options)(handled(run))

    return decorate


def json_body() -> Any:
    raw = request().raw_body or b""
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


def query() -> dict[str, str]:
    return request().query_params or {}


def principal(*, founding_staff_id: str | None = None) -> Any:
    """The caller as their staff record says; 401 without a valid token, 403 without a record."""
    current = request()
    container = bootstrap.container()
    claimed = container.verifier.principal(current.headers, current.context)
    return container.authority.authorise(claimed, founding_staff_id=founding_staff_id)


def created(body: Any) -> Response:
    return Response(body=body, status_code=201, headers={"Content-Type": "application/json"})


def zone(agency_id: str) -> Any:
    return bootstrap.container().policies.get(agency_id).calendar.zone()


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
    edge.route(_path, methods=UNKNOWN_ROUTE_METHODS, content_types=["*/*"])(unknown_route)
