"""An in-process CMDM under moto for the benches: test settings, tables, one agency, N clients.

Nothing here reaches AWS or the network: credentials are fake, moto answers every DynamoDB and S3
call, and Twilio's signature is computed with a local token.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
TWILIO_TOKEN = "bench-twilio-auth-token"
PUBLIC_URL = "https://cmdm.bench.test/api"
JWT_SECRET = "bench-secret-for-hs256-tokens-0123456789"
AGENCY = "calgary-cfn"
WORK_NUMBER = "+15873550101"

ENV = {
    "CMDM_STAGE": "test",
    "CMDM_TABLE_PREFIX": "cmdm-bench-",
    "CMDM_DEV_JWT_SECRET": JWT_SECRET,
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "CMDM_PUBLIC_URL": PUBLIC_URL,
    "CMDM_OUTBOUND": "outbox",
    "CMDM_MEDIA_BUCKET": "cmdm-bench-media",
    "CMDM_POLICY_DIR": str(ROOT / "policies"),
    "AWS_DEFAULT_REGION": "ca-central-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
}


def apply_env() -> None:
    os.environ.update(ENV)
    for key in ("DYNAMODB_ENDPOINT", "S3_ENDPOINT", "AWS_PROFILE", "CMDM_TWILIO_API_BASE"):
        os.environ.pop(key, None)


def phone(i: int) -> str:
    return f"+1587{5000000 + i:07d}"


def sms_form(sender: str, body: str, sid: str, to: str = WORK_NUMBER) -> dict[str, str]:
    return {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": ENV["TWILIO_ACCOUNT_SID"],
            "From": sender, "To": to, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "CA", "ToCountry": "CA"}


def signed(path: str, form: dict[str, str], public_url: str = PUBLIC_URL,
           token: str = TWILIO_TOKEN) -> tuple[dict[str, str], str]:
    from twilio.request_validator import RequestValidator

    sig = RequestValidator(token).compute_signature(public_url + path, form)
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig}, urlencode(form)


def bearer(staff_id: str, role: str) -> dict[str, str]:
    from chalicelib.adapters.auth import mint_dev_token

    token = mint_dev_token(JWT_SECRET, staff_id, AGENCY, role, ttl_seconds=20 * 366 * 24 * 3600)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@dataclass
class World:
    mock: Any
    client: Any  # chalice.test.Client over app.app
    clients: list[dict[str, Any]] = field(default_factory=list)
    admin: dict[str, str] = field(default_factory=dict)
    worker: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> Any:
        data = json.dumps(body) if body is not None else None
        response = getattr(self.client.http, method.lower())(path, headers=who, body=data)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:200]!r}")
        return json.loads(response.body) if response.body else None

    def add_clients(self, count: int) -> None:
        start = len(self.clients)
        for i in range(start, start + count):
            c = self.call("POST", "/clients", self.worker, {"case_manager_id": "amal", "phone": phone(i),
                                                           "channel": "sms", "language": "en", "name": f"C{i}"})
            self.call("PUT", f"/clients/{c['client_id']}/consent", self.worker, {
                "form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["sms"],
                "circle_of_care": ["settlement team"]})
            self.clients.append(c)

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.mock.stop()


def start(clients: int = 0) -> World:
    """moto up, tables created with the real CLI, an agency with staff and numbers, ``clients`` files."""
    apply_env()
    import moto
    from chalice.test import Client

    from bench.load_stack import cheap_transaction_rollback
    from chalicelib import bootstrap, cli

    mock = moto.mock_aws()
    mock.start()
    # moto deep-copies each touched table per transaction item; without this the figures grow
    # with the table sizes and measure the emulator (see bench/load_stack.py).
    cheap_transaction_rollback()
    bootstrap.reset()
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["init-db"]) == 0
    from app import app

    client = Client(app, stage_name="test", project_dir=str(ROOT))
    client.__enter__()
    world = World(mock, client, admin=bearer("admin-lee", "admin"), worker=bearer("amal", "worker"))
    for staff_id, role in (("admin-lee", "admin"), ("sup-maria", "supervisor"), ("amal", "worker"), ("jean", "worker")):
        world.call("PUT", f"/staff/{staff_id}", world.admin, {"role": role, "name": staff_id.title()})
    for number, staff_id in ((WORK_NUMBER, "amal"), ("+15873550102", "jean")):
        bootstrap.container().number_registry.register(AGENCY, number)  # the operator's step
        world.call("PUT", f"/numbers/%2B{number[1:]}", world.admin, {"staff_id": staff_id, "channels": ["sms", "whatsapp"]})
    world.add_clients(clients)
    return world
