"""Who is due a follow-up, a monthly check-in or a survey, and when (CMDM "follow ups ... weekly ...
and monthly", "satisfaction surveys ... on a regular basis"; SPEC §5.5).

The scheduler must scale with the clients that are *due*, not with all clients, so each eligible
file carries the instant of its next automated contact of each kind (``next_followup_at``,
``next_checkin_at``, ``next_survey_at``) in sparse indexes, and a run only reads what is due. This
module computes those instants and decides, for one freshly read file, what to send now and how
the schedule moves. It never asks what time it is: callers pass ``now``.

Decisions worth knowing:

* **Send slot.** Automated messages go out at the policy's follow-up time (``followups.time``) on a
  business day, in the agency's zone. If the agency is not open at that time on a business day
  (a lunch break, say), the slot is the next opening later that day; a follow-up time after the
  day's last closing means the day's first opening. Closed days (weekends, statutory holidays,
  closures) have no slot, so nothing is ever scheduled on them.
* **Follow-up.** A client whose last exchange (the later of the last inbound and last outbound
  message, or the consent meeting when there has been none) is older than the cadence gets a
  follow-up in the first slot at or after ``last exchange + cadence``: quiet since Friday 15:00 with
  a 7-day cadence is due the next Friday 15:00, so the follow-up goes on Monday at 10:00. Every
  outbound message counts as an exchange, so while a client stays quiet follow-ups come weekly,
  and a check-in or survey pushes the next follow-up back too.
* **Inbound/outbound elsewhere move the clock lazily.** Other features only stamp
  ``last_inbound_at``/``last_outbound_at``; when a client comes due, ``plan`` sees the recent
  exchange and reschedules without sending. A file is therefore read at most once per cadence
  even while it chats every day.
* **Monthly check-in.** Every active, reachable client gets one per agency-local calendar month, on
  the day of the month the file was opened (clamped to short months), moved to a business day
  *within that month* (forward if possible, else back). The once-only claim is per calendar month.
* **Survey.** Every ``surveys.cadence`` after the previous survey (or the consent), in the first
  slot at or after that instant.
* **One automated message per client per run.** A due check-in wins over a due follow-up (it
  counts as the week's contact); a follow-up wins over a survey. A survey that loses is deferred to
  the next business day's slot, never sent minutes after another automated message.
* **Claim periods** (once-only keys): follow-up per ISO week of sending (per local day when the
  cadence is shorter than a week), check-in per local month of sending, survey per the local date it
  was scheduled for.

Pure: imports only the standard library and other domain modules.
"""

from __future__ import annotations

import calendar as _calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from .business_time import SEARCH_DAYS
from .model import Client
from .policy import Policy

__all__ = [
    "FollowupKind",
    "Plan",
    "UNSCHEDULE",
    "checkin_period",
    "followup_period",
    "last_exchange",
    "next_checkin_at",
    "next_followup_at",
    "next_slot",
    "next_survey_at",
    "plan",
    "schedule_changes",
    "send_slot",
    "slot_passed_today",
    "survey_period",
]


class FollowupKind(enum.Enum):
    FOLLOWUP = "followup"
    CHECKIN = "checkin"
    SURVEY = "survey"


#: The index attributes a file carries while it may receive automated messages. Removing the
#: hash keys takes it out of the sparse indexes; the instants go too, so the file shows none.
UNSCHEDULE: Mapping[str, None] = MappingProxyType({
    "followup_agency": None,
    "next_followup_at": None,
    "checkin_agency": None,
    "next_checkin_at": None,
    "survey_agency": None,
    "next_survey_at": None,
})


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return at.astimezone(UTC)


def _local_date(at: datetime, policy: Policy) -> date:
    return _utc(at).astimezone(policy.calendar.zone()).date()


def _local_midnight(day: date, policy: Policy) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=policy.calendar.zone()).astimezone(UTC)


def later_by(at: datetime, cadence: timedelta, policy: Policy) -> datetime:
    """``at`` plus a cadence counted on the agency's wall clock.

    Cadences are in days, and "90 days after 10:00 in January" means 10:00 in April even though a
    daylight-saving change put an hour between them; adding in UTC would land at 11:00 and miss
    that day's 10:00 send slot.
    """
    zone = policy.calendar.zone()
    wall = _utc(at).astimezone(zone).replace(tzinfo=None) + cadence
    return wall.replace(tzinfo=zone).astimezone(UTC)


# -- slots ------------------------------------------------------------------------------------


def send_slot(day: date, policy: Policy) -> datetime | None:
    """The instant (UTC) automated messages go out on agency-local ``day``; None on a closed day."""
    cal = policy.calendar
    intervals = list(cal.open_intervals(_local_midnight(day, policy), _local_midnight(day + timedelta(days=1), policy)))
    if not intervals:
        return None
    nominal = datetime.combine(day, policy.followup_time, tzinfo=cal.zone()).astimezone(UTC)
    for start, end in intervals:
        if end > nominal:
            return max(start, nominal)
    return intervals[0][0]


def next_slot(at: datetime, policy: Policy) -> datetime:
    """The first send slot at or after ``at``."""
    instant = _utc(at)
    day = _local_date(instant, policy)
    for _ in range(SEARCH_DAYS + 1):
        slot = send_slot(day, policy)
        if slot is not None and slot >= instant:
            return slot
        day += timedelta(days=1)
    raise ValueError("calendar never opens")


def slot_passed_today(now: datetime, policy: Policy) -> bool:
    """Whether the agency is open now and today's send slot has come (the run's gate)."""
    if not policy.calendar.is_open(now):
        return False
    slot = send_slot(_local_date(now, policy), policy)
    return slot is not None and slot <= _utc(now)


# -- per kind -----------------------------------------------------------------------------------


def last_exchange(client: Client) -> datetime | None:
    """The later of the last inbound and outbound message, else the consent meeting."""
    stamps = [t for t in (client.last_inbound_at, client.last_outbound_at) if t is not None]
    if stamps:
        return max(stamps)
    return client.consent.recorded_at or client.consent.signed_at


def next_followup_at(exchange: datetime, policy: Policy) -> datetime:
    """Follow-up time on the first business day once ``exchange`` is older than the cadence."""
    return next_slot(later_by(exchange, policy.followup_cadence, policy), policy)


def _checkin_in_month(year: int, month: int, anchor_day: int, policy: Policy) -> datetime | None:
    days_in_month = _calendar.monthrange(year, month)[1]
    nominal = date(year, month, min(max(anchor_day, 1), days_in_month))
    for offset in range(0, days_in_month - nominal.day + 1):
        slot = send_slot(nominal + timedelta(days=offset), policy)
        if slot is not None:
            return slot
    for offset in range(1, nominal.day):
        slot = send_slot(nominal - timedelta(days=offset), policy)
        if slot is not None:
            return slot
    return None


def next_checkin_at(after: datetime, anchor_day: int, policy: Policy) -> datetime:
    """The check-in slot of the first calendar month after the (agency-local) month of ``after``.

    ``anchor_day`` is the day of the month check-ins aim for (the day the file was opened).
    """
    local = _local_date(after, policy)
    year, month = local.year, local.month
    for _ in range(SEARCH_DAYS // 28 + 2):
        month += 1
        if month > 12:
            year, month = year + 1, 1
        slot = _checkin_in_month(year, month, anchor_day, policy)
        if slot is not None:
            return slot
    raise ValueError("calendar never opens")


def next_survey_at(after: datetime, policy: Policy) -> datetime:
    return next_slot(later_by(after, policy.survey_cadence, policy), policy)


def anchor_day(client: Client, policy: Policy) -> int:
    return _local_date(client.created_at, policy).day


# -- claim periods ------------------------------------------------------------------------------


def followup_period(now: datetime, policy: Policy) -> str:
    local = _local_date(now, policy)
    if policy.followup_cadence < timedelta(days=7):
        return local.isoformat()
    iso_year, iso_week, _ = local.isocalendar()
    return f"{iso_year}-W{iso_week:02d}"


def checkin_period(now: datetime, policy: Policy) -> str:
    local = _local_date(now, policy)
    return f"{local.year:04d}-{local.month:02d}"


def survey_period(scheduled_at: datetime, policy: Policy) -> str:
    return _local_date(scheduled_at, policy).isoformat()


# -- entering the indexes -----------------------------------------------------------------------


def schedule_changes(client: Client, policy: Policy, now: datetime) -> dict[str, Any]:
    """Attribute changes that put a reachable file into the follow-up indexes (or take it out).

    Used when consent is given, when a file becomes active again, and by the run itself. A file
    that may not be messaged (not active, no consent for its channel, opted out) gets ``UNSCHEDULE``.
    """
    if not client.can_be_messaged() or client.erased_at is not None:
        return dict(UNSCHEDULE)
    now = _utc(now)
    exchange = max(t for t in (last_exchange(client), now) if t is not None)
    changes: dict[str, Any] = {
        "followup_agency": client.agency_id,
        "next_followup_at": next_followup_at(exchange, policy),
        "survey_agency": client.agency_id,
        "next_survey_at": next_survey_at(client.last_survey_at or now, policy),
    }
    if policy.monthly_checkin:
        changes["checkin_agency"] = client.agency_id
        changes["next_checkin_at"] = next_checkin_at(now, anchor_day(client, policy), policy)
    else:
        changes["checkin_agency"] = None
        changes["next_checkin_at"] = None
    return changes


# -- what to do with one due client -------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a run does with one client: send ``send`` (or nothing) and apply ``changes``."""

    send: FollowupKind | None
    period: str | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why nothing is sent, for the run's summary


def _due(at: datetime | None, now: datetime) -> bool:
    return at is not None and _utc(at) <= now


def plan(client: Client, policy: Policy, now: datetime) -> Plan:
    """Decide for one freshly read file what to send now and how its schedule moves.

    The caller has checked that the agency is open and past its send slot today.
    """
    now = _utc(now)
    if not client.can_be_messaged() or client.erased_at is not None:
        return Plan(None, changes=dict(UNSCHEDULE), reason="not_eligible")

    exchange = last_exchange(client) or now
    followup_due = _due(client.next_followup_at, now)
    quiet = later_by(exchange, policy.followup_cadence, policy) <= now
    checkin_due = policy.monthly_checkin and _due(client.next_checkin_at, now)
    survey_due = _due(client.next_survey_at, now)

    send: FollowupKind | None = None
    if checkin_due:
        send = FollowupKind.CHECKIN
    elif followup_due and quiet:
        send = FollowupKind.FOLLOWUP
    elif survey_due:
        send = FollowupKind.SURVEY

    changes: dict[str, Any] = {}
    if send is None:
        if not followup_due:
            # Read from an index that was stale by the time the file was read: nothing to do.
            return Plan(None, reason="not_due")
        # Due, but an exchange happened since it was scheduled: move the follow-up, send nothing.
        changes.update(_repairs(client, policy, now))
        changes["next_followup_at"] = next_followup_at(exchange, policy)
        return Plan(None, changes=changes, reason="recent_exchange")

    # Sending counts as an exchange: the next follow-up is a cadence after now.
    changes.update(_repairs(client, policy, now))
    changes["last_outbound_at"] = now
    # The run reaches a file minutes after the slot; counting the cadence from the slot itself keeps
    # the weekly rhythm (sent Monday 10:05, next due Monday 10:00) instead of drifting a day.
    slot_today = send_slot(_local_date(now, policy), policy)
    sent_at = slot_today if slot_today is not None and slot_today <= now else now
    changes["next_followup_at"] = next_followup_at(sent_at, policy)
    if send is FollowupKind.CHECKIN:
        changes["checkin_agency"] = client.agency_id
        changes["next_checkin_at"] = next_checkin_at(now, anchor_day(client, policy), policy)
        period = checkin_period(now, policy)
    elif send is FollowupKind.FOLLOWUP:
        period = followup_period(now, policy)
    else:
        assert client.next_survey_at is not None
        period = survey_period(client.next_survey_at, policy)
    if send is FollowupKind.SURVEY:
        changes["last_survey_at"] = now
        changes["survey_agency"] = client.agency_id
        changes["next_survey_at"] = next_survey_at(sent_at, policy)
    elif survey_due:
        # Never two automated messages on one day: the survey waits for the next business day.
        changes["next_survey_at"] = next_slot(_local_midnight(_local_date(now, policy) + timedelta(days=1), policy),
                                              policy)
    return Plan(send, period=period, changes=changes)


def _repairs(client: Client, policy: Policy, now: datetime) -> dict[str, Any]:
    """Index keys an eligible file must carry, whatever removed them (e.g. an opt-out, later undone)."""
    changes: dict[str, Any] = {"followup_agency": client.agency_id, "survey_agency": client.agency_id}
    if client.next_survey_at is None:
        changes["next_survey_at"] = next_survey_at(client.last_survey_at or now, policy)
    if policy.monthly_checkin:
        changes["checkin_agency"] = client.agency_id
        if client.next_checkin_at is None:
            changes["next_checkin_at"] = next_checkin_at(now, anchor_day(client, policy), policy)
    else:
        changes["checkin_agency"] = None
        changes["next_checkin_at"] = None
    return changes


def skip_period(kind: FollowupKind, client: Client, policy: Policy, now: datetime) -> dict[str, Any]:
    """Schedule changes when this period's message of ``kind`` was already sent (claim taken)."""
    now = _utc(now)
    tomorrow = next_slot(_local_midnight(_local_date(now, policy) + timedelta(days=1), policy), policy)
    if kind is FollowupKind.CHECKIN:
        return {"next_checkin_at": next_checkin_at(now, anchor_day(client, policy), policy)}
    if kind is FollowupKind.SURVEY:
        return {"next_survey_at": next_survey_at(now, policy)}
    # A follow-up already went out this ISO week: try again in the first slot of a later week.
    later = tomorrow
    period = followup_period(now, policy)
    while followup_period(later, policy) == period:
        later = next_slot(later + timedelta(days=1), policy)
    return {"next_followup_at": later}


@dataclass(frozen=True)
class FollowupRow:
    """One automated message on a worker's follow-up list, and whether the client replied."""

    agency_id: str
    staff_id: str
    client_id: str
    kind: str
    at: datetime
    replied_at: datetime | None = None
    score: int | None = None
