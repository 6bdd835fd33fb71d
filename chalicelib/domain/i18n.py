"""Writing times and language tags for people (SPEC §4.5, §5.3).

An after-hours reply tells a newcomer when the agency opens again, in the client's language and
the agency's local time (``{next_open}``): "Monday at 9:00 a.m.", "lundi à 9 h",
"الاثنين الساعة 9:00 ص". The words, weekday names, date and time layouts come from CLDR through
``babel``, so any language babel knows works; a handful of served languages also get a natural
"at" between the day and the time, the rest use CLDR's own date-time glue.

Decisions:

* A tag without a region is read with the agency's region (from the time zone, e.g.
  ``America/Edmonton`` -> CA) when CLDR has that variant: ``en`` becomes ``en_CA`` ("9:00 a.m."),
  ``fr`` becomes ``fr_CA`` ("9 h", "9 h 30": see ``_time_pattern``). ``ar`` has no Canadian
  variant and stays ``ar``.
* The weekday alone is enough within the coming week; from 7 local days ahead the date is
  added ("Monday, December 7 at 9:00 a.m.") so nobody waits for the wrong Monday.
* Narrow and non-breaking spaces from CLDR become plain spaces, so an English SMS stays in the
  GSM-7 alphabet (cheaper, and shown properly on older phones).
* A language babel does not know falls back to English (in the agency's region); Dari
  (``prs``) is written as CLDR's Persian of Afghanistan.

Pure: imports the standard library, ``babel`` (data only) and the domain clock. ``babel`` is
imported on first use, not with this module: only an after-hours reply needs it, so a cold
container's first message in office hours does not pay its import (SPEC §6, issue 12).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import utcnow

if TYPE_CHECKING:
    from babel import Locale

__all__ = ["format_next_open", "normalise_language", "resolve_locale"]

FALLBACK_LOCALE = "en"

#: "{date} at {time}" in languages agencies commonly serve; others use CLDR's date-time pattern.
_AT_TIME: dict[str, str] = {
    "en": "{1} at {0}",
    "fr": "{1} à {0}",
    "ar": "{1} الساعة {0}",
}

#: Languages CLDR files under another code: Dari is CLDR's Persian of Afghanistan.
_ALIASES: dict[str, tuple[str, str]] = {"prs": ("fa", "AF")}

_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})

# RFC 5646 "langtag", with the primary language limited to the 2-3 letter codes that exist:
# 4-8 letter primary subtags are reserved and unused, and accepting them would let "english" or
# "arabic" through. Grandfathered and whole private-use tags are refused too: they name nothing a
# client could be written to in.
_LANGTAG = re.compile(
    r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3})
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
    (?P<extensions>(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*)
    (?P<private>-x(?:-[a-z0-9]{1,8})+)?
    """,
    re.VERBOSE | re.ASCII,
)
_MAX_TAG_LENGTH = 64


def normalise_language(tag: str) -> str:
    """Validate a BCP 47 tag and return it in canonical case: ``AR`` -> ``ar``, ``zh-hant`` -> ``zh-Hant``.

    Underscores are accepted as separators (``pt_BR`` -> ``pt-BR``), surrounding spaces are
    ignored. ``ValueError`` for anything that is not a well-formed tag.
    """
    if not isinstance(tag, str):
        raise ValueError(f"language must be a string, got {type(tag).__name__}")
    text = tag.strip().replace("_", "-")
    if not text or len(text) > _MAX_TAG_LENGTH:
        raise ValueError(f"{tag!r} is not a BCP 47 language tag such as 'en', 'ar' or 'fr-CA'")
    match = _LANGTAG.fullmatch(text.lower())
    if match is None:
        raise ValueError(f"{tag!r} is not a BCP 47 language tag such as 'en', 'ar' or 'fr-CA'")
    parts = [match.group("language")]
    if match.group("script"):
        parts.append(match.group("script").title())
    if match.group("region"):
        parts.append(match.group("region").upper())
    result = "-".join(parts) + match.group("variants") + match.group("extensions")
    if match.group("private"):
        result += match.group("private")
    return result


@lru_cache(maxsize=256)
def resolve_locale(language: str, timezone: str | None = None) -> Locale:
    """The babel locale for a client language, regionalised to the agency's zone when possible.

    Unknown or malformed languages give English.
    """
    from babel import Locale, UnknownLocaleError
    from babel.core import get_global, parse_locale

    try:
        tag = normalise_language(language)
    except ValueError:
        tag = FALLBACK_LOCALE
    try:
        lang, territory, script = parse_locale(tag, sep="-")[:3]
    except ValueError:  # extensions or private use that babel cannot read: keep the language
        lang, territory, script = tag.split("-")[0], None, None
    if lang in _ALIASES and territory is None and script is None:
        lang, territory = _ALIASES[lang]
    candidates: list[str] = []
    if territory is None and timezone:
        zone_territory = get_global("zone_territories").get(timezone)
        if zone_territory:
            candidates.append("_".join(p for p in (lang, script, zone_territory) if p))
    candidates.append("_".join(p for p in (lang, script, territory) if p))
    candidates.append(lang)
    for candidate in candidates:
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    if lang != FALLBACK_LOCALE:
        return resolve_locale(FALLBACK_LOCALE, timezone)
    return Locale.parse(FALLBACK_LOCALE)


def _long_weekday_date_pattern(locale: Locale) -> str:
    """CLDR's "weekday, month day" layout with a full weekday and month name."""
    skeletons = locale.datetime_skeletons
    pattern = skeletons.get("MMMMEd") or skeletons.get("MMMEd") or "EEEE, MMMM d"
    pattern = str(pattern)
    pattern = re.sub(r"E+", "EEEE", pattern)
    pattern = re.sub(r"(?<!M)M{3}(?!M)", "MMMM", pattern)
    pattern = re.sub(r"(?<!L)L{3}(?!L)", "LLLL", pattern)
    return pattern


def _time_pattern(locale: Locale, minute: int) -> str:
    """CLDR's short time layout, written the way people of that locale write hours.

    Where CLDR writes hours with the letter h (Canadian French: ``HH 'h' mm``, "09 h 00"), the
    usage guides (the Office québécois de la langue française, the federal Language Portal) write
    no leading zero and no ``00`` on the hour: "9 h", "9 h 30". Other locales keep CLDR's layout.
    """
    pattern = str(locale.time_formats["short"].pattern)
    if "'h'" not in pattern:
        return pattern
    pattern = re.sub(r"(?<!H)HH(?!H)", "H", pattern)
    if minute == 0:
        head, _, _tail = pattern.partition("'h'")
        pattern = head + "'h'"
    return pattern


def _glue(locale: Locale) -> str:
    glue = _AT_TIME.get(locale.language)
    if glue is None:
        glue = str(locale.datetime_formats.get("full", "{1} {0}"))
    return glue


def format_next_open(at: datetime, timezone: str, language: str, now: datetime | None = None) -> str:
    """When the agency next opens, written for a person: weekday (and date if a week or more away) and time.

    ``at`` and ``now`` are aware datetimes in any zone; both are read in the agency's
    ``timezone``. ``now`` defaults to the current time.
    """
    from babel.dates import format_date, format_time

    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    reference = now if now is not None else utcnow()
    if reference.tzinfo is None or reference.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    today = reference.astimezone(zone).date()

    locale = resolve_locale(language, timezone)
    when_time = format_time(local, _time_pattern(locale, local.minute), locale=locale)
    if (local.date() - today).days > 6:
        when_day = format_date(local, _long_weekday_date_pattern(locale), locale=locale)
    else:
        when_day = format_date(local, "EEEE", locale=locale)
    text = _glue(locale).replace("{1}", when_day).replace("{0}", when_time)
    return text.translate(_SPACES)
