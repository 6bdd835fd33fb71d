"""Private case notes with fakes (issue 22): what a note may hold, who writes and reads it, the audit
that keeps no text, paging, and an erasure that a note written meanwhile can never outlive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Channel, Client, ClientStatus, Principal, Role
from chalicelib.domain.notes import MAX_NOTE_CHARS, note_body, page_size
from chalicelib.services.data_rights import DataRightsService
from chalicelib.services.notes import NotesService, WriteNote, note_view
from tests.unit.fakes import World
from tests.unit.test_data_rights_service import FakePolicies

NOW = datetime(2026, 11, 18, 17, tzinfo=UTC)
AMAL = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
JEAN = Principal("jean", "calgary-cfn", frozenset({Role.WORKER}))
SUPERVISOR = Principal("sup-maria", "calgary-cfn", frozenset({Role.SUPERVISOR}))
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
OTHER_ADMIN = Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN}))
NAMES = {"amal": "Amal Haddad", "jean": "Jean Tremblay", "admin-lee": "Lee Chen"}


class Staff:
    def list(self, agency_id: str) -> list:
        from chalicelib.domain.model import Staff as Member

        return [Member(agency_id, sid, Role.WORKER, name, NOW) for sid, name in NAMES.items()]


def a_world(status: ClientStatus = ClientStatus.ACTIVE) -> World:
    world = World(staff=Staff())
    world.file(Client("cl_a", "calgary-cfn", "amal", "+15875550123", Channel.SMS, "en", "Fatima A.", status,
                      NOW - timedelta(days=30), closed_at=NOW - timedelta(days=1) if status is ClientStatus.CLOSED else None,
                      version=3))
    return world


def notes(world: World, covering: frozenset[str] = frozenset()) -> NotesService:
    return NotesService(world.uow, covering_for=lambda p: covering if p.staff_id == "jean" else frozenset(),
                        names=lambda agency_id: NAMES)


# -- what a note holds ------------------------------------------------------------------------------


def test_a_note_keeps_its_lines_and_loses_only_the_surrounding_blanks():
    assert note_body({"body": "  First line\r\nsecond line\rthird\t \n"}) == "First line\nsecond line\nthird"
    assert note_body({"body": "e\u0301te\u0301"}) == "\u00e9t\u00e9"  # one spelling (NFC)
    assert note_body({"body": "x" * MAX_NOTE_CHARS}) == "x" * MAX_NOTE_CHARS


@pytest.mark.parametrize(("payload", "words"), [
    ({"body": ""}, "blank"), ({"body": " \n\t"}, "blank"), ({}, "required"), ({"body": None}, "required"),
    ({"body": 7}, "string"), ({"body": "a\u0000b"}, "control"), (["body"], "object"),
    ({"body": "x" * (MAX_NOTE_CHARS + 1)}, f"at most {MAX_NOTE_CHARS}"),
])
def test_a_blank_oversize_or_malformed_note_is_refused_naming_the_body(payload, words):
    with pytest.raises(InvalidInput) as refused:
        note_body(payload)
    assert refused.value.field == "body" and words in refused.value.message


@pytest.mark.parametrize(("value", "expected"), [(None, 50), ("", 50), ("1", 1), ("200", 200)])
def test_a_page_size_is_one_to_two_hundred(value, expected):
    assert page_size(value) == expected


@pytest.mark.parametrize("value", ["0", "201", "-1", "ten", "١٠"])
def test_any_other_page_size_is_refused(value):
    with pytest.raises(InvalidInput):
        page_size(value)


# -- who writes, who reads ----------------------------------------------------------------------------


def test_the_case_manager_writes_a_note_audited_without_its_text_and_the_file_moves_on(time_machine):
    time_machine.move_to(NOW, tick=False)
    world = a_world()
    note = notes(world).write(AMAL, "cl_a", WriteNote.parse({"body": "Disclosed a health condition"}))
    assert (note.author_id, note.at, note.body, note.client_id) == ("amal", NOW, "Disclosed a health condition", "cl_a")
    assert world.notes == [note]
    [event] = [e for e in world.audit if e.type is AuditType.NOTE_WRITTEN]
    assert event.actor == "amal" and event.details == {"note_id": note.note_id, "characters": 28}
    assert "health" not in repr(event)
    assert world.clients["cl_a"].version == 4  # the file's version moved, nothing else on it


@pytest.mark.parametrize("who", [AMAL, ADMIN])
def test_the_case_manager_and_an_admin_write_notes(who):
    world = a_world()
    notes(world).write(who, "cl_a", WriteNote("seen"))
    assert [n.author_id for n in world.notes] == [who.staff_id]


def test_a_colleague_writes_only_while_covering_the_case_managers_absence():
    world = a_world()
    with pytest.raises(Forbidden):
        notes(world).write(JEAN, "cl_a", WriteNote("not mine"))
    notes(world, covering=frozenset({"amal"})).write(JEAN, "cl_a", WriteNote("covering"))
    assert [n.author_id for n in world.notes] == ["jean"]


@pytest.mark.parametrize(("who", "cid", "error"), [
    (SUPERVISOR, "cl_a", Forbidden), (OTHER_ADMIN, "cl_a", NotFound), (ADMIN, "cl_missing", NotFound),
    (ADMIN, "../cl_a", NotFound)])
def test_others_may_not_write_and_nothing_is_written(who, cid, error):
    world = a_world()
    with pytest.raises(error):
        notes(world).write(who, cid, WriteNote("no"))
    assert world.notes == [] and world.audit == [] and world.clients["cl_a"].version == 3


def test_supervisors_read_notes_newest_first_but_may_not_add_one(time_machine):
    time_machine.move_to(NOW, tick=False)
    world = a_world()
    service = notes(world)
    for n in range(3):
        time_machine.move_to(NOW + timedelta(minutes=n), tick=False)
        service.write(AMAL, "cl_a", WriteNote(f"note {n}"))
    page, can_write = service.page(SUPERVISOR, "cl_a", {})
    assert [n.body for n in page.notes] == ["note 2", "note 1", "note 0"] and page.next is None
    assert can_write is False
    assert service.page(AMAL, "cl_a", {})[1] is True
    with pytest.raises(Forbidden):
        service.page(JEAN, "cl_a", {})
    with pytest.raises(NotFound):
        service.page(OTHER_ADMIN, "cl_a", {})


def test_pages_follow_one_another_by_cursor(time_machine):
    world = a_world()
    service = notes(world)
    for n in range(5):
        time_machine.move_to(NOW + timedelta(minutes=n), tick=False)
        service.write(AMAL, "cl_a", WriteNote(f"note {n}"))
    seen, cursor = [], None
    while True:
        page, _ = service.page(AMAL, "cl_a", {"limit": "2", **({"next": cursor} if cursor else {})})
        seen.append([n.body for n in page.notes])
        cursor = page.next
        if cursor is None:
            break
    assert seen == [["note 4", "note 3"], ["note 2", "note 1"], ["note 0"]]
    with pytest.raises(InvalidInput) as refused:
        service.page(AMAL, "cl_a", {"next": "bm90IGEgY3Vyc29y"})
    assert refused.value.field == "next"


def test_a_note_shows_its_authors_name_or_their_id_when_the_name_is_unknown():
    world = a_world()
    note = notes(world).write(ADMIN, "cl_a", WriteNote("seen"))
    assert note_view(note, None, NAMES)["by_name"] == "Lee Chen"
    assert note_view(note, None, {})["by_name"] == "admin-lee"


# -- erasure -------------------------------------------------------------------------------------------


def test_a_note_written_while_the_file_is_erased_fails_the_erasure_and_the_next_one_removes_it(time_machine):
    time_machine.move_to(NOW, tick=False)
    world = a_world(ClientStatus.CLOSED)
    service = notes(world)
    service.write(AMAL, "cl_a", WriteNote("before the erasure"))
    rights = DataRightsService(world.uow, media=_NoMedia(), twilio=None, policies=FakePolicies())
    as_read = world.clients["cl_a"]  # what an erasure read before the next note came in
    service.write(AMAL, "cl_a", WriteNote("written while the erasure ran"))

    with pytest.raises(Conflict):
        rights._erase(as_read, "admin-lee", "request", NOW)
    assert world.clients["cl_a"].erased_at is None  # not marked erased while a note might remain

    rights.erase(ADMIN, "cl_a")
    assert world.notes == [] and world.clients["cl_a"].erased_at == NOW
    with pytest.raises(Conflict) as refused:
        service.write(ADMIN, "cl_a", WriteNote("after"))
    assert refused.value.code == "client_erased" and world.notes == []
    with pytest.raises(Conflict):
        service.page(ADMIN, "cl_a", {})


def test_the_export_lists_the_notes_oldest_first_with_their_authors(time_machine):
    world = a_world()
    service = notes(world)
    for n, who in enumerate((AMAL, ADMIN)):
        time_machine.move_to(NOW + timedelta(minutes=n), tick=False)
        service.write(who, "cl_a", WriteNote(f"note {n}"))
    export = DataRightsService(world.uow, media=_NoMedia(), twilio=None, policies=FakePolicies()).export(ADMIN, "cl_a")
    assert [(n["body"], n["by_name"]) for n in export["notes"]] == [("note 0", "Amal Haddad"), ("note 1", "Lee Chen")]


class _NoMedia:
    def keys_under(self, prefix: str) -> list[str]:
        return []

    def delete(self, keys: list[str]) -> int:
        return len(keys)
