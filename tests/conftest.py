"""Shared test set-up: a test stage, fake AWS credentials, moto, and the Chalice test client.

Unit tests need none of this; integration and end-to-end tests ask for ``aws`` / ``api``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import chalicelib  # noqa: F401  first: every zone of the suite, its own included, reads the pinned tzdata

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "test-secret-for-hs256-tokens-0123456789"
TWILIO_TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://cmdm.example.test/api"

TEST_ENV = {
    "CMDM_STAGE": "test",
    "CMDM_TABLE_PREFIX": "cmdm-test-",
    "CMDM_DEV_JWT_SECRET": JWT_SECRET,
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "CMDM_PUBLIC_URL": PUBLIC_URL,
    "CMDM_OUTBOUND": "outbox",
    "CMDM_MEDIA_BUCKET": "cmdm-test-media",
    "CMDM_POLICY_DIR": str(ROOT / "policies"),
    "AWS_DEFAULT_REGION": "ca-central-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# Set before any test module imports app code, so nothing can reach a real account.
for _key, _value in TEST_ENV.items():
    os.environ[_key] = _value
for _key in ("DYNAMODB_ENDPOINT", "S3_ENDPOINT", "AWS_PROFILE", "CMDM_TWILIO_API_BASE"):
    os.environ.pop(_key, None)


@pytest.fixture(scope="session")
def _moto_session() -> Iterator[None]:
    """One moto world per test process, tables created once through the real CLI."""
    import moto

    from chalicelib import bootstrap, cli

    mock = moto.mock_aws()
    mock.start()
    bootstrap.reset()
    assert cli.main(["init-db"]) == 0
    yield
    mock.stop()


def _empty_everything() -> None:
    """Delete every item and object so each test starts from empty tables (test-only scans)."""
    import boto3

    from chalicelib.adapters import models

    dynamo = boto3.client("dynamodb", region_name="ca-central-1")
    for model in models.ALL_MODELS:
        keys = [a.attr_name for a in model.get_attributes().values() if a.is_hash_key or a.is_range_key]
        for page in dynamo.get_paginator("scan").paginate(TableName=model.Meta.table_name, ProjectionExpression=",".join(f"#{i}" for i in range(len(keys))), ExpressionAttributeNames={f"#{i}": k for i, k in enumerate(keys)}):
            for item in page["Items"]:
                dynamo.delete_item(TableName=model.Meta.table_name, Key=item)
    s3 = boto3.resource("s3", region_name="ca-central-1")
    for bucket in s3.buckets.all():
        bucket.objects.all().delete()


@pytest.fixture
def aws(_moto_session: None) -> Iterator[None]:
    """moto-backed DynamoDB and S3 with every table created and empty."""
    from chalicelib import bootstrap

    bootstrap.reset()
    _empty_everything()
    yield
    bootstrap.reset()


@pytest.fixture
def api(aws: None) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    # The test stage of .chalice/config.json, so Chalice does not apply the dev stage's AWS settings.
    with Client(app, stage_name="test", project_dir=str(ROOT)) as client:
        yield client


# Tokens are minted at the real time but used in travelled time; a long life keeps them valid there.
TOKEN_TTL = 20 * 366 * 24 * 3600


def token(staff_id: str, role: str = "worker", agency: str = "calgary-cfn", ttl: int = TOKEN_TTL) -> str:
    from chalicelib.adapters.auth import mint_dev_token

    return mint_dev_token(JWT_SECRET, staff_id, agency, role, ttl_seconds=ttl)


def auth(staff_id: str, role: str = "worker", agency: str = "calgary-cfn") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(staff_id, role, agency)}", "Content-Type": "application/json"}


class Http:
    """Small JSON helper around the Chalice test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, method: str, path: str, who: dict[str, str] | None = None, body: Any = None) -> Any:
        headers = dict(who or {"Content-Type": "application/json"})
        data = json.dumps(body) if body is not None else None
        response = getattr(self.client.http, method.lower())(path, headers=headers, body=data)
        response.json = json.loads(response.body) if response.body else None
        return response


@pytest.fixture
def http(api: Any) -> Http:
    return Http(api)


def found_agency(http: Http, agency_id: str, admin_id: str) -> dict[str, str]:
    """An agency's first staff record: its admin creates it with an admin-group token (SPEC §4.3)."""
    admin = auth(admin_id, "admin", agency_id)
    r = http.call("PUT", f"/staff/{admin_id}", admin, {"role": "admin", "name": admin_id.title()})
    assert r.status_code in (200, 201), r.body
    return admin


#: Registered to Calgary by the ``agency`` fixture, held by nobody: a number its admin may assign.
SPARE_NUMBER = "+15873550109"


def register_numbers(agency_id: str, *numbers: str, move: bool = False) -> None:
    """The operator's step (``cli numbers register``) before an agency's admin may assign the numbers."""
    from chalicelib import bootstrap

    for number in numbers:
        bootstrap.container().number_registry.register(agency_id, number, move=move)


@pytest.fixture
def agency(http: Http) -> dict[str, Any]:
    """A Calgary agency with an admin, a supervisor, two workers and their numbers (and a spare
    registered number, ``SPARE_NUMBER``, nobody holds); Halifax and
    Ottawa each with an admin (``admin-h``, ``admin-x``; Halifax also a worker ``w-h``), the other
    agencies of the isolation tests.

    Access comes from staff records, not tokens (SPEC §4.3): every token the tests use belongs to a
    recorded member, so a 403 or 404 is about the rule under test, never a missing record.
    """
    admin = found_agency(http, "calgary-cfn", "admin-lee")
    halifax = found_agency(http, "halifax-isans", "admin-h")
    assert http.call("PUT", "/staff/w-h", halifax, {"role": "worker", "name": "W"}).status_code in (200, 201)
    found_agency(http, "ottawa-ociso", "admin-x")
    for staff_id, role in (("admin-lee", "admin"), ("sup-maria", "supervisor"), ("amal", "worker"), ("jean", "worker")):
        r = http.call("PUT", f"/staff/{staff_id}", admin, {"role": role, "name": staff_id.title()})
        assert r.status_code in (200, 201), r.body
    register_numbers("calgary-cfn", "+15873550101", "+15873550102", SPARE_NUMBER)
    for number, staff_id in (("+15873550101", "amal"), ("+15873550102", "jean")):
        r = http.call("PUT", f"/numbers/%2B{number[1:]}", admin, {"staff_id": staff_id, "channels": ["sms", "whatsapp"]})
        assert r.status_code == 200, r.body
    return {"admin": admin, "supervisor": auth("sup-maria", "supervisor"), "amal": auth("amal"), "jean": auth("jean")}


def new_client(http: Http, who: dict[str, str], *, phone: str = "+15875550123", channel: str = "whatsapp",
               language: str = "ar", manager: str = "amal", consent: bool = True) -> dict[str, Any]:
    r = http.call("POST", "/clients", who, {"case_manager_id": manager, "phone": phone, "channel": channel,
                                           "language": language, "name": "Fatima"})
    assert r.status_code == 201, r.body
    client = r.json
    if consent:
        r = http.call("PUT", f"/clients/{client['client_id']}/consent", who, {
            "form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00",
            "channels": [channel], "circle_of_care": ["settlement team"]})
        assert r.status_code == 200, r.body
        client = r.json
    return client


# -- issue 8: hypothesis profiles ("ci" under make test, "fuzz" under make fuzz), by HYPOTHESIS_PROFILE --
from tests import hypothesis_profiles as _hypothesis_profiles  # noqa: E402

_hypothesis_profiles.load_from_environment()


@pytest.fixture
def per_item_transaction_rollback(aws: None) -> Iterator[None]:
    """moto copies whole tables on every transaction; with thousands of fuzz examples sharing one
    moto world that makes a run quadratic. Per-item rollback keeps transactions all-or-nothing
    (tests/integration/test_load_stack_rollback.py) at a constant cost; undone after the test."""
    from bench.load_stack import cheap_transaction_rollback

    undo = cheap_transaction_rollback()
    yield
    undo()


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Any]:
    """``make run``'s own stack in a subprocess on free ports (tests/local_stack.py), one per test process."""
    from tests.local_stack import LocalStack

    running = LocalStack().start()
    yield running
    running.stop()
