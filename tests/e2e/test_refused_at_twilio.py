"""Refused senders leave nothing at Twilio either (issue 20, item 6; SPEC §5.3, §5.7).

A message CMDM refuses is stored nowhere here; its media at Twilio is deleted and its body
redacted in Twilio's logs, as erasure does for an erased file. The refusal commits a marker (ids
only) with its audit, and the ``clear_refused_at_twilio`` job clears it after the webhook has
answered, retrying while Twilio is out of reach. Twilio is ``make run``'s own stand-in
(chalicelib/local_twilio.py) behind ``CMDM_TWILIO_API_BASE``; the forms are the shapes of
shared/fixtures/twilio-webhooks.json.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

import app as application
from chalicelib import bootstrap
from chalicelib.local_twilio import TwilioStandIn, media_path, put_media
from tests.conftest import TEST_ENV, new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound

EDMONTON = ZoneInfo("America/Edmonton")
ACCOUNT = TEST_ENV["TWILIO_ACCOUNT_SID"]
WORK_NUMBER = "+15873550101"
FATIMA = "+15875550123"
STRANGER = "+15875550199"


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)



def media_url(sid: str, media_sid: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/{media_sid}"


def voice_note(sender: str, sid: str, media_sid: str) -> dict[str, str]:
    """The ``whatsapp_voice_note`` webhook of the shared fixtures, filled in."""
    return {
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT,
        "MessagingServiceSid": "MG11111111111111111111111111111111", "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{WORK_NUMBER}", "Body": "", "NumMedia": "1", "NumSegments": "1", "SmsStatus": "received",
        "ApiVersion": "2010-04-01", "ProfileName": "Fatima", "WaId": sender[1:], "MessageType": "audio",
        "ReferralNumMedia": "0", "Forwarded": "false", "FrequentlyForwarded": "false",
        "ChannelMetadata": json.dumps({"type": "whatsapp",
                                       "data": {"context": {"ProfileName": "Fatima", "WaId": sender[1:]}}}),
        "MediaContentType0": "audio/ogg", "MediaUrl0": media_url(sid, media_sid),
    }


def mms(sender: str, sid: str, media_sids: list[str], body: str) -> dict[str, str]:
    """The ``mms_three_media`` webhook of the shared fixtures, filled in."""
    form = {
        "ToCountry": "CA", "ToState": "AB", "SmsMessageSid": sid, "NumMedia": str(len(media_sids)),
        "ToCity": "CALGARY", "FromZip": "", "SmsSid": sid, "FromState": "AB", "SmsStatus": "received",
        "FromCity": "CALGARY", "Body": body, "FromCountry": "CA", "To": WORK_NUMBER, "ToZip": "",
        "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT, "From": sender, "ApiVersion": "2010-04-01",
    }
    for i, (media_sid, kind) in enumerate(zip(media_sids, ("image/jpeg", "image/png", "application/pdf"),
                                              strict=False)):
        form[f"MediaContentType{i}"] = kind
        form[f"MediaUrl{i}"] = media_url(sid, media_sid)
    return form


def short_code(sid: str) -> dict[str, str]:
    """The ``sms_short_code_sender`` webhook of the shared fixtures, filled in."""
    return {
        "ToCountry": "CA", "ToState": "AB", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "CALGARY",
        "FromZip": "", "SmsSid": sid, "FromState": "AB", "SmsStatus": "received", "FromCity": "CALGARY",
        "Body": "Your code is 123456", "FromCountry": "CA", "To": WORK_NUMBER, "ToZip": "", "NumSegments": "1",
        "MessageSid": sid, "AccountSid": ACCOUNT, "From": "32665", "ApiVersion": "2010-04-01",
    }


def new_ids(media: int = 1) -> tuple[str, list[str]]:
    return "MM" + uuid.uuid4().hex, ["ME" + uuid.uuid4().hex for _ in range(media)]


def clear_refused() -> Any:
    return application.run_job("clear_refused_at_twilio")


def marker(sid: str) -> Any:
    from chalicelib.adapters import models as m

    try:
        return m.ClaimModel.get(f"twilio#{sid}")
    except m.ClaimModel.DoesNotExist:
        return None


# Each way a message from a known number is refused (SPEC §5.3), set up through the API.
def _no_consent(http: Any, agency: Any) -> None:
    new_client(http, agency["amal"], phone=FATIMA, consent=False)


def _consent_withdrawn(http: Any, agency: Any) -> None:
    cid = new_client(http, agency["amal"], phone=FATIMA)["client_id"]
    r = http.call("DELETE", f"/clients/{cid}/consent", agency["amal"], {"reason": "moving away"})
    assert r.status_code == 200, r.body


def _opted_out(http: Any, agency: Any) -> None:
    from tests.twilio_helpers import whatsapp_form

    new_client(http, agency["amal"], phone=FATIMA)
    assert inbound(http.client, whatsapp_form(FATIMA, WORK_NUMBER, "STOP")).status_code == 200


def _file_closed(http: Any, agency: Any) -> None:
    cid = new_client(http, agency["amal"], phone=FATIMA)["client_id"]
    r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved"})
    assert r.status_code == 200, r.body


REFUSALS: list[Any] = [
    pytest.param(STRANGER, None, "no_file", id="no-file"),
    pytest.param(FATIMA, _no_consent, "no_consent", id="no-consent"),
    pytest.param(FATIMA, _consent_withdrawn, "consent_withdrawn", id="consent-withdrawn"),
    pytest.param(FATIMA, _opted_out, "opted_out", id="opted-out"),
    pytest.param(FATIMA, _file_closed, "file_closed", id="file-closed"),
]


@pytest.mark.parametrize(("sender", "setup", "reason"), REFUSALS)
def test_a_refused_voice_note_is_deleted_and_its_body_redacted_at_twilio(
    twilio: TwilioStandIn, api: Any, http: Any, agency: Any, sender: str,
    setup: Callable[[Any, Any], None] | None, reason: str,
) -> None:
    sid, (media_sid,) = new_ids()
    with at("2026-11-23T10:00"):
        if setup is not None:
            setup(http, agency)
        put_media(twilio.folder, sid, media_sid, b"OggS voice of someone we may not keep", "audio/ogg")
        r = inbound(api, voice_note(sender, sid, media_sid))
        assert r.status_code == 200 and r.headers["X-CMDM-Outcome"] == "refused", r.body
        assert r.headers["X-CMDM-Reason"] == reason
        # The marker holds ids only: no number, no content.
        left = marker(sid)
        assert left is not None and list(left.media_sids) == [media_sid]
        assert sender[1:] not in str(left.attribute_values)
        if setup is None:  # a stranger's number is stored nowhere
            assert sender[1:] not in every_stored_text()
    with at("2026-11-23T10:01"):  # the next run of the job, after the webhook has answered
        assert clear_refused() == {"cleared": 1, "failed": 0}
    assert not media_path(twilio.folder, sid, media_sid).exists()  # gone at Twilio
    assert twilio.redacted == [sid]  # and the body redacted in Twilio's logs
    assert marker(sid) is None  # nothing left to do, nothing kept
    with at("2026-11-23T10:02"):
        assert clear_refused() == {}  # and nothing done twice


def test_every_media_item_of_a_refused_mms_goes_and_a_foreign_url_is_left_alone(
    twilio: TwilioStandIn, api: Any, agency: Any
) -> None:
    sid, media = new_ids(3)
    other_sid, (other_media,) = new_ids()
    for media_sid in media:
        put_media(twilio.folder, sid, media_sid, b"\xff\xd8 a page of a lease", "image/jpeg")
    put_media(twilio.folder, other_sid, other_media, b"someone else's photo", "image/jpeg")
    form = mms(STRANGER, sid, media, "Voici les documents")
    form["MediaUrl2"] = media_url(other_sid, other_media)  # not this message's: never deleted on its behalf
    with at("2026-11-23T10:00"):
        assert inbound(api, form).headers["X-CMDM-Reason"] == "no_file"
    with at("2026-11-23T10:01"):
        clear_refused()
    assert [media_path(twilio.folder, sid, m).exists() for m in media] == [False, False, True]
    assert media_path(twilio.folder, other_sid, other_media).exists()
    assert twilio.redacted == [sid]


def test_a_short_codes_message_is_redacted_at_twilio(twilio: TwilioStandIn, api: Any, agency: Any) -> None:
    sid, _media = new_ids(0)
    with at("2026-11-23T10:00"):
        r = inbound(api, short_code(sid))
        assert r.status_code == 200 and r.headers["X-CMDM-Reason"] == "short_code_sender"
    with at("2026-11-23T10:01"):
        clear_refused()
    assert twilio.redacted == [sid] and marker(sid) is None


def test_a_filed_message_is_not_cleared_as_a_refused_one(twilio: TwilioStandIn, api: Any, http: Any,
                                                          agency: Any) -> None:
    sid, (media_sid,) = new_ids()
    with at("2026-11-23T10:00"):
        new_client(http, agency["amal"], phone=FATIMA)
        put_media(twilio.folder, sid, media_sid, b"OggS a voice note for Amal", "audio/ogg")
        assert inbound(api, voice_note(FATIMA, sid, media_sid)).headers["X-CMDM-Outcome"] == "filed"
    with at("2026-11-23T10:01"):
        assert clear_refused() == {}
    assert marker(sid) is None and twilio.redacted == []
    assert media_path(twilio.folder, sid, media_sid).exists()  # the media copy takes it, not this job


def test_twilio_out_of_reach_keeps_the_refused_message_for_a_later_run(
    twilio: TwilioStandIn, api: Any, agency: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.adapters.media import MediaUnavailable

    sid, (media_sid,) = new_ids()
    put_media(twilio.folder, sid, media_sid, b"OggS", "audio/ogg")
    with at("2026-11-23T10:00"):
        inbound(api, voice_note(STRANGER, sid, media_sid))
    privacy = bootstrap.container().twilio_privacy

    def unreachable(message_sid: str) -> None:
        raise MediaUnavailable("twilio answered 503 to the redaction")

    monkeypatch.setattr(privacy, "redact", unreachable)
    with at("2026-11-23T10:01"):
        assert clear_refused() == {"cleared": 0, "failed": 1}
    assert marker(sid).attempts == 1  # kept, with a pause before the next try
    with at("2026-11-23T10:01:30"):
        assert clear_refused() == {}  # not due yet
    monkeypatch.undo()
    with at("2026-11-23T10:03"):
        assert clear_refused() == {"cleared": 1, "failed": 0}
    assert not media_path(twilio.folder, sid, media_sid).exists() and twilio.redacted == [sid]
    assert marker(sid) is None


def test_a_refused_message_delivered_twice_is_cleared_once(twilio: TwilioStandIn, api: Any, agency: Any) -> None:
    sid, (media_sid,) = new_ids()
    put_media(twilio.folder, sid, media_sid, b"OggS", "audio/ogg")
    form = voice_note(STRANGER, sid, media_sid)
    with at("2026-11-23T10:00"):
        assert inbound(api, form).headers["X-CMDM-Outcome"] == "refused"
        assert inbound(api, form).headers["X-CMDM-Outcome"] == "duplicate"
    with at("2026-11-23T10:01"):
        assert clear_refused() == {"cleared": 1, "failed": 0}
    assert twilio.redacted == [sid]
