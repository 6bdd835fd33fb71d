"""Fuzzing the notes and snippets bodies (issue 22, SPEC §6) with the staff API's fuzz strategies:
never a 500, a JSON error naming the field, nothing written by a refused request, and what was
accepted reads back whole."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.test_fuzz_staff_api import check, encode, fuzz_client, mutated, odd_text, raw_bodies, send
from tests.hypothesis_profiles import fuzz_settings

pytestmark = pytest.mark.usefixtures("per_item_transaction_rollback")


@fuzz_settings()
@given(body=st.one_of(mutated({"body": "Called the landlord; the repair is booked"}).map(encode), raw_bodies))
def test_fuzzed_notes_never_fail_or_half_write(http, agency, body):
    client = fuzz_client(http, agency)
    response, tap = send(http, "POST", f"/clients/{client}/notes", agency["amal"], body)
    payload = check(response, tap, "POST notes")
    if response.status_code == 201:
        newest = http.call("GET", f"/clients/{client}/notes?limit=1", agency["amal"]).json["notes"]
        assert newest[0]["note_id"] == payload["note_id"] and newest[0]["body"] == payload["body"]
        assert tap.by_operation()["TransactWriteItems"] == 1  # note, file version and audit: one write


@fuzz_settings()
@given(snippet_id=st.one_of(st.just("welcome"), odd_text.filter(bool), st.text(min_size=1, max_size=80)),
       body=st.one_of(mutated({"title": "Welcome", "language": "fr", "body": "Bonjour {first_name}"}).map(encode),
                      raw_bodies))
def test_fuzzed_snippets_never_fail_or_half_write(http, agency, snippet_id, body):
    path = "/snippets/" + quote(snippet_id.encode("utf-8", "surrogatepass"), safe="")
    response, tap = send(http, "PUT", path, agency["admin"], body)
    payload = check(response, tap, "PUT snippets")
    if response.status_code in (200, 201):
        listed = {s["snippet_id"]: s for s in http.call("GET", "/snippets", agency["admin"]).json["snippets"]}
        assert listed[payload["snippet_id"]]["body"] == payload["body"]
        assert "{" not in payload["body"].replace("{first_name}", "").replace("{next_opening}", "").replace(
            "{case_manager}", "").replace("{agency_name}", "")
