"""The console's local sign-in exists only outside the aws stage; /me reads the staff record."""

from __future__ import annotations

import pytest

from chalicelib.config import load_settings
from chalicelib.domain import zones
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Principal, Role
from chalicelib.services.console import ConsoleService, DevSignIn


@pytest.fixture
def seeded(aws):
    from chalicelib import bootstrap, cli

    assert cli.main(["seed"]) == 0
    return bootstrap.container()


def test_the_sign_in_list_shows_the_seeded_staff_workers_first(seeded):
    service = ConsoleService(seeded.staff, seeded.policies, seeded.settings)
    [calgary] = service.sign_in_list()
    assert calgary["agency_id"] == "calgary-cfn"
    roles = [s["role"] for s in calgary["staff"]]
    assert roles[:2] == ["worker", "worker"] and set(roles) == {"worker", "supervisor", "admin"}


def test_a_dev_token_is_refused_for_someone_without_a_staff_record(seeded):
    service = ConsoleService(seeded.staff, seeded.policies, seeded.settings)
    with pytest.raises(InvalidInput):
        service.dev_token(DevSignIn.parse({"agency_id": "calgary-cfn", "staff_id": "nobody-here"}))
    with pytest.raises(InvalidInput):
        service.dev_token(DevSignIn.parse({"agency_id": "no-such-agency", "staff_id": "amal"}))


def test_in_the_aws_stage_there_is_no_local_sign_in(seeded):
    settings = load_settings({"CMDM_STAGE": "aws"})
    service = ConsoleService(seeded.staff, seeded.policies, settings)
    with pytest.raises(NotFound):
        service.sign_in_list()
    with pytest.raises(NotFound):
        service.dev_token(DevSignIn.parse({"agency_id": "calgary-cfn", "staff_id": "amal"}))


def test_me_is_the_staff_record_not_the_token_claim(seeded):
    service = ConsoleService(seeded.staff, seeded.policies, seeded.settings)
    # The token claims admin, but the agency made Amal a worker: the console follows the record.
    me = service.me(Principal(staff_id="amal", agency_id="calgary-cfn", roles=frozenset({Role.ADMIN})))
    assert me == {"staff_id": "amal", "name": "Amal Haddad", "role": "worker", "agency_id": "calgary-cfn",
                  "agency_name": seeded.policies.get("calgary-cfn").name, "timezone": "America/Edmonton",
                  "rules": zones.calendar_rules()}
    with pytest.raises(Forbidden):
        service.me(Principal(staff_id="stranger", agency_id="calgary-cfn", roles=frozenset({Role.WORKER})))
