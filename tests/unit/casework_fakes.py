"""In-memory notes and snippets repositories for ``tests/unit/fakes.py`` (issue 22).

They do what ``adapters/notes_repository.py`` and ``adapters/snippets_repository.py`` do, down to
the conditions: a note id is written once, a snippet only over the version it was read at (or while
absent), the holding replies seeded once per agency; the same cursors as the real pages. The
contract suite (``tests/integration/test_repository_contract.py``) checks both alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.adapters.keys import sort_key
from chalicelib.adapters.notes_repository import cursor_of, sort_key_of
from chalicelib.adapters.unit_of_work import ConcurrentUpdate
from chalicelib.domain.errors import Conflict
from chalicelib.domain.notes import Note, NotesPage
from chalicelib.domain.snippets import Snippet


class FakeNotes:
    def __init__(self, uow: Any) -> None:
        self._uow, self._world = uow, uow.world

    def _of(self, agency_id: str, client_id: str) -> list[tuple[str, Note]]:
        """The file's notes by sort key, oldest first (the partition's order)."""
        return sorted((sort_key(n.at, n.note_id), n) for n in self._world.notes
                      if n.client_id == client_id and n.agency_id == agency_id)

    def add(self, note: Note) -> None:
        def check() -> None:
            if any((n.client_id, n.note_id) == (note.client_id, note.note_id) for n in self._world.notes):
                raise Conflict("this note was already saved", code="duplicate_note")

        self._uow.queue(lambda: self._world.notes.append(note), check)

    def page(self, agency_id: str, client_id: str, *, after: str | None, limit: int) -> NotesPage:
        newest_first = list(reversed(self._of(agency_id, client_id)))
        if after:
            bound = sort_key_of(after)
            newest_first = [(sk, n) for sk, n in newest_first if sk < bound]
        shown = newest_first[:limit]
        more = len(newest_first) > limit
        return NotesPage(tuple(n for _, n in shown), cursor_of(shown[-1][0]) if more and shown else None)

    def of_client(self, agency_id: str, client_id: str) -> list[Note]:
        return [n for _, n in self._of(agency_id, client_id)]

    def erase_client(self, client_id: str) -> int:
        before = len(self._world.notes)
        self._world.notes = [n for n in self._world.notes if n.client_id != client_id]
        return before - len(self._world.notes)


class FakeSnippets:
    def __init__(self, uow: Any) -> None:
        self._uow, self._world = uow, uow.world

    def of_agency(self, agency_id: str) -> tuple[list[Snippet], bool]:
        found = [s for (agency, _), s in sorted(self._world.snippets.items()) if agency == agency_id]
        return found, agency_id in self._world.snippets_seeded

    def get(self, agency_id: str, snippet_id: str) -> Snippet | None:
        return self._world.snippets.get((agency_id, snippet_id))

    def _unchanged(self, snippet: Snippet) -> None:
        current = self._world.snippets.get((snippet.agency_id, snippet.snippet_id))
        if (current.version if current else 0) != snippet.version:
            raise ConcurrentUpdate(snippet.snippet_id)

    def put(self, snippet: Snippet) -> None:
        def apply() -> None:
            self._world.snippets[(snippet.agency_id, snippet.snippet_id)] = replace(snippet, version=snippet.version + 1)

        self._uow.queue(apply, lambda: self._unchanged(snippet))

    def delete(self, snippet: Snippet) -> None:
        def check() -> None:
            if (snippet.agency_id, snippet.snippet_id) not in self._world.snippets:
                raise ConcurrentUpdate(snippet.snippet_id)
            self._unchanged(snippet)

        self._uow.queue(lambda: self._world.snippets.pop((snippet.agency_id, snippet.snippet_id)), check)

    def seed(self, agency_id: str, snippets: Iterable[Snippet], at: datetime) -> None:
        def check() -> None:
            if agency_id in self._world.snippets_seeded:
                raise ConcurrentUpdate(agency_id)

        self._uow.queue(lambda: self._world.snippets_seeded.add(agency_id), check)
        for snippet in snippets:
            self.put(snippet)
