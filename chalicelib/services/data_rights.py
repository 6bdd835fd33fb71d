"""The client's data rights: the whole file exported as JSON, erasure after closure (SPEC §5.7).

* Export (the case manager or an admin): the client record with its consent, every message with
  its media references, the inquiries (``inquiries.by_client``) and the file's audit events
  (``audit.by_client``); the export itself is audited (``CLIENT_EXPORTED``).
* Erasure (an admin, or the ``erase_expired`` job once the policy's retention period for closed
  files has passed, ``retention.closed_files``, default P2Y): only a closed file. Media objects
  are deleted from the bucket, message bodies and media references removed, the phone number,
  name and circle of care removed from the client record and its contact row (the phone lookup)
  deleted. What stays is an anonymous tombstone (``erased_at`` set; ids, dates, statuses, the
  audit trail), so the agency's counts stay true. Audited as ``CLIENT_ERASED``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, NotFound
from ..domain.model import Client, ClientStatus, Principal
from .access import manageable_client, require_admin, visible_client
from .reports import audit_view, iso

log = logging.getLogger("cmdm.data_rights")


class DataRightsService:
    def __init__(self, store: Any, files: Any, reads: Any, policies: Any) -> None:
        self._store = store
        self._files = files
        self._reads = reads
        self._policies = policies

    def _zone(self, agency_id: str) -> Any:
        try:
            return self._policies.get(agency_id).calendar.zone()
        except KeyError:
            raise NotFound("no policy is published for this agency") from None

    def _client(self, client_id: str) -> Client | None:
        from ..domain import validation as v

        return self._store.get_client(client_id) if v.is_identifier(client_id) else None

    # -- export -----------------------------------------------------------------------------

    def export(self, principal: Principal, client_id: str) -> dict[str, Any]:
        from ..views import client_view, inquiry_view

        client = manageable_client(principal, self._client(client_id))
        zone = self._zone(client.agency_id)
        messages = self._files.messages_of(client.client_id)
        for message in messages:
            for key in ("at", "send_at", "sent_at"):
                message[key] = iso(message[key], zone)
        media = [
            {"message_id": message["id"], **item} for message in messages for item in message["media"]
        ]
        now = utcnow()
        body = {
            "exported_at": iso(now, zone),
            "client": client_view(client, zone),
            "messages": messages,
            "media": media,
            "inquiries": [inquiry_view(i, zone) for i in self._files.inquiries_of(client.client_id)],
            "audit": [audit_view(e, zone) for e in self._reads.audit_of_client(client.client_id)],
        }
        self._store.append_audit(
            [
                AuditEvent(
                    agency_id=client.agency_id,
                    type=AuditType.CLIENT_EXPORTED,
                    at=now,
                    actor=principal.staff_id,
                    client_id=client.client_id,
                    staff_id=client.case_manager_id,
                    details={"messages": len(messages), "media": len(media)},
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
        from ..adapters.store import ConcurrentUpdate

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
            return self._files.erase(client, event, now)
        except ConcurrentUpdate:
            raise Conflict("the file changed while it was being erased; try again", code="concurrent_update") from None

    def erase_expired(self, now: datetime | None = None) -> dict[str, int]:
        """Erase every closed file whose agency's retention period has run out (daily job)."""
        now = now or utcnow()
        erased = failed = 0
        for policy in self._policies.all():
            cutoff = now - policy.closed_file_retention
            ended = getattr(self._files, "ended_before", None)
            candidates = dict.fromkeys(self._files.closed_before(policy.agency_id, cutoff))
            if ended is not None:  # withdrawn and opted-out files end too (SPEC §5.7)
                candidates.update(dict.fromkeys(ended(policy.agency_id, cutoff)))
            for client_id in candidates:
                client = self._store.get_client(client_id)
                if client is None or client.erased_at is not None or client.ended_at is None or client.ended_at > cutoff:
                    continue  # consent given again, re-opened or erased since the index was read
                try:
                    self._erase(client, "system", "retention", now)
                    erased += 1
                except Exception as err:  # one file must not stop the others; no content is logged
                    failed += 1
                    log.error("erasure of %s failed: %s", client_id, type(err).__name__)
        return {"erased": erased, "failed": failed}
