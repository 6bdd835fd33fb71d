"""Private case notes through the HTTP API (SPEC §4.4, issue 22): who writes and reads them, what
is refused, newest first in pages, audited without their text, in the export, gone with the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine

from chalicelib.adapters import models as m
from tests.conftest import auth, new_client
from tests.storage_dump import every_stored_text

WEDNESDAY = datetime(2026, 11, 18, 16, tzinfo=UTC)  # 10:00 in Calgary (UTC-6 all year)


def notes_path(client_id: str) -> str:
    return f"/clients/{client_id}/notes"


def write(http, who, client_id: str, body: object):
    return http.call("POST", notes_path(client_id), who, {"body": body})


def test_a_note_is_saved_with_its_author_and_time_and_listed_newest_first(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        cid = new_client(http, agency["amal"])["client_id"]
        r = write(http, agency["amal"], cid, "  Met Fatima at the office: lease renewal is due in March.\r\nWill call the landlord.  ")
        assert r.status_code == 201, r.body
        first = r.json
        assert first["note_id"].startswith("note_") and first["by"] == "amal" and first["by_name"] == "Amal"
        assert first["at"] == "2026-11-18T10:00:00-06:00"
        assert first["body"] == "Met Fatima at the office: lease renewal is due in March.\nWill call the landlord."
        traveller.move_to(datetime(2026, 11, 19, 17, 30, tzinfo=UTC))
        second = write(http, agency["admin"], cid, "Landlord agreed to wait until April.").json

        listed = http.call("GET", notes_path(cid), agency["amal"]).json
        assert [n["note_id"] for n in listed["notes"]] == [second["note_id"], first["note_id"]]
        assert listed["notes"][0] == {"note_id": second["note_id"], "at": "2026-11-19T11:30:00-06:00",
                                      "by": "admin-lee", "by_name": "Admin-Lee",
                                      "body": "Landlord agreed to wait until April."}
        assert listed["next"] is None and listed["can_write"] is True


def test_the_case_manager_a_covering_colleague_and_admins_write_supervisors_only_read(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        cid = new_client(http, agency["amal"])["client_id"]
        other_agency = auth("admin-h", "admin", "halifax-isans")
        assert write(http, agency["amal"], cid, "case manager").status_code == 201
        traveller.shift(60)
        assert write(http, agency["admin"], cid, "administrator").status_code == 201
        assert write(http, agency["supervisor"], cid, "supervisor").status_code == 403
        assert write(http, agency["jean"], cid, "another worker").status_code == 403
        assert write(http, other_agency, cid, "another agency").status_code == 404
        assert http.call("POST", notes_path(cid), None, {"body": "nobody"}).status_code == 401

        assert http.call("GET", notes_path(cid), agency["jean"]).status_code == 403
        assert http.call("GET", notes_path(cid), other_agency).status_code == 404
        assert http.call("GET", notes_path(cid), None).status_code == 401
        seen = http.call("GET", notes_path(cid), agency["supervisor"])
        assert seen.status_code == 200 and seen.json["can_write"] is False
        assert [n["body"] for n in seen.json["notes"]] == ["administrator", "case manager"]
        assert http.call("GET", notes_path("cl_nobody"), agency["admin"]).status_code == 404

        # Jean covers Amal's absence: while she is away he writes and reads her clients' notes.
        r = http.call("PUT", "/staff/amal/absences/leave", agency["amal"],
                      {"start": "2026-11-18", "end": "2026-11-20", "cover_id": "jean"})
        assert r.status_code == 201, r.body
        assert write(http, agency["jean"], cid, "covering colleague").status_code == 201
        covering = http.call("GET", notes_path(cid), agency["jean"]).json
        # (found by its text: notes written at one frozen instant have no order between them)
    assert covering["can_write"] is True
    assert [n["by_name"] for n in covering["notes"] if n["body"] == "covering colleague"] == ["Jean"]


def test_a_blank_an_oversize_or_a_malformed_note_is_refused_and_nothing_is_stored(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False):
        cid = new_client(http, agency["amal"])["client_id"]
        for body in ("", "   \n\t ", None, 42, ["a note"]):
            r = write(http, agency["amal"], cid, body)
            assert r.status_code == 400 and r.json["error"]["field"] == "body", (body, r.body)
        r = write(http, agency["amal"], cid, "x" * 4001)
        assert r.status_code == 400 and r.json["error"]["field"] == "body"
        assert "4001" in r.json["error"]["message"] and "4000" in r.json["error"]["message"]
        assert http.call("POST", notes_path(cid), agency["amal"], ["not", "an", "object"]).status_code == 400
        assert write(http, agency["amal"], cid, "x" * 4000).status_code == 201  # the limit itself is fine
        assert len(http.call("GET", notes_path(cid), agency["amal"]).json["notes"]) == 1
        written = [e for e in http.call("GET", f"/audit?client_id={cid}", agency["admin"]).json["events"]
                   if e["type"] == "note.written"]
        assert len(written) == 1


def test_writing_a_note_is_audited_without_its_text(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False):
        cid = new_client(http, agency["amal"])["client_id"]
        note = write(http, agency["amal"], cid, "Disclosed a medical condition; see the referral").json
        events = [e for e in http.call("GET", f"/audit?client_id={cid}", agency["admin"]).json["events"]
                  if e["type"] == "note.written"]
        assert len(events) == 1
        assert events[0]["actor"] == "amal" and events[0]["details"]["note_id"] == note["note_id"]
        assert "medical" not in json.dumps(events)


def test_notes_are_paged_newest_first_with_a_cursor_that_only_ever_reads_the_same_file(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        cid = new_client(http, agency["amal"])["client_id"]
        other = new_client(http, agency["amal"], phone="+15875550199")["client_id"]
        for n in range(5):
            traveller.shift(60)
            assert write(http, agency["amal"], cid, f"note {n}").status_code == 201
        assert write(http, agency["amal"], other, "the other file's note").status_code == 201

        first = http.call("GET", notes_path(cid) + "?limit=2", agency["amal"]).json
        assert [n["body"] for n in first["notes"]] == ["note 4", "note 3"] and first["next"]
        second = http.call("GET", notes_path(cid) + f"?limit=2&next={first['next']}", agency["amal"]).json
        assert [n["body"] for n in second["notes"]] == ["note 2", "note 1"]
        last = http.call("GET", notes_path(cid) + f"?limit=2&next={second['next']}", agency["amal"]).json
        assert [n["body"] for n in last["notes"]] == ["note 0"] and last["next"] is None

        # A cursor is a place in the file it is used on: on another file it shows that file's notes only.
        elsewhere = http.call("GET", notes_path(other) + f"?next={first['next']}", agency["amal"]).json
        assert [n["body"] for n in elsewhere["notes"]] in ([], ["the other file's note"])
        for bad in ("not-a-cursor", "Zm9v", "%00"):
            r = http.call("GET", notes_path(cid) + f"?next={bad}", agency["amal"])
            assert r.status_code == 400 and r.json["error"]["field"] == "next", r.body
        for bad in ("0", "201", "two", "-1"):
            r = http.call("GET", notes_path(cid) + f"?limit={bad}", agency["amal"])
            assert r.status_code == 400 and r.json["error"]["field"] == "limit", r.body


def test_the_export_holds_the_notes_with_their_authors(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        cid = new_client(http, agency["amal"])["client_id"]
        write(http, agency["amal"], cid, "First meeting: documents copied.")
        traveller.shift(3600)
        write(http, agency["admin"], cid, "File reviewed.")
        export = http.call("GET", f"/clients/{cid}/export", agency["amal"]).json
        assert [(n["body"], n["by"], n["by_name"]) for n in export["notes"]] == [
            ("First meeting: documents copied.", "amal", "Amal"), ("File reviewed.", "admin-lee", "Admin-Lee")]
        assert export["notes"][0]["at"] == "2026-11-18T10:00:00-06:00"
        # The export is audited after it is built: the next one shows it, with how many notes left.
        again = http.call("GET", f"/clients/{cid}/export", agency["admin"]).json
        [exported] = [e for e in again["audit"] if e["type"] == "client.exported"]
        assert exported["actor"] == "amal" and exported["details"]["notes"] == 2


def test_erasure_removes_every_note_and_an_erased_file_takes_no_new_one(http, agency):
    with time_machine.travel(WEDNESDAY, tick=False):
        cid = new_client(http, agency["amal"])["client_id"]
        other = new_client(http, agency["amal"], phone="+15875550199")["client_id"]
        texts = [f"Private note number {n} about the eviction" for n in range(30)]  # more than one batch
        for text in texts:
            assert write(http, agency["amal"], cid, text).status_code == 201
        assert write(http, agency["amal"], other, "A note about someone else").status_code == 201
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved away"})
        assert r.status_code == 200, r.body
        assert write(http, agency["amal"], cid, "A note on a closed file is still a note").status_code == 201

        r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
        assert r.status_code == 200, r.body

        assert list(m.NoteModel.query(cid)) == []
        stored = every_stored_text()
        assert "eviction" not in stored and "closed file is still" not in stored
        assert "A note about someone else" in stored  # another file keeps its notes
        r = write(http, agency["admin"], cid, "too late")
        assert r.status_code == 409 and r.json["error"]["code"] == "client_erased"
        r = http.call("GET", notes_path(cid), agency["admin"])
        assert r.status_code == 409 and r.json["error"]["code"] == "client_erased"
        assert list(m.NoteModel.query(cid)) == []
