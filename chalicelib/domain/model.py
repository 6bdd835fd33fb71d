"""The agency's nouns as plain values: staff, work numbers, client files and consent.

These carry the rules that are about a single record (may this client be messaged on this
channel?); rules that need time or several records live in their own domain modules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from .errors import Forbidden


class Role(enum.Enum):
    WORKER = "worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Channel(enum.Enum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class ClientStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class ConsentState(enum.Enum):
    NONE = "none"
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class Refusal(enum.Enum):
    """Why a file may not be messaged now (``Client.messaging_refusal_code``)."""

    FILE_SUSPENDED = "file_suspended"
    FILE_CLOSED = "file_closed"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"

    def describe(self, client: Client) -> str:
        if self in (Refusal.FILE_SUSPENDED, Refusal.FILE_CLOSED):
            return f"client file is {client.status.value}"
        if self is Refusal.CONSENT_WITHDRAWN:
            return "client withdrew consent"
        if self is Refusal.NO_CONSENT:
            return f"no consent on record for {client.channel.value}"
        return "client opted out (STOP)"


@dataclass(frozen=True)
class Principal:
    """Who is calling the staff API, taken from a verified token."""

    staff_id: str
    agency_id: str
    roles: frozenset[Role]
    # True only while an admin-group token creates its own record in an agency without staff.
    founding: bool = False

    @property
    def role(self) -> Role:
        # The strongest role wins when a token carries several groups.
        for role in (Role.ADMIN, Role.SUPERVISOR, Role.WORKER):
            if role in self.roles:
                return role
        raise Forbidden("token carries no CMDM role")

    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def is_supervisor(self) -> bool:
        return Role.SUPERVISOR in self.roles

    def sees_whole_agency(self) -> bool:
        return self.is_admin() or self.is_supervisor()


@dataclass(frozen=True)
class Staff:
    agency_id: str
    staff_id: str
    role: Role
    name: str
    created_at: datetime
    active: bool = True  # a deactivated member keeps their record (and history) but has no access
    phone: str | None = None  # E.164: the worker's own phone for calls (SPEC §5.10); admins only
    version: int = 0  # of the staff item (member and absences) as read; 0: never versioned yet


@dataclass(frozen=True)
class WorkNumber:
    number: str
    agency_id: str
    staff_id: str
    channels: frozenset[Channel]
    moving_from: frozenset[str] = frozenset()  # workers whose clients are still to move to staff_id


@dataclass(frozen=True)
class NumberRegistration:
    """A Twilio number an operator registered to one agency: only that agency's admin may assign it."""

    number: str
    agency_id: str
    registered_at: datetime | None  # None: assigned before registrations were recorded (it counts as one)
    holder: WorkNumber | None = None  # the worker it is assigned to; None while nobody holds it

    def belongs_to(self, agency_id: str) -> bool:
        return self.agency_id == agency_id


@dataclass(frozen=True)
class Consent:
    """The signed consent form on record (CMDM §2): which channels, who is in the circle of care."""

    state: ConsentState = ConsentState.NONE
    form_version: str | None = None
    signed_at: datetime | None = None
    channels: frozenset[Channel] = frozenset()
    circle_of_care: tuple[str, ...] = ()
    posts: bool = False  # the client agrees to receive information posts (SPEC §5.8)
    recorded_at: datetime | None = None
    recorded_by: str | None = None
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None

    def covers(self, channel: Channel) -> bool:
        return self.state is ConsentState.GIVEN and channel in self.channels

    def withdraw(self, at: datetime, reason: str) -> Consent:
        return replace(self, state=ConsentState.WITHDRAWN, withdrawn_at=at, withdrawn_reason=reason)


@dataclass(frozen=True)
class Referral:
    """The client was referred to another agency or service, with their permission to share (§5.8).

    Erasure keeps only the id and the instant (an anonymous count), never where or why.
    """

    referral_id: str
    at: datetime
    by: str | None = None
    to: str | None = None
    service: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class EmergencyContact:
    """Whom the client agreed may be called in a crisis (SPEC §4.4, §5.9); erased with the file."""

    name: str
    phone: str  # E.164
    relation: str


@dataclass(frozen=True)
class Client:
    client_id: str
    agency_id: str
    case_manager_id: str
    phone: str
    channel: Channel
    language: str
    name: str
    status: ClientStatus
    created_at: datetime
    consent: Consent = field(default_factory=Consent)
    opted_out: bool = False
    open_inquiry_id: str | None = None
    next_followup_at: datetime | None = None
    last_inbound_at: datetime | None = None
    erased_at: datetime | None = None
    # Follow-ups, check-ins, surveys and the conduct policy (issue 5).
    last_outbound_at: datetime | None = None
    next_checkin_at: datetime | None = None
    next_survey_at: datetime | None = None
    last_survey_at: datetime | None = None
    warnings: int = 0
    flagged_for_meeting: bool = False
    status_reason: str | None = None
    closed_at: datetime | None = None
    referrals: tuple[Referral, ...] = ()
    version: int = 0
    opted_out_at: datetime | None = None
    # The file's last message in or out, consent change, opt-out or status change (domain.caseload);
    # None on a file written before it was kept (the repository reads created_at then).
    last_activity_at: datetime | None = None
    # SPEC §5.9: since when the open inquiry is a crisis (first in the inbox; cleared with the
    # inquiry), and whom to call.
    crisis_at: datetime | None = None
    emergency_contact: EmergencyContact | None = None

    @property
    def ended_at(self) -> datetime | None:
        """When the file ended, for retention (SPEC §5.7): closed, consent withdrawn, or STOP.

        The earliest of those still in force; None while none is (consent given again, START).
        """
        moments = [
            self.closed_at if self.status is ClientStatus.CLOSED else None,
            self.consent.withdrawn_at if self.consent.state is ConsentState.WITHDRAWN else None,
            self.opted_out_at if self.opted_out else None,
        ]
        present = [m for m in moments if m is not None]
        return min(present) if present else None

    def status_erased(self) -> bool:
        return self.erased_at is not None

    def messaging_refusal(self, *, notice: bool = False) -> str | None:
        """Why this file may not exchange messages now, or None when it may (CMDM §2, SPEC §5.3).

        ``notice``: a conduct notice (SPEC §5.5), which also reaches a file just suspended or closed
        under the conduct policy (it says so); consent and opt-out still hold.
        """
        refusal = self.messaging_refusal_code(notice=notice)
        return refusal.describe(self) if refusal is not None else None

    def messaging_refusal_code(self, *, notice: bool = False) -> Refusal | None:
        """``messaging_refusal`` as a stable word (the console says it in the worker's language)."""
        if self.status is not ClientStatus.ACTIVE and not notice:
            return Refusal.FILE_CLOSED if self.status is ClientStatus.CLOSED else Refusal.FILE_SUSPENDED
        if not self.consent.covers(self.channel):
            if self.consent.state is ConsentState.WITHDRAWN:
                return Refusal.CONSENT_WITHDRAWN
            return Refusal.NO_CONSENT
        if self.opted_out:
            return Refusal.OPTED_OUT
        return None

    def can_be_messaged(self) -> bool:
        return self.messaging_refusal() is None
