"""Browser tests: real headless Chromium (Debian's package) against the real local server.

One server per test session: ``tests/browser/serve.py`` runs ``make run``'s stack
(chalicelib/local.py: moto's server as DynamoDB and S3, tables, the seeded demo agency) on free
ports, in the ``test`` stage, with a clock the tests move. Playwright for Python drives the
system's Chromium through ``executable_path`` (Playwright's own browser download is not used).
No Chromium on the machine fails the run with a message saying how to install one: never a skip.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               # a microphone for voice notes: Chromium's fake device (a tone), allowed without a prompt
               "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
LOCAL_SECRET = "browser-tests-secret-0123456789abcdef"
LOCAL_TWILIO_TOKEN = "browser-tests-twilio-token"
SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
_PHONES = itertools.count(1)
PHONE = {"width": 390, "height": 844}


def find_chromium_or_none() -> str | None:
    """CMDM_CHROMIUM, else the first Chromium or Chrome on PATH (the Makefile installs one)."""
    explicit = os.environ.get("CMDM_CHROMIUM")
    if explicit:
        return explicit
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def find_chromium() -> str:
    found = find_chromium_or_none()
    if found:
        return found
    pytest.fail("no Chromium or Chrome found for the browser tests: install one "
                "(Debian/Ubuntu: `sudo apt-get install -y chromium`; `make test` does this when run as root "
                "on Debian) or set CMDM_CHROMIUM to its path", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The running local stack and its test-only control port."""

    def __init__(self, base: str, control: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.control = control
        self.process = process
        self.log = log

    def console(self, fragment: str = "") -> str:
        return f"{self.base}/console/{fragment}"

    def _call(self, url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None,
              form: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None
        headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode()

    # -- the product's own HTTP API --------------------------------------------------------------
    def api(self, method: str, path: str, staff: str | None = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token(staff)}"} if staff else {}
        return self._call(self.base + path, method, body, headers)

    def token(self, staff_id: str, agency: str = "calgary-cfn") -> str:
        from chalicelib.adapters.auth import mint_dev_token
        from chalicelib.cli import DEMO_STAFF

        role = {s: r for s, r, _ in DEMO_STAFF}.get(staff_id, "worker")
        # minted at the real time, used in travelled time: a long life keeps it valid there
        return mint_dev_token(LOCAL_SECRET, staff_id, agency, role, ttl_seconds=20 * 366 * 24 * 3600)

    def client_message(self, sender: str, body: str, to: str = "+15873550101", whatsapp: bool = True) -> Any:
        """The client's phone: a Twilio-signed inbound webhook, as Twilio sends it."""
        from twilio.request_validator import RequestValidator

        from chalicelib.cli import build_twilio_form

        form = build_twilio_form(sender, to, body, whatsapp)
        path = "/webhooks/twilio/messages"
        signature = RequestValidator(LOCAL_TWILIO_TOKEN).compute_signature(self.base + path, form)
        status, reply = self._call(self.base + path, "POST", form=form, headers={"X-Twilio-Signature": signature})
        assert status == 200, reply
        return reply

    def new_client(self, name: str, *, language: str = "ar", channel: str = "whatsapp", manager: str = "amal",
                   consent: bool = True) -> dict[str, Any]:
        """A consented client of ``manager`` with a number of its own, through the staff API."""
        phone = f"+1587557{next(_PHONES):04d}"
        status, client = self.api("POST", "/clients", "admin-lee", {
            "case_manager_id": manager, "phone": phone, "channel": channel, "language": language, "name": name})
        assert status == 201, client
        if consent:
            status, client = self.api("PUT", f"/clients/{client['client_id']}/consent", "admin-lee", {
                "form_version": "CFN-CMDM-2026", "signed_at": "2026-01-05T10:00:00-07:00",
                "channels": [channel], "circle_of_care": ["settlement team"]})
            assert status == 200, client
        return {**client, "phone": phone}

    def delivery_status(self, sid: str, status: str, error_code: str | None = None) -> None:
        """Twilio's status callback for an outbound message, signed as Twilio signs it."""
        from twilio.request_validator import RequestValidator

        form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01"}
        if error_code:
            form["ErrorCode"] = error_code
        path = "/webhooks/twilio/status"
        signature = RequestValidator(LOCAL_TWILIO_TOKEN).compute_signature(self.base + path, form)
        status_code, reply = self._call(self.base + path, "POST", form=form, headers={"X-Twilio-Signature": signature})
        assert status_code == 200, reply

    # -- the test-only control port (tests/browser/serve.py) -------------------------------------
    def travel(self, when: str | None = None, to: str | None = None) -> str:
        status, body = self._call(self.control + "/travel", "POST", {"to": to} if to else {"when": when})
        assert status == 200, body
        return str(body["now"])

    def run_job(self, name: str) -> Any:
        status, body = self._call(self.control + f"/jobs/{name}", "POST", {})
        assert status == 200, body
        return body["result"]

    def outbox(self) -> list[dict[str, Any]]:
        return list(self._call(self.control + "/outbox")[1]["sent"])

    # -- the live stand-in (issue 23: chalicelib/local_live.py) ----------------------------------
    def live_connections(self) -> list[str]:
        return list(self._call(self.control + "/live")[1]["connections"])

    def drop_live_sockets(self) -> int:
        status, body = self._call(self.control + "/live/drop", "POST", {})
        assert status == 200, body
        return int(body["dropped"])

    def accept_live_sockets(self, on: bool) -> None:
        status, body = self._call(self.control + "/live/accepting", "POST", {"on": on})
        assert status == 200, body


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return find_chromium()


def launch(log: Path) -> Server:
    """Start the local stack (tests/browser/serve.py) on free ports and wait until it serves."""
    port, control = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CMDM_", "TWILIO_", "AWS_", "DYNAMODB_", "S3_"))}
    env.update({
        "CMDM_STAGE": "test",
        "CMDM_PORT": str(port),
        "CMDM_CONTROL_PORT": str(control),
        "CMDM_JOB_INTERVAL": "86400",  # jobs run when a test says so
        "CMDM_DEV_JWT_SECRET": LOCAL_SECRET,
        "TWILIO_AUTH_TOKEN": LOCAL_TWILIO_TOKEN,
        "CMDM_POLICY_DIR": str(ROOT / "policies"),
        "PYTHONUNBUFFERED": "1",
    })
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.browser.serve"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{control}", process, log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the local server stopped while starting:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(srv.console(), timeout=2) as response:
                if response.status == 200:
                    return srv
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the local server did not start in 90 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)  # waiting for a child process to listen, not for the clock


def stop(srv: Server) -> None:
    srv.process.terminate()
    try:
        srv.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    try:
        srv = launch(tmp_path_factory.mktemp("server") / "server.log")
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    yield srv
    stop(srv)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # An assertion waits as long as an action does (10 s, below): the machine running the suite
    # may be busy with other work, and a page's API call then takes seconds, not milliseconds.
    expect.set_options(timeout=10_000)

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Console:
    """One browser tab on the console, failing the test on any browser console error."""

    def __init__(self, page: Any, server: Server) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def sign_in_as(self, staff_id: str) -> Any:
        self.page.goto(self.server.console(f"#id_token={self.server.token(staff_id)}"))
        self.page.get_by_role("navigation", name="Main").wait_for()
        return self.page

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def console(browser: Any, server: Server) -> Iterator[Console]:
    context = browser.new_context(viewport=DESKTOP, locale="en-CA")
    context.set_default_timeout(10_000)
    page = context.new_page()
    tab = Console(page, server)
    yield tab
    context.close()
    assert not tab.errors, f"browser console errors: {tab.errors}"
