"""A caseload as the Clients page lists it (issue 22, SPEC §4.4 ``GET /clients``): where each file
stands, when it was last active, and what a search finds of it.

Pure rules, kept apart from storage so that the clients repository (which keys its indexes with
``file_state``, ``activity_at`` and ``search_terms``), the caseload service (which reads a query
with ``search_query`` and checks a match with ``matches``) and the tests agree on one definition.

- A file is in exactly one **state**, by precedence: closed, suspended, opted out, consent
  withdrawn, no consent yet, waiting for an answer, reachable. The filters of the Clients page and
  SPEC's ``status=`` are unions of states, so each is a keyed read of one index partition per state.
- A file's **last activity** moves with a message in or out, a consent given or withdrawn, an
  opt-out or opt-in and a status change; a new file starts at its intake.
- A file is **found** by the start of any word of its name (case and accents folded: "Zoé"
  is found by "zoe") or by a trailing part of its phone number (at least three digits).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from .model import Client, ClientStatus, Consent, ConsentState

T = TypeVar("T")

#: Names of a file's attributes that decide its state, and those whose change is activity.
STATE_INPUTS = frozenset({"status", "consent", "opted_out", "open_inquiry_id", "case_manager_id"})
ACTIVITY_INPUTS = frozenset({"last_inbound_at", "last_outbound_at", "consent", "status", "opted_out"})
_ACTIVITY_INSTANTS = ("last_inbound_at", "last_outbound_at", "opted_out_at", "closed_at")

#: How much of a name and of a number is searchable: the first words of a name, the first letters
#: of each word (a longer query word is checked in full against the name), a number's last digits.
NAME_WORDS = 6
PREFIX_LETTERS = 10
MIN_DIGITS = 3
MAX_DIGITS = 15  # E.164's longest number
MAX_QUERY = 100


class FileState(enum.Enum):
    CLOSED = "closed"
    SUSPENDED = "suspended"
    OPTED_OUT = "opted_out"
    WITHDRAWN = "withdrawn"
    NO_CONSENT = "no_consent"
    WAITING = "waiting"
    REACHABLE = "reachable"


def file_state(client: Client) -> FileState:
    """The one state a file is in now (the precedence in the module's docstring)."""
    if client.status is ClientStatus.CLOSED:
        return FileState.CLOSED
    if client.status is ClientStatus.SUSPENDED:
        return FileState.SUSPENDED
    if client.opted_out:
        return FileState.OPTED_OUT
    if client.consent.state is ConsentState.WITHDRAWN:
        return FileState.WITHDRAWN
    if not client.consent.covers(client.channel):
        return FileState.NO_CONSENT
    if client.open_inquiry_id:
        return FileState.WAITING
    return FileState.REACHABLE


_ACTIVE = frozenset(FileState) - {FileState.CLOSED, FileState.SUSPENDED}
#: SPEC's ``status=`` and the Clients page's ``filter=``, each as the states it lists.
STATUSES: Mapping[str, frozenset[FileState]] = {
    ClientStatus.ACTIVE.value: _ACTIVE,
    ClientStatus.SUSPENDED.value: frozenset({FileState.SUSPENDED}),
    ClientStatus.CLOSED.value: frozenset({FileState.CLOSED}),
}
FILTERS: Mapping[str, frozenset[FileState]] = {
    state.value: frozenset({state}) for state in FileState if state is not FileState.REACHABLE
}


def states_for(status: str | None, filter_: str | None) -> frozenset[FileState] | None:
    """The states a listing asks for (None: every file); both given, the files that are both."""
    chosen = [states for states in (STATUSES.get(status or ""), FILTERS.get(filter_ or "")) if states is not None]
    if not chosen:
        return None
    return frozenset.intersection(*chosen)


def activity_at(changes: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the file was last active after ``changes``, or None when they are no activity.

    The instant the changes carry (the message's, the opt-out's, the closure's, the consent's
    recording or withdrawal), else ``now`` (a suspension or a re-opening carries none).
    """
    if not ACTIVITY_INPUTS & changes.keys():
        return None
    moments = [value for name in _ACTIVITY_INSTANTS if isinstance(value := changes.get(name), datetime)]
    consent = changes.get("consent")
    if isinstance(consent, Consent):
        moment = consent.withdrawn_at if consent.state is ConsentState.WITHDRAWN else consent.recorded_at
        if moment is not None:
            moments.append(moment)
    return max(moments, default=now)


# --- search -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case without accents or marks: "Zoé Élise" -> "zoe elise", "أحمد" -> "احمد"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def name_words(name: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(name or ""))


def digits_of(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


def search_terms(name: str, phone: str) -> frozenset[str]:
    """What a file is found by: ``n:<start of a name word>`` and ``p:<last digits of the number>``."""
    terms = {f"n:{word[:n]}" for word in name_words(name)[:NAME_WORDS]
             for n in range(1, min(len(word), PREFIX_LETTERS) + 1)}
    digits = digits_of(phone)[-MAX_DIGITS:]
    terms.update(f"p:{digits[-n:]}" for n in range(MIN_DIGITS, len(digits) + 1))
    return frozenset(terms)


@dataclass(frozen=True)
class SearchQuery:
    """A search read as the one term looked up, and what a found file must also match."""

    term: str
    words: tuple[str, ...] = ()  # a name query: each must start a word of the name
    digits: str = ""  # a number query: the number must end with these digits


_NUMBER_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


def search_query(text: str, country: str | None) -> SearchQuery | None:
    """What ``text`` looks for, or None when it cannot find anything (no letter, too few digits).

    A number in any format: E.164 (``+15873550103``), national in the agency's ``country``
    (``587 355 0103``, ``(587) 355-0103``), digits only, or its last digits (``0103``).
    """
    text = text.strip()
    if _NUMBER_LIKE.match(text):
        digits = digits_of(text)
        if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
            return None
        full = _whole_number(text, country) or digits
        return SearchQuery(term=f"p:{full}", digits=full)
    words = name_words(text)
    if not words:
        return None
    key = max(words, key=len)
    return SearchQuery(term=f"n:{key[:PREFIX_LETTERS]}", words=tuple(words))


def _whole_number(text: str, country: str | None) -> str | None:
    """The digits of ``text`` as a whole E.164 number, if it is one (national: in ``country``)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return digits_of(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def matches(client: Client, query: SearchQuery) -> bool:
    """Whether the file answers the whole query (the keyed term found it by one part of it)."""
    if query.digits:
        return digits_of(client.phone).endswith(query.digits)
    words = name_words(client.name)
    return all(any(w.startswith(q) for w in words) for q in query.words)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the opaque cursor of the next (None: this was the last)."""

    items: tuple[T, ...]
    next: str | None = None
