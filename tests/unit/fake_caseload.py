"""The caseload reads of the in-memory clients repository (``GET /clients``, issue 22).

They answer what ``ClientRepository.caseload`` and ``search`` answer, from the files in memory:
the same states, activity order and search terms (``chalicelib.domain.caseload``), a page at a
time, with an opaque cursor bound to the query it came from (another query's cursor, or an altered
one, is refused as the real one is). A file's search terms are those ``add`` would have written,
until ``forget_search`` removes them (erasure).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.caseload import FileState, Page, file_state, search_terms
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Client


class CaseloadReads:
    """Mixed into the fake clients repository (``tests/unit/fakes.py``), which has ``_world`` and ``_uow``."""

    _world: Any
    _uow: Any

    def caseload(self, agency_id: str, staff_ids: Iterable[str] | None, states: frozenset[FileState] | None,
                 after: str | None, limit: int) -> Page[Client]:
        staff = None if staff_ids is None else sorted(staff_ids)
        files = [c for c in self._listed(agency_id, staff) if states is None or file_state(c) in states]
        files.sort(key=lambda c: (c.last_activity_at or c.created_at, c.client_id), reverse=True)
        scope = ["caseload", agency_id, staff, sorted(s.value for s in states) if states is not None else None]
        return _page(files, scope, after, limit)

    def search(self, agency_id: str, staff_ids: Iterable[str] | None, term: str, after: str | None,
               limit: int) -> Page[Client]:
        staff = None if staff_ids is None else sorted(staff_ids)
        files = sorted((c for c in self._listed(agency_id, staff) if term in self._terms(c)), key=lambda c: c.client_id)
        return _page(files, ["search", agency_id, staff, term], after, limit)

    def forget_search(self, client: Client) -> None:
        self._uow.queue(lambda: self._world.stored.setdefault(client.client_id, {}).update(search_terms=frozenset()))

    def _listed(self, agency_id: str, staff: list[str] | None) -> list[Client]:
        return [c for c in self._world.clients.values() if c.agency_id == agency_id and not c.status_erased()
                and (staff is None or c.case_manager_id in staff)]

    def _terms(self, client: Client) -> frozenset[str]:
        stored = self._world.stored.get(client.client_id, {})
        return stored["search_terms"] if "search_terms" in stored else search_terms(client.name, client.phone)


def _page(files: list[Client], scope: list[Any], after: str | None, limit: int) -> Page[Client]:
    digest = hashlib.sha256(json.dumps(scope).encode()).hexdigest()[:16]
    start = 0
    if after is not None:
        try:
            mark, start = json.loads(base64.urlsafe_b64decode(after.encode()))
        except (ValueError, TypeError):
            mark = None
        if mark != digest or not isinstance(start, int) or start < 0:
            raise InvalidInput("next", "is not a cursor of this list: start again from the first page")
    end = start + limit
    cursor = base64.urlsafe_b64encode(json.dumps([digest, end]).encode()).decode() if end < len(files) else None
    return Page(tuple(files[start:end]), cursor)
