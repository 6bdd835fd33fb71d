"""GET /clients as a use case, against the in-memory store (issue 22): whom a caller sees, in which
order, a page at a time, filtered and searched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.policy_loader import PolicyStore
from chalicelib.config import PROJECT_ROOT
from chalicelib.domain.errors import Forbidden, InvalidInput
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState, Principal, Role
from chalicelib.services.caseload import CaseloadService, ListClients
from chalicelib.services.clients import ClientService, GiveConsent
from chalicelib.services.data_rights import DataRightsService
from tests.unit.fakes import World

NOW = datetime(2026, 11, 23, 17, tzinfo=UTC)
AMAL = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
JEAN = Principal("jean", "calgary-cfn", frozenset({Role.WORKER}))
SUPERVISOR = Principal("sup-maria", "calgary-cfn", frozenset({Role.SUPERVISOR}))
HALIFAX = Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN}))
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
GIVEN = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}), recorded_at=NOW)
POLICIES = PolicyStore(PROJECT_ROOT / "policies")


def client(cid: str, name: str, phone: str, *, manager: str = "amal", hours_ago: int = 0,
           agency: str = "calgary-cfn", **fields: Any) -> Client:
    fields = {"consent": GIVEN, "status": ClientStatus.ACTIVE, **fields}
    return Client(cid, agency, manager, phone, Channel.SMS, "fr", name, created_at=NOW - timedelta(days=30),
                  last_activity_at=NOW - timedelta(hours=hours_ago), version=2, **fields)


@pytest.fixture
def world() -> World:
    return World(clients={c.client_id: c for c in (
        client("cl_fatima", "Fatima Al-Hassan", "+15873550103", hours_ago=5),
        client("cl_zoe", "Zoé Martin", "+15873550104", hours_ago=1, open_inquiry_id="inq_1"),
        client("cl_nadia", "Nadia R.", "+15873550105", hours_ago=3, consent=Consent()),
        client("cl_joseph", "Joseph K.", "+15873550106", manager="jean", hours_ago=2),
        client("cl_omar", "Omar B.", "+15873550107", manager="jean", hours_ago=4, status=ClientStatus.CLOSED),
        client("cl_halifax", "Fatima Halifax", "+19025550103", manager="w-h", agency="halifax-isans"),
    )})


def caseload(world: World, covering: dict[str, frozenset[str]] | None = None) -> CaseloadService:
    covers = covering or {}
    return CaseloadService(world.uow, covering_for=lambda p: covers.get(p.staff_id, frozenset()), policies=POLICIES)


def names(service: CaseloadService, who: Principal, **params: str) -> list[str]:
    return [c.name for c, _ in service.list(who, ListClients.parse(params)).items]


def test_a_worker_sees_their_own_files_most_recent_activity_first(world):
    assert names(caseload(world), AMAL) == ["Zoé Martin", "Nadia R.", "Fatima Al-Hassan"]


def test_a_worker_also_sees_the_files_of_the_colleague_whose_absence_they_cover(world):
    service = caseload(world, {"amal": frozenset({"jean"})})
    assert names(service, AMAL) == ["Zoé Martin", "Joseph K.", "Nadia R.", "Omar B.", "Fatima Al-Hassan"]
    assert names(service, AMAL, staff_id="jean") == ["Joseph K.", "Omar B."]
    with pytest.raises(Forbidden):
        names(caseload(world), AMAL, staff_id="jean")  # not covering: another worker's files


def test_supervisors_see_the_agency_and_nobody_sees_another_agency(world):
    assert names(caseload(world), SUPERVISOR) == ["Zoé Martin", "Joseph K.", "Nadia R.", "Omar B.", "Fatima Al-Hassan"]
    assert names(caseload(world), SUPERVISOR, staff_id="jean") == ["Joseph K.", "Omar B."]
    assert names(caseload(world), HALIFAX) == ["Fatima Halifax"]
    assert names(caseload(world), HALIFAX, q="al-hassan") == []


def test_recording_consent_is_activity_and_brings_the_file_to_the_top(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    ClientService(world.uow, policies=POLICIES).give_consent(AMAL, "cl_nadia", GiveConsent.parse({
        "form_version": "CFN-2026", "signed_at": "2026-11-20T10:00:00-06:00", "channels": ["sms"], "circle_of_care": []}))
    assert names(caseload(world), AMAL)[0] == "Nadia R."


def test_pages_follow_one_another_and_a_cursor_serves_only_its_own_list(world):
    service = caseload(world, {"amal": frozenset({"jean"})})
    first = service.list(AMAL, ListClients.parse({"limit": "2"}))
    second = service.list(AMAL, ListClients.parse({"limit": "2", "next": first.next}))
    third = service.list(AMAL, ListClients.parse({"limit": "2", "next": second.next}))
    seen = [c.name for page in (first, second, third) for c, _ in page.items]
    assert seen == ["Zoé Martin", "Joseph K.", "Nadia R.", "Omar B.", "Fatima Al-Hassan"] and third.next is None
    for who, params in ((JEAN, {}), (AMAL, {"filter": "waiting"}), (SUPERVISOR, {}), (HALIFAX, {})):
        with pytest.raises(InvalidInput) as refused:
            service.list(who, ListClients.parse({**params, "limit": "2", "next": first.next}))
        assert refused.value.field == "next"
    with pytest.raises(InvalidInput):
        service.list(AMAL, ListClients.parse({"limit": "2", "next": first.next[:-3] + "xyz"}))


@pytest.mark.parametrize(("params", "expected"), [
    ({"filter": "waiting"}, ["Zoé Martin"]),
    ({"filter": "no_consent"}, ["Nadia R."]),
    ({"filter": "closed"}, ["Omar B."]),
    ({"status": "closed"}, ["Omar B."]),
    ({"status": "active"}, ["Zoé Martin", "Joseph K.", "Nadia R.", "Fatima Al-Hassan"]),
    ({"status": "closed", "filter": "waiting"}, []),
])
def test_filters_list_the_files_in_their_states(world, params, expected):
    assert names(caseload(world), SUPERVISOR, **params) == expected


def test_an_opted_out_client_is_listed_under_opted_out(world):
    world.file(replace(world.clients["cl_fatima"], opted_out=True))
    assert names(caseload(world), AMAL, filter="opted_out") == ["Fatima Al-Hassan"]


@pytest.mark.parametrize("typed", ["587 355 0103", "(587) 355-0103", "+15873550103", "5873550103", "0103",
                                   "fatima", "FATIMA al", "hass", "al-hassan"])
def test_a_file_is_found_by_its_number_in_any_format_or_by_its_name(world, typed):
    assert names(caseload(world), AMAL, q=typed) == ["Fatima Al-Hassan"]


def test_a_search_finds_only_within_the_callers_caseload_and_folds_accents(world):
    assert names(caseload(world), AMAL, q="zoe") == ["Zoé Martin"]
    assert names(caseload(world), JEAN, q="zoe") == []
    assert names(caseload(world), AMAL, q="joseph") == []
    assert names(caseload(world), SUPERVISOR, q="joseph", filter="closed") == []
    assert names(caseload(world), SUPERVISOR, q="o") == ["Omar B."]
    assert names(caseload(world), AMAL, q="??") == []


def test_an_erased_file_is_found_by_nothing_and_listed_nowhere(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    world.file(replace(world.clients["cl_fatima"], status=ClientStatus.CLOSED, closed_at=NOW - timedelta(days=1)))
    media = type("Bucket", (), {"keys_under": lambda self, prefix: [], "delete": lambda self, keys: len(keys)})()
    DataRightsService(world.uow, media=media, twilio=None, policies=POLICIES).erase(ADMIN, "cl_fatima")
    assert names(caseload(world), AMAL, q="0103") == []
    assert "Fatima Al-Hassan" not in names(caseload(world), SUPERVISOR)
    assert world.stored["cl_fatima"]["search_terms"] == frozenset()


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"filter": "everyone"}, "filter"), ({"status": "open"}, "status"), ({"q": "x" * 101}, "q"),
    ({"staff_id": "../jean"}, "staff_id"),
])
def test_a_malformed_listing_is_refused_naming_the_field(params, field):
    with pytest.raises(InvalidInput) as refused:
        ListClients.parse(params)
    assert refused.value.field == field
