"""Live updates (issue 23): what changed, who may hear of it, and what each one is told.

A change is named by ids only (a client file, a staff member's own notifications); the event a
browser receives says *that* something changed and what to fetch again, never what it is, so
nothing personal travels on the push channel: the console asks the API, which checks access as
for any request. Who hears of a client file is the access rule of ``services.access``: its case
manager, the colleague covering them today, and the agency's supervisors and admins, never
anyone of another agency.

The "alert" an event may carry asks the browser for a system notification (issue 23 item 3): a
new client message alerts the worker who answers the file (the case manager, or the colleague
covering their absence) only while the agency is open and that worker is not away; a crisis
notification alerts its recipient (the on-call person after hours) at any hour. The browser
cannot know the agency's hours, holidays or absences, so the server decides and sends the flag.

Pure: no I/O; the publisher (``services/live.py``) reads the connections and the directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .absence import cover_on
from .model import Role


class What(StrEnum):
    """What of a file changed, so a page fetches again only that."""

    FILE = "file"  # the client's file (status, consent, open inquiry)
    INBOX = "inbox"  # whether and how the client waits in an inbox
    MESSAGES = "messages"  # the conversation
    NOTIFICATIONS = "notifications"  # a staff member's own notifications


class Alert(StrEnum):
    MESSAGE = "message"
    CRISIS = "crisis"


class EventType(StrEnum):
    CLIENT_CHANGED = "client_changed"
    NOTIFICATIONS_CHANGED = "notifications_changed"


@dataclass(frozen=True)
class Change:
    """One thing a committed unit of work changed: a client file's parts, or a staff member's own
    notifications (``recipient``). ``client_wrote``: a client message was filed; ``crisis``: the
    notification is a crisis."""

    agency_id: str
    client_id: str | None = None
    what: frozenset[What] = frozenset()
    recipient: str | None = None
    client_wrote: bool = False
    crisis: bool = False

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        return (self.agency_id, self.client_id, self.recipient)

    def to_json(self) -> dict[str, Any]:
        return {"agency_id": self.agency_id, "client_id": self.client_id, "what": sorted(self.what),
                "recipient": self.recipient, "client_wrote": self.client_wrote, "crisis": self.crisis}

    @classmethod
    def from_json(cls, data: Any) -> Change | None:
        """A change read back from a queue message; None for anything malformed."""
        if not isinstance(data, Mapping) or not isinstance(data.get("agency_id"), str):
            return None
        try:
            what = frozenset(What(w) for w in data.get("what") or ())
        except ValueError:
            return None
        client_id, recipient = data.get("client_id"), data.get("recipient")
        if not isinstance(client_id, str | None) or not isinstance(recipient, str | None):
            return None
        return cls(data["agency_id"], client_id, what, recipient, bool(data.get("client_wrote")),
                   bool(data.get("crisis")))


def merged(changes: Iterable[Change]) -> list[Change]:
    """One change per file or recipient, in first-seen order: what changed united, flags kept."""
    out: dict[tuple[str, str | None, str | None], Change] = {}
    for change in changes:
        seen = out.get(change.key)
        out[change.key] = change if seen is None else replace(
            seen, what=seen.what | change.what, client_wrote=seen.client_wrote or change.client_wrote,
            crisis=seen.crisis or change.crisis)
    return list(out.values())


@dataclass(frozen=True)
class LiveConnection:
    """A browser's open socket: whose, in which agency, with the role they had when it opened."""

    connection_id: str
    agency_id: str
    staff_id: str
    role: Role
    connected_at: datetime | None = None


SEES_WHOLE_AGENCY = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class FileAudience:
    """Who may see a client file now: the workers who answer it, and the agency-wide readers."""

    answering: frozenset[str]  # the case manager (unless away) and the covering colleague
    case_manager: str
    away: frozenset[str] = field(default_factory=frozenset)  # of ``answering``'s candidates, who is away today

    def may_see(self, staff_id: str, role: Role | None) -> bool:
        if role is None:  # no active staff record: no access (SPEC §4.3)
            return False
        if role in SEES_WHOLE_AGENCY:
            return True
        return staff_id == self.case_manager or staff_id in self.answering


def file_audience(case_manager_id: str, roles: Mapping[str, Role], absences: Mapping[str, Iterable[Any]],
                  today: date) -> FileAudience:
    """The case manager and, while they are away today (agency-local), the colleague covering."""
    cover = cover_on(absences.get(case_manager_id, ()), today)
    answering = {case_manager_id} if cover is None else {cover}
    away = frozenset({case_manager_id}) if cover is not None else frozenset()
    return FileAudience(frozenset(s for s in answering if roles.get(s) is not None), case_manager_id, away)


def file_event(change: Change, staff_id: str, audience: FileAudience, *, open_now: bool) -> dict[str, Any]:
    """What one member of staff is told about a change of a file they may see."""
    event: dict[str, Any] = {"type": EventType.CLIENT_CHANGED.value, "client_id": change.client_id,
                             "what": sorted(change.what)}
    if change.client_wrote and open_now and staff_id in audience.answering and staff_id not in audience.away:
        event["alert"] = Alert.MESSAGE.value
    return event


def notifications_event(change: Change) -> dict[str, Any]:
    """What a recipient is told when their own notifications changed; a crisis alerts at any hour."""
    event: dict[str, Any] = {"type": EventType.NOTIFICATIONS_CHANGED.value,
                             "what": [What.NOTIFICATIONS.value]}
    if change.client_id:
        event["client_id"] = change.client_id
    if change.crisis:
        event["alert"] = Alert.CRISIS.value
    return event
