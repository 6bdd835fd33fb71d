"""The operator CLI and the lazy wiring: init-db is idempotent, endpoints are honoured, imports are free."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3

from chalicelib import bootstrap, cli
from chalicelib.adapters import models

ROOT = Path(__file__).resolve().parents[2]


def test_init_db_is_idempotent(aws, capsys):
    assert cli.main(["init-db"]) == 0
    assert "0 created now" in capsys.readouterr().out
    names = boto3.client("dynamodb", region_name="ca-central-1").list_tables()["TableNames"]
    assert {m.Meta.table_name for m in models.ALL_MODELS} <= set(names)


def test_init_db_uses_the_configured_endpoint_and_prefix(monkeypatch):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("DYNAMODB_ENDPOINT", endpoint)
        monkeypatch.setenv("CMDM_TABLE_PREFIX", "cmdm-endpoint-")
        bootstrap.reset()
        assert cli.main(["init-db"]) == 0
        assert cli.main(["init-db"]) == 0
        client = boto3.client("dynamodb", region_name="ca-central-1", endpoint_url=endpoint)
        tables = client.list_tables()["TableNames"]
        ours = [t for t in tables if t.startswith("cmdm-endpoint-")]
        assert len(ours) == len(models.ALL_MODELS)
        ttl = client.describe_time_to_live(TableName="cmdm-endpoint-claims")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expires_at"
    finally:
        monkeypatch.delenv("DYNAMODB_ENDPOINT")
        monkeypatch.delenv("CMDM_TABLE_PREFIX")
        models.configure("cmdm-test-", "ca-central-1", None)
        bootstrap.reset()
        server.stop()


def test_seed_then_token_give_a_working_demo_agency(aws, capsys):
    assert cli.main(["seed"]) == 0
    assert cli.main(["seed"]) == 0  # a second run changes nothing
    out = capsys.readouterr().out
    assert "seeded agency calgary-cfn: 4 staff, 2 numbers, 3 clients" in out
    assert sum(1 for _ in models.ClientModel.by_agency.query("calgary-cfn")) == 3
    # The operator's step comes first: the demo's numbers, and a spare for the console to assign.
    held = {i.number: i.staff_id for i in models.NumberModel.by_agency.query("calgary-cfn")}
    assert held == {"+15873550101": "amal", "+15873550102": "jean", "+15873550109": None}
    assert cli.main(["token", "amal"]) == 0
    assert capsys.readouterr().out.count(".") == 2  # a JWT


def test_importing_app_builds_nothing_and_calls_no_aws():
    # A fresh interpreter where creating any botocore client, or opening a socket, fails loudly.
    probe = (
        "import socket, botocore.session\n"
        "def refuse(*a, **k): raise SystemExit('network or AWS touched at import')\n"
        "botocore.session.Session.create_client = refuse\n"
        "socket.socket.connect = refuse\n"
        "import app\n"
        "from chalicelib import bootstrap\n"
        "assert bootstrap._container is None\n"
        "print('clean import')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "clean import" in result.stdout
