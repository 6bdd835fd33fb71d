"""The claims table's key formats stay byte for byte what was written before (issue 21, item 4).

Services ask the claims repository for a claim by what it guards; the key it writes is the
repository's own business. A key that changed shape would let a Twilio retry file a message twice,
a replayed ``Idempotency-Key`` send a second copy, or a follow-up go out twice in one period: the
claims already stored would no longer be found. These are the formats those claims were written in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.adapters import claims_repository as c
from chalicelib.domain.followups import FollowupKind
from chalicelib.domain.inbound import Refusal

SID = "SM" + "0123456789abcdef" * 2
AT = datetime(2026, 11, 23, 17, tzinfo=UTC)  # 1795453200 s after the epoch


def test_message_claims_keep_their_formats():
    assert c.sid_key(SID) == f"sid#{SID}"
    assert c.twilio_key(SID) == f"twilio#{SID}"
    assert c.send_key("msg_0a1b2c") == "send#msg_0a1b2c"
    assert c.refusal_key(Refusal.AGENCY_NOT_CONFIGURED, SID) == f"unconfigured#{SID}"
    assert c.refusal_key(Refusal.SHORT_CODE_SENDER, SID) == f"short-code#{SID}"


def test_an_intake_reply_is_claimed_per_sender_template_and_window_counted_from_the_epoch():
    assert c.intake_key("9f2c", "intake", timedelta(days=1), AT) == "intake#9f2c#intake#20780"
    assert c.intake_key("9f2c", "service_ended", timedelta(hours=1), AT) == "intake#9f2c#service_ended#498737"
    # a window shorter than a minute counts in minutes
    assert c.intake_key("9f2c", "intake", timedelta(seconds=5), AT) == "intake#9f2c#intake#29924220"
    assert c.intake_key("9f2c", "intake", timedelta(days=1), AT + timedelta(hours=6, minutes=59)) == \
        "intake#9f2c#intake#20780"
    assert c.intake_key("9f2c", "intake", timedelta(days=1), AT + timedelta(hours=7)) == "intake#9f2c#intake#20781"


def test_once_per_period_claims_keep_their_formats():
    assert c.crisis_key("cl_1", "2026-11-23T17:00:00+00:00") == "crisis#cl_1#2026-11-23T17:00:00+00:00"
    assert c.voice_note_key("cl_1", "2026-11-23T17:00:00+00:00") == "voice#cl_1#2026-11-23T17:00:00+00:00"
    assert c.followup_key(FollowupKind.FOLLOWUP, "cl_1", "2026-W48") == "followup#cl_1#2026-W48"
    assert c.followup_key(FollowupKind.CHECKIN, "cl_1", "2026-11") == "checkin#cl_1#2026-11"
    assert c.followup_key(FollowupKind.SURVEY, "cl_1", "2026-04-15") == "survey#cl_1#2026-04-15"


def test_administration_claims_and_the_post_bucket_keep_their_formats():
    assert c.founding_key("calgary-cfn") == "founding#calgary-cfn"
    assert c.review_key("calgary-cfn", "ev_1") == "review#calgary-cfn#ev_1"
    assert c.post_slot_key("calgary-cfn", AT + timedelta(microseconds=999_999)) == "rate#posts#calgary-cfn#1795453200"
