"""``make run``'s stack (``python -m chalicelib.local``) in a subprocess, for tests with real threads.

Concurrency promises (a repeated ``MessageSid`` filed once, a burst from one client all filed) hold
only if the stack a developer runs keeps them, so these tests start exactly that stack on free
loopback ports, with the test stage's settings removed from its environment, and talk to it over
HTTP. The stack is stopped by its own process group id.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WEBHOOK = "/webhooks/twilio/messages"
# The test stage's settings must not leak into the local stack (it would sign and store differently).
_TEST_ONLY = ("CMDM_STAGE", "CMDM_TABLE_PREFIX", "CMDM_DEV_JWT_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
              "CMDM_PUBLIC_URL", "CMDM_OUTBOUND", "CMDM_MEDIA_BUCKET", "CMDM_POLICY_DIR", "DYNAMODB_ENDPOINT",
              "S3_ENDPOINT", "CMDM_TWILIO_API_BASE", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class LocalStack:
    """One ``make run`` stack; ``start()`` waits until it answers, ``stop()`` ends it."""

    def __init__(self, module: str = "chalicelib.local", extra_env: dict[str, str] | None = None) -> None:
        from chalicelib.config import LOCAL_DEFAULTS

        self.port = free_port()
        self.public_url = f"http://{HOST}:{self.port}"
        self.twilio_token = LOCAL_DEFAULTS["TWILIO_AUTH_TOKEN"]
        self.jwt_secret = LOCAL_DEFAULTS["CMDM_DEV_JWT_SECRET"]
        env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
        env.update({"CMDM_PORT": str(self.port), "CMDM_MOTO_PORT": str(free_port()), "CMDM_JOB_INTERVAL": "86400",
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})})
        self.env = env
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"cmdm-local-stack-{uuid.uuid4().hex[:8]}.log"
        self.module = module
        self.proc: subprocess.Popen[bytes] | None = None
        self._local = threading.local()

    def start(self, timeout: float = 120.0) -> LocalStack:
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], cwd=ROOT, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local stack exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/clients/none")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the local stack did not start in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if getattr(self, "_log", None) is not None:
            self._log.close()

    # -- talking to it ------------------------------------------------------------------------

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection (each thread its own socket)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def staff(self, staff_id: str = "amal", role: str = "worker") -> dict[str, str]:
        from chalicelib.adapters.auth import mint_dev_token

        token = mint_dev_token(self.jwt_secret, staff_id, "calgary-cfn", role, 3600)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
        status, _, data = self.request(method, path, who, json.dumps(body).encode() if body is not None else None)
        return status, (json.loads(data) if data else None)

    def webhook(self, form: dict[str, str], path: str = WEBHOOK) -> tuple[int, dict[str, str], bytes]:
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(self.twilio_token).compute_signature(self.public_url + path, form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return self.request("POST", path, headers, urlencode(form).encode())

    def open_client(self, phone: str, channel: str = "sms", manager: str = "amal") -> str:
        who = self.staff(manager)
        status, body = self.call("POST", "/clients", who, {"case_manager_id": manager, "phone": phone,
                                                          "channel": channel, "language": "en", "name": "Burst"})
        assert status == 201, body
        client_id = body["client_id"]
        status, body = self.call("PUT", f"/clients/{client_id}/consent", who, {
            "form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": [channel],
            "circle_of_care": ["settlement team"]})
        assert status == 200, body
        return client_id


def sms_form(sender: str, to: str, body: str, sid: str | None = None, media: list[tuple[str, str]] | None = None
             ) -> dict[str, str]:
    """An inbound SMS as Twilio posts it (the shape of shared/fixtures/twilio-webhooks.json)."""
    sid = sid or "SM" + uuid.uuid4().hex
    form = {"ToCountry": "CA", "SmsMessageSid": sid, "NumMedia": str(len(media or [])), "SmsSid": sid,
            "SmsStatus": "received", "Body": body, "To": to, "NumSegments": "1", "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32, "From": sender, "ApiVersion": "2010-04-01"}
    for i, (url, content_type) in enumerate(media or []):
        form[f"MediaUrl{i}"] = url
        form[f"MediaContentType{i}"] = content_type
    return form
