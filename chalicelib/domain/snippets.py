"""Snippets (issue 22): an agency's prepared answers, per language, with a few placeholders.

An administrator writes them once ("Your appointment is confirmed, {first_name}..."); a worker
inserts one into a message by typing ``/`` in the composer, filled in for the client at hand. The
rules that keep a placeholder from ever reaching a client live here:

* a snippet may name only ``PLACEHOLDERS``; any other ``{name}``, or a brace that opens or closes
  no placeholder, is refused when the snippet is saved (400 naming it), so a stored snippet always
  fills completely;
* ``fill`` replaces each placeholder with its value (the client's first name, the next opening in
  the agency's zone and the snippet's language, the case manager's name, the agency's name);
* the policy's holding reply is each agency's first snippet, one per policy language
  (``holding_snippets``), its placeholders written in the snippets' own words.

Pure: values and text, no storage and no clock of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidInput

#: What a snippet may say it needs filled in, and what each is.
PLACEHOLDERS: Mapping[str, str] = {
    "first_name": "the client's first name",
    "next_opening": "the agency's next opening, in its zone and the snippet's language",
    "case_manager": "the name of the client's case manager",
    "agency_name": "the agency's name",
}

MAX_TITLE_CHARS = 100
MAX_BODY_CHARS = 1600  # one outbound message (Twilio's limit), like the composer's
MAX_SNIPPETS = 200  # per agency: the whole list is one Query, read on each conversation

_SNIPPET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_TOKEN = re.compile(r"\{([^{}]*)\}")
#: A placeholder and the full stop that may follow it ("... from {next_opening}.").
_KNOWN_TOKEN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}(\.?)")

#: The policy's placeholders (``domain.policy.PLACEHOLDERS``) in a snippet's words; the emergency
#: line is written out, it is the policy's own and does not change from one client to the next.
_FROM_POLICY = {"next_open": "{next_opening}", "client_name": "{first_name}", "cover_name": "{case_manager}",
                "case_manager": "{case_manager}", "agency_name": "{agency_name}"}

#: The seeded holding replies' titles, by primary language; English for the others.
HOLDING_TITLES = {"en": "Holding reply", "fr": "Réponse d'attente", "ar": "رد مؤقت"}
HOLDING_PREFIX = "holding-reply-"


@dataclass(frozen=True)
class Snippet:
    agency_id: str
    snippet_id: str
    title: str
    language: str  # BCP 47, canonical case ("ar", "fr-CA")
    body: str
    updated_at: datetime | None = None
    updated_by: str | None = None  # a staff id, or "system" for a seeded one
    version: int = 0  # as stored; 0: not stored yet

    def placeholders(self) -> tuple[str, ...]:
        return placeholders_in(self.body)


def snippet_id(value: Any) -> str:
    """A snippet's id in its path: letters, digits, '-' and '_', 1 to 64, starting with a letter or digit."""
    if not isinstance(value, str) or not _SNIPPET_ID.fullmatch(value):
        raise InvalidInput("snippet_id", "must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit")
    return value


def placeholders_in(body: str) -> tuple[str, ...]:
    """The placeholders ``body`` uses, each once, in order of first use."""
    return tuple(dict.fromkeys(name for name in _TOKEN.findall(body) if name in PLACEHOLDERS))


def check_placeholders(body: str, field: str = "body") -> str:
    """``body`` itself, or a 400 naming the first placeholder it may not use (or a stray brace)."""
    unknown = [name for name in _TOKEN.findall(body) if name not in PLACEHOLDERS]
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    if unknown:
        raise InvalidInput(field, f"uses the unknown placeholder {{{unknown[0]}}}; a snippet may use {known}")
    if "{" in _TOKEN.sub("", body) or "}" in _TOKEN.sub("", body):
        raise InvalidInput(field, f"has a brace that is not part of a placeholder; braces are kept for {known}")
    return body


def fill(body: str, values: Mapping[str, str]) -> str:
    """``body`` with every placeholder replaced by its value (a missing value reads as nothing).

    A value ending in a full stop ("9:00 a.m.") swallows the stop written after the placeholder,
    so a sentence never ends in "a.m..".
    """

    def one(match: re.Match[str]) -> str:
        value, stop = values.get(match.group(1), ""), match.group(2)
        return value if stop and value.endswith(".") else value + stop

    return _KNOWN_TOKEN.sub(one, body)


def first_name(name: str | None) -> str:
    """The first word of a client's name ("Fatima A." -> "Fatima"); empty when there is none."""
    words = (name or "").split()
    return words[0] if words else ""


def same_language(tag: str, wanted: str) -> bool:
    """Whether two BCP 47 tags share their primary language ("fr-CA" and "fr")."""
    return tag.split("-")[0].lower() == wanted.replace("_", "-").split("-")[0].lower()


def from_policy_text(text: str, emergency_line: str) -> str:
    """A policy template as a snippet: its placeholders renamed, the emergency line written out.

    A placeholder neither side knows is dropped, so the seeded snippet passes ``check_placeholders``.
    """

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return emergency_line if name == "emergency_line" else _FROM_POLICY.get(name, "")

    return _TOKEN.sub(one, text).replace("  ", " ").strip()


def holding_snippets(agency_id: str, languages: tuple[str, ...], holding_text: Any, emergency_line: str,
                     at: datetime) -> list[Snippet]:
    """The policy's holding reply as one snippet per policy language that has its own text.

    ``holding_text(language)`` is the policy's text for a language, or None when it has none (the
    English one then serves that client, as for every template).
    """
    found: dict[str, Snippet] = {}
    for language in ("en", *languages):
        primary = language.split("-")[0].lower()
        text = holding_text(language)
        if text is None or primary in found:
            continue
        found[primary] = Snippet(agency_id=agency_id, snippet_id=HOLDING_PREFIX + primary,
                                 title=HOLDING_TITLES.get(primary, HOLDING_TITLES["en"]), language=primary,
                                 body=check_placeholders(from_policy_text(text, emergency_line)),
                                 updated_at=at, updated_by="system")
    return list(found.values())
