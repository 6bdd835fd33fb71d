"""Checks for what people type into the API: phone numbers, languages, dates, short texts.

Each failure names the field so a 400 can say exactly what to fix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from .errors import InvalidInput
from .model import Channel, Role

MAX_TEXT = 200
MAX_BODY = 1600  # Twilio's limit for one outbound message body
# Dates and instants people may type: wide enough for any real consent form, absence or report,
# narrow enough that converting to UTC or adding a year never leaves Python's datetime range.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def require_object(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    return payload


def text(payload: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise InvalidInput(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise InvalidInput(name, "must not be empty")
    if len(value) > max_len:
        raise InvalidInput(name, f"must be at most {max_len} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in value):
        raise InvalidInput(name, "contains control characters")
    return value


# What Twilio writes in a webhook's From/To: + and 7 to 15 digits, the first not 0.
_E164_SHAPE = re.compile(r"\+[1-9][0-9]{6,14}")


def flag(payload: Mapping[str, Any], name: str) -> bool:
    """An optional boolean field: absent or null is false; anything but true or false is a 400."""
    value = payload.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be true or false")
    return value


def twilio_address(value: Any, field: str) -> str:
    """A phone number as Twilio sends it in a signed webhook (already E.164), else as ``e164`` reads it.

    The signature says Twilio wrote it, and Twilio writes E.164: a number of that shape is taken as
    is, so a cold container's first message does not pay for importing ``phonenumbers`` (about 30 ms
    with its first lookup, issue 12). A number that is not a client's simply finds no file.
    """
    if isinstance(value, str) and _E164_SHAPE.fullmatch(value):
        return value
    return e164(value, field)


def e164(value: Any, field: str = "phone") -> str:
    """A valid phone number in E.164 form (``+15875550123``)."""
    import phonenumbers  # imported when needed: a cold start's first webhook does without it

    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a phone number in E.164 form, e.g. +15875550123")
    raw = value.strip()
    if not raw.startswith("+") or len(raw) > 20:
        raise InvalidInput(field, "must be in E.164 form, starting with + and the country code")
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(field, "is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone(value: Any, field: str, default_region: str | None) -> str:
    """A phone number in E.164, or in national format read as a number of ``default_region``
    (an ISO 3166 country such as ``CA``: ``(403) 555-0199`` -> ``+14035550199``); stored E.164."""
    if isinstance(value, str) and value.strip().startswith("+"):
        return e164(value, field)
    if not isinstance(value, str) or not value.strip() or len(value) > 30:
        raise InvalidInput(field, "must be a phone number, in E.164 form (+15875550123) or national format")
    if not default_region:
        raise InvalidInput(field, "must be in E.164 form (+ and the country code): this agency has no country")
    import phonenumbers

    try:
        parsed = phonenumbers.parse(value.strip(), default_region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(field, f"is not a valid phone number in {default_region.upper()} or in E.164 form")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def region_of(number: str) -> str | None:
    """The ISO 3166 country of an E.164 number (``+15873550101`` -> ``CA``), if it has one."""
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or None
    except phonenumbers.NumberParseException:
        return None


def channel(value: Any, field: str = "channel") -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(field, "must be 'sms' or 'whatsapp'") from None


def channels(value: Any, field: str = "channels") -> frozenset[Channel]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(field, "must be a non-empty list of 'sms' and/or 'whatsapp'")
    return frozenset(channel(v, field) for v in value)


def role(value: Any, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(field, "must be 'worker', 'supervisor' or 'admin'") from None


def instant(value: Any, field: str) -> datetime:
    """An ISO 8601 instant with an offset (or Z), returned in UTC."""
    parsed = instant_or_wall_clock(value, field)
    if parsed.tzinfo is None:
        raise InvalidInput(field, "must include a UTC offset")
    return parsed


def instant_or_wall_clock(value: Any, field: str) -> datetime:
    """An ISO 8601 instant with an offset (returned in UTC), or a local wall-clock time without one
    (``2026-12-07T15:30``, returned naive): the console types agency times as the agency's wall clock
    and leaves the conversion to the server's time-zone rules (SPEC §5.11)."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, "must be an ISO 8601 date-time, e.g. 2026-11-23T10:00:00-06:00") from None
    day_in_range(parsed.date(), field)
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC)


def day_in_range(day: date, field: str) -> date:
    """``day`` itself, or a 400 naming ``field`` when it lies outside the years we accept."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(field, f"must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return day


def string_list(value: Any, field: str, *, max_items: int = 50) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > max_items:
        raise InvalidInput(field, f"must be a list of at most {max_items} strings")
    out = []
    for i, item in enumerate(value):
        out.append(text({"v": item}, "v") if isinstance(item, str) else _bad(f"{field}[{i}]"))
    return tuple(out)


def _bad(field: str) -> str:
    raise InvalidInput(field, "must be a string")


def identifier(value: Any, field: str) -> str:
    """Staff ids and similar path parts: short, printable, no separators we use in keys."""
    if not isinstance(value, str) or not (1 <= len(value) <= 64):
        raise InvalidInput(field, "must be 1 to 64 characters")
    if not all(ch.isalnum() or ch in "-_.@" for ch in value) or not value.isascii():
        raise InvalidInput(field, "may contain only letters, digits, '-', '_', '.' and '@'")
    return value


def is_identifier(value: Any) -> bool:
    """True for strings that could be one of our ids; lets lookups skip obviously bad input."""
    try:
        identifier(value, "id")
    except InvalidInput:
        return False
    return True


def one_of(value: Any, field: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}")
    return value
