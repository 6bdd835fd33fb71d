"""``sweep_clocks``: every few minutes, send held messages whose time came and record breaches.

Safe to run twice for the same minute (SPEC §4.4): a message is only sent by the run that moves
it from waiting to ``sending``, and an inquiry only breaches by the run that moves it from
``open`` to ``breached`` (both conditional writes), so a second run finds nothing left to do.
Reads are keyed: per agency, one Query of the sparse ``outbound_due`` index and one of the open
inquiries due by now; nothing scans.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.inquiry import Inquiry
from ..domain.model import Role
from ..domain.notifications import Notification, breach_notification_id
from ..domain.outbound import breach_due

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.sweep")


#: Stop starting new sends after this long, inside the stages' 30-second Lambda timeout, when the
#: caller does not know its own remaining time; the rest stays due and the next run (5 minutes
#: later) picks it up. Breaches are always recorded first.
DEFAULT_BUDGET_SECONDS = 20.0


class SweepService:
    def __init__(self, uow: Callable[[], UnitOfWork], messaging: Any, policies: Any,
                 budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> None:
        self._uow = uow
        self._messaging = messaging
        self._policies = policies
        self._budget = budget_seconds

    def run(self, now: datetime | None = None, budget_seconds: float | None = None) -> dict[str, int]:
        now = now or utcnow()
        budget = self._budget if budget_seconds is None else budget_seconds
        summary: Counter[str] = Counter()
        policies = self._policies.all()
        for policy in policies:
            self._breaches(policy.agency_id, now, summary)
        started = time.monotonic()
        for policy in policies:
            agency_id = policy.agency_id
            for ref in list(self._uow().messages.due(agency_id, now)):
                if time.monotonic() - started > budget:
                    summary["deferred"] += 1
                    continue
                try:
                    summary[self._messaging.release(ref, now)] += 1
                except Exception as err:  # one bad message must not stop the others; no content logged
                    log.error("releasing a message of %s failed: %s", agency_id, type(err).__name__)
                    summary["errors"] += 1
        return {key: value for key, value in sorted(summary.items()) if value}

    def _breaches(self, agency_id: str, now: datetime, summary: Counter[str]) -> None:
        supervisors: list[str] | None = None
        for inquiry in list(self._uow().inquiries.open_due(agency_id, now)):
            if not breach_due(inquiry, now):
                continue
            if supervisors is None:
                supervisors = self._uow().staff.ids_with_role(agency_id, Role.SUPERVISOR)
            try:
                if self._breach(inquiry, now, supervisors):
                    summary["breached"] += 1
            except Exception as err:  # one bad item must not stop the others; no content logged
                log.error("recording a breach in %s failed: %s", agency_id, type(err).__name__)
                summary["errors"] += 1

    def _breach(self, inquiry: Inquiry, now: datetime, supervisors: list[str]) -> bool:
        def event(kind: AuditType, details: dict[str, Any]) -> AuditEvent:
            return AuditEvent(
                agency_id=inquiry.agency_id,
                type=kind,
                at=now,
                actor="system",
                client_id=inquiry.client_id,
                staff_id=inquiry.staff_id,
                details=details,
            )

        events = [
            event(AuditType.INQUIRY_BREACHED, {"inquiry_id": inquiry.inquiry_id, "due_at": inquiry.due_at}),
            event(AuditType.ESCALATED, {"inquiry_id": inquiry.inquiry_id, "to": sorted(supervisors)}),
        ]
        notifications = [
            Notification(
                recipient_id=supervisor,
                type="breach",
                at=now,
                client_id=inquiry.client_id,
                inquiry_id=inquiry.inquiry_id,
                message=f"An inquiry held by {inquiry.staff_id} was not answered by its due time",
                notification_id=breach_notification_id(inquiry.inquiry_id),  # a review settles it
                staff_id=inquiry.staff_id,
            )
            for supervisor in supervisors
        ]
        with self._uow() as uow:  # open -> breached exactly once, with its audit and notifications
            uow.inquiries.breach(inquiry, now)
            uow.audit.add(events)
            uow.notifications.add(inquiry.agency_id, notifications)
            return uow.commit_unless_changed()
