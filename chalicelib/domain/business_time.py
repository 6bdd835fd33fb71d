"""Business time: when an agency is open, and when an inquiry is due.

Every rule that depends on opening hours (response deadlines, after-hours replies, holding staff
messages until the next opening) asks this module, so the awkward parts live in one place:

* Opening hours are *local wall-clock* times in the agency's IANA zone, per weekday, possibly
  several intervals a day. Statutory holidays (via the ``holidays`` package, by country and
  province) and extra closure dates close a whole local day.
* Targets are *elapsed real time*: 24 h is 24 real hours even across a daylight-saving change.
  Adding a ``timedelta`` to an aware datetime in a ``zoneinfo`` zone is wall-clock arithmetic, so
  every computation here is done on UTC instants; local time is only used to build each day's
  open intervals.

Every public function accepts aware datetimes in any zone, returns aware datetimes in UTC, and
raises ``ValueError`` for naive datetimes. Intervals are half-open ``[start, end)``: an agency that
closes at 17:00 is closed at 17:00:00.

Decisions worth knowing:

* ``time(0, 0)`` as an interval end (``"24:00"`` in policy files) means midnight at the end of that
  day. Intervals belong to the local day they are configured on, so a day's holiday status
  decides the whole interval, including a ``"24:00"`` end.
* Touching intervals on the same day (``09:00-12:00`` and ``12:00-17:00``) are merged. Intervals
  on consecutive days are not: an agency open ``00:00-24:00`` every day has one interval per day,
  touching at midnight, so ``current_interval_end``/``next_opening`` while open report midnight.
  Midnight is still an open instant (the next day's interval starts there).
* A wall time that occurs twice (autumn fall-back) means its first occurrence (``fold=0``).
* A wall time that does not exist (spring-forward gap) means the instant the clocks jump, i.e.
  the first real instant whose wall time is at or after it (02:30 on a night where 02:00 jumps to
  03:00 becomes 03:00 daylight time). This keeps wall-to-UTC conversion monotonic, so non-overlapping
  wall intervals never overlap in UTC; an interval that lies entirely in the gap is empty and
  skipped.
* Searches are bounded: if no open interval exists for 400 consecutive days, searches forward
  raise ``ValueError("calendar never opens")``.
* Holidays can come *compiled*: ``make package`` resolves each agency's holidays for a range of
  years ahead of time (``compiled_holidays``), so a deployed cold start never imports the
  ``holidays`` package (about 60 ms for its every-country registry). A year outside that range is
  still answered correctly, by importing ``holidays`` then, with one warning per year asking for a
  fresh ``make package``. Without compiled holidays (``local``, ``test``) they are resolved here,
  the first time a year is asked.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "ClockMode",
    "SEARCH_DAYS",
    "WEEKDAY_KEYS",
    "response_deadline",
]

SEARCH_DAYS = 400
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = time(0, 0)

_HHMM = re.compile(r"^(\d{2}):(\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTERVAL_CACHE_LIMIT = 4096
_log = logging.getLogger(__name__)

Interval = tuple[datetime, datetime]
LocalInterval = tuple[time, time]


class ClockMode(enum.Enum):
    """How a response target is counted (policy ``response.clock``)."""

    CALENDAR = "calendar"
    BUSINESS_HOURS = "business_hours"


def _to_utc(value: datetime, name: str = "datetime") -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_date(day: date) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"expected an agency-local date, got {day!r}")


def _minutes(t: time, *, is_end: bool) -> float:
    """Minutes since local midnight; an end of 00:00 is 24:00."""
    if is_end and t == MIDNIGHT:
        return 24 * 60.0
    return t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 60_000_000


def _fmt(t: time, *, is_end: bool) -> str:
    return "24:00" if is_end and t == MIDNIGHT else t.strftime("%H:%M")


def _normalise_day(weekday: int, intervals: object) -> tuple[LocalInterval, ...]:
    day = WEEKDAY_KEYS[weekday]
    if isinstance(intervals, (str, bytes)) or not isinstance(intervals, Iterable):
        raise ValueError(f"hours.{day}: expected a list of (start, end) intervals")
    pairs: list[LocalInterval] = []
    for pair in intervals:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"hours.{day}: each interval must be a (start, end) pair, got {pair!r}")
        start, end = pair
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"hours.{day}: interval bounds must be datetime.time, got {pair!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"hours.{day}: opening hours are local wall-clock times, not aware times")
        if _minutes(end, is_end=True) <= _minutes(start, is_end=False):
            raise ValueError(
                f"hours.{day}: interval end {_fmt(end, is_end=True)} is not after start {_fmt(start, is_end=False)}"
            )
        pairs.append((start.replace(fold=0), end.replace(fold=0)))
    pairs.sort(key=lambda p: _minutes(p[0], is_end=False))
    merged: list[LocalInterval] = []
    for start, end in pairs:
        if merged:
            prev_start, prev_end = merged[-1]
            prev_end_min = _minutes(prev_end, is_end=True)
            start_min = _minutes(start, is_end=False)
            if start_min < prev_end_min:
                raise ValueError(
                    f"hours.{day}: intervals {_fmt(prev_start, is_end=False)}-"
                    f"{_fmt(prev_end, is_end=True)} and {_fmt(start, is_end=False)}-"
                    f"{_fmt(end, is_end=True)} overlap"
                )
            if start_min == prev_end_min:
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return tuple(merged)


def _parse_hhmm(text: object, where: str, *, is_end: bool) -> time:
    if not isinstance(text, str):
        raise ValueError(f"{where}: expected a time string 'HH:MM', got {text!r}")
    match = _HHMM.match(text)
    if not match:
        raise ValueError(f"{where}: {text!r} is not a time in 'HH:MM' form")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        if not is_end:
            raise ValueError(f"{where}: 24:00 is only allowed as the end of an interval")
        return MIDNIGHT
    if hour > 23 or minute > 59:
        raise ValueError(f"{where}: {text!r} is not a valid time of day")
    if is_end and hour == 0 and minute == 0:
        raise ValueError(f"{where}: an interval cannot end at 00:00; write 24:00 for the end of the day")
    return time(hour, minute)


@dataclass(frozen=True)
class BusinessCalendar:
    """An agency's opening hours, holidays and closures, in its own time zone."""

    timezone: str
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(hash=False)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closures: frozenset[date] = frozenset()
    #: Holiday dates resolved ahead of time, by year (``make package``); other years are resolved
    #: on demand. ``None``: resolve every year on demand (and check the country here).
    compiled_holidays: Mapping[int, frozenset[date]] | None = field(default=None, repr=False, compare=False, hash=False)
    _holiday_cache: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _interval_cache: dict[date, tuple[Interval, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise ValueError("timezone: expected an IANA zone name such as 'America/Edmonton'")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone: unknown IANA time zone {self.timezone!r}") from exc

        if not isinstance(self.hours, Mapping):
            raise ValueError("hours: expected a mapping of weekday (0=Mon..6=Sun) to intervals")
        for key in self.hours:
            if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= 6:
                raise ValueError(f"hours: weekday keys must be integers 0 (Mon) to 6 (Sun), got {key!r}")
        normalised = {wd: _normalise_day(wd, self.hours.get(wd, ())) for wd in range(7)}
        object.__setattr__(self, "hours", MappingProxyType(normalised))

        closures = frozenset(self.closures)
        for day in closures:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"closures: expected dates, got {day!r}")
        object.__setattr__(self, "closures", closures)

        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise ValueError("holidays: a subdivision needs a country")
        if self.compiled_holidays is not None:
            # Checked when they were compiled; keep them as read-only sets, by year.
            compiled = {int(year): frozenset(days) for year, days in self.compiled_holidays.items()}
            for year, days in compiled.items():
                if any(not isinstance(d, date) or isinstance(d, datetime) or d.year != year for d in days):
                    raise ValueError(f"holidays: compiled dates of {year} must be dates in {year}")
            object.__setattr__(self, "compiled_holidays", MappingProxyType(compiled))
            self._holiday_cache.update(compiled)
        elif self.holiday_country is not None:
            self._country_holidays(years=[])  # unknown country or subdivision: ValueError now

    @classmethod
    def from_strings(
        cls,
        timezone: str,
        hours: Mapping[str, Sequence[Sequence[str]]],
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
        closures: Iterable[str] = (),
        compiled_holidays: Mapping[int, Iterable[date]] | None = None,
    ) -> BusinessCalendar:
        """Build a calendar from policy-file values (``"mon": [["09:00", "17:00"]]``, ISO dates).

        Missing weekdays are closed; ``"24:00"`` is allowed as an interval end.
        ``compiled_holidays`` are holiday dates resolved ahead of time, by year (see the module).
        """
        if not isinstance(hours, Mapping):
            raise ValueError("hours: expected an object with keys 'mon'..'sun'")
        parsed: dict[int, tuple[LocalInterval, ...]] = {}
        for key, intervals in hours.items():
            if key not in WEEKDAY_KEYS:
                raise ValueError(f"hours: unknown day {key!r}; expected one of {', '.join(WEEKDAY_KEYS)}")
            if isinstance(intervals, (str, bytes)) or not isinstance(intervals, Iterable):
                raise ValueError(f"hours.{key}: expected a list of [start, end] pairs")
            day_pairs: list[LocalInterval] = []
            for index, pair in enumerate(intervals):
                where = f"hours.{key}[{index}]"
                if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                    raise ValueError(f"{where}: expected a [start, end] pair, got {pair!r}")
                day_pairs.append(
                    (
                        _parse_hhmm(pair[0], where, is_end=False),
                        _parse_hhmm(pair[1], where, is_end=True),
                    )
                )
            parsed[WEEKDAY_KEYS.index(key)] = tuple(day_pairs)

        if isinstance(closures, (str, bytes)):
            raise ValueError("closures: expected a list of 'YYYY-MM-DD' dates")
        closure_dates: set[date] = set()
        for text in closures:
            if not isinstance(text, str) or not _ISO_DATE.match(text):
                raise ValueError(f"closures: {text!r} is not a date in 'YYYY-MM-DD' form")
            try:
                closure_dates.add(date.fromisoformat(text))
            except ValueError as exc:
                raise ValueError(f"closures: {text!r} is not a valid date") from exc

        return cls(
            timezone=timezone,
            hours=parsed,
            holiday_country=holiday_country,
            holiday_subdivision=holiday_subdivision,
            closures=frozenset(closure_dates),
            compiled_holidays=(
                None
                if compiled_holidays is None
                else {year: frozenset(days) for year, days in compiled_holidays.items()}
            ),
        )

    def __reduce__(self) -> tuple[type[BusinessCalendar], tuple[object, ...]]:
        # The read-only hours view cannot be pickled or deep-copied; rebuild from plain values.
        return (
            type(self),
            (
                self.timezone,
                dict(self.hours),
                self.holiday_country,
                self.holiday_subdivision,
                self.closures,
                None if self.compiled_holidays is None else dict(self.compiled_holidays),
            ),
        )

    # -- days -----------------------------------------------------------------------------

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` (an agency-local date) is a statutory holiday."""
        _require_date(day)
        if self.holiday_country is None:
            return False
        return day in self.holiday_dates(day.year)

    def holiday_dates(self, year: int) -> frozenset[date]:
        """The statutory holidays of ``year`` (agency-local dates); empty without a country."""
        if self.holiday_country is None:
            return frozenset()
        year_dates = self._holiday_cache.get(year)
        if year_dates is None:
            if self.compiled_holidays is not None:
                compiled = sorted(self.compiled_holidays)
                span = f"{compiled[0]}-{compiled[-1]}" if compiled else "no years"
                _log.warning(
                    "holidays of %s are not compiled (the package has %s): resolving them at run time; "
                    "run `make package` again to compile the years ahead",
                    year,
                    span,
                )
            # Observed dates can be generated by a neighbouring year's rules (e.g. a 1 January
            # holiday observed on 31 December), so build three years and keep this year's dates.
            found = self._country_holidays(years=range(year - 1, year + 2))
            year_dates = frozenset(d for d in found if d.year == year)
            self._holiday_cache[year] = year_dates
        return year_dates

    def _country_holidays(self, years: Iterable[int]) -> Iterable[date]:
        # Imported here, not at the top: a compiled calendar never needs the package.
        import holidays

        try:
            return holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision, years=years)
        except NotImplementedError as exc:
            raise ValueError(
                f"holidays: no holiday data for country={self.holiday_country!r} "
                f"subdivision={self.holiday_subdivision!r}"
            ) from exc

    def is_closed_day(self, day: date) -> bool:
        """Whether ``day`` is closed all day by a holiday or an agency closure."""
        _require_date(day)
        return day in self.closures or self.is_holiday(day)

    # -- instants -------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        instant = _to_utc(at, "at")
        return self._containing(instant) is not None

    def next_opening(self, at: datetime) -> datetime:
        """Start of the first open interval starting at or after ``at``.

        If ``at`` is inside an open interval, this is the start of a later interval.
        """
        instant = _to_utc(at, "at")
        for start, _end in self._intervals_after(instant):
            if start >= instant:
                return start
        raise AssertionError("unreachable: _intervals_after never ends without raising")

    def clock_start(self, at: datetime) -> datetime:
        """``at`` (in UTC) if open, else the next opening."""
        instant = _to_utc(at, "at")
        if self._containing(instant) is not None:
            return instant
        return self.next_opening(instant)

    def current_interval_end(self, at: datetime) -> datetime | None:
        """End of the open interval containing ``at``; ``None`` if closed."""
        found = self._containing(_to_utc(at, "at"))
        return None if found is None else found[1]

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC, ascending) clipped to ``[start, end)``; nothing if end <= start."""
        lo = _to_utc(start, "start")
        hi = _to_utc(end, "end")
        return self._clipped(lo, hi)

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of open time has elapsed after ``start``.

        A zero amount returns ``start``. An amount used up exactly at a closing returns the close
        instant, not the next opening.
        """
        instant = _to_utc(start, "start")
        if not isinstance(amount, timedelta):
            raise ValueError(f"amount must be a timedelta, got {type(amount).__name__}")
        if amount < timedelta(0):
            raise ValueError("amount must not be negative")
        if amount == timedelta(0):
            return instant
        remaining = amount
        for iv_start, iv_end in self._intervals_after(instant):
            begin = max(iv_start, instant)
            available = iv_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable: _intervals_after never ends without raising")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Total open time in ``[start, end)``; zero if ``end <= start``."""
        total = timedelta(0)
        for iv_start, iv_end in self.open_intervals(start, end):
            total += iv_end - iv_start
        return total

    def closed_period_start(self, at: datetime) -> datetime | None:
        """While closed: when the current closed period began; ``None`` while open.

        That is the end of the latest open interval ending at or before ``at``. If there is none in
        the previous 400 local days, the start (local midnight) of that search window.
        """
        instant = _to_utc(at, "at")
        if self._containing(instant) is not None:
            return None
        today = self._local_date(instant)
        for offset in range(-1, SEARCH_DAYS + 1):
            day = today - timedelta(days=offset)
            ends = [iv_end for _s, iv_end in self._day_intervals(day) if iv_end <= instant]
            if ends:
                return max(ends)
        return self._localise(today - timedelta(days=SEARCH_DAYS), MIDNIGHT)

    # -- internals ------------------------------------------------------------------------

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone()).date()

    def _localise(self, day: date, wall: time) -> datetime:
        """UTC instant for a local wall time on ``day`` (first occurrence; gaps map to the jump)."""
        zone = self.zone()
        naive = datetime.combine(day, wall)
        # fold=0: for an ambiguous wall time this is the first occurrence; for a non-existent
        # one zoneinfo applies the pre-transition offset, which lands *after* the jump.
        candidate = naive.replace(tzinfo=zone).astimezone(UTC)
        if candidate.astimezone(zone).replace(tzinfo=None) == naive:
            return candidate
        # In a spring-forward gap: the post-transition offset (fold=1) lands before the jump and
        # the pre-transition one after it; bisect (whole seconds) for the first instant whose
        # wall time is at or after ``naive``, i.e. the transition itself.
        lo = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        hi = candidate
        if lo > hi:
            lo, hi = hi, lo
        lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp()) + 1
        while lo_s < hi_s:
            mid = (lo_s + hi_s) // 2
            if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= naive:
                hi_s = mid
            else:
                lo_s = mid + 1
        return datetime.fromtimestamp(lo_s, UTC)

    def _day_intervals(self, day: date) -> tuple[Interval, ...]:
        """UTC open intervals configured on local ``day`` (empty on holidays/closures)."""
        cached = self._interval_cache.get(day)
        if cached is not None:
            return cached
        result: list[Interval] = []
        if not self.is_closed_day(day):
            for wall_start, wall_end in self.hours[day.weekday()]:
                start = self._localise(day, wall_start)
                if wall_end == MIDNIGHT:
                    end = self._localise(day + timedelta(days=1), MIDNIGHT)
                else:
                    end = self._localise(day, wall_end)
                if end > start:
                    result.append((start, end))
        intervals = tuple(result)
        if len(self._interval_cache) >= _INTERVAL_CACHE_LIMIT:
            self._interval_cache.clear()
        self._interval_cache[day] = intervals
        return intervals

    def _containing(self, instant: datetime) -> Interval | None:
        today = self._local_date(instant)
        for offset in (-1, 0, 1):
            for start, end in self._day_intervals(today + timedelta(days=offset)):
                if start <= instant < end:
                    return (start, end)
        return None

    def _intervals_after(self, instant: datetime) -> Iterator[Interval]:
        """Open intervals ending after ``instant``, ascending, forever.

        Raises ``ValueError("calendar never opens")`` after 400 consecutive days without one.
        """
        day = self._local_date(instant) - timedelta(days=1)
        empty_days = 0
        while True:
            found = False
            for start, end in self._day_intervals(day):
                if end > instant:
                    found = True
                    yield (start, end)
            empty_days = 0 if found else empty_days + 1
            if empty_days > SEARCH_DAYS:
                raise ValueError("calendar never opens")
            day += timedelta(days=1)

    def _clipped(self, lo: datetime, hi: datetime) -> Iterator[Interval]:
        if hi <= lo:
            return
        day = self._local_date(lo) - timedelta(days=1)
        last = self._local_date(hi) + timedelta(days=1)
        while day <= last:
            for start, end in self._day_intervals(day):
                clipped_start, clipped_end = max(start, lo), min(end, hi)
                if clipped_start < clipped_end:
                    yield (clipped_start, clipped_end)
            day += timedelta(days=1)


def response_deadline(
    received_at: datetime,
    calendar: BusinessCalendar,
    target: timedelta,
    clock: ClockMode,
) -> datetime:
    """When an inquiry received at ``received_at`` is due (SPEC 5.2), in UTC.

    CALENDAR: the clock starts at receipt if open, else at the next opening; the target is real
    elapsed time from there, and a due instant that falls while closed moves to the next opening.
    BUSINESS_HOURS: only open time counts; a target used up exactly at a closing is due at the close.
    """
    received = _to_utc(received_at, "received_at")
    if not isinstance(target, timedelta):
        raise ValueError(f"target must be a timedelta, got {type(target).__name__}")
    if target < timedelta(0):
        raise ValueError("target must not be negative")
    mode = ClockMode(clock)
    start = calendar.clock_start(received)
    if mode is ClockMode.BUSINESS_HOURS:
        return calendar.add_business_time(start, target)
    due = start + target
    if not calendar.is_open(due):
        due = calendar.next_opening(due)
    return due
