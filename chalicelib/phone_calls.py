"""``cli phone --call`` and ``--voicemail FILE``: a client calling a work number, on a laptop.

Plays Twilio's side of a call against ``make run``: posts the signed voice webhook, speaks the
TwiML the service answers as a phone would (what is said, who rings, the beep), then either the
worker answers (``--call``: a one-minute conversation) or nobody does and the caller leaves the
FILE as a voicemail (``--voicemail``): the file waits at the local Twilio stand-in as a recording,
and the recording callback files it, so the media job copies it and deletes it "at Twilio".
Nothing here is deployed behaviour.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def spoken(twiml: str) -> list[str]:
    """The TwiML as a caller hears it, one line per verb."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return [twiml]
    lines = []
    for verb in root:
        if verb.tag == "Say":
            lines.append(f"the phone says ({verb.get('language', 'en')}): {verb.text or ''}")
        elif verb.tag == "Dial":
            numbers = [n.text or "" for n in verb.iter("Number")]
            lines.append(f"ringing {', '.join(numbers)} (the worker's own phone; it shows {verb.get('callerId')})")
        elif verb.tag == "Record":
            lines.append(f"beep: recording a voicemail (up to {verb.get('maxLength', '?')} seconds)")
        elif verb.tag == "Hangup":
            lines.append("the call ends")
    return lines or ["(silence: the call ends)"]


class Caller:
    """Signs and posts the voice webhooks as Twilio would, to ``server``."""

    def __init__(self, server: str, auth_token: str) -> None:
        from twilio.request_validator import RequestValidator

        self.server = server.rstrip("/")
        self._validator = RequestValidator(auth_token)

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str, str | None]:
        signature = self._validator.compute_signature(self.server + path, form)
        request = urllib.request.Request(
            self.server + path, data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("X-CMDM-Outcome")


def call(settings: Any, server: str, sender: str, to: str, voicemail: str | None) -> int:
    """One call from ``sender`` to the work number ``to``; 0 when the server took every step."""
    from .local_twilio import LOCAL_TWILIO_DIR, put_recording

    account = getattr(settings, "twilio_account_sid", None) or "AC" + "0" * 32
    caller = Caller(server, settings.twilio_auth_token)
    sid = "CA" + uuid.uuid4().hex
    base = {"CallSid": sid, "AccountSid": account, "From": sender, "To": to, "Caller": sender, "Called": to,
            "Direction": "inbound", "ApiVersion": "2010-04-01"}
    try:
        status, twiml, _ = caller.post("/webhooks/twilio/voice", {**base, "CallStatus": "ringing"})
        print(f"HTTP {status}")
        print("\n".join(spoken(twiml)))
        if "<Dial" in twiml:
            answered = voicemail is None
            dial = {**base, "CallStatus": "in-progress", "DialCallSid": "CA" + uuid.uuid4().hex,
                    "DialCallStatus": "completed" if answered else "no-answer"}
            if answered:
                dial["DialCallDuration"] = "60"
                print("the worker answers; you talk for a minute")
            else:
                print("nobody answers")
            _, twiml, _ = caller.post("/webhooks/twilio/voice/dial", dial)
            print("\n".join(spoken(twiml)))
        if voicemail is not None and "<Record" in twiml:
            recording = "RE" + uuid.uuid4().hex
            put_recording(LOCAL_TWILIO_DIR, recording, Path(voicemail).read_bytes())
            url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{recording}"
            _, _, outcome = caller.post("/webhooks/twilio/voice/recording", {
                "AccountSid": account, "CallSid": sid, "RecordingSid": recording, "RecordingUrl": url,
                "RecordingStatus": "completed", "RecordingDuration": "20", "RecordingChannels": "1",
                "RecordingSource": "RecordVerb"})
            print(f"voicemail: {'filed in the client file (the media job copies it)' if outcome == 'filed' else 'NOT filed'}")
        caller.post("/webhooks/twilio/voice/status", {**base, "CallStatus": "completed", "CallDuration": "75"})
    except urllib.error.HTTPError as err:
        print(f"HTTP {err.code}: {err.read().decode()[:300]}")
        return 1
    except urllib.error.URLError as err:
        print(f"no server answered at {server} ({err.reason}); is `make run` running?", file=sys.stderr)
        return 1
    return 0
