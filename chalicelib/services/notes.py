"""Private case notes (SPEC §4.4, issue 22): ``POST`` and ``GET /clients/{id}/notes``.

Who: the case manager, a colleague covering their absence and the agency's administrators write
notes; supervisors read them too (``access.manageable_client`` / ``visible_client``). Another
agency's file is not found (404); an erased file has no notes any more and takes none (409
``client_erased``). A note is never sent anywhere: it is part of the file, shown in the console's
``Notes`` region, in the export, and erased with the file (``data_rights``).

Writing a note commits three things at once: the note, an audit event that says a note was written
(its id and length, never its text: erasure must leave nothing a worker wrote about the client in
the trail), and a new version of the file. That last write changes nothing on the file but its
version: an erasure that read the file before the note was written then fails its own conditioned
write and is run again, so no note can slip in behind an erasure and outlive the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..adapters.conflicts import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, NotFound
from ..domain.model import Client, Principal
from ..domain.notes import Note, NotesPage, note_body, page_size
from .access import manageable_client, visible_client
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class WriteNote:
    body: str

    @classmethod
    def parse(cls, payload: Any) -> WriteNote:
        return cls(body=note_body(payload))


class NotesService:
    def __init__(self, uow: Callable[[], UnitOfWork],
                 covering_for: Callable[[Principal], frozenset[str]] | None = None,
                 names: Callable[[str], Mapping[str, str]] | None = None) -> None:
        self._uow = uow
        self._covering_for = covering_for or (lambda principal: frozenset())
        self._names = names or (lambda agency_id: {})

    def _file(self, principal: Principal, client_id: str) -> Client:
        """The file, if it is of the caller's agency (404 otherwise) and not erased (409)."""
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        if client is None or client.agency_id != principal.agency_id:
            raise NotFound("no such client")
        if client.status_erased():
            raise Conflict("this client's file was erased: its notes went with it, and it takes no new one",
                           code="client_erased")
        return client

    def may_write(self, principal: Principal, client: Client) -> bool:
        return (principal.is_admin() or client.case_manager_id == principal.staff_id
                or client.case_manager_id in self._covering_for(principal))

    def write(self, principal: Principal, client_id: str, command: WriteNote) -> Note:
        def attempt() -> Note:
            client = manageable_client(principal, self._file(principal, client_id),
                                       covering=self._covering_for(principal))
            now = utcnow()
            note = Note(note_id=new_id("note"), client_id=client.client_id, agency_id=client.agency_id,
                        author_id=principal.staff_id, at=now, body=command.body)
            event = AuditEvent(agency_id=client.agency_id, type=AuditType.NOTE_WRITTEN, at=now,
                               actor=principal.staff_id, client_id=client.client_id, staff_id=client.case_manager_id,
                               details={"note_id": note.note_id, "characters": len(note.body)})
            with self._uow() as uow:
                uow.clients.update(client, {})  # the file's version moves (see the module's docstring)
                uow.notes.add(note)
                uow.audit.add([event])
                uow.commit()
            return note

        try:
            return retry_on_conflict(attempt)
        except ConcurrentUpdate:
            raise Conflict("the client file kept changing; the note was not saved, please retry", code="busy") from None

    def page(self, principal: Principal, client_id: str, params: Mapping[str, str] | None) -> tuple[NotesPage, bool]:
        """One page of the file's notes, newest first, and whether the caller may add one."""
        params = params or {}
        client = visible_client(principal, self._file(principal, client_id), covering=self._covering_for(principal))
        limit = page_size(params.get("limit"))
        found = self._uow().notes.page(client.agency_id, client.client_id, after=params.get("next") or None,
                                       limit=limit)
        return found, self.may_write(principal, client)

    def names(self, agency_id: str) -> Mapping[str, str]:
        """Staff names by id (the cached staff directory): a note shows who wrote it by name."""
        return self._names(agency_id)


def note_view(note: Note, zone: Any, names: Mapping[str, str]) -> dict[str, Any]:
    from ..views import iso

    return {"note_id": note.note_id, "at": iso(note.at, zone), "by": note.author_id,
            "by_name": names.get(note.author_id) or note.author_id, "body": note.body}


def notes_view(page: NotesPage, can_write: bool, zone: Any, names: Mapping[str, str]) -> dict[str, Any]:
    return {"notes": [note_view(n, zone, names) for n in page.notes], "next": page.next, "can_write": can_write}
