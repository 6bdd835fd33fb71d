"""The notes table: the only code that maps note items to ``Note``, and builds their keys and cursors.

A file's notes are one partition (``client_id``), ordered by ``<instant>#<note_id>``. A page is one
Query, newest first; the cursor of the next page is the last sort key returned, encoded so that it
is an opaque token to the API. It can only ever point inside the partition of the file the caller
was allowed to read (the service checks the file first), and every read is also filtered on the
caller's agency, so no cursor or page can carry another agency's note.
"""

from __future__ import annotations

import base64
import binascii
import re

from ..domain.errors import Conflict, InvalidInput
from ..domain.notes import Note, NotesPage
from . import models as m
from .keys import sort_key
from .writes import WriteQueue, raises

_SORT_KEY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[A-Za-z0-9_-]{1,64}")


def note_item(note: Note) -> m.NoteModel:
    return m.NoteModel(client_id=note.client_id, sk=sort_key(note.at, note.note_id), note_id=note.note_id,
                       agency_id=note.agency_id, author_id=note.author_id, at=note.at, body=note.body)


def note_from(item: m.NoteModel) -> Note:
    return Note(note_id=item.note_id, client_id=item.client_id, agency_id=item.agency_id,
                author_id=item.author_id, at=item.at, body=item.body)


def cursor_of(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def sort_key_of(cursor: str) -> str:
    """The sort key a cursor stands for; a 400 naming ``next`` for anything no page gave out."""
    try:
        sk = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        sk = ""
    if not _SORT_KEY.fullmatch(sk):
        raise InvalidInput("next", "must be the 'next' value of a previous page of notes")
    return sk


class NoteRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def add(self, note: Note) -> None:
        """Queue a new note; append-only: a note id written before is never overwritten."""
        self._uow.save(note_item(note), condition=m.NoteModel.sk.does_not_exist(),
                       on_conflict=raises(lambda: Conflict("this note was already saved", code="duplicate_note")))

    def page(self, agency_id: str, client_id: str, *, after: str | None, limit: int) -> NotesPage:
        """Up to ``limit`` notes of the file, newest first, older than the cursor ``after``."""
        older = m.NoteModel.sk < sort_key_of(after) if after else None
        items = list(m.NoteModel.query(client_id, older, scan_index_forward=False, limit=limit + 1,
                                       filter_condition=m.NoteModel.agency_id == agency_id))
        more = len(items) > limit
        items = items[:limit]
        return NotesPage(tuple(note_from(i) for i in items), cursor_of(items[-1].sk) if more and items else None)

    def of_client(self, agency_id: str, client_id: str) -> list[Note]:
        """Every note of the file, oldest first (the export)."""
        return [note_from(i) for i in m.NoteModel.query(client_id, filter_condition=m.NoteModel.agency_id == agency_id)]

    def erase_client(self, client_id: str) -> int:
        """Delete every note of the file now (erasure), in batches; returns how many went.

        Not queued on the unit of work: a file may hold more notes than one transaction takes.
        Erasure deletes them before it commits the erased file, conditioned on the version it read
        (a note written meanwhile moves that version), so no note outlives its file.
        """
        keys = [(i.client_id, i.sk) for i in m.NoteModel.query(client_id, attributes_to_get=["client_id", "sk"],
                                                               consistent_read=True)]
        with m.NoteModel.batch_write() as batch:
            for hash_key, range_key in keys:
                batch.delete(m.NoteModel(client_id=hash_key, sk=range_key))
        return len(keys)
