"""A Lambda container's init phase and SnapStart's hooks (issue 24, ``chalicelib/snapstart.py``).

Lambda's init phase is played by a fresh interpreter importing ``app`` with the variables Lambda
sets (``_HANDLER``, ``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_LAMBDA_INITIALIZATION_TYPE``) and every
socket connection refused, so any network use at import would fail it. A snapshot's copies are
played in-process: the hooks run in the order Lambda runs them, with the environment changed
in between as it changes between the snapshot and a restored copy.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from chalicelib import bootstrap, snapstart
from chalicelib.adapters import models
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageStatus
from chalicelib.domain.model import Channel
from tests.conftest import ROOT

LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "cmdm-test-APIHandler", "_HANDLER": "app.app",
          "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}
# What the stack gives every function for live updates (issue 23): each commit tells this queue.
LIVE_QUEUE_URL = "https://sqs.ca-central-1.amazonaws.com/123456789012/cmdm-prod-live"

INIT_PHASE = """
import gc, json, socket, sys

def refused(*args, **kwargs):
    raise OSError("the init phase must not use the network")

socket.socket.connect = refused
socket.create_connection = refused
import app
from chalicelib import bootstrap
from chalicelib.adapters import models
live_queue = vars(bootstrap.container()).get("live_queue")
print(json.dumps({
    "prepared": sys.modules["chalicelib.snapstart"].PREPARED,
    "built": sorted(n for n in vars(bootstrap.container()) if n != "settings"),
    "client": models.transaction_connection()._client is not None,
    "live_client": live_queue is not None and live_queue._sqs._client is not None,
    "live_queue_url": live_queue and live_queue._queue_url,
    "boto3": "boto3" in sys.modules,
    "modules": sorted(m for m in sys.modules if m.startswith(("chalicelib.services.", "twilio."))),
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}))
"""


def init_phase(**env: str) -> dict[str, Any]:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_LAMBDA", "_HANDLER"))}
    run_env.update(PYTHONDONTWRITEBYTECODE="1", DYNAMODB_ENDPOINT="http://127.0.0.1:9", **env)
    result = subprocess.run([sys.executable, "-c", INIT_PHASE], cwd=ROOT, env=run_env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture
def container_restored() -> Iterator[None]:
    """Leave the shared container and DynamoDB client as the next test expects them.

    Tests that build the shared DynamoDB client also ask for ``aws``: a botocore session made
    before moto starts would never reach moto, and the client keeps its session.
    """
    bootstrap.reset()
    yield
    snapstart.before_snapshot()  # drops the client built with this test's credentials
    bootstrap.reset()


def test_outside_lambda_importing_app_prepares_nothing() -> None:
    seen = init_phase()
    assert seen["prepared"] == [] and seen["built"] == [] and seen["client"] is False
    assert not any(m.startswith("chalicelib.services.") for m in seen["modules"])
    assert snapstart.at_init({}) == []


def test_in_lambdas_init_phase_the_first_webhook_is_prepared_without_the_network() -> None:
    seen = init_phase(**LAMBDA, CMDM_LIVE_QUEUE_URL=LIVE_QUEUE_URL)
    assert seen["prepared"][0] == f"{len(snapstart.FIRST_EVENT_MODULES['app.app'])} modules"
    assert seen["prepared"][1:] == ["policies", "DynamoDB client", "live-updates SQS client"]
    assert {"chalicelib.services.inbound", "twilio.request_validator", "twilio.twiml.messaging_response"} <= \
        set(seen["modules"])
    # Nothing with Twilio's credentials (Secrets Manager); the live dispatch the first commit tells.
    assert seen["built"] == ["live_dispatch", "live_queue", "policies", "uow", "verifier"]
    assert seen["client"] is True
    assert seen["gc_enabled"] is True and seen["frozen"] > 10_000  # what init built is out of later collections


def test_the_init_phase_builds_the_live_queues_client_without_a_request_or_boto3() -> None:
    seen = init_phase(**LAMBDA, CMDM_LIVE_QUEUE_URL=LIVE_QUEUE_URL)
    assert seen["live_client"] is True and seen["live_queue_url"] == LIVE_QUEUE_URL
    assert seen["boto3"] is False  # made on the DynamoDB connection's botocore session


def test_a_live_queue_known_by_name_is_looked_up_at_the_first_send_never_at_init() -> None:
    seen = init_phase(**LAMBDA, CMDM_STAGE="aws", CMDM_LIVE_QUEUE="cmdm-prod-live")
    assert "live-updates SQS client" in seen["prepared"]  # every socket refused, and nothing failed
    assert seen["live_client"] is True and seen["live_queue_url"] is None


def test_without_a_live_queue_the_init_phase_builds_no_queue_client() -> None:
    seen = init_phase(**LAMBDA)  # make run, tests: a background thread delivers
    assert seen["prepared"][1:] == ["policies", "DynamoDB client"]
    assert seen["live_client"] is False and "live_dispatch" not in seen["built"]


def test_a_jobs_init_phase_prepares_its_own_service_not_the_webhook() -> None:
    seen = init_phase(**{**LAMBDA, "_HANDLER": "app.sweep_clocks"}, CMDM_LIVE_QUEUE_URL=LIVE_QUEUE_URL)
    assert "chalicelib.services.sweep" in seen["modules"]
    assert "chalicelib.services.inbound" not in seen["modules"]
    assert seen["client"] is True
    assert seen["built"] == ["policies", "uow", "verifier"]  # nobody waits for a job's live updates


def test_a_snapstart_init_phase_prepares_every_service() -> None:
    seen = init_phase(**{**LAMBDA, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"})
    services = {f"chalicelib.services.{p.stem}" for p in (ROOT / "chalicelib" / "services").glob("*.py")
                if p.stem != "__init__"}
    assert services <= set(seen["modules"])


def test_every_lambda_handler_names_what_its_first_event_imports() -> None:
    import importlib

    import app

    handlers = {"app.app", *(source.handler_string for source in app.app.event_sources)}
    assert handlers == set(snapstart.FIRST_EVENT_MODULES)
    for modules in snapstart.FIRST_EVENT_MODULES.values():
        for name in modules:
            importlib.import_module(name)


def test_each_restored_copy_draws_its_own_random_numbers() -> None:
    random.seed(1234)  # whatever state the snapshot froze
    frozen = random.getstate()
    draws = []
    for _copy in range(2):
        random.setstate(frozen)  # each copy starts from the same memory
        snapstart.after_restore()
        draws.append([random.random() for _ in range(3)])
    assert draws[0] != draws[1]
    bootstrap.reset()


def test_the_snapshot_keeps_no_credentials_and_a_restored_copy_resolves_its_own(
        aws: None, container_restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    container = bootstrap.container()
    container.uow  # noqa: B018 - what the init phase builds
    container.policies.all()
    assert container.request_validator is not None  # built with the Twilio token, as a first request would
    connection = models.transaction_connection()
    snapshot_client = connection.client
    assert snapshot_client._request_signer._credentials.access_key != "AKIA-OF-THIS-COPY"

    snapstart.before_snapshot()
    assert set(vars(container)) - {"settings"} <= set(snapstart.SHARED)
    assert connection._client is None and connection.session._credentials is None

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-OF-THIS-COPY")
    snapstart.after_restore()
    restored_client = connection._client
    assert restored_client is not None and restored_client is not snapshot_client
    assert restored_client._request_signer._credentials.access_key == "AKIA-OF-THIS-COPY"
    assert "policies" in vars(bootstrap.container())  # parsed once, shared by every copy


def test_a_restored_copy_tells_the_live_queue_through_a_client_of_its_own(
        aws: None, container_restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = boto3.client("sqs", region_name="ca-central-1")
    url = sqs.create_queue(QueueName="cmdm-snap-live")["QueueUrl"]
    monkeypatch.setenv("CMDM_LIVE_QUEUE_URL", url)
    monkeypatch.setenv("_HANDLER", "app.app")
    bootstrap.reset()
    assert snapstart.prepare("app.app")[-1] == "live-updates SQS client"
    container = bootstrap.container()
    snapshot_client = container.live_queue._sqs()

    snapstart.before_snapshot()
    assert not {"live_dispatch", "live_queue"} & set(vars(container))  # nor the credentials it held

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-OF-THIS-COPY")
    snapstart.after_restore()
    assert {"live_dispatch", "live_queue"} <= set(vars(container))  # built by the hook, before any event
    restored_client = container.live_queue._sqs()
    assert restored_client is not snapshot_client
    assert restored_client._request_signer._credentials.access_key == "AKIA-OF-THIS-COPY"

    at = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    with container.uow() as uow:  # the snapshot's unit of work looks the dispatch up at the commit
        uow.messages.add(Message(message_id="msg_snap1", client_id="cl_snap", agency_id="calgary-cfn",
                                 direction=Direction.INBOUND, kind=MessageKind.CLIENT, body="Hello", at=at,
                                 status=MessageStatus.RECEIVED, channel=Channel.SMS))
        uow.commit()
    sent = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [c["client_id"] for m in sent for c in json.loads(m["Body"])["changes"]] == ["cl_snap"]


def test_a_restored_copy_reads_the_twilio_secret_again(aws: None, container_restored: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = boto3.client("secretsmanager", region_name="ca-central-1")
    arn = secrets.create_secret(Name="cmdm/snap/twilio", SecretString=json.dumps(
        {"account_sid": "AC" + "5" * 32, "auth_token": "before-the-snapshot"}))["ARN"]
    monkeypatch.setenv("CMDM_STAGE", "aws")
    monkeypatch.setenv("CMDM_TWILIO_SECRET_ID", arn)
    bootstrap.reset()
    assert bootstrap.container().twilio_credentials[1] == "before-the-snapshot"
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(
        {"account_sid": "AC" + "5" * 32, "auth_token": "rotated"}))
    assert bootstrap.container().twilio_credentials[1] == "before-the-snapshot"  # one read per container
    snapstart.after_restore()
    assert bootstrap.container().twilio_credentials[1] == "rotated"


def test_the_hooks_are_registered_with_lambdas_runtime_library(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: dict[str, list[Any]] = {"before": [], "after": []}
    library = types.ModuleType("snapshot_restore_py")  # the runtime's library: these two functions
    library.register_before_snapshot = lambda func, *a, **k: registered["before"].append(func)  # type: ignore[attr-defined]
    library.register_after_restore = lambda func, *a, **k: registered["after"].append(func)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", library)
    assert snapstart.register_hooks() is True
    assert registered == {"before": [snapstart.before_snapshot], "after": [snapstart.after_restore]}
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # not Lambda's runtime: no such library
    assert snapstart.register_hooks() is False


def test_a_failed_preparation_never_fails_the_init_phase(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    monkeypatch.setattr(snapstart, "FIRST_EVENT_MODULES", {"app.app": ("chalicelib.no_such_module",)})
    try:
        assert snapstart.at_init(LAMBDA) == []
    finally:
        gc.unfreeze()
    assert gc.isenabled()
    assert "init phase: nothing prepared (ModuleNotFoundError)" in caplog.text
