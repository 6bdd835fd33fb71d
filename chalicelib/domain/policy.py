"""An agency's policy as one immutable value: hours, clocks, follow-ups, texts (SPEC §4.5).

Policy files are JSON (``policies/<agency_id>.json``), validated by the loader adapter against
``policies/schema.json``. This module turns an already schema-valid mapping into a ``Policy`` that
the rest of the domain can use without knowing about files, JSON or jsonschema:

* durations are ``timedelta`` (``parse_duration``), the follow-up time is a ``datetime.time``;
* opening hours, holidays and closures become a ``BusinessCalendar``;
* optional keys get their defaults here, so a file with only the fixed keys is complete;
* message texts are looked up by name and client language with a predictable fallback
  (exact tag, then shorter prefixes such as ``ar-SY`` -> ``ar``, then English) and rendered with
  named placeholders that never raise.

Pure: imports only the standard library and ``business_time``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from types import MappingProxyType
from typing import Any

from chalicelib.domain.business_time import WEEKDAY_KEYS, BusinessCalendar, ClockMode

__all__ = [
    "DEFAULT_TEMPLATES",
    "FALLBACK_LANGUAGE",
    "InvalidPolicy",
    "OPTIONAL_TEMPLATES",
    "PLACEHOLDERS",
    "Policy",
    "REQUIRED_TEMPLATES",
    "WhatsAppTemplate",
    "parse_duration",
]

FALLBACK_LANGUAGE = "en"

#: Templates every policy file must define (SPEC §4.5).
REQUIRED_TEMPLATES: tuple[str, ...] = ("after_hours", "intake", "help", "followup", "checkin", "survey")

#: Placeholders a template may use; the schema refuses any other ``{name}``.
PLACEHOLDERS: tuple[str, ...] = (
    "next_open",
    "emergency_line",
    "client_name",
    "case_manager",
    "cover_name",
    "agency_name",
)

#: Optional templates and their built-in English texts, used when a policy file leaves them out.
DEFAULT_TEMPLATES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "absence": MappingProxyType(
            {
                "en": (
                    "Thank you for your message. {case_manager} is away right now. "
                    "{cover_name} will read your message. We will answer you from {next_open}. "
                    "In an emergency, call {emergency_line}."
                )
            }
        ),
        "opted_out": MappingProxyType(
            {
                "en": (
                    "You will not get any more messages from {agency_name} on this number. To start again, reply START."
                )
            }
        ),
        "opted_in": MappingProxyType({"en": "Welcome back. You can message {agency_name} on this number again."}),
        # The staff console's one-click holding reply (SPEC §5.2: a complex case, "I am working on it").
        "holding_reply": MappingProxyType(
            {
                "en": (
                    "Thank you for your message. Your question needs a little more time: I am working on it "
                    "and will come back to you as soon as I can. {case_manager}, {agency_name}"
                ),
                "fr": (
                    "Merci pour votre message. Votre question demande un peu plus de temps : je m'en occupe "
                    "et je vous réponds dès que possible. {case_manager}, {agency_name}"
                ),
                "ar": (
                    "شكرًا على رسالتك. سؤالك يحتاج إلى بعض الوقت: أنا أعمل عليه وسأرد عليك في أقرب وقت ممكن. "
                    "{case_manager}، {agency_name}"
                ),
            }
        ),
        "survey_thanks": MappingProxyType({"en": "Thank you for your answer. It helps us make our service better."}),
        # The conduct policy (SPEC §5.5) and closed files (§5.3).
        "conduct_reminder": MappingProxyType(
            {
                "en": (
                    "A reminder from {agency_name}: this number is for questions about your settlement only. "
                    "Please keep your messages respectful and on topic, or we may have to stop messaging with you."
                )
            }
        ),
        "conduct_meeting": MappingProxyType(
            {
                "en": (
                    "{agency_name} needs to meet you in person before we can keep messaging with you. "
                    "Please call or visit us during our opening hours to make an appointment."
                )
            }
        ),
        "crisis": MappingProxyType(
            {
                "en": (
                    "If you or someone else is in danger, call {emergency_line} now. "
                    "Our office is closed, and we have told the person on call at {agency_name}. "
                    "We will also answer you from {next_open}."
                )
            }
        ),
        "service_ended": MappingProxyType(
            {
                "en": (
                    "{agency_name} no longer offers you messaging on this number, so this message was not read. "
                    "To ask about our services, please call or visit us during our opening hours. "
                    "In an emergency, call {emergency_line}."
                )
            }
        ),
    }
)

OPTIONAL_TEMPLATES: tuple[str, ...] = tuple(DEFAULT_TEMPLATES)

DEFAULT_LANGUAGES: tuple[str, ...] = (FALLBACK_LANGUAGE,)
DEFAULT_WARNINGS_BEFORE_MEETING = 2
DEFAULT_CLOSED_FILE_RETENTION = "P2Y"
DEFAULT_INTAKE_REPLY_INTERVAL = "PT24H"
DEFAULT_SURVEY_REPLY_WINDOW = "P3D"
DEFAULT_OUTBOUND_MAX_ATTEMPTS = 5
DEFAULT_COMPLEX_TARGET = "P5D"

_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.ASCII,
)
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)", re.ASCII)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: A placeholder and the full stop that may follow it in a template ("... from {next_open}.").
_PLACEHOLDER_STOP = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}(\.?)")

#: ``parse_duration`` approximates calendar units: a year is 365 days, a month 30 days. Only
#: retention periods use them, where a day either way does not matter.
DAYS_PER_YEAR = 365
DAYS_PER_MONTH = 30


class InvalidPolicy(ValueError):
    """A policy value is well-formed but unusable; ``field`` is its dotted path in the file."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.detail = message


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration: ``PnW``, ``PnD``, ``PTnHnMnS`` and combinations (``P1DT12H``).

    ``PnY`` counts 365 days per year and ``PnM`` (before ``T``) 30 days per month: an
    approximation that is fine for retention periods, the only place they are allowed. Only
    whole numbers are accepted; ``P`` alone, ``PT`` alone, lower case, signs, fractions and
    surrounding spaces are refused with ``ValueError``.
    """
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string such as 'PT24H', got {type(text).__name__}")
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'PT24H' or 'P7D'")
    parts = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    if not parts:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'PT24H' or 'P7D'")
    try:
        return timedelta(
            days=parts.get("years", 0) * DAYS_PER_YEAR
            + parts.get("months", 0) * DAYS_PER_MONTH
            + parts.get("weeks", 0) * 7
            + parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    except OverflowError as exc:
        raise ValueError(f"{text!r} is too long a duration") from exc


def _parse_time_of_day(text: str, where: str) -> time:
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidPolicy(where, f"{text!r} is not a time of day in 'HH:MM' form")
    return time(int(match.group(1)), int(match.group(2)))


def _duration(value: Any, where: str, *, positive: bool = True) -> timedelta:
    try:
        result = parse_duration(value)
    except ValueError as exc:
        raise InvalidPolicy(where, str(exc)) from exc
    if positive and result <= timedelta(0):
        raise InvalidPolicy(where, f"{value!r} must be longer than zero")
    return result


class _KeepUnknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class WhatsAppTemplate:
    """An approved WhatsApp template (Twilio ``ContentSid``) and its numbered variables.

    Variable values are texts with the same placeholders as message templates; render them with
    ``Policy.render_text`` before sending them as ``ContentVariables``.
    """

    content_sid: str
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", MappingProxyType(dict(self.variables)))


@dataclass(frozen=True)
class Policy:
    """One agency's policy, with every optional key resolved to its value or default."""

    agency_id: str
    name: str
    calendar: BusinessCalendar
    response_target: timedelta
    clock: ClockMode
    emergency_line: str
    followup_cadence: timedelta
    followup_time: time
    monthly_checkin: bool
    survey_cadence: timedelta
    templates: Mapping[str, Mapping[str, str]] = field(hash=False)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    whatsapp_templates: Mapping[str, WhatsAppTemplate] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    warnings_before_meeting: int = DEFAULT_WARNINGS_BEFORE_MEETING
    closed_file_retention: timedelta = timedelta(days=2 * DAYS_PER_YEAR)
    intake_reply_interval: timedelta = timedelta(hours=24)
    survey_reply_window: timedelta = timedelta(days=3)
    outbound_max_attempts: int = DEFAULT_OUTBOUND_MAX_ATTEMPTS
    # Issue 13 (SPEC §5.2, §5.3, §5.9): the complex clock, opt-out and crisis words, the on-call person.
    complex_target: timedelta = timedelta(days=5)
    stop_words: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    crisis_words: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    on_call_staff_id: str | None = None
    on_call_number: str | None = None
    # Whether workers may send voice notes (CMDM: "voice notes are permitted"); optional key, default true.
    voice_notes: bool = True

    def __post_init__(self) -> None:
        merged: dict[str, Mapping[str, str]] = {
            name: MappingProxyType(dict(texts)) for name, texts in DEFAULT_TEMPLATES.items()
        }
        for name, texts in self.templates.items():
            merged[name] = MappingProxyType(dict(texts))
        object.__setattr__(self, "templates", MappingProxyType(merged))
        object.__setattr__(self, "whatsapp_templates", MappingProxyType(dict(self.whatsapp_templates)))
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "stop_words", MappingProxyType({k: tuple(v) for k, v in self.stop_words.items()}))
        object.__setattr__(self, "crisis_words",
                           MappingProxyType({k: tuple(v) for k, v in self.crisis_words.items()}))

    def __hash__(self) -> int:
        return hash(self.agency_id)

    @property
    def timezone(self) -> str:
        return self.calendar.timezone

    # -- texts ------------------------------------------------------------------------------

    def template(self, name: str, language: str) -> str:
        """The text of template ``name`` for a client speaking ``language``.

        Tries the exact tag (case-insensitive), then ever shorter prefixes (``zh-Hant-TW`` ->
        ``zh-Hant`` -> ``zh``), then English. ``KeyError`` if no template has that name.
        """
        texts = self.templates[name]
        by_lower = {tag.lower(): text for tag, text in texts.items()}
        subtags = (language or "").replace("_", "-").lower().split("-")
        while subtags and subtags[0]:
            found = by_lower.get("-".join(subtags))
            if found is not None:
                return found
            subtags.pop()
        return texts[FALLBACK_LANGUAGE]

    def template_language(self, name: str, language: str) -> str:
        """The language tag whose text ``template`` gives for ``language`` (English when none).

        Dates and times written into a template must be in this language, so a client whose
        language has no text reads English words and English dates, never a mix.
        """
        texts = self.templates[name]
        by_lower = {tag.lower(): tag for tag in texts}
        subtags = (language or "").replace("_", "-").lower().split("-")
        while subtags and subtags[0]:
            found = by_lower.get("-".join(subtags))
            if found is not None:
                return found
            subtags.pop()
        return FALLBACK_LANGUAGE

    def has_translation(self, name: str, language: str) -> bool:
        """Whether template ``name`` has a text in ``language`` or its primary language."""
        texts = self.templates.get(name, {})
        primary = (language or "").replace("_", "-").split("-")[0].lower()
        return any(tag.lower().split("-")[0] == primary for tag in texts)

    def render(self, name: str, language: str, **values: str) -> str:
        """Template ``name`` in ``language`` with ``{placeholders}`` filled from ``values``.

        ``agency_name`` and ``emergency_line`` default to this policy's own values. Unknown or
        unsupplied placeholders are left as written; braces inside values are copied literally.
        """
        return self.render_text(self.template(name, language), **values)

    def render_text(self, text: str, **values: str) -> str:
        """Fill ``{placeholders}`` in any text (e.g. WhatsApp template variables); never raises."""
        known = _KeepUnknown({"agency_name": self.name, "emergency_line": self.emergency_line})
        known.update({key: str(value) for key, value in values.items()})

        def fill(match: re.Match[str]) -> str:
            value, stop = known[match.group(1)], match.group(2)
            # "9:00 a.m." ends a sentence with its own full stop: never write "a.m.."
            return value if stop and value.endswith(".") else value + stop

        return _PLACEHOLDER_STOP.sub(fill, text)

    def whatsapp_variables(self, name: str, **values: str) -> dict[str, str]:
        """The rendered ``ContentVariables`` of WhatsApp template ``name`` (``KeyError`` if unknown)."""
        template = self.whatsapp_templates[name]
        return {key: self.render_text(text, **values) for key, text in template.variables.items()}

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], compiled_holidays: Mapping[int, Any] | None = None) -> Policy:
        """Build a policy from a schema-valid mapping, applying the defaults of optional keys.

        ``compiled_holidays`` (year -> dates) are the agency's holidays resolved by ``make package``;
        without them the calendar resolves holidays itself (``BusinessCalendar``).

        Raises ``InvalidPolicy`` (a ``ValueError`` naming the field) for values the schema cannot
        judge: zero durations, an agency that is never open, an unknown time zone or holiday
        region, bad dates or intervals.
        """
        hours = data["hours"]
        if not any(hours.get(day) for day in WEEKDAY_KEYS):
            raise InvalidPolicy("hours", "the agency is never open; give at least one interval")
        holidays = data.get("holidays") or {}
        try:
            calendar = BusinessCalendar.from_strings(
                timezone=data["timezone"],
                hours=hours,
                holiday_country=holidays.get("country"),
                holiday_subdivision=holidays.get("subdivision"),
                closures=data.get("closures", ()),
                compiled_holidays=compiled_holidays,
            )
        except InvalidPolicy:
            raise
        except ValueError as exc:
            message = str(exc)
            prefix, sep, rest = message.partition(": ")
            if sep and re.fullmatch(r"[a-z_]+(\.[a-z_]+)?(\[\d+\])*", prefix):
                raise InvalidPolicy(prefix, rest) from exc
            raise InvalidPolicy("calendar", message) from exc

        response = data["response"]
        followups = data["followups"]
        whatsapp = {
            name: WhatsAppTemplate(content_sid=spec["content_sid"], variables=dict(spec.get("variables", {})))
            for name, spec in (data.get("whatsapp_templates") or {}).items()
        }
        return cls(
            agency_id=data["agency_id"],
            name=data["name"],
            calendar=calendar,
            response_target=_duration(response["target"], "response.target"),
            clock=ClockMode(response["clock"]),
            emergency_line=data["emergency_line"],
            followup_cadence=_duration(followups["cadence"], "followups.cadence"),
            followup_time=_parse_time_of_day(followups["time"], "followups.time"),
            monthly_checkin=bool(followups["monthly_checkin"]),
            survey_cadence=_duration(data["surveys"]["cadence"], "surveys.cadence"),
            templates={name: dict(texts) for name, texts in data["templates"].items()},
            languages=tuple(data.get("languages") or DEFAULT_LANGUAGES),
            whatsapp_templates=whatsapp,
            warnings_before_meeting=int(
                (data.get("conduct") or {}).get("warnings_before_meeting", DEFAULT_WARNINGS_BEFORE_MEETING)
            ),
            closed_file_retention=_duration(
                (data.get("retention") or {}).get("closed_files", DEFAULT_CLOSED_FILE_RETENTION),
                "retention.closed_files",
            ),
            intake_reply_interval=_duration(
                data.get("intake_reply_interval", DEFAULT_INTAKE_REPLY_INTERVAL), "intake_reply_interval"
            ),
            survey_reply_window=_duration(
                data.get("survey_reply_window", DEFAULT_SURVEY_REPLY_WINDOW), "survey_reply_window"
            ),
            outbound_max_attempts=int(
                (data.get("outbound_retry") or {}).get("max_attempts", DEFAULT_OUTBOUND_MAX_ATTEMPTS)
            ),
            complex_target=_duration(response.get("complex_target", DEFAULT_COMPLEX_TARGET), "response.complex_target"),
            stop_words={lang: tuple(words) for lang, words in ((data.get("keywords") or {}).get("stop") or {}).items()},
            crisis_words={
                lang: tuple(words) for lang, words in ((data.get("keywords") or {}).get("crisis") or {}).items()
            },
            on_call_staff_id=data.get("on_call"),
            on_call_number=data.get("on_call_number"),
            voice_notes=bool(data.get("voice_notes", True)),
        )
