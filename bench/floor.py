"""The floor a webhook cannot go below: check Twilio's signature, then one conditional put.

Any handler that promises "filed once" must at least authenticate the request and make one
conditional write. ``make bench`` divides CMDM's inbound figures by this handler's, measured in the
same run against the same moto tables, so the ratios say what CMDM's rules cost on top of the floor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from chalice import Chalice, Response

floor = Chalice(app_name="cmdm-floor")
PATH = "/webhooks/twilio/messages"
_validator: Any = None


def configure(token: str, public_url: str) -> None:
    global _validator, _url
    from twilio.request_validator import RequestValidator

    _validator = RequestValidator(token)
    _url = public_url + PATH


_url = ""


@floor.route(PATH, methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def message() -> Response:
    from chalicelib.adapters import models as m

    request = floor.current_request
    form = dict(parse_qsl((request.raw_body or b"").decode("utf-8"), keep_blank_values=True))
    if not _validator.validate(_url, form, request.headers.get("x-twilio-signature", "")):
        return Response(body="", status_code=403)
    now = datetime.now(UTC)
    m.ClaimModel(claim_key=f"floor#{form['MessageSid']}", created_at=now, expires_at=now + timedelta(days=1)).save(
        condition=m.ClaimModel.claim_key.does_not_exist()
    )
    return Response(body="<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />", status_code=200,
                    headers={"Content-Type": "text/xml"})
