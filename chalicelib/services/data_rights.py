"""The client's data rights: the whole file exported as JSON, erasure after closure (SPEC §5.7).

* Export (the case manager or an admin): the client record with its consent, every message with
  its media references, the inquiries (``inquiries.by_client``) and the file's audit events
  (``audit.by_client``) and its private case notes with their authors (``notes``); the export
  itself is audited (``CLIENT_EXPORTED``).
* Erasure (an admin, or the ``erase_expired`` job once the policy's retention period for closed
  files has passed, ``retention.closed_files``, default P2Y): only a closed file. Media objects
  are deleted from the bucket, message bodies and media references removed, the phone number,
  name and circle of care removed from the client record, its contact row (the phone lookup)
  and its search items (``GET /clients?q=``) deleted, every case note deleted. What stays is an
  anonymous tombstone (``erased_at`` set; ids, dates, statuses, the audit trail), so the agency's
  counts stay true. Audited as ``CLIENT_ERASED``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain.attachments import upload_key
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict
from ..domain.messages import MediaStatus, Message, MessageKind
from ..domain.model import Client, ClientStatus, Principal, Referral
from .access import manageable_client, published_policy, require_admin, visible_client
from .reports import audit_view, iso

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.data_rights")

TWILIO_MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Messages/([A-Z]{2}[0-9a-f]{32})/Media/(ME[0-9a-f]{32})$")


def erasure_changes(client: Client, now: datetime) -> dict[str, Any]:
    """What erasure changes on the file: who the client is goes, an anonymous tombstone stays."""
    return {
        "phone": None,
        "name": None,
        "erased_at": now,
        "ended_at": None,  # out of the ended_files index: nothing left to erase
        "consent": replace(client.consent, circle_of_care=(), withdrawn_reason=None),
        "status_reason": None,
        # Referrals stay countable (id and instant); where, what and why go (SPEC §5.7).
        "referrals": tuple(Referral(referral_id=r.referral_id, at=r.at) for r in client.referrals) or None,
        "followup_agency": None,
        "checkin_agency": None,
        "survey_agency": None,
        # the inbox's copy of the last client message, and the file's place in the inbox
        "last_inbound_preview": None,
        "open_inquiry_due_at": None,
        "crisis_at": None,
        "emergency_contact": None,  # SPEC §4.4: erased with the file
    }


class DataRightsService:
    def __init__(self, uow: Callable[[], UnitOfWork], media: Any, twilio: Any, policies: Any) -> None:
        self._uow = uow
        self._media = media  # adapters.media.S3Media: the agency's bucket
        self._twilio = twilio  # adapters.media.TwilioMedia: media still at Twilio, bodies in its logs
        self._policies = policies

    def _zone(self, agency_id: str) -> Any:
        return published_policy(self._policies, agency_id).calendar.zone()

    def _client(self, client_id: str) -> Client | None:
        from ..domain import validation as v

        return self._uow().clients.get(client_id) if v.is_identifier(client_id) else None

    # -- export -----------------------------------------------------------------------------

    def export(self, principal: Principal, client_id: str) -> dict[str, Any]:
        from ..views import client_view, export_message_view, inquiry_view

        client = manageable_client(principal, self._client(client_id))
        zone = self._zone(client.agency_id)
        uow = self._uow()
        messages = [export_message_view(msg, zone) for msg in uow.messages.of_client(client.client_id)]
        media = [
            {"message_id": message["id"], **item} for message in messages for item in message["media"]
        ]
        from .notes import note_view

        notes = uow.notes.of_client(client.agency_id, client.client_id)
        names = {s.staff_id: s.name for s in uow.staff.list(client.agency_id)} if notes else {}
        now = utcnow()
        body = {
            "exported_at": iso(now, zone),
            "client": client_view(client, zone),
            "messages": messages,
            "media": media,
            "inquiries": [inquiry_view(i, zone) for i in uow.inquiries.of_client(client.client_id)],
            "audit": [audit_view(e, zone) for e in uow.audit.of_client(client.client_id)],
            "notes": [note_view(n, zone, names) for n in notes],  # oldest first, like the messages
        }
        uow.audit.append(
            [
                AuditEvent(
                    agency_id=client.agency_id,
                    type=AuditType.CLIENT_EXPORTED,
                    at=now,
                    actor=principal.staff_id,
                    client_id=client.client_id,
                    staff_id=client.case_manager_id,
                    details={"messages": len(messages), "media": len(media), "notes": len(notes)},
                )
            ]
        )
        return body

    # -- erasure ----------------------------------------------------------------------------

    def erase(self, principal: Principal, client_id: str) -> dict[str, Any]:
        client = visible_client(principal, self._client(client_id))
        require_admin(principal)
        if client.status is not ClientStatus.CLOSED:
            raise Conflict("only a closed file can be erased; close it first", code="file_not_closed")
        now = utcnow()
        cleared = self._erase(client, principal.staff_id, "request", now)
        return {
            "client_id": client.client_id,
            "erased_at": iso(now, self._zone(client.agency_id)),
            "messages_cleared": cleared,
        }

    def _erase(self, client: Client, actor: str, reason: str, now: datetime) -> int:
        event = AuditEvent(
            agency_id=client.agency_id,
            type=AuditType.CLIENT_ERASED,
            at=now,
            actor=actor,
            client_id=client.client_id,
            staff_id=client.case_manager_id,
            details={"reason": reason},
        )
        try:
            return self._wipe(client, event, now)
        except ConcurrentUpdate:
            raise Conflict("the file changed while it was being erased; try again", code="concurrent_update") from None

    def _wipe(self, client: Client, event: AuditEvent, now: datetime) -> int:
        """Remove bodies, media, the phone number and the name; keep an anonymous tombstone.

        Media objects go first, then message bodies and media references, then (in one unit of
        work) the client record, its contact row and the audit event. A crash part-way leaves the
        file closed and not yet marked erased, so running the erasure again finishes it.
        Returns how many messages were cleared.
        """
        with self._uow() as uow:
            messages = uow.messages.of_client(client.client_id, consistent=True)
            # The messages' media, and any attachment a worker uploaded for this file but never sent.
            unsent = self._media.keys_under(upload_key(client.agency_id, client.client_id, ""))
            self._media.delete([*(ref.s3_key for msg in messages for ref in msg.media if ref.s3_key), *unsent])
            if self._twilio is not None:
                self._erase_at_twilio(messages)
            # The MessageSid claims too (Twilio re-delivers for hours, not past a closure), and a
            # staff message's Idempotency-Key claim: it keeps a digest of the request's text.
            uow.claims.release_for_erasure(messages)
            uow.audit.erase_free_text(client.client_id)
            # Every case note goes now; one written meanwhile moved the file's version, so the
            # commit below fails and the erasure runs again (services/notes.py).
            uow.notes.erase_client(client.client_id)
            for msg in messages:
                uow.messages.erase(msg)
            uow.clients.update(client, erasure_changes(client, now))  # out of every caseload listing too
            uow.clients.forget_contact(client)
            uow.clients.forget_search(client)  # nothing finds it by name or number any more (issue 22)
            uow.audit.add([event])
            uow.commit()
        return len(messages)

    def _erase_at_twilio(self, messages: list[Message]) -> None:
        """Media still waiting at Twilio is deleted there, and every body is redacted in its logs.

        Done before the references go, so a failure (Twilio unreachable) stops the erasure with
        everything still known, and running it again finishes it.
        """
        for msg in messages:
            for ref in msg.media:
                if ref.twilio_url and ref.status is not MediaStatus.STORED:
                    # Only Twilio's media resource of this very message (never a forged URL).
                    found = TWILIO_MEDIA_PATH.match(urlsplit(ref.twilio_url).path)
                    if found and found.group(1) == msg.twilio_sid:
                        self._twilio.delete(found.group(1), found.group(2))
                    elif msg.kind is MessageKind.CALL and msg.twilio_sid and ref.twilio_media_sid:
                        self._twilio.delete(msg.twilio_sid, ref.twilio_media_sid)  # a voicemail's recording
            if msg.twilio_sid and msg.kind is not MessageKind.CALL:  # a call has no body to redact
                self._twilio.redact(msg.twilio_sid)

    def erase_expired(self, now: datetime | None = None) -> dict[str, int]:
        """Erase every closed file whose agency's retention period has run out (daily job)."""
        now = now or utcnow()
        erased = failed = 0
        for policy in self._policies.all():
            cutoff = now - policy.closed_file_retention
            clients = self._uow().clients
            candidates = dict.fromkeys(clients.closed_before(policy.agency_id, cutoff))
            # Withdrawn and opted-out files end too (SPEC §5.7).
            candidates.update(dict.fromkeys(clients.ended_before(policy.agency_id, cutoff)))
            for client_id in candidates:
                client = clients.get(client_id)
                if client is None or client.erased_at is not None or client.ended_at is None or client.ended_at > cutoff:
                    continue  # consent given again, re-opened or erased since the index was read
                try:
                    self._erase(client, "system", "retention", now)
                    erased += 1
                except Exception as err:  # one file must not stop the others; no content is logged
                    failed += 1
                    log.error("erasure of %s failed: %s", client_id, type(err).__name__)
        return {"erased": erased, "failed": failed}
