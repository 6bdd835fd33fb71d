"""Client files and consent (CMDM §2: intake first, then a signed consent form)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..domain import followups as followup_rules
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.i18n import normalise_language
from ..domain.inquiry import Inquiry
from ..domain.messages import Message
from ..domain.model import Channel, Client, ClientStatus, Consent, ConsentState, Principal, Role
from .access import manageable_client, visible_client

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


def agency_country(policies: Any, agency_id: str, numbers: Callable[[], Any]) -> str | None:
    """The country national-format numbers belong to: the policy's holiday country, else that of
    the worker's work numbers (``numbers``, read only when needed; SPEC §4.4 ``POST /clients``)."""
    if policies is not None:
        try:
            country = policies.get(agency_id).calendar.holiday_country
        except KeyError:
            country = None
        if country:
            return str(country)
    regions = {v.region_of(n.number) for n in numbers()} - {None}
    return regions.pop() if len(regions) == 1 else None


@dataclass(frozen=True)
class CreateClient:
    case_manager_id: str
    phone: str  # E.164; or as typed in national format until ``create`` knows the agency's country
    channel: Channel
    language: str
    name: str

    @classmethod
    def parse(cls, payload: Any) -> CreateClient:
        body = v.require_object(payload)
        language = body.get("language")
        if not isinstance(language, str):
            raise InvalidInput("language", "is required, as a BCP 47 tag such as 'ar', 'fr' or 'en'")
        try:
            language = normalise_language(language)
        except ValueError:
            raise InvalidInput("language", "must be a BCP 47 tag such as 'ar', 'fr' or 'en'") from None
        return cls(
            case_manager_id=v.identifier(body.get("case_manager_id"), "case_manager_id"),
            phone=v.phone(body.get("phone"), "phone", default_region=None) if _is_e164(body.get("phone"))
            else v.text(body, "phone", max_len=30) or "",
            channel=v.channel(body.get("channel")),
            language=language,
            name=v.text(body, "name") or "",
        )


def _is_e164(value: Any) -> bool:
    return not isinstance(value, str) or value.strip().startswith("+")


@dataclass(frozen=True)
class GiveConsent:
    form_version: str
    signed_at: datetime
    channels: frozenset[Channel]
    circle_of_care: tuple[str, ...]
    posts: bool = False

    @classmethod
    def parse(cls, payload: Any) -> GiveConsent:
        body = v.require_object(payload)
        posts = v.flag(body, "posts")
        # With an offset: an instant. Without: the agency's wall clock, read in its zone by the
        # service, which also refuses a time still to come (``_signed_instant``).
        signed_at = v.instant_or_wall_clock(body.get("signed_at"), "signed_at")
        return cls(
            form_version=v.text(body, "form_version", max_len=50) or "",
            signed_at=signed_at,
            channels=v.channels(body.get("channels")),
            circle_of_care=v.string_list(body.get("circle_of_care"), "circle_of_care"),
            posts=posts,
        )


@dataclass(frozen=True)
class WithdrawConsent:
    reason: str

    @classmethod
    def parse(cls, payload: Any) -> WithdrawConsent:
        body = v.require_object(payload if payload is not None else {})
        return cls(reason=v.text(body, "reason", required=False, max_len=500) or "withdrawn at the client's request")


class ClientService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
        policies: Any = None,
    ) -> None:
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per use
        # Agency policies, to put a newly consented file on the follow-up schedule (issue 5).
        self._policies = policies
        # Colleagues the caller covers for during an absence (filled in by the absence feature).
        self._covering_for = covering_for or (lambda principal: frozenset())

    def _load(self, principal: Principal, client_id: str, *, manage: bool = False) -> Client:
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        covering = self._covering_for(principal)
        if manage:
            return manageable_client(principal, client, covering=covering)
        return visible_client(principal, client, covering=covering)

    def create(self, principal: Principal, command: CreateClient) -> Client:
        if not (principal.is_admin() or principal.staff_id == command.case_manager_id):
            if principal.is_supervisor():
                raise Forbidden("supervisors have read-only access to client files")
            raise Forbidden("workers open files for themselves only")
        uow = self._uow()
        manager = uow.staff.get(principal.agency_id, command.case_manager_id)
        if manager is None:
            raise NotFound("no such case manager in this agency")
        if manager.role is not Role.WORKER:
            raise InvalidInput("case_manager_id", "must be a worker")
        numbers = uow.numbers.of(principal.agency_id, command.case_manager_id)
        phone = v.phone(command.phone, "phone", self._country(principal.agency_id, numbers))
        if not any(command.channel in n.channels for n in numbers):
            raise Conflict(
                f"the case manager has no work number for {command.channel.value}",
                code="no_work_number",
            )
        now = utcnow()
        client = Client(
            client_id=new_id("cl"),
            agency_id=principal.agency_id,
            case_manager_id=command.case_manager_id,
            phone=phone,
            channel=command.channel,
            language=command.language,
            name=command.name,
            status=ClientStatus.ACTIVE,
            created_at=now,
            version=1,
            last_activity_at=now,  # intake is the file's first activity (GET /clients' order)
        )
        event = AuditEvent(
            agency_id=principal.agency_id,
            type=AuditType.CLIENT_CREATED,
            at=now,
            actor=principal.staff_id,
            client_id=client.client_id,
            staff_id=command.case_manager_id,
            details={"channel": command.channel, "language": command.language},
        )
        with uow:
            uow.clients.add(client, created_by=principal.staff_id)
            uow.audit.add([event])
            uow.commit()
        return client

    def _signed_instant(self, agency_id: str, signed_at: datetime, now: datetime) -> datetime:
        """A signing time typed as the agency's wall clock, as an instant in UTC (SPEC §5.11)."""
        if signed_at.tzinfo is None:
            try:
                zone = self._policies.get(agency_id).calendar.zone() if self._policies is not None else None
            except KeyError:
                zone = None
            if zone is None:
                raise InvalidInput("signed_at", "must include a UTC offset: the agency has no published policy")
            # fold=0: a wall time repeated by a fall-back means its first occurrence.
            signed_at = signed_at.replace(tzinfo=zone).astimezone(UTC)
        if signed_at > now:
            raise InvalidInput("signed_at", "must not be in the future")
        return signed_at

    def _country(self, agency_id: str, numbers: Any) -> str | None:
        return agency_country(self._policies, agency_id, lambda: numbers)

    def get(self, principal: Principal, client_id: str) -> tuple[Client, Inquiry | None]:
        """The file and its open inquiry, if any (one extra keyed read only when one is open)."""
        client = self._load(principal, client_id)
        inquiry = self._uow().inquiries.get(client.open_inquiry_id) if client.open_inquiry_id else None
        return client, inquiry

    def messages(self, principal: Principal, client_id: str) -> tuple[Client, list[Message]]:
        """The file's messages, oldest first, for whoever may read the file."""
        client = self._load(principal, client_id)
        return client, self._uow().messages.of_client(client.client_id)

    def give_consent(self, principal: Principal, client_id: str, command: GiveConsent) -> Client:
        client = self._load(principal, client_id, manage=True)
        if client.status is ClientStatus.CLOSED:
            raise Conflict("the client file is closed", code="file_closed")
        now = utcnow()
        signed_at = self._signed_instant(client.agency_id, command.signed_at, now)
        consent = Consent(
            state=ConsentState.GIVEN,
            form_version=command.form_version,
            signed_at=signed_at,
            channels=command.channels,
            circle_of_care=command.circle_of_care,
            posts=command.posts,
            recorded_at=now,
            recorded_by=principal.staff_id,
        )
        event = AuditEvent(
            agency_id=client.agency_id,
            type=AuditType.CONSENT_GIVEN,
            at=now,
            actor=principal.staff_id,
            client_id=client.client_id,
            staff_id=client.case_manager_id,
            details={
                "form_version": command.form_version,
                "channels": sorted(c.value for c in command.channels),
                "circle_of_care": list(command.circle_of_care),
                "posts": command.posts,
                # Consent on record for the first time: a new client for the usage report (§5.6).
                "first": client.consent.state is ConsentState.NONE,
            },
        )
        changes: dict[str, Any] = {"consent": consent, **self._schedule(replace(client, consent=consent), now)}
        self._change(client, changes, event)
        known = {k: value for k, value in changes.items() if hasattr(client, k)}
        return replace(client, version=client.version + 1, **known)

    def _change(self, client: Client, changes: dict[str, Any], event: AuditEvent) -> None:
        """The file's changes and their audit event, both or neither."""
        with self._uow() as uow:
            uow.clients.update(client, changes)
            uow.audit.add([event])
            uow.commit()

    def _schedule(self, client: Client, now: datetime) -> dict[str, Any]:
        """The follow-up, check-in and survey schedule of a file (SPEC §5.5), or none if unreachable."""
        if self._policies is None:
            return {}
        try:
            policy = self._policies.get(client.agency_id)
        except KeyError:
            return {}
        return followup_rules.schedule_changes(client, policy, now)

    def withdraw_consent(self, principal: Principal, client_id: str, command: WithdrawConsent) -> Client:
        client = self._load(principal, client_id, manage=True)
        if client.consent.state is not ConsentState.GIVEN:
            raise Conflict("there is no consent on record to withdraw", code="no_consent")
        now = utcnow()
        consent = client.consent.withdraw(now, command.reason)
        event = AuditEvent(
            agency_id=client.agency_id,
            type=AuditType.CONSENT_WITHDRAWN,
            at=now,
            actor=principal.staff_id,
            client_id=client.client_id,
            staff_id=client.case_manager_id,
            details={"reason": command.reason},
        )
        # Withdrawal also takes the file out of the follow-up index (SPEC §5.5).
        self._change(client, {"consent": consent, **followup_rules.UNSCHEDULE}, event)
        return replace(client, consent=consent, next_followup_at=None, next_checkin_at=None, next_survey_at=None,
                       version=client.version + 1)

