"""Twilio's webhooks: an inbound message (answered in TwiML) and a delivery status."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.edge import PayloadTooLarge, endpoint, request
from chalicelib.domain.errors import InvalidInput, SignatureInvalid

webhooks = Blueprint(__name__)

MAX_FORM_BYTES = 64 * 1024
FORM = ["application/x-www-form-urlencoded"]


def twilio_form(path: str) -> dict[str, str]:
    """The webhook's form, once Twilio's signature over every received field checks out.

    Twilio signs ``CMDM_PUBLIC_URL`` + path plus all POSTed fields (it adds fields without notice,
    so nothing is filtered before the check). Anything unsigned or mis-signed is refused with 403
    before a single field is read.
    """
    from urllib.parse import parse_qsl

    current = request()
    raw = current.raw_body or b""  # Chalice has already undone API Gateway's base64
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"request body larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body", "is not a valid UTF-8 form") from None
    form = dict(pairs)
    signature = current.headers.get("x-twilio-signature", "")
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


@endpoint(webhooks, "/webhooks/twilio/messages", ["POST"], staff=False, content_types=FORM)
def twilio_message() -> Any:
    from chalicelib.services.inbound import InboundForm

    form = InboundForm.parse(twilio_form("/webhooks/twilio/messages"))
    outcome = bootstrap.container().inbound.receive(form)
    return twiml(outcome.reply, outcome)


@endpoint(webhooks, "/webhooks/twilio/status", ["POST"], staff=False, content_types=FORM)
def twilio_status() -> Any:
    from chalicelib.services.inbound import StatusForm

    form = StatusForm.parse(twilio_form("/webhooks/twilio/status"))
    bootstrap.container().inbound.delivery_status(form)
    return twiml(None)
