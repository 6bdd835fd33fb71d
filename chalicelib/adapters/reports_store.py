"""Keyed reads for supervision (audit, reports) and the client's data rights (export, erasure).

Every read here is a ``Query`` on a key or an index, never a ``Scan``:

| what                                   | table / index                | key                                   |
|----------------------------------------|------------------------------|---------------------------------------|
| audit of an agency over a period       | audit                        | agency_id, sk between the UTC bounds  |
| audit of one worker over a period      | audit / by_staff             | agency#staff, sk between              |
| audit of one client (export, /audit)   | audit / by_client            | client_id (, sk between)              |
| inquiries opened over a period         | inquiries / by_agency_opened | agency_id, opened_at between          |
| inquiries of one client (export)       | inquiries / by_client        | client_id                             |
| the agency's files (usage report)      | clients / by_agency          | agency_id, created_at < period end    |
| messages of one client (export, erase) | messages                     | client_id                             |
| closed files past retention            | clients / closed_files       | agency_id, closed_at <= cutoff        |

A file is in ``closed_files`` only while it carries ``closed_at``. Whatever closes or re-opens a
file must apply ``closing_changes`` / ``reopening_changes`` (below) in the same update that sets
its status; the retention job finds closed files by nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pynamodb.exceptions import TransactWriteError, UpdateError

from ..domain.attachments import upload_key
from ..domain.audit import AuditEvent
from ..domain.dashboard import matches_filters
from ..domain.inquiry import InquiryStatus
from ..domain.model import Client, ClientStatus, Referral
from ..domain.reporting import AuditRecord, InquiryFact
from . import models as m
from .aws import LazyClient
from .store import ConcurrentUpdate, DynamoStore, agency_staff, client_from, contact_key, inquiry_from, sort_key

log = logging.getLogger("cmdm.reports_store")

_ONE_MICROSECOND = timedelta(microseconds=1)


# --- the closed-files index: what a status change must write ------------------------------------


def closing_changes(at: datetime) -> dict[str, Any]:
    """Client attributes to set when a file is closed (puts it in the ``closed_files`` index)."""
    return {"status": ClientStatus.CLOSED, "closed_at": at}


def reopening_changes(status: ClientStatus = ClientStatus.ACTIVE) -> dict[str, Any]:
    """Client attributes to set when a closed file is re-opened (takes it out of the index)."""
    return {"status": status, "closed_at": None}


def _bound(at: datetime) -> str:
    # Audit sort keys are "<fixed-width UTC>#<id>"; the bare instant sorts before every key at
    # that instant, so ``between(_bound(start), _bound(end))`` is exactly [start, end).
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def audit_record(item: m.AuditModel) -> AuditRecord:
    staff_id = None
    if item.agency_staff:
        staff_id = item.agency_staff.split("#", 1)[1] if "#" in item.agency_staff else item.agency_staff
    details = item.details.as_dict() if hasattr(item.details, "as_dict") else dict(item.details or {})
    return AuditRecord(
        event_id=item.event_id,
        type=item.type,
        at=item.at,
        actor=item.actor,
        staff_id=staff_id,
        client_id=item.client_id,
        details=details,
    )


def _inquiry_fact(item: m.InquiryModel, minutes: Callable[[datetime, datetime], float] | None) -> InquiryFact:
    first = None
    if item.first_response_business_seconds is not None:
        first = float(item.first_response_business_seconds) / 60
    elif item.answered_at is not None and minutes is not None:
        first = minutes(item.opened_at, item.answered_at)
    status = InquiryStatus(item.status)
    return InquiryFact(
        inquiry_id=item.inquiry_id,
        client_id=item.client_id,
        staff_id=item.staff_id,
        opened_at=item.opened_at,
        status=status,
        answered_late=bool(item.answered_late),
        breached=item.breached_at is not None or status is InquiryStatus.BREACHED,
        first_response_minutes=first,
        answered_at=item.answered_at,
    )


def _types_filter(types: frozenset[str] | None) -> Any:
    """GET /audit?type=: filtered by DynamoDB (each page is still read, and paid for, in full)."""
    return m.AuditModel.type.is_in(*sorted(types)) if types else None


class ReportsStore:
    """Read side of supervision: the facts reports and the audit view are computed from."""

    def inquiry_facts(
        self, inquiry_ids: Iterable[str], business_minutes: Callable[[datetime, datetime], float] | None = None
    ) -> dict[str, InquiryFact]:
        """These inquiries as they are now, by id: BatchGetItem, 100 keys a call."""
        ids = sorted(set(inquiry_ids))
        return {i.inquiry_id: _inquiry_fact(i, business_minutes) for i in m.InquiryModel.batch_get(ids)} if ids else {}

    def audit_reasons(self, agency_id: str, keys: Iterable[tuple[datetime, str | None]]) -> dict[str, str | None]:
        """The ``reason`` of audit events by (time, event id): BatchGetItem, 100 keys a call."""
        wanted = [(agency_id, sort_key(at, event_id)) for at, event_id in keys if event_id]
        found: dict[str, str | None] = {}
        for start in range(0, len(wanted), 100):
            for item in m.AuditModel.batch_get(wanted[start:start + 100]):
                details = item.details.as_dict() if hasattr(item.details, "as_dict") else dict(item.details or {})
                found[item.event_id] = details.get("reason")
        return found

    def audit_between(
        self, agency_id: str, start: datetime, end: datetime, staff_id: str | None = None
    ) -> Iterator[AuditRecord]:
        """Audit events with ``start <= at < end``, oldest first."""
        if staff_id:
            items = m.AuditModel.by_staff.query(
                agency_staff(agency_id, staff_id), m.AuditModel.sk.between(_bound(start), _bound(end))
            )
        else:
            items = m.AuditModel.query(agency_id, m.AuditModel.sk.between(_bound(start), _bound(end)))
        for item in items:
            yield audit_record(item)

    def audit_page(
        self,
        agency_id: str,
        start: datetime,
        end: datetime,
        *,
        staff_id: str | None = None,
        client_id: str | None = None,
        after: str | None = None,
        limit: int = 1000,
        types: frozenset[str] | None = None,
        holding: bool | None = None,
    ) -> tuple[list[AuditRecord], str | None]:
        """Up to ``limit`` events with ``start <= at < end`` after the cursor ``after``, oldest first.

        Returns the events and the cursor of the next page (None on the last page). One keyed
        query: by client (``by_client``, kept to this agency), else by worker (``by_staff``),
        else the agency's partition.
        """
        low = _bound(start)
        if after is not None and after > low:
            low = after + "\u0000"  # strictly after the cursor's own key
        high = _bound(end)
        if low > high:
            return [], None
        if client_id:
            # The index is keyed by client only: the filter keeps another agency's events out of the
            # page itself, so neither they nor the cursor (their time and event id) ever leave.
            condition = m.AuditModel.agency_id == agency_id
            if types:
                condition = condition & m.AuditModel.type.is_in(*sorted(types))
            query = m.AuditModel.by_client.query(client_id, m.AuditModel.sk.between(low, high), limit=limit + 1,
                                                 filter_condition=condition)
        elif staff_id:
            query = m.AuditModel.by_staff.query(
                agency_staff(agency_id, staff_id), m.AuditModel.sk.between(low, high), limit=limit + 1,
                filter_condition=_types_filter(types),
            )
        else:
            query = m.AuditModel.query(agency_id, m.AuditModel.sk.between(low, high), limit=limit + 1,
                                       filter_condition=_types_filter(types))
        items = list(query)
        more = len(items) > limit
        items = items[:limit]
        events = [
            audit_record(i)
            for i in items
            if i.agency_id == agency_id and (not staff_id or i.agency_staff == agency_staff(agency_id, staff_id))
        ]
        if holding is not None:  # a detail, filtered here: the page may be shorter than ``limit``
            events = [e for e in events if matches_filters(e, None, holding)]
        return events, (items[-1].sk if more else None)

    def audit_of_client(self, client_id: str) -> list[AuditRecord]:
        return [audit_record(i) for i in m.AuditModel.by_client.query(client_id)]

    def inquiries_opened(
        self,
        agency_id: str,
        start: datetime,
        end: datetime,
        business_minutes: Callable[[datetime, datetime], float] | None = None,
    ) -> list[InquiryFact]:
        """Inquiries opened in ``[start, end)``; first responses fall back to ``business_minutes``."""
        items = m.InquiryModel.by_agency_opened.query(
            agency_id, m.InquiryModel.opened_at.between(start, end - _ONE_MICROSECOND)
        )
        return [_inquiry_fact(i, business_minutes) for i in items]

    def clients_created_before(self, agency_id: str, end: datetime) -> list[Client]:
        items = m.ClientModel.by_agency.query(agency_id, m.ClientModel.created_at < end)
        return [client_from(i) for i in items]

    def staff_ids(self, agency_id: str, role: str = "worker") -> list[str]:
        return [i.staff_id for i in m.StaffModel.query(agency_id) if i.role == role]


# --- data rights -------------------------------------------------------------------------------


def _media_view(media: m.MediaMap) -> dict[str, Any]:
    return {
        "content_type": media.content_type,
        "s3_key": media.s3_key,
        "status": media.status,
        "size": int(media.size) if media.size is not None else None,
    }


def message_record(item: m.MessageModel) -> dict[str, Any]:
    return {
        "id": item.message_id,
        "direction": item.direction,
        "kind": item.kind,
        "body": item.body,
        "at": item.at,
        "status": item.status,
        "channel": item.channel,
        "staff_id": item.staff_id,
        "inquiry_id": item.inquiry_id,
        "holding": bool(item.holding),
        "override_reason": item.override_reason,
        "send_at": item.send_at,
        "sent_at": item.sent_at,
        "media": [_media_view(x) for x in (item.media or [])],
        **_content_record(item),
    }


def _content_record(item: m.MessageModel) -> dict[str, Any]:
    """Location, button and forwarding flags of a client message, as GET messages shows them."""
    from ..views import content_view
    from .inbound_store import _content_from

    return content_view(_content_from(item))


class S3Media:
    """Deletes a file's media objects from the agency's bucket."""

    def __init__(self, bucket: str, region: str, endpoint: str | None = None) -> None:
        self._bucket = bucket
        self._s3 = LazyClient("s3", region, endpoint)

    def delete(self, keys: Iterable[str]) -> int:
        """Delete the objects, then every older version of them where the bucket keeps versions.

        The media bucket is versioned, and a plain delete only adds a delete marker. Old versions
        are purged here when the role may (``s3:ListBucketVersions``, ``s3:DeleteObjectVersion``);
        otherwise they are left to the bucket's lifecycle rule for noncurrent versions.
        """
        keys = sorted(set(keys))
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            self._delete_batch([{"Key": k} for k in keys[i : i + 1000]])
        self._purge_versions(keys)
        return len(keys)

    def keys_under(self, prefix: str) -> list[str]:
        """Every current object key that starts with ``prefix`` (one List request per 1,000)."""
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def _delete_batch(self, objects: list[dict[str, str]]) -> None:
        if not objects:
            return
        result = self._s3().delete_objects(Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True})
        if result.get("Errors"):
            raise RuntimeError(f"{len(result['Errors'])} media objects could not be deleted")

    def _purge_versions(self, keys: list[str]) -> None:
        from botocore.exceptions import ClientError

        try:
            for key in keys:
                versions: list[dict[str, str]] = []
                pages = self._s3().get_paginator("list_object_versions").paginate(Bucket=self._bucket, Prefix=key)
                for page in pages:
                    for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        if entry["Key"] == key:
                            versions.append({"Key": key, "VersionId": entry["VersionId"]})
                for i in range(0, len(versions), 1000):
                    self._delete_batch(versions[i : i + 1000])
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code not in ("AccessDenied", "AccessDeniedException"):
                raise
            log.warning("old media versions are left for the bucket's lifecycle rule (%s)", code)


# Audit events that carry what a person wrote about the client, and the keys holding it.
FREE_TEXT_EVENTS = frozenset({"consent.given", "consent.withdrawn", "client.warned", "client.status_changed", "boundary.override"})
FREE_TEXT_KEYS = frozenset({"reason", "note", "circle_of_care"})
TWILIO_MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Messages/([A-Z]{2}[0-9a-f]{32})/Media/(ME[0-9a-f]{32})$")


class FileRightsStore:
    """Export and erasure of one client file, and the files whose retention has run out."""

    def __init__(self, store: DynamoStore, media: S3Media, twilio: Any = None) -> None:
        self._store = store
        self._media = media
        self._twilio = twilio  # adapters.media.TwilioMedia: media still at Twilio, bodies in its logs

    def messages_of(self, client_id: str) -> list[dict[str, Any]]:
        return [message_record(i) for i in m.MessageModel.query(client_id)]

    def inquiries_of(self, client_id: str) -> list[Any]:
        return [inquiry_from(i) for i in m.InquiryModel.by_client.query(client_id)]

    def closed_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        """Ids of closed, not yet erased files of the agency closed at or before ``cutoff``."""
        items = m.ClientModel.closed_files.query(agency_id, m.ClientModel.closed_at <= cutoff)
        return [i.client_id for i in items if i.status == ClientStatus.CLOSED.value and i.erased_at is None]

    def ended_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        """Ids of not yet erased files that ended (closed, withdrawn, opted out) at or before ``cutoff``."""
        items = m.ClientModel.ended_files.query(agency_id, m.ClientModel.ended_at <= cutoff)
        return [i.client_id for i in items if i.erased_at is None]

    def erase(self, client: Client, event: AuditEvent, now: datetime) -> int:
        """Remove bodies, media, the phone number and the name; keep an anonymous tombstone.

        Media objects go first, then message bodies and media references, then (in one transaction) the client record,
        its contact row and the audit event. A crash part-way leaves the file closed and not yet
        marked erased, so running the erasure again finishes it.
        Returns how many messages were cleared.
        """
        items = list(m.MessageModel.query(client.client_id, consistent_read=True))
        # The messages' media, and any attachment a worker uploaded for this file but never sent.
        unsent = self._media.keys_under(upload_key(client.agency_id, client.client_id, ""))
        self._media.delete([*(x.s3_key for item in items for x in (item.media or []) if x.s3_key), *unsent])
        if self._twilio is not None:
            self._erase_at_twilio(items)
        for item in items:  # the MessageSid claims too (Twilio re-delivers for hours, not past a closure)
            if item.twilio_sid:
                m.ClaimModel(claim_key=f"sid#{item.twilio_sid}").delete()
        self._erase_audit_text(client.client_id)
        for item in items:
            self._clear_message(item)
        changes = {
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
        }
        contact = m.ContactModel(contact_key=contact_key(client.agency_id, client.channel, client.phone))
        try:
            with self._store.transaction() as tx:
                self._store.update_client(client, changes, [event], tx=tx)
                if client.phone:
                    tx.delete(
                        contact,
                        condition=m.ContactModel.contact_key.does_not_exist()
                        | (m.ContactModel.client_id == client.client_id),
                    )
        except TransactWriteError as err:
            if any(self._store._cancelled_by_condition(err)):
                raise ConcurrentUpdate(client.client_id) from None
            raise
        return len(items)

    def _erase_at_twilio(self, items: list[m.MessageModel]) -> None:
        """Media still waiting at Twilio is deleted there, and every body is redacted in its logs.

        Done before the references go, so a failure (Twilio unreachable) stops the erasure with
        everything still known, and running it again finishes it.
        """
        for item in items:
            for ref in item.media or []:
                if ref.twilio_url and ref.status in (None, "pending", "copied", "failed"):
                    # Only Twilio's media resource of this very message (never a forged URL).
                    found = TWILIO_MEDIA_PATH.match(urlsplit(ref.twilio_url).path)
                    if found and found.group(1) == item.twilio_sid:
                        self._twilio.delete(found.group(1), found.group(2))
            if item.twilio_sid:
                self._twilio.redact(item.twilio_sid)

    @staticmethod
    def _erase_audit_text(client_id: str) -> None:
        """Free text staff wrote about the client goes from its audit events (SPEC §5.7)."""
        for key in m.AuditModel.by_client.query(client_id):
            item = m.AuditModel.get(key.agency_id, key.sk)
            details = dict(item.details.as_dict() if hasattr(item.details, "as_dict") else item.details or {})
            if item.type not in FREE_TEXT_EVENTS or not FREE_TEXT_KEYS & details.keys():
                continue
            kept = {k: v for k, v in details.items() if k not in FREE_TEXT_KEYS}
            item.update(actions=[m.AuditModel.details.set(kept)])

    @staticmethod
    def _clear_message(item: m.MessageModel) -> None:
        """Remove the body and the media references, and take the message out of every queue.

        The media list is emptied rather than marked (other readers know only pending, copied
        and stored); how many items there were stays in the ``MESSAGE_FILED`` audit event. Leaving
        the sparse ``outbound_due`` keys would let the sweep or the media copy pick it up again.
        """
        for _attempt in range(3):
            if (item.body is None and not item.media and item.due_agency is None
                    and item.location is None and item.button is None and item.twilio_sid is None
                    and item.override_reason is None):
                return
            # A shared location or a pressed button is the client's words too (SPEC §5.7); the
            # MessageSid (and with it the by_sid index entry) and an override reason go as well.
            actions = [m.MessageModel.body.remove(), m.MessageModel.media.set([]),
                       m.MessageModel.location.remove(), m.MessageModel.button.remove(),
                       m.MessageModel.twilio_sid.remove(), m.MessageModel.override_reason.remove()]
            if item.due_agency is not None:
                actions += [m.MessageModel.due_agency.remove(), m.MessageModel.due_at.remove()]
            try:
                item.update(actions=actions)
                return
            except UpdateError:  # changed meanwhile (a status callback): read it again and retry
                item.refresh(consistent_read=True)
        raise ConcurrentUpdate(item.client_id)
