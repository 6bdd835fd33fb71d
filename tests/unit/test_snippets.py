"""Snippets with fakes (issue 22): placeholders checked at save time and always filled, the holding
reply seeded once per policy language, admins' conditioned changes, and a client's filled list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Channel, Client, ClientStatus, Principal, Role
from chalicelib.domain.policy import DEFAULT_TEMPLATES
from chalicelib.domain.snippets import (
    PLACEHOLDERS,
    Snippet,
    check_placeholders,
    fill,
    first_name,
    from_policy_text,
    holding_snippets,
    same_language,
    snippet_id,
)
from chalicelib.services.snippets import PutSnippet, SnippetService
from tests.unit.fakes import World
from tests.unit.test_data_rights_service import FakePolicies

WEDNESDAY = datetime(2026, 11, 18, 16, tzinfo=UTC)  # 10:00 in Calgary: the next opening is Thursday 9:00
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
AMAL = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
SUPERVISOR = Principal("sup-maria", "calgary-cfn", frozenset({Role.SUPERVISOR}))
HALIFAX = Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN}))


# -- placeholders -----------------------------------------------------------------------------------


def test_known_placeholders_pass_and_each_is_named_once_in_order():
    body = "Hi {first_name}, {case_manager} here: we open {next_opening}. {first_name}, see you. {agency_name}"
    assert check_placeholders(body) == body
    assert Snippet("a", "s", "t", "en", body).placeholders() == ("first_name", "case_manager", "next_opening",
                                                                  "agency_name")


@pytest.mark.parametrize(("body", "named"), [
    ("Dear {client_name}", "{client_name}"), ("Open {next_open}", "{next_open}"), ("{ first_name }", "{ first_name }"),
    ("Hello {}", "{}"), ("{FIRST_NAME}", "{FIRST_NAME}"), ("Hi {first_name} and {cousin}", "{cousin}")])
def test_an_unknown_placeholder_is_refused_by_name(body, named):
    with pytest.raises(InvalidInput) as refused:
        check_placeholders(body)
    assert refused.value.field == "body" and named in refused.value.message
    assert "{first_name}" in refused.value.message  # and says which ones a snippet may use


@pytest.mark.parametrize("body", ["Hello {first_name", "Hello first_name}", "a } b", "{{first_name}}", "{{"])
def test_a_brace_that_belongs_to_no_placeholder_is_refused(body):
    with pytest.raises(InvalidInput):
        check_placeholders(body)


def test_fill_writes_every_value_and_never_a_double_stop():
    values = {"first_name": "Fatima", "next_opening": "Thursday at 9:00 a.m.", "case_manager": "Amal",
              "agency_name": "Centre for Newcomers"}
    assert fill("Hi {first_name}, back {next_opening}. {case_manager}, {agency_name}", values) == (
        "Hi Fatima, back Thursday at 9:00 a.m. Amal, Centre for Newcomers")
    assert fill("Le {next_opening}.", {"next_opening": "jeudi à 9 h"}) == "Le jeudi à 9 h."
    assert fill("Hello {first_name}", {}) == "Hello "


plain = st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=20)


@given(parts=st.lists(st.one_of(plain, st.sampled_from([f"{{{name}}}" for name in PLACEHOLDERS])), max_size=12),
       values=st.fixed_dictionaries({name: plain for name in PLACEHOLDERS}))
def test_a_body_that_passes_the_check_fills_without_any_placeholder_left(parts, values):
    body = check_placeholders("".join(parts))
    assert "{" not in fill(body, values) and "}" not in fill(body, values)


def test_first_names_languages_and_ids():
    assert [first_name(n) for n in ("Fatima A.", "  Joseph  K. ", "", None, "نادية رحمن")] == [
        "Fatima", "Joseph", "", "", "نادية"]
    assert same_language("fr-CA", "fr") and same_language("ar", "AR") and not same_language("fa", "fr")
    assert snippet_id("holding-reply-en") == "holding-reply-en"
    for bad in ("", "-x", "~seeded", "a b", "é", "x" * 65, None, 3):
        with pytest.raises(InvalidInput):
            snippet_id(bad)


# -- the holding reply as snippets ----------------------------------------------------------------------


def test_a_policy_text_becomes_a_snippet_with_the_snippets_own_placeholders():
    text = "Hello {client_name}, {cover_name} answers from {next_open}. Emergencies: {emergency_line}. {agency_name}"
    assert from_policy_text(text, "911") == (
        "Hello {first_name}, {case_manager} answers from {next_opening}. Emergencies: 911. {agency_name}")


def test_the_holding_reply_is_seeded_once_per_policy_language_with_its_own_text():
    policy = FakePolicies().get("calgary-cfn")
    texts = {"en": "English {case_manager}", "fr": "Français {case_manager}"}
    seeds = holding_snippets("calgary-cfn", ("en", "ar", "fr", "fr-CA"), texts.get, "911", WEDNESDAY)
    assert [(s.snippet_id, s.language, s.title, s.body) for s in seeds] == [
        ("holding-reply-en", "en", "Holding reply", "English {case_manager}"),
        ("holding-reply-fr", "fr", "Réponse d'attente", "Français {case_manager}")]
    assert policy.languages == ("en", "ar", "fr")
    assert DEFAULT_TEMPLATES["holding_reply"]["ar"].endswith("{case_manager}، {agency_name}")


# -- the service ------------------------------------------------------------------------------------------


def service(world: World) -> SnippetService:
    return SnippetService(world.uow, FakePolicies(), names=lambda agency_id: {"amal": "Amal Haddad"})


def test_the_first_read_seeds_the_holding_replies_once_and_a_deleted_one_stays_deleted():
    world = World()
    snippets = service(world)
    first = snippets.list(AMAL)
    assert [s.snippet_id for s in first] == ["holding-reply-ar", "holding-reply-en", "holding-reply-fr"]
    assert all(s.version == 1 and s.updated_by == "system" for s in first)
    assert first[1].body == DEFAULT_TEMPLATES["holding_reply"]["en"]
    snippets.delete(ADMIN, "holding-reply-fr")
    assert [s.snippet_id for s in snippets.list(SUPERVISOR)] == ["holding-reply-ar", "holding-reply-en"]
    assert [s.snippet_id for s in snippets.list(AMAL, "ar")] == ["holding-reply-ar"]


def test_a_snippet_an_admin_wrote_before_the_first_read_is_kept_and_the_other_seeds_added():
    world = World()
    snippets = service(world)
    snippets.put(ADMIN, PutSnippet.parse("holding-reply-en", {"title": "Ours", "language": "en", "body": "Ours"}))
    listed = {s.snippet_id: s for s in snippets.list(AMAL)}
    assert listed["holding-reply-en"].title == "Ours" and set(listed) == {
        "holding-reply-en", "holding-reply-fr", "holding-reply-ar"}


def test_another_request_seeding_first_wins_and_this_one_reads_what_it_wrote():
    world = World()
    world.snippets_seeded.add("calgary-cfn")  # seeded by another request between our read and our write
    world.snippets[("calgary-cfn", "holding-reply-en")] = Snippet("calgary-cfn", "holding-reply-en", "Holding reply",
                                                                  "en", "text", version=1)
    snippets = service(world)
    assert [s.snippet_id for s in snippets.list(AMAL)] == ["holding-reply-en"]


def test_only_admins_change_snippets():
    world = World()
    command = PutSnippet.parse("welcome", {"title": "Welcome", "language": "fr", "body": "Bienvenue {first_name}"})
    for who in (AMAL, SUPERVISOR):
        with pytest.raises(Forbidden):
            service(world).put(who, command)
        with pytest.raises(Forbidden):
            service(world).delete(who, "welcome")
    assert world.snippets == {}


def test_a_change_on_a_stale_version_or_a_lost_race_is_a_conflict_and_changes_nothing(time_machine):
    time_machine.move_to(WEDNESDAY, tick=False)
    world = World()
    snippets = service(world)
    created, new = snippets.put(ADMIN, PutSnippet.parse("welcome", {"title": "W", "language": "fr", "body": "B"}))
    assert new and created.version == 1
    changed, new = snippets.put(ADMIN, PutSnippet.parse("welcome", {"title": "W2", "language": "fr", "body": "B",
                                                                    "version": 1}))
    assert not new and changed.version == 2
    with pytest.raises(Conflict):
        snippets.put(ADMIN, PutSnippet.parse("welcome", {"title": "W3", "language": "fr", "body": "B", "version": 1}))
    with pytest.raises(Conflict):
        snippets.delete(ADMIN, "welcome", version=1)

    # A race: the other admin's write lands between this one's read (version 2) and its write.
    world.snippets[("calgary-cfn", "welcome")] = Snippet("calgary-cfn", "welcome", "Theirs", "fr", "B", version=3)
    stale_read = Snippet("calgary-cfn", "welcome", "W2", "fr", "B", version=2)
    racing = SnippetService(lambda: _with_stale_get(world, stale_read), FakePolicies())
    with pytest.raises(Conflict) as lost:
        racing.put(ADMIN, PutSnippet.parse("welcome", {"title": "Mine", "language": "fr", "body": "B"}))
    assert lost.value.code == "conflict" and world.snippets[("calgary-cfn", "welcome")].title == "Theirs"
    with pytest.raises(NotFound):
        snippets.delete(ADMIN, "nothing-here")


def _with_stale_get(world: World, stale: Snippet):
    uow = world.uow()
    uow.snippets.get = lambda agency, sid: stale
    return uow


def test_an_agency_keeps_at_most_its_share_of_snippets(monkeypatch):
    from chalicelib.services import snippets as module

    monkeypatch.setattr(module, "MAX_SNIPPETS", 2)
    world = World()
    svc = service(world)
    for n in range(2):
        svc.put(ADMIN, PutSnippet.parse(f"s{n}", {"title": "t", "language": "en", "body": "b"}))
    with pytest.raises(Conflict) as full:
        svc.put(ADMIN, PutSnippet.parse("s2", {"title": "t", "language": "en", "body": "b"}))
    assert full.value.code == "too_many_snippets"
    svc.put(ADMIN, PutSnippet.parse("s1", {"title": "changed", "language": "en", "body": "b"}))  # a change is fine


def test_each_agency_sees_only_its_own_snippets():
    world = World()
    service(world).put(HALIFAX, PutSnippet.parse("hx", {"title": "t", "language": "en", "body": "b"}))
    assert "hx" not in {s.snippet_id for s in service(world).list(ADMIN)}
    with pytest.raises(NotFound):
        service(world).delete(ADMIN, "hx")


def test_a_clients_snippets_are_filled_in_their_language_or_english(time_machine):
    time_machine.move_to(WEDNESDAY, tick=False)
    world = World()
    for cid, language, name in (("cl_ar", "ar", "Fatima A."), ("cl_es", "es", "Lucía P.")):
        world.file(Client(cid, "calgary-cfn", "amal", f"+1587555012{len(world.clients)}", Channel.SMS, language, name,
                          ClientStatus.ACTIVE, WEDNESDAY - timedelta(days=3), version=1))
    svc = service(world)
    svc.put(ADMIN, PutSnippet.parse("when", {"title": "When", "language": "ar", "body": "{first_name}: {next_opening}"}))
    svc.put(ADMIN, PutSnippet.parse("when-en", {"title": "When", "language": "en",
                                                "body": "{first_name}, we open {next_opening}."}))
    language, filled = svc.for_client(AMAL, "cl_ar")
    texts = {s.snippet_id: text for s, text in filled}
    assert language == "ar" and texts["when"] == "Fatima: الخميس الساعة 9:00 ص"
    assert texts["holding-reply-ar"].startswith("شكرًا") and "Amal Haddad" in texts["holding-reply-ar"]
    language, filled = svc.for_client(AMAL, "cl_es")
    texts = {s.snippet_id: text for s, text in filled}
    assert language == "en" and texts["when-en"] == "Lucía, we open Thursday at 9:00 a.m."
    with pytest.raises(NotFound):
        svc.for_client(HALIFAX, "cl_ar")
