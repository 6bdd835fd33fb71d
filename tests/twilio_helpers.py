"""Twilio-shaped webhook payloads, signed with the twilio library's own validator.

Field sets follow Twilio's documented inbound-message webhook for SMS and for WhatsApp (the
WhatsApp one carries ``ProfileName``, ``WaId`` and ``whatsapp:`` addresses).
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://cmdm.example.test/api"
ACCOUNT = "AC" + "1" * 32
_counter = itertools.count()


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def sms_form(sender: str, to: str, body: str, **extra: str) -> dict[str, str]:
    sid = extra.pop("MessageSid", new_sid())
    return {
        "ToCountry": "CA", "ToState": "AB", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "CALGARY",
        "FromZip": "", "SmsSid": sid, "FromState": "AB", "SmsStatus": "received", "FromCity": "CALGARY",
        "Body": body, "FromCountry": "CA", "To": to, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
        "AccountSid": ACCOUNT, "From": sender, "ApiVersion": "2010-04-01", **extra,
    }


def whatsapp_form(sender: str, to: str, body: str, **extra: str) -> dict[str, str]:
    sid = extra.pop("MessageSid", new_sid())
    return {
        "SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Fatima", "MessageType": "text",
        "SmsSid": sid, "WaId": sender.lstrip("+"), "SmsStatus": "received", "Body": body,
        "To": f"whatsapp:{to}", "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
        "AccountSid": ACCOUNT, "From": f"whatsapp:{sender}", "ApiVersion": "2010-04-01", **extra,
    }


def status_form(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": ACCOUNT, "ApiVersion": "2010-04-01"}
    if error_code:
        form["ErrorCode"] = error_code
    return form


def signature(path: str, form: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, form)


def post(api: Any, path: str, form: dict[str, str], *, sign: bool = True, token: str = TOKEN,
         headers: dict[str, str] | None = None, body: bytes | str | None = None) -> Any:
    """POST a form to a webhook through the Chalice test client, signed unless told otherwise."""
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        hdrs["X-Twilio-Signature"] = signature(path, form, token)
    hdrs.update(headers or {})
    data = body if body is not None else urlencode(form)
    return api.http.post(path, headers=hdrs, body=data)


def inbound(api: Any, form: dict[str, str], **kwargs: Any) -> Any:
    return post(api, "/webhooks/twilio/messages", form, **kwargs)


def file_sent_staff_message(client_id: str, sid: str, *, message_id: str = "msg_out1",
                            from_number: str = "+15873550101") -> None:
    """A staff WhatsApp message already sent through Twilio as ``sid``, for status-callback tests."""
    from datetime import UTC, datetime

    from chalicelib.adapters.messages_repository import message_item
    from chalicelib.domain.messages import Direction, Message, MessageKind
    from chalicelib.domain.model import Channel

    message_item(Message(
        message_id=message_id, client_id=client_id, agency_id="calgary-cfn",
        direction=Direction.OUTBOUND, kind=MessageKind.STAFF, body="Your appointment is Monday",
        at=datetime(2026, 11, 23, 17, 0, tzinfo=UTC), status="sent", channel=Channel.WHATSAPP,
        staff_id="amal", from_number=from_number, twilio_sid=sid,
    )).save()


# -- voice (SPEC §5.10): the fields of Twilio's documented voice webhooks -------------------------


def voice_form(sender: str, to: str, **extra: str) -> dict[str, str]:
    """A call to a work number (the number's voice URL), as Twilio posts it."""
    sid = extra.pop("CallSid", new_sid("CA"))
    return {
        "Called": to, "ToState": "AB", "CallerCountry": "CA", "Direction": "inbound", "CallerState": "AB",
        "ToZip": "", "CallSid": sid, "To": to, "CallerZip": "", "ToCountry": "CA", "CallToken": "",
        "CalledZip": "", "ApiVersion": "2010-04-01", "CalledCity": "CALGARY", "CallStatus": "ringing",
        "From": sender, "AccountSid": ACCOUNT, "CalledCountry": "CA", "CallerCity": "CALGARY", "ToCity": "CALGARY",
        "FromCountry": "CA", "Caller": sender, "FromCity": "CALGARY", "CalledState": "AB", "FromZip": "",
        "FromState": "AB", **extra,
    }


def call_status_form(sid: str, status: str, duration: str | None = None) -> dict[str, str]:
    """Twilio's call status callback (``statusCallback`` of a call, or a number's voice status URL)."""
    form = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": status, "ApiVersion": "2010-04-01",
            "Direction": "outbound-api", "CallbackSource": "call-progress-events", "SequenceNumber": "0",
            "Timestamp": "Tue, 08 Dec 2026 17:00:00 +0000"}
    if duration is not None:
        form.update(CallDuration=duration, Duration=str(max(1, (int(duration) + 59) // 60)))
    return form


def dial_form(sid: str, dial_status: str, duration: str | None = None) -> dict[str, str]:
    """The ``<Dial>`` verb's action request: the parent call's SID and how the dialled leg ended."""
    form = {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
            "DialCallStatus": dial_status, "DialCallSid": new_sid("CA"), "Direction": "inbound"}
    if duration is not None:
        form["DialCallDuration"] = duration
    return form


def recording_form(call_sid: str, recording_sid: str, duration: str = "12") -> dict[str, str]:
    """The ``<Record>`` verb's recording status callback."""
    return {"AccountSid": ACCOUNT, "CallSid": call_sid, "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording_sid}",
            "RecordingStatus": "completed", "RecordingDuration": duration, "RecordingChannels": "1",
            "RecordingStartTime": "Tue, 08 Dec 2026 17:00:00 +0000", "RecordingSource": "RecordVerb",
            "ErrorCode": "0"}
