"""Private case notes (SPEC §4.4, issue 22): what staff write in a file for each other, never for the client.

A note is part of the file, not of the conversation: nothing here is ever sent to the client. The
case manager, a colleague covering their absence and the agency's administrators write them;
supervisors read them. Notes are append-only (no edit, no delete) with their author and instant, so
the file shows who knew what and when; they are in the file's export and go with it at erasure.

Pure: the value, the limits and the parsing of what a worker typed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import InvalidInput

#: The longest note, in characters: a page of text. Longer is refused (400) rather than cut, so
#: nothing a worker wrote is silently lost; two notes hold more.
MAX_NOTE_CHARS = 4000

#: Notes per page of ``GET /clients/{id}/notes`` unless ``limit`` says otherwise, and the most.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Note:
    note_id: str
    client_id: str
    agency_id: str
    author_id: str  # the staff id of who wrote it
    at: datetime  # UTC
    body: str


@dataclass(frozen=True)
class NotesPage:
    """One page of a file's notes, newest first, and the cursor of the next (None on the last)."""

    notes: tuple[Note, ...]
    next: str | None


def note_body(payload: Any) -> str:
    """The text of ``{"body": ...}``: NFC, trimmed, line breaks kept; a clear 400 otherwise."""
    if not isinstance(payload, dict):
        raise InvalidInput("body", "must be a JSON object with the note as \"body\"")
    value = payload.get("body")
    if value is None:
        raise InvalidInput("body", "is required: the text of the note")
    if not isinstance(value, str):
        raise InvalidInput("body", "must be a string")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise InvalidInput("body", "must not be blank: write what the note should say")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput("body", f"is {len(text)} characters long; a note holds at most {MAX_NOTE_CHARS} "
                                   "(split it into two notes)")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in text):
        raise InvalidInput("body", "contains control characters")
    return text


def page_size(value: Any) -> int:
    """``limit`` of a notes page: 1 to ``MAX_PAGE_SIZE`` (default ``PAGE_SIZE``)."""
    if value in (None, ""):
        return PAGE_SIZE
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(value)
