"""The worker's inbox: who is waiting for an answer, and how their clocks stand.

Pure values and rules. Every clock figure the console shows (how long a client has waited, the
time left, overdue or not) is computed here once, on the server, from the same instants the
reports use, so the inbox and the reports never disagree and the browser's clock does not matter.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

PREVIEW_CHARS = 120


def preview_of(body: str | None, media_count: int = 0) -> str | None:
    """The start of a client message for the inbox: one line, at most PREVIEW_CHARS characters."""
    text = " ".join((body or "").split())
    if not text:
        return None if not media_count else ""
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Waiting:
    """One file with an open inquiry, as the ``waiting`` index holds it."""

    client_id: str
    case_manager_id: str
    name: str
    channel: str
    language: str
    due_at: datetime
    opened_at: datetime | None
    last_inbound_at: datetime | None
    preview: str | None
    opted_out: bool = False
    status: str = "active"
    crisis_at: datetime | None = None  # in crisis since (SPEC §5.9): listed first, whatever its due time


@dataclass(frozen=True)
class InboxItem:
    waiting: Waiting
    waited_seconds: int
    seconds_left: int  # negative once overdue

    @property
    def overdue(self) -> bool:
        return self.seconds_left < 0


def inbox(lists: Iterable[Iterable[Waiting]], now: datetime) -> list[InboxItem]:
    """Merge the per-case-manager lists (each soonest due first) into one: clients in crisis first
    (SPEC §4.6, §5.9), then everyone else, each part soonest due first."""
    merged = list(heapq.merge(*lists, key=lambda w: (w.due_at, w.client_id)))
    items = []
    for w in [w for w in merged if w.crisis_at is not None] + [w for w in merged if w.crisis_at is None]:
        since = w.opened_at or w.last_inbound_at or now
        items.append(InboxItem(w, max(0, int((now - since).total_seconds())), int((w.due_at - now).total_seconds())))
    return items
