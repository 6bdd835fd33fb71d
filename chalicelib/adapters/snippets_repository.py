"""The snippets table: the only code that maps snippet items to ``Snippet``.

One partition per agency: listing is one Query. Every change is conditioned on the version read
(PynamoDB's ``VersionAttribute``: a new snippet on its absence), so of two admins editing one
snippet at once the second is told (``ConcurrentUpdate``), never silently overwritten. Besides the
snippets the partition holds one marker, ``SEEDED``: the policy's holding replies were added once,
and a snippet an admin deleted afterwards stays deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..domain.snippets import Snippet
from . import models as m
from .writes import WriteQueue

#: The marker's sort key. ``~`` starts no snippet id (``domain.snippets.snippet_id``).
SEEDED = "~seeded"


def snippet_item(snippet: Snippet) -> m.SnippetModel:
    item = m.SnippetModel(agency_id=snippet.agency_id, snippet_id=snippet.snippet_id, title=snippet.title,
                          language=snippet.language, body=snippet.body, updated_at=snippet.updated_at,
                          updated_by=snippet.updated_by)
    if snippet.version:  # without a version: a new item, written only while absent
        item.version = snippet.version
    return item


def snippet_from(item: m.SnippetModel) -> Snippet:
    return Snippet(agency_id=item.agency_id, snippet_id=item.snippet_id, title=item.title or "",
                   language=item.language or "en", body=item.body or "", updated_at=item.updated_at,
                   updated_by=item.updated_by, version=int(item.version or 0))


class SnippetRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def of_agency(self, agency_id: str) -> tuple[list[Snippet], bool]:
        """The agency's snippets and whether its holding replies were seeded: one Query."""
        snippets, seeded = [], False
        for item in m.SnippetModel.query(agency_id):
            if item.snippet_id == SEEDED:
                seeded = True
            else:
                snippets.append(snippet_from(item))
        return snippets, seeded

    def get(self, agency_id: str, snippet_id: str) -> Snippet | None:
        if snippet_id == SEEDED:
            return None
        try:
            return snippet_from(m.SnippetModel.get(agency_id, snippet_id, consistent_read=True))
        except DoesNotExist:
            return None

    def put(self, snippet: Snippet) -> None:
        """Queue a snippet. ``snippet.version`` is the version it was read at: 0 writes a new one (only
        while none exists), else it replaces that very version (PynamoDB then increments it)."""
        self._uow.save(snippet_item(snippet))

    def delete(self, snippet: Snippet) -> None:
        """Queue its deletion, only while it is still at the version read."""
        self._uow.delete(snippet_item(snippet))

    def seed(self, agency_id: str, snippets: Iterable[Snippet], at: datetime) -> None:
        """Queue the seeding marker and ``snippets``, each only while absent (a second seeder loses)."""
        self._uow.save(m.SnippetModel(agency_id=agency_id, snippet_id=SEEDED, updated_at=at, updated_by="system"))
        for snippet in snippets:
            self.put(snippet)
