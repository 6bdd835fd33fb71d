"""The caseload's pure rules (issue 22): states, activity, search terms and queries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import caseload as rules
from chalicelib.domain.caseload import FileState
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState

AT = datetime(2026, 11, 23, 16, tzinfo=UTC)
CONSENTED = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}), recorded_at=AT)


def file(**fields) -> Client:
    base = Client("cl1", "calgary-cfn", "amal", "+15873550103", Channel.SMS, "fr", "Zoé Élise Martin",
                  ClientStatus.ACTIVE, AT, consent=CONSENTED)
    return replace(base, **fields)


@pytest.mark.parametrize(("fields", "state"), [
    ({"status": ClientStatus.CLOSED, "opted_out": True, "open_inquiry_id": "inq"}, FileState.CLOSED),
    ({"status": ClientStatus.SUSPENDED, "opted_out": True}, FileState.SUSPENDED),
    ({"opted_out": True, "open_inquiry_id": "inq"}, FileState.OPTED_OUT),
    ({"consent": CONSENTED.withdraw(AT, "moved")}, FileState.WITHDRAWN),
    ({"consent": Consent()}, FileState.NO_CONSENT),
    ({"consent": replace(CONSENTED, channels=frozenset({Channel.WHATSAPP}))}, FileState.NO_CONSENT),
    ({"open_inquiry_id": "inq"}, FileState.WAITING),
    ({}, FileState.REACHABLE),
])
def test_a_file_is_in_exactly_one_state_by_precedence(fields, state):
    assert rules.file_state(file(**fields)) is state


def test_status_and_filter_are_unions_of_states_and_both_mean_both():
    assert rules.states_for(None, None) is None
    assert rules.states_for("active", None) == frozenset(FileState) - {FileState.CLOSED, FileState.SUSPENDED}
    assert rules.states_for(None, "waiting") == {FileState.WAITING}
    assert rules.states_for("active", "opted_out") == {FileState.OPTED_OUT}
    assert rules.states_for("closed", "waiting") == frozenset()
    assert "reachable" not in rules.FILTERS  # what no filter shows is not a filter of its own


def test_activity_is_the_instant_a_change_carries_and_only_some_changes_are_activity():
    later = AT + timedelta(hours=3)
    assert rules.activity_at({"next_followup_at": later}, AT) is None
    assert rules.activity_at({"last_inbound_at": later, "last_inbound_preview": "x"}, AT) == later
    assert rules.activity_at({"last_outbound_at": later}, AT) == later
    assert rules.activity_at({"consent": replace(CONSENTED, recorded_at=later)}, AT) == later
    assert rules.activity_at({"consent": CONSENTED.withdraw(later, "r")}, AT) == later
    assert rules.activity_at({"status": ClientStatus.CLOSED, "closed_at": later}, AT) == later
    assert rules.activity_at({"status": ClientStatus.SUSPENDED}, AT + timedelta(days=1)) == AT + timedelta(days=1)
    assert rules.activity_at({"opted_out": True, "opted_out_at": later}, AT) == later


def test_names_fold_case_and_accents_and_are_found_by_the_start_of_any_word():
    assert rules.fold("Zoé ÉLISE") == "zoe elise"
    assert rules.fold("أَحْمَد") == "احمد"
    terms = rules.search_terms("Zoé Al-Hassan", "+15873550103")
    assert {"n:z", "n:zo", "n:zoe", "n:al", "n:hassan", "n:h"} <= terms
    assert "n:oe" not in terms and "n:zoé" not in terms
    assert {"p:103", "p:0103", "p:5873550103", "p:15873550103"} <= terms and "p:03" not in terms


def test_a_long_name_has_a_bounded_number_of_terms():
    terms = rules.search_terms("Abdelrahmane Mohammed Abdelkader Benali Ouahrani Bensalah Tlemcenien", "+213550123456789")
    # with the file and its contact row, the audit event: inside one 100-item transaction
    assert len(terms) <= rules.NAME_WORDS * rules.PREFIX_LETTERS + rules.MAX_DIGITS - rules.MIN_DIGITS + 1
    assert "n:abdelrahma" in terms and "n:tlemcen" not in terms  # the seventh word is not indexed


@pytest.mark.parametrize("typed", ["+15873550103", "587 355 0103", "(587) 355-0103", "5873550103",
                                   "1-587-355-0103", "+1 587.355.0103"])
def test_a_whole_number_in_any_format_looks_up_the_whole_number(typed):
    query = rules.search_query(typed, "CA")
    assert query == rules.SearchQuery(term="p:15873550103", digits="15873550103")
    assert rules.matches(file(), query)


def test_a_trailing_part_of_a_number_looks_up_its_last_digits():
    assert rules.search_query("0103", "CA") == rules.SearchQuery(term="p:0103", digits="0103")
    assert rules.search_query("355-0103", "CA").term == "p:3550103"
    assert rules.matches(file(), rules.search_query("550103", "CA"))
    assert not rules.matches(file(), rules.search_query("550104", "CA"))


def test_a_name_query_keys_on_its_longest_word_and_every_word_must_start_a_name_word():
    query = rules.search_query("  zoe MART ", "CA")
    assert query.term == "n:mart" and query.words == ("zoe", "mart")
    assert rules.matches(file(), query)
    assert rules.matches(file(), rules.search_query("élise", None))
    assert not rules.matches(file(), rules.search_query("zoe smith", "CA"))
    assert not rules.matches(file(), rules.search_query("artin", "CA"))  # inside a word: not a start
    long_word = rules.search_query("Abdelrahmanez", None)
    assert long_word.term == "n:abdelrahma" and not rules.matches(file(name="Abdelrahmane"), long_word)


@pytest.mark.parametrize("typed", ["", "  ", "--", "12", "+1234567890123456", "()"])
def test_text_that_cannot_find_anything_is_no_query(typed):
    assert rules.search_query(typed, "CA") is None
