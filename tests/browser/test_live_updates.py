"""Updates pushed, not polled (issue 23), in Chromium against make run's stack and its stand-in of
API Gateway's WebSocket API (chalicelib/local_live.py).

A client message shows in an open Inbox and an open Conversation within 3 s of the webhook, at
390 and 1280 px; an idle inbox makes (far) fewer than 2 API requests in 20 s; a socket that dies
leaves the page polling every 60 s and reconnecting; alerts come within the agency's hours; the
service worker keeps the shell and says "offline". Time in the browser moves with Playwright's
clock (``page.clock``), never by sleeping.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.xdist_group("browser")

SIZES = [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")]
WITHIN_MS = 3_000  # SPEC §4.6: within 3 seconds of the webhook


def live_status(page: Any) -> Any:
    return page.locator("#live-status")


def api_requests(page: Any, server: Any) -> list[str]:
    """Every request the page makes to the API (not the console's own files, not the socket)."""
    seen: list[str] = []
    base = urlsplit(server.base)

    def record(request: Any) -> None:
        url = urlsplit(request.url)
        if url.netloc == base.netloc and not url.path.startswith("/console"):
            seen.append(f"{request.method} {url.path}")

    page.on("request", record)
    return seen


# Waits inside the page (the console's CSP forbids Playwright's string predicates, which use eval).
CONTROLLED = """new Promise((resolve) => navigator.serviceWorker.controller ? resolve(true)
  : navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true)))"""
NOTIFIED = """(body) => new Promise((resolve, reject) => {
  const until = Date.now() + 10000;
  const look = async () => {
    const shown = await (await navigator.serviceWorker.ready).getNotifications();
    if (shown.some((n) => n.body === body)) return resolve(true);
    if (Date.now() > until) return reject(new Error("no notification: " + body));
    setTimeout(look, 100);
  };
  look();
})"""
SHOWN = "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((n) => n.map((x) => x.body))"


def inbox_item(page: Any, name: str) -> Any:
    return page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile(name))


@pytest.mark.parametrize("size", SIZES)
def test_a_client_message_shows_in_an_open_inbox_within_3_seconds(console, server, size):
    server.travel("open")
    name = f"Live Inbox {size['width']}"
    client = server.new_client(name, language="en", channel="sms")
    console.page.set_viewport_size(size)
    page = console.sign_in_as("amal")
    expect(page.get_by_role("list", name="Inbox")).to_be_attached()
    expect(live_status(page)).to_have_text("Live")
    server.client_message(client["phone"], "Is my appointment still on Thursday?", whatsapp=False)
    started = time.monotonic()
    expect(inbox_item(page, name)).to_be_visible(timeout=WITHIN_MS)
    assert time.monotonic() - started < WITHIN_MS / 1000
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]


@pytest.mark.parametrize("size", SIZES)
def test_a_client_message_shows_in_an_open_conversation_within_3_seconds(console, server, size):
    server.travel("open")
    name = f"Live Conversation {size['width']}"
    client = server.new_client(name, language="en", channel="sms")
    server.client_message(client["phone"], "Hello, I have a question about my lease.", whatsapp=False)
    console.page.set_viewport_size(size)
    page = console.sign_in_as("amal")
    inbox_item(page, name).get_by_role("link").click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text("question about my lease")
    expect(live_status(page)).to_have_text("Live")
    server.client_message(client["phone"], "The landlord wants the deposit by Friday.", whatsapp=False)
    started = time.monotonic()
    expect(conversation).to_contain_text("deposit by Friday", timeout=WITHIN_MS)
    assert time.monotonic() - started < WITHIN_MS / 1000


def test_an_idle_inbox_asks_the_api_at_most_twice_in_20_seconds(console, server):
    server.travel("open")
    page = console.page
    page.clock.install()
    console.sign_in_as("amal")
    expect(live_status(page)).to_have_text("Live")
    requests = api_requests(page, server)
    page.clock.fast_forward(20_000)
    idle_20s = len(requests)
    page.clock.fast_forward(100_000)  # two minutes in all: still nothing while the socket is up
    assert idle_20s <= 2, requests
    assert requests == [], f"an idle inbox with a live socket asked the API: {requests}"


def test_a_dead_socket_falls_back_to_polling_every_minute_then_reconnects(console, server):
    server.travel("open")
    name = "Live Fallback"
    client = server.new_client(name, language="en", channel="sms")
    page = console.page
    page.clock.install()
    console.sign_in_as("amal")
    expect(live_status(page)).to_have_text("Live")
    requests = api_requests(page, server)
    server.accept_live_sockets(False)  # the gateway is unreachable for a while
    try:
        assert server.drop_live_sockets() >= 1
        expect(live_status(page)).to_contain_text("Reconnecting")
        server.client_message(client["phone"], "Are you there?", whatsapp=False)
        expect(inbox_item(page, name)).to_have_count(0)  # nothing pushed, and no quick polling
        assert "GET /inbox" not in requests
        page.clock.fast_forward(60_000)  # the fallback's minute
        expect(inbox_item(page, name)).to_be_visible()
        assert requests.count("GET /inbox") == 1, requests
        server.accept_live_sockets(True)
        page.clock.fast_forward(31_000)  # longer than the capped backoff: the next attempt connects
        expect(live_status(page)).to_have_text("Live")
        second = server.new_client("Live Fallback Two", language="en", channel="sms")
        server.client_message(second["phone"], "A second question.", whatsapp=False)
        # pushed again (the 3 s of SPEC §4.6 are measured above; here: the socket is back and used)
        expect(inbox_item(page, "Live Fallback Two")).to_be_visible()
    finally:
        server.accept_live_sockets(True)
        # The refused handshakes while the gateway was away are the browser's own report of them.
        console.errors[:] = [e for e in console.errors if "WebSocket connection" not in e]


def test_alerts_are_turned_on_by_a_button_and_come_only_within_the_agency_hours(browser, server):
    server.travel("open")
    context = browser.new_context(viewport=DESKTOP, locale="en-CA")
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto(server.console(f"#id_token={server.token('amal')}"))
        button = page.get_by_role("button", name="Turn on alerts")
        expect(button).to_be_visible()  # offered, never asked for on load
        assert page.evaluate("Notification.permission") == "default"
        context.grant_permissions(["notifications"])
        page.reload()
        expect(page.get_by_role("button", name="Alerts on")).to_be_disabled()
        expect(live_status(page)).to_have_text("Live")
        assert page.evaluate(CONTROLLED)

        open_client = server.new_client("Alert Open", language="en", channel="sms")
        server.client_message(open_client["phone"], "Can we talk today?", whatsapp=False)
        expect(inbox_item(page, "Alert Open")).to_be_visible(timeout=WITHIN_MS)
        assert page.evaluate(NOTIFIED, "Alert Open wrote to you.")

        server.travel("closed")  # the same socket: the agency's hours are the server's to judge
        closed_client = server.new_client("Alert Closed", language="en", channel="sms")
        server.client_message(closed_client["phone"], "Sorry to write so late.", whatsapp=False)
        expect(inbox_item(page, "Alert Closed")).to_be_visible(timeout=WITHIN_MS)  # pushed all the same
        bodies = page.evaluate(SHOWN)
        assert "Alert Closed wrote to you." not in bodies, bodies
    finally:
        context.close()


def test_the_console_is_installable_and_says_offline_without_the_network(console, server):
    page = console.sign_in_as("amal")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())")
    assert manifest["display"] == "standalone" and manifest["name"]
    assert any(icon["sizes"] == "512x512" for icon in manifest["icons"])
    assert page.evaluate(CONTROLLED)
    page.context.set_offline(True)
    try:
        expect(page.locator("#alerts")).to_contain_text("Offline")
        page.reload()
        expect(page.get_by_role("alert")).to_contain_text("Offline: the network is gone")
        expect(live_status(page)).to_have_text("Offline")
    finally:
        page.context.set_offline(False)
    expect(page.get_by_role("list", name="Inbox")).to_be_visible()  # back: the page it could not show
    console.errors[:] = [e for e in console.errors if "ERR_INTERNET_DISCONNECTED" not in e]
