"""Audit events: the append-only record supervisors and funders rely on (SPEC §5.6)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class AuditType(enum.Enum):
    STAFF_UPDATED = "staff.updated"
    NUMBER_ASSIGNED = "number.assigned"
    NUMBER_REASSIGNED = "number.reassigned"
    NUMBER_REGISTERED = "number.registered"  # an operator registered a Twilio number to the agency
    NUMBER_RELEASED = "number.released"  # an operator moved one of its numbers to another agency
    CLIENT_CREATED = "client.created"
    CLIENT_STATUS = "client.status_changed"
    CLIENT_WARNED = "client.warned"
    CLIENT_ERASED = "client.erased"
    CLIENT_EXPORTED = "client.exported"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    MESSAGE_FILED = "message.filed"
    MESSAGE_REFUSED = "message.refused"
    AUTO_REPLY_SENT = "auto_reply.sent"
    INTAKE_REPLY_SENT = "intake_reply.sent"
    OPTED_OUT = "client.opted_out"
    OPTED_IN = "client.opted_in"
    STAFF_MESSAGE_SENT = "staff_message.sent"
    STAFF_MESSAGE_HELD = "staff_message.held"
    STAFF_MESSAGE_RELEASED = "staff_message.released"
    STAFF_MESSAGE_FAILED = "staff_message.failed"
    STAFF_MESSAGE_CANCELLED = "staff_message.cancelled"
    OVERRIDE = "boundary.override"
    INQUIRY_OPENED = "inquiry.opened"
    INQUIRY_ANSWERED = "inquiry.answered"
    INQUIRY_HOLDING_REPLY = "inquiry.holding_reply"  # first response met; the inquiry stays open (§5.2)
    INQUIRY_REOPENED = "inquiry.reopened"  # the message that answered it was not delivered (§5.2)
    INQUIRY_BREACHED = "inquiry.breached"
    INQUIRY_OPTED_OUT = "inquiry.opted_out"  # the client opted out while waiting: out of the inbox, no breach
    ESCALATED = "inquiry.escalated"
    REVIEWED = "review.recorded"  # a supervisor reviewed an override or a breach (issue 15)
    CRISIS_ALERTED = "inquiry.crisis_alerted"  # SPEC §5.9: the on-call person was told at once
    CRISIS_MARKED = "crisis.marked"  # a worker marked a client message as a crisis (SPEC §5.9)
    CRISIS_UNMARKED = "crisis.unmarked"  # ... and took the mark back
    VOICE_NOTE_ALERTED = "voice_note.alerted"  # a voice note after hours: the on-call person was told
    EMERGENCY_CONTACT_SET = "client.emergency_contact_set"  # who to call in a crisis (never the details)
    FOLLOWUP_SENT = "followup.sent"  # written once Twilio accepted it (SPEC §5.5): what reports count
    FOLLOWUP_SKIPPED = "followup.skipped"
    NOTICE_SENT = "notice.sent"  # a conduct notice Twilio accepted (SPEC §5.5)
    SURVEY_SCORED = "survey.scored"
    ABSENCE_RECORDED = "staff.absence_recorded"
    MEDIA_STORED = "media.stored"
    MEDIA_FAILED = "media.failed"
    REFERRAL_RECORDED = "referral.recorded"
    POST_CREATED = "post.created"
    NOTE_WRITTEN = "note.written"  # a private case note (issue 22): which note, never its text
    SNIPPET_SAVED = "snippet.saved"  # an agency's prepared answer created or changed (issue 22)
    SNIPPET_DELETED = "snippet.deleted"
    # Calls from and to work numbers (SPEC §5.10): never a number in the details.
    CALL_PLACED = "call.placed"
    CALL_RECEIVED = "call.received"
    CALL_REFUSED = "call.refused"  # a caller without a consented file: the intake text, nothing recorded
    CALL_ENDED = "call.ended"  # details: direction, status, duration_seconds (the usage report's minutes)
    VOICEMAIL_FILED = "call.voicemail_filed"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class AuditEvent:
    agency_id: str
    type: AuditType
    at: datetime
    actor: str
    client_id: str | None = None
    staff_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: new_id("ev"))
