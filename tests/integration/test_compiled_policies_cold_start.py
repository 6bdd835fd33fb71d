"""A deployed cold start serves its first webhook from the compiled policies (issue 12, item 4).

The fresh interpreter runs a copy of what ``make package`` ships (``app.py``, ``chalicelib/`` with
``policies_bundle/policies.compiled.json``, no ``policies/`` folder, no ``$CMDM_POLICY_DIR``) and
talks to this test's moto through moto's server on loopback, as a Lambda would talk to DynamoDB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bench.run import api_event, deployed_copy
from tests.conftest import new_client
from tests.twilio_helpers import signature, sms_form

AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"
PATH = "/webhooks/twilio/messages"

# Christmas Day 2026 is a Friday: inside Calgary's opening hours, closed only by the holiday, so
# the after-hours reply proves the compiled holidays were used. The clock is set in the child.
FIRST_WEBHOOK = """
import json, sys
from datetime import datetime
from zoneinfo import ZoneInfo
import time_machine
with time_machine.travel(datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("America/Edmonton")), tick=False):
    import app
    from chalicelib import bootstrap
    result = app.app(json.loads(sys.argv[1]), None)
    store = type(bootstrap.container().policies).__name__
print(json.dumps({
    "status": result["statusCode"],
    "body": result["body"],
    "store": store,
    "slow_imports": sorted(m for m in ("jsonschema", "holidays") if m in sys.modules),
}))
"""


@pytest.fixture
def moto_endpoint(aws: None) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_a_deployed_cold_start_files_its_first_webhook_without_jsonschema_or_holidays(
    http: Any, agency: dict[str, Any], moto_endpoint: str, tmp_path: Path
) -> None:
    client = new_client(http, agency["amal"], phone=FATIMA, channel="sms", language="en")
    deployed = deployed_copy(tmp_path, today=date(2026, 12, 1))
    assert not (deployed / "policies").exists()
    form = sms_form(FATIMA, AMAL_NUMBER, "Hello, is anyone there?")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature(PATH, form)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "CMDM_POLICY_DIR"}
    env.update(DYNAMODB_ENDPOINT=moto_endpoint, PYTHONDONTWRITEBYTECODE="1")

    result = subprocess.run(
        [sys.executable, "-c", FIRST_WEBHOOK, json.dumps(api_event(PATH, headers, urlencode(form)))],
        cwd=deployed, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["status"] == 200, served
    assert served["store"] == "CompiledPolicyStore"
    assert served["slow_imports"] == []
    assert "Our office is closed now" in served["body"]  # closed by the compiled Christmas holiday
    r = http.call("GET", f"/clients/{client['client_id']}/messages", agency["amal"])
    assert r.status_code == 200, r.body
    filed = {m["direction"]: m["body"] for m in r.json["messages"]}
    assert filed["inbound"] == "Hello, is anyone there?"
    assert "Our office is closed now" in filed["outbound"]  # the automatic reply, filed on the file too
