"""Snippets (issue 22): an agency's prepared answers, kept by its administrators, used by everyone.

* ``GET /snippets[?language=]`` (any staff member of the agency): the list, by language and title.
  The first time an agency's list is read, the policy's holding reply is added to it, one snippet
  per policy language that has its own text (``domain.snippets.holding_snippets``); once only, so a
  seeded snippet an admin changes or deletes stays as the admin left it.
* ``PUT /snippets/{id}`` (admins): create or replace; 201 when new, 200 when replaced. The write is
  conditioned on the version read (and on ``version`` in the body when the caller sends the one it
  read): an edit that lost a race, or was made on a stale copy, is a 409 ``conflict``, never a
  silent overwrite. A placeholder the snippet may not use is a 400 naming it.
* ``DELETE /snippets/{id}`` (admins): gone, conditioned the same way.
* ``GET /clients/{id}/snippets`` (whoever may read the file): the snippets in the client's language
  (English when the agency has none in it), filled in for that client on the server: first name,
  next opening (the agency's calendar and zone, written in the snippet's language), case manager,
  agency. The console inserts that text; it never fills a placeholder itself.

The holding reply the composer's own button sends (``holding: true``) still comes from the policy,
exactly as before: the seeded snippets are the same words, ready to insert and adapt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..adapters.conflicts import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.i18n import format_next_open, normalise_language
from ..domain.model import Principal
from ..domain.policy import FALLBACK_LANGUAGE, Policy
from ..domain.snippets import (
    MAX_BODY_CHARS,
    MAX_SNIPPETS,
    MAX_TITLE_CHARS,
    Snippet,
    check_placeholders,
    fill,
    first_name,
    holding_snippets,
    same_language,
    snippet_id,
)
from .access import published_policy, require_admin, visible_client

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


def _language(value: Any, field: str = "language") -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "is required, as a BCP 47 tag such as 'ar', 'fr' or 'en'")
    try:
        return normalise_language(value)
    except ValueError:
        raise InvalidInput(field, "must be a BCP 47 tag such as 'ar', 'fr' or 'en'") from None


def _version(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("version", "must be the snippet's version as read (a whole number; 0 for a new one)")
    return value


@dataclass(frozen=True)
class PutSnippet:
    snippet_id: str
    title: str
    language: str
    body: str
    version: int | None  # the version the caller read, if it says; None: whatever is stored now

    @classmethod
    def parse(cls, snippet_id_: str, payload: Any) -> PutSnippet:
        body = v.require_object(payload)
        text = v.text(body, "body", max_len=MAX_BODY_CHARS) or ""
        return cls(snippet_id=snippet_id(snippet_id_), title=v.text(body, "title", max_len=MAX_TITLE_CHARS) or "",
                   language=_language(body.get("language")), body=check_placeholders(text),
                   version=_version(body.get("version")))


def version_query(value: str | None) -> int | None:
    """``?version=`` of a deletion."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise InvalidInput("version", "must be the snippet's version as read (a whole number)")
    return int(value)


class SnippetService:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any,
                 covering_for: Callable[[Principal], frozenset[str]] | None = None,
                 names: Callable[[str], Mapping[str, str]] | None = None) -> None:
        self._uow = uow
        self._policies = policies
        self._covering_for = covering_for or (lambda principal: frozenset())
        self._names = names or (lambda agency_id: {})

    # -- reading ---------------------------------------------------------------------------------

    def names(self, agency_id: str) -> Mapping[str, str]:
        """Staff names by id (the cached staff directory): who last changed a snippet, by name."""
        return self._names(agency_id)

    def _all(self, agency_id: str, policy: Policy) -> list[Snippet]:
        """The agency's snippets, its holding replies seeded on the first read."""
        found, seeded = self._uow().snippets.of_agency(agency_id)
        if seeded:
            return found
        taken = {s.snippet_id for s in found}

        def holding_text(language: str) -> str | None:
            own = policy.template_language("holding_reply", language)
            primary = language.split("-")[0].lower()
            return policy.template("holding_reply", language) if own != FALLBACK_LANGUAGE or primary == "en" else None

        seeds = [s for s in holding_snippets(agency_id, policy.languages, holding_text, policy.emergency_line, utcnow())
                 if s.snippet_id not in taken]
        try:
            with self._uow() as uow:
                uow.snippets.seed(agency_id, seeds, utcnow())
                uow.commit()
        except ConcurrentUpdate:  # seeded meanwhile by another request (or an id taken): read what is there
            return self._uow().snippets.of_agency(agency_id)[0]
        return [*found, *(replace(s, version=1) for s in seeds)]

    def list(self, principal: Principal, language: str | None = None) -> list[Snippet]:
        policy = published_policy(self._policies, principal.agency_id)
        snippets = self._all(principal.agency_id, policy)
        if language:
            wanted = _language(language)
            snippets = [s for s in snippets if same_language(s.language, wanted)]
        return sorted(snippets, key=lambda s: (s.language, s.title.casefold(), s.snippet_id))

    def for_client(self, principal: Principal, client_id: str) -> tuple[str, list[tuple[Snippet, str]]]:
        """The snippets for a client's language (else English), each with its text filled in."""
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        client = visible_client(principal, client, covering=self._covering_for(principal))
        policy = published_policy(self._policies, client.agency_id)
        snippets = self.list(principal)
        chosen = [s for s in snippets if same_language(s.language, client.language)]
        language = client.language
        if not chosen:
            chosen = [s for s in snippets if same_language(s.language, FALLBACK_LANGUAGE)]
            language = FALLBACK_LANGUAGE
        now = utcnow()
        opening = policy.calendar.next_opening(now)
        values = {"first_name": first_name(client.name), "agency_name": policy.name,
                  "case_manager": self._names(client.agency_id).get(client.case_manager_id, "")}
        return language, [(s, fill(s.body, {**values, "next_opening": format_next_open(
            opening, policy.timezone, s.language, now=now)})) for s in chosen]

    # -- administrators' changes -------------------------------------------------------------------

    def put(self, principal: Principal, command: PutSnippet) -> tuple[Snippet, bool]:
        """Create or replace a snippet; (the snippet as stored, whether it is new)."""
        require_admin(principal)
        published_policy(self._policies, principal.agency_id)
        repository = self._uow().snippets
        before = repository.get(principal.agency_id, command.snippet_id)
        read = before.version if before else 0
        if command.version == 0 and before is not None:
            raise Conflict(f"a snippet {command.snippet_id!r} already exists; change it from the list, or choose "
                           "another identifier", code="conflict")
        if command.version is not None and command.version != read:
            raise Conflict("this snippet changed since you read it; read it again before saving", code="conflict")
        if before is None and len(repository.of_agency(principal.agency_id)[0]) >= MAX_SNIPPETS:
            raise Conflict(f"an agency keeps at most {MAX_SNIPPETS} snippets; delete one first",
                           code="too_many_snippets")
        now = utcnow()
        after = Snippet(agency_id=principal.agency_id, snippet_id=command.snippet_id, title=command.title,
                        language=command.language, body=command.body, updated_at=now,
                        updated_by=principal.staff_id, version=read)
        event = AuditEvent(agency_id=principal.agency_id, type=AuditType.SNIPPET_SAVED, at=now, actor=principal.staff_id,
                           details={"snippet_id": command.snippet_id, "language": command.language,
                                    "created": before is None})
        self._commit(lambda uow: uow.snippets.put(after), event)
        return replace(after, version=read + 1), before is None

    def delete(self, principal: Principal, snippet_id_: str, version: int | None = None) -> Snippet:
        require_admin(principal)
        before = self._uow().snippets.get(principal.agency_id, snippet_id(snippet_id_))
        if before is None:
            raise NotFound("no such snippet")
        if version is not None and version != before.version:
            raise Conflict("this snippet changed since you read it; read it again before deleting it", code="conflict")
        event = AuditEvent(agency_id=principal.agency_id, type=AuditType.SNIPPET_DELETED, at=utcnow(),
                           actor=principal.staff_id, details={"snippet_id": before.snippet_id,
                                                              "language": before.language})
        self._commit(lambda uow: uow.snippets.delete(before), event)
        return before

    def _commit(self, write: Callable[[Any], None], event: AuditEvent) -> None:
        try:
            with self._uow() as uow:
                write(uow)
                uow.audit.add([event])
                uow.commit()
        except ConcurrentUpdate:
            raise Conflict("another change to this snippet got in first; nothing was saved: read it again",
                           code="conflict") from None


def snippet_view(snippet: Snippet, zone: Any, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    from ..views import iso

    by = snippet.updated_by
    return {"snippet_id": snippet.snippet_id, "title": snippet.title, "language": snippet.language,
            "body": snippet.body, "placeholders": list(snippet.placeholders()),
            "updated_at": iso(snippet.updated_at, zone), "updated_by": by,
            # who, by name ("system": seeded from the policy, no one's name)
            "updated_by_name": None if by in (None, "system") else (names or {}).get(by, by),
            "version": snippet.version}


def filled_view(language: str, filled: list[tuple[Snippet, str]]) -> dict[str, Any]:
    return {"language": language, "snippets": [
        {"snippet_id": s.snippet_id, "title": s.title, "language": s.language, "text": text} for s, text in filled]}
