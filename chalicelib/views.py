"""JSON shapes of the staff API (SPEC §4.4), written from domain values.

Instants are stored in UTC and written here in the agency's local offset, so a worker reading
``due_at`` sees their own wall clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .domain.inquiry import Inquiry
from .domain.messages import Message, MessageKind
from .domain.model import Client


def iso(at: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    if at is None:
        return None
    return at.astimezone(zone).isoformat() if zone else at.isoformat()


def inquiry_view(inquiry: Inquiry, zone: ZoneInfo | None = None) -> dict[str, Any]:
    return {
        "id": inquiry.inquiry_id,
        "client_id": inquiry.client_id,
        "staff_id": inquiry.staff_id,
        "opened_at": iso(inquiry.opened_at, zone),
        "due_at": iso(inquiry.due_at, zone),
        "status": inquiry.status.value,
        "answered_at": iso(inquiry.answered_at, zone),
        "answered_late": inquiry.answered_late,
        "complex": inquiry.complex,
        # SPEC §5.2: a holding reply meets the first-response clock without answering.
        "first_response_at": iso(inquiry.first_response_at, zone),
        "first_response_late": inquiry.first_response_late,
        "crisis": inquiry.crisis,
    }


def client_view(client: Client, zone: ZoneInfo | None = None, open_inquiry: Inquiry | None = None) -> dict[str, Any]:
    consent = client.consent
    return {
        "client_id": client.client_id,
        "agency_id": client.agency_id,
        "case_manager_id": client.case_manager_id,
        "phone": client.phone,
        "channel": client.channel.value,
        "language": client.language,
        "name": client.name,
        "status": client.status.value,
        "created_at": iso(client.created_at, zone),
        "consent": {
            "state": consent.state.value,
            "form_version": consent.form_version,
            "signed_at": iso(consent.signed_at, zone),
            "channels": sorted(c.value for c in consent.channels),
            "circle_of_care": list(consent.circle_of_care),
            "posts": consent.posts,
            "withdrawn_at": iso(consent.withdrawn_at, zone),
            "withdrawn_reason": consent.withdrawn_reason,
        },
        "can_message": client.can_be_messaged(),
        "messaging_refusal": client.messaging_refusal(),
        "opted_out": client.opted_out,
        "open_inquiry": inquiry_view(open_inquiry, zone) if open_inquiry else None,
        "next_followup_at": iso(client.next_followup_at, zone),
        # Follow-ups and the conduct policy (issue 5).
        "next_checkin_at": iso(client.next_checkin_at, zone),
        "next_survey_at": iso(client.next_survey_at, zone),
        "status_reason": client.status_reason,
        "closed_at": iso(client.closed_at, zone),
        "warnings": client.warnings,
        "flagged_for_meeting": client.flagged_for_meeting,
        "last_inbound_at": iso(client.last_inbound_at, zone),
        # a message in or out, consent, opt-out or status change (domain.caseload); GET /clients' order
        "last_activity_at": iso(client.last_activity_at or client.created_at, zone),
        "referrals": [referral_view(r, zone) for r in client.referrals],
        # SPEC §5.9: in crisis since (first in the inbox), and whom the client agreed may be called.
        "crisis_at": iso(client.crisis_at, zone),
        "emergency_contact": None if client.emergency_contact is None else {
            "name": client.emergency_contact.name, "phone": client.emergency_contact.phone,
            "relation": client.emergency_contact.relation},
    }


def referral_view(referral: Any, zone: ZoneInfo | None = None) -> dict[str, Any]:
    return {
        "referral_id": referral.referral_id,
        "at": iso(referral.at, zone),
        "by": referral.by,
        "to": referral.to,
        "service": referral.service,
        "note": referral.note,
    }


def message_view(msg: Message, zone: ZoneInfo | None = None, link: Any = None) -> dict[str, Any]:
    """One message of a file (SPEC §4.4); ``link`` turns a stored media key into a short-lived URL."""
    media = []
    for ref in msg.media:
        item: dict[str, Any] = {"content_type": ref.content_type, "status": ref.status.value, "size": ref.size}
        if ref.s3_key and link is not None:
            item["url"] = link(ref.s3_key)
        media.append(item)
    view: dict[str, Any] = {**_message_fields(msg, zone), "error_code": msg.error_code, "media": media}
    if msg.send_at is not None:
        view["send_at"] = iso(msg.send_at, zone)
    view.update(content_view(msg.content))
    return view


def export_message_view(msg: Message, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """One message as the file's export has it: what was sent and how, with the media's stored keys."""
    return {
        **_message_fields(msg, zone),
        "holding": msg.holding,
        "override_reason": msg.override_reason,
        "send_at": iso(msg.send_at, zone),
        "sent_at": iso(msg.sent_at, zone),
        "media": [{"content_type": ref.content_type, "s3_key": ref.s3_key, "status": ref.status.value,
                   "size": ref.size} for ref in msg.media],
        **content_view(msg.content),
    }


def _message_fields(msg: Message, zone: ZoneInfo | None) -> dict[str, Any]:
    if msg.kind is MessageKind.CALL:  # SPEC §4.4: a call's status is the call's, with its length
        return {**_plain_fields(msg, zone), "status": msg.call_status, "duration_seconds": msg.duration_seconds}
    return _plain_fields(msg, zone)


def call_view(outcome: Any, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """``POST /clients/{id}/calls``'s answer: the call's id and status, and what happens next."""
    msg = outcome.message
    view: dict[str, Any] = {"call_id": msg.message_id, "client_id": msg.client_id, "status": msg.call_status,
                            "override": outcome.override, "at": iso(msg.at, zone)}
    if outcome.error_code:
        view["error_code"] = outcome.error_code
    else:
        view["note"] = "your phone rings first; when you answer, the client is called from your work number"
    return view


def _plain_fields(msg: Message, zone: ZoneInfo | None) -> dict[str, Any]:
    return {
        "id": msg.message_id,
        "direction": msg.direction.value,
        "kind": msg.kind.value,
        "body": msg.body,
        "at": iso(msg.at, zone),
        "status": msg.status.value,
        "channel": msg.channel.value,
        "staff_id": msg.staff_id,
        "inquiry_id": msg.inquiry_id,
        "crisis": msg.crisis,
    }


def content_view(content: Any) -> dict[str, Any]:
    """What a client message carries beyond its body (SPEC §4.4); only what is there is shown."""
    view: dict[str, Any] = {}
    if content.location is not None:
        loc = content.location
        view["location"] = {"latitude": loc.latitude, "longitude": loc.longitude,
                            "address": loc.address, "label": loc.label}
    if content.button is not None:
        view["button"] = {"text": content.button.text, "payload": content.button.payload}
    if content.forwarded or content.frequently_forwarded:
        view["forwarded"] = content.forwarded
        view["frequently_forwarded"] = content.frequently_forwarded
    if content.message_type:
        view["message_type"] = content.message_type
    return view
