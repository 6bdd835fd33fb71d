"""The caller's caseload, a page at a time (issue 22, SPEC §4.4 ``GET /clients``).

Whom a caller sees: a worker, their own files and those of colleagues whose absence they cover
today; supervisors and admins, the agency's (or one worker's, with ``staff_id``). Most recent
activity first; ``filter=`` and ``status=`` narrow the list to states (``domain.caseload``); ``q``
finds a file by the start of a word of its name or by its number in any format. Every page is a
keyed read of one index partition per case manager (and per state): the same number of DynamoDB
calls for ten files or ten thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import caseload as rules
from ..domain import validation as v
from ..domain.errors import Forbidden, InvalidInput
from ..domain.inquiry import Inquiry
from ..domain.model import Client, Principal
from .clients import agency_country

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

DEFAULT_PAGE = 25
MAX_PAGE = 100


@dataclass(frozen=True)
class ListClients:
    """``GET /clients`` as asked: ``q``, ``status``, ``filter``, ``staff_id``, ``next``, ``limit``."""

    q: str | None = None
    status: str | None = None
    filter: str | None = None
    staff_id: str | None = None
    after: str | None = None  # the ``next`` cursor of the page before
    limit: int = DEFAULT_PAGE

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ListClients:
        q = (params.get("q") or "").strip() or None
        if q is not None and len(q) > rules.MAX_QUERY:
            raise InvalidInput("q", f"must be at most {rules.MAX_QUERY} characters")
        status = params.get("status") or None
        if status is not None:
            v.one_of(status, "status", rules.STATUSES)
        filter_ = params.get("filter") or None
        if filter_ is not None:
            v.one_of(filter_, "filter", rules.FILTERS)
        staff_id = params.get("staff_id") or None
        limit = params.get("limit") or str(DEFAULT_PAGE)
        if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_PAGE:
            raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_PAGE}")
        return cls(q=q, status=status, filter=filter_,
                   staff_id=v.identifier(staff_id, "staff_id") if staff_id is not None else None,
                   after=params.get("next") or None, limit=int(limit))


@dataclass(frozen=True)
class CaseloadPage:
    """Files with their open inquiry (as ``GET /clients/{id}`` gives it), and the next page's cursor."""

    items: tuple[tuple[Client, Inquiry | None], ...]
    next: str | None = None


class CaseloadService:
    def __init__(self, uow: Callable[[], UnitOfWork], covering_for: Callable[[Principal], frozenset[str]],
                 policies: Any) -> None:
        self._uow = uow
        self._covering_for = covering_for  # colleagues whose absence today the caller covers
        self._policies = policies  # the agency's country reads numbers typed the national way

    def list(self, principal: Principal, query: ListClients) -> CaseloadPage:
        staff_ids = self._scopes(principal, query.staff_id)
        states = rules.states_for(query.status, query.filter)
        if states is not None and not states:  # e.g. status=closed&filter=waiting: nothing is both
            return CaseloadPage(())
        uow = self._uow()
        if query.q is None:
            page = uow.clients.caseload(principal.agency_id, staff_ids, states, query.after, query.limit)
            clients = list(page.items)
        else:
            country = agency_country(self._policies, principal.agency_id,
                                     lambda: uow.numbers.of(principal.agency_id, principal.staff_id))
            search = rules.search_query(query.q, country)
            if search is None:
                return CaseloadPage(())
            page = uow.clients.search(principal.agency_id, staff_ids, search.term, query.after, query.limit)
            clients = [c for c in page.items if rules.matches(c, search)
                       and (states is None or rules.file_state(c) in states)]
            clients.sort(key=lambda c: c.last_activity_at or c.created_at, reverse=True)
        inquiries = uow.inquiries.many(c.open_inquiry_id for c in clients if c.open_inquiry_id)
        return CaseloadPage(tuple((c, inquiries.get(c.open_inquiry_id) if c.open_inquiry_id else None)
                                  for c in clients), page.next)

    def _scopes(self, principal: Principal, staff_id: str | None) -> tuple[str, ...] | None:
        """The case managers whose files the caller lists; None: the whole agency's."""
        if principal.sees_whole_agency():
            return (staff_id,) if staff_id else None
        mine = {principal.staff_id} | set(self._covering_for(principal))
        if staff_id and staff_id not in mine:
            raise Forbidden("workers see their own clients and those of colleagues they cover")
        return (staff_id,) if staff_id else tuple(sorted(mine))

    def reindex(self, agency_id: str) -> int:
        """Index the agency's files written before GET /clients kept its keys (``cli reindex-clients``).

        Each file in its own unit of work, read again when it changed meanwhile; safe to run twice.
        Returns how many files were indexed. An operator's one-off: it reads the agency's files.
        """
        done = 0
        for found in self._uow().clients.of_agency(agency_id):
            for _ in range(5):
                with self._uow() as uow:
                    if not uow.clients.reindex(found.client_id):
                        break
                    if uow.commit_unless_changed():
                        done += 1
                        break
        return done
