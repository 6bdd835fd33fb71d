"""Erasure is complete (issue 11, item 2; SPEC §5.7).

No free text written about the client survives (circle of care, override, warning, withdrawal and
closure reasons, in the file, the messages and the audit details), no phone number, no Twilio
``MessageSid`` or media URL; media still waiting at Twilio is deleted there and every message's
body is redacted at Twilio through its API. Twilio is ``make run``'s own stand-in
(chalicelib/local_twilio.py) behind ``CMDM_TWILIO_API_BASE``.
"""

from __future__ import annotations

import uuid

import time_machine

from chalicelib.local_twilio import media_path, put_media
from tests.conftest import TEST_ENV, new_client
from tests.storage_dump import every_stored_text
from tests.twilio_helpers import inbound

PHONE = "+15875550161"
WORK_NUMBER = "+15873550101"
ACCOUNT = TEST_ENV["TWILIO_ACCOUNT_SID"]
FREE_TEXT = {
    "circle": "Dr Amina Farouk at the Sunridge clinic",
    "override": "her landlord changes the locks tonight",
    "warning": "insulted the receptionist on Tuesday",
    "withdrawal": "moving in with her cousin in Toronto",
    "closure": "asked us to stop after the divorce",
}



def whatsapp_photo(sid: str, media_sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT, "NumMedia": "1",
            "From": f"whatsapp:{PHONE}", "To": f"whatsapp:{WORK_NUMBER}", "Body": "my lease, page one",
            "MediaUrl0": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}/Media/{media_sid}",
            "MediaContentType0": "image/jpeg", "ApiVersion": "2010-04-01", "ProfileName": "Client",
            "WaId": PHONE[1:], "MessageType": "image", "SmsStatus": "received", "NumSegments": "1"}


def test_erasure_leaves_no_free_text_sid_or_media_and_cleans_up_at_twilio(twilio, api, http, agency):
    from chalicelib.adapters import models as m

    sid, media_sid = "MM" + uuid.uuid4().hex, "ME" + uuid.uuid4().hex
    with time_machine.travel("2026-11-24T17:00Z", tick=False):  # Tuesday 10:00 in Calgary
        client = new_client(http, agency["amal"], phone=PHONE)
        cid = client["client_id"]
        r = http.call("PUT", f"/clients/{cid}/consent", agency["amal"], {
            "form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["whatsapp"],
            "circle_of_care": [FREE_TEXT["circle"]]})
        assert r.status_code == 200, r.body
        put_media(twilio.folder, sid, media_sid, b"\xff\xd8 jpeg of the lease", "image/jpeg")
        assert inbound(api, whatsapp_photo(sid, media_sid)).status_code == 200  # media stays pending
        r = http.call("POST", f"/clients/{cid}/warnings", agency["amal"], {"reason": FREE_TEXT["warning"]})
        assert r.status_code in (200, 201), r.body
    with time_machine.travel("2026-11-25T03:00Z", tick=False):  # Tuesday 20:00: closed, an emergency
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"],
                      {"body": "Call me now about the locks", "override_reason": FREE_TEXT["override"]})
        assert r.status_code == 201, r.body
    with time_machine.travel("2026-11-26T17:00Z", tick=False):
        r = http.call("DELETE", f"/clients/{cid}/consent", agency["amal"], {"reason": FREE_TEXT["withdrawal"]})
        assert r.status_code == 200, r.body
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"],
                      {"status": "closed", "reason": FREE_TEXT["closure"]})
        assert r.status_code == 200, r.body
        [sent] = [x.twilio_sid for x in m.MessageModel.query(cid) if x.kind == "staff"]
        before = every_stored_text()
        assert all(text in before for text in FREE_TEXT.values()) and sid in before and sent in before

        r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
        assert r.status_code == 200, r.body

    stored = every_stored_text()
    left = [name for name, text in FREE_TEXT.items() if text in stored]
    assert left == []
    assert PHONE not in stored and PHONE[1:] not in stored
    assert sid not in stored and sent not in stored and media_sid not in stored
    assert not media_path(twilio.folder, sid, media_sid).exists()  # deleted at Twilio
    assert {sid, sent} <= set(twilio.redacted)  # bodies redacted in Twilio's logs
    assert list(m.MessageModel.by_sid.query(sid)) == []
