"""``make bench`` (live updates, issue 23): webhook to screen, and what an idle console asks the API.

    python -m bench.live [--messages 50] [--cycles 60] [--steps 60] [--write]

In real headless Chromium (Debian's, through ``executable_path``) against the browser tests'
server (tests/browser/serve.py: ``make run``'s stack, moto, the Twilio stand-in and the WebSocket
stand-in of API Gateway's management API), signed in as the demo worker ``amal`` on the Inbox,
three ways in the same run:

- **live**: the console as shipped, its socket up (js/live.js);
- **fallback**: ``POST /live/tickets`` answers 404 ``live_unavailable`` (a page route gives the
  answer the API gives on a deployment without ``CMDM_WS_URL``), so the console polls, every
  ``FALLBACK_POLL_MS`` (60 s) as shipped: today's polling, the baseline;
- **10 s polling**: the previous design's interval, reproduced: the fallback again, with a page
  route rewriting the one constant ``FALLBACK_POLL_MS`` of js/live.js to 10 000. The old inbox
  (commit 9f19543) set a 10 s timer after each refresh; the fallback sets its timer the same way.

1. *Webhook to screen.* ``messages`` clients of ``amal`` are created and each sends a first
   message (so every mode shows the same inbox). Then, per mode, each client sends one more
   message through the signed Twilio webhook, one POST at a time. A MutationObserver in the page
   stamps the moment the message's text is in the Inbox list with the page's wall clock
   (``performance.timeOrigin + performance.now()``); Python stamps ``time.time()`` just before
   the POST; the two clocks are compared through the offset measured by the shortest of a few
   ``page.evaluate`` round trips. Live: the next message is sent once the last one shows.
   Polling: the messages are spread over whole poll intervals, one at a random moment of each
   equal slot (stratified), so they meet the poll at phases covering the interval evenly and the
   median is about half the interval plus the refresh.
2. *An idle console-hour.* A fresh page with Playwright's clock installed; after the page has
   settled, its clock runs ``cycles`` poll intervals (60 x 60 s = one hour as shipped; the 10 s
   mode 60 x 10 s, scaled to the hour) in ``steps`` steps per interval; after each step the bench
   waits (real time) for every fetch the page started to settle. The API requests the page makes
   (``page.on("request")``) and the WebSocket frames it sends (the keep-alive) are counted, per
   hour of the page's clock. A timer the page sets once an answer lands starts at the end of the
   step it fell in, so a poll can come up to one step (1/60 of the interval) late.

Every figure is a ratio to the fallback measured in the same run (the polled modes' own rows to
the arithmetic of their interval, labelled computed). ``--write`` replaces the table between the
live-bench markers in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.run import RESULTS, ROOT, Row, percentile, ratio, table, write_results

START, END = "<!-- live-bench:start -->", "<!-- live-bench:end -->"
LIVE_JS = ROOT / "chalicelib" / "web" / "js" / "live.js"
WORKER = "amal"
HOUR_MS = 3_600_000
MIN_GAP_S = 1.0  # between two polled messages' POSTs: about the pace of the live mode's
# The answer POST /live/tickets gives where the deployment has no WebSocket API (services/live.py).
UNAVAILABLE = {"error": {"code": "live_unavailable", "message": "live updates are not configured on this deployment"}}


def shipped_ms(name: str) -> int:
    """A constant of js/live.js in milliseconds (``8 * 60_000`` and the like)."""
    found = re.search(rf"\b{name} = ([0-9_ *]+);", LIVE_JS.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"js/live.js no longer defines {name}: update bench/live.py")
    return math.prod(int(part.strip().replace("_", "")) for part in found.group(1).split("*"))


@dataclass(frozen=True)
class Mode:
    """One way the console learns of a change: pushed, or polled every ``poll_ms``."""

    key: str
    label: str
    push: bool
    poll_ms: int | None = None  # rewrite FALLBACK_POLL_MS to this (None: as shipped)

    @property
    def interval_ms(self) -> int:
        """The poll interval the page runs (the live page's own fallback interval, never used while up)."""
        return self.poll_ms or shipped_ms("FALLBACK_POLL_MS")


def default_modes() -> list[Mode]:
    return [Mode("live", "live push over the WebSocket, as shipped", push=True),
            Mode("fallback", f"fallback: polling every {shipped_ms('FALLBACK_POLL_MS') // 1000} s, socket unavailable",
                 push=False),
            Mode("old", "previous design: polling every 10 s, reproduced", push=False, poll_ms=10_000)]


@dataclass
class Measured:
    """What one mode gave: seconds from webhook to screen, and an idle window's counts."""

    latencies: list[float] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    frames_sent: int = 0
    idle_page_ms: float = 0.0
    idle_steps: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def per_hour(self, count: int) -> float:
        return count * HOUR_MS / self.idle_page_ms


# -- in the page ---------------------------------------------------------------------------------
# Installed with page.evaluate (the console's CSP forbids the eval behind Playwright's string
# predicates; evaluate is not subject to it).
WATCH = """() => {
  if (window.__bench) return;
  const wanted = new Set();
  const seen = new Map();
  const waiters = new Set();
  const look = () => {
    if (wanted.size) {
      const at = performance.timeOrigin + performance.now();
      for (const el of document.querySelectorAll("ul.inbox .preview")) {
        if (wanted.delete(el.textContent)) seen.set(el.textContent, at);
      }
    }
    for (const waiter of [...waiters]) waiter();
  };
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  window.__bench = { wanted, seen, waiters, want: (text) => { wanted.add(text); look(); } };
}"""
WANT = "(text) => window.__bench.want(text)"
WAIT = """([texts, ms]) => new Promise((resolve) => {
  const bench = window.__bench;
  let timer = null;
  const finish = () => {
    bench.waiters.delete(check);
    clearTimeout(timer);
    resolve(texts.map((t) => bench.seen.get(t) ?? null));
  };
  const check = () => { if (texts.every((t) => bench.seen.has(t))) finish(); };
  timer = setTimeout(finish, ms);
  bench.waiters.add(check);
  check();
})"""
NOW = "() => performance.timeOrigin + performance.now()"
# The idle window's pages: how many fetches the console started and how many have settled, so the
# bench lets each answer land before moving the clock on. It only counts; fetch behaves as before.
COUNT_FETCHES = """(() => {
  const original = window.fetch.bind(window);
  const counts = { started: 0, settled: 0 };
  window.__benchFetches = counts;
  window.fetch = (...args) => {
    counts.started += 1;
    const answer = original(...args);
    const done = () => { counts.settled += 1; };
    answer.then(done, done);
    return answer;
  };
})();"""
FETCHES = "() => [window.__benchFetches.started, window.__benchFetches.settled]"


def clock_offset(page: Any, tries: int = 7) -> float:
    """The page's wall clock less Python's, in seconds, from the shortest of ``tries`` round trips."""
    best: tuple[float, float] | None = None
    for _ in range(tries):
        before = time.time()
        at = page.evaluate(NOW) / 1000
        after = time.time()
        if best is None or after - before < best[1]:
            best = (at - (before + after) / 2, after - before)
    assert best is not None
    return best[0]


# -- the console, per mode -----------------------------------------------------------------------


def new_page(browser: Any, server: Any, mode: Mode, *, clock: bool) -> tuple[Any, Any]:
    """A fresh context and page for ``mode``: the socket as shipped (live) or unavailable (polling).

    Service workers are blocked in every mode (they only keep the shell for offline use), so that
    page routes see the console's own files too.
    """
    from tests.browser.conftest import DESKTOP

    context = browser.new_context(viewport=DESKTOP, locale="en-CA", service_workers="block")
    context.set_default_timeout(30_000)
    page = context.new_page()
    if not mode.push:
        page.route(f"{server.base}/live/tickets", lambda route: route.fulfill(
            status=404, content_type="application/json", body=json.dumps(UNAVAILABLE)))
    if mode.poll_ms is not None:
        def rewrite(route: Any) -> None:
            answer = route.fetch()
            text, changed = re.subn(r"\bFALLBACK_POLL_MS = [0-9_]+;", f"FALLBACK_POLL_MS = {mode.poll_ms};", answer.text())
            if changed != 1:
                raise RuntimeError("js/live.js no longer defines FALLBACK_POLL_MS: update bench/live.py")
            route.fulfill(response=answer, body=text)

        page.route(f"{server.base}/console/js/live.js", rewrite)
    if clock:
        page.add_init_script(script=COUNT_FETCHES)
        page.clock.install()
    return context, page


def sign_in(page: Any, server: Any, mode: Mode) -> None:
    """Open the console as ``amal`` and wait for the Inbox and the socket's state (up, or unavailable)."""
    page.goto(server.console(f"#id_token={server.token(WORKER)}"))
    page.get_by_role("navigation", name="Main").wait_for()
    page.locator(f'#live-status[data-state="{"up" if mode.push else "unavailable"}"]').wait_for(state="attached")
    page.locator("ul.inbox > li").first.wait_for()


def seed(server: Any, count: int, run: str) -> list[dict[str, Any]]:
    """``count`` clients of amal, each with a first message, so they wait in every mode's inbox."""
    clients = []
    for i in range(count):
        client = server.new_client(f"Live Bench {run} {i + 1:02d}", language="en", channel="sms", manager=WORKER)
        server.client_message(client["phone"], f"First question {i + 1:02d} ({run})", whatsapp=False)
        clients.append(client)
    return clients


def spread(mode: Mode, messages: int) -> float:
    """Seconds over which a polled mode's messages are sent: whole poll intervals, enough of them
    for a second between POSTs. Stratified: each message meets the poll at its own phase, so
    the phases cover the interval evenly and the median is not left to chance."""
    interval = mode.interval_ms / 1000
    return interval * max(1, math.ceil(messages * MIN_GAP_S / interval))


def webhook_to_screen(browser: Any, server: Any, mode: Mode, clients: list[dict[str, Any]], run: str,
                      rng: random.Random) -> list[float]:
    """Seconds from just before each webhook POST to its text in the open Inbox, one per client."""
    context, page = new_page(browser, server, mode, clock=False)
    try:
        sign_in(page, server, mode)
        page.evaluate(WATCH)
        page.locator("ul.inbox .name", has_text=clients[-1]["name"]).wait_for(state="attached")  # all listed
        offset = clock_offset(page)
        sent: list[tuple[str, float]] = []
        spacing = spread(mode, len(clients)) / len(clients)
        first = time.time()
        for i, client in enumerate(clients):
            text = f"Question {i + 1:02d} for {mode.key} ({run})"
            page.evaluate(WANT, text)
            if not mode.push:  # the i-th slot of the spread, at a random moment within it
                time.sleep(max(0.0, first + (i + rng.random()) * spacing - time.time()))
            started = time.time()
            server.client_message(client["phone"], text, whatsapp=False)
            sent.append((text, started))
            if mode.push:
                shown = page.evaluate(WAIT, [[text], 15_000])[0]
                if shown is None:
                    raise RuntimeError(f"{mode.key}: message {i + 1} did not show within 15 s")
                time.sleep(rng.uniform(0.1, 0.3))  # a moment apart, as messages come
        shown_at = page.evaluate(WAIT, [[text for text, _ in sent], 2 * mode.interval_ms + 30_000])
        missing = [text for (text, _), at in zip(sent, shown_at, strict=True) if at is None]
        if missing:
            raise RuntimeError(f"{mode.key}: never shown: {missing}")
        return [at / 1000 - offset - started for (_, started), at in zip(sent, shown_at, strict=True)]
    finally:
        context.close()


def idle(browser: Any, server: Any, mode: Mode, cycles: int, steps: int, into: Measured) -> None:
    """Count the API requests and socket frames of an idle Inbox over ``cycles`` poll intervals."""
    context, page = new_page(browser, server, mode, clock=True)
    base = urlsplit(server.base).netloc
    counting = [False]

    def record(request: Any) -> None:
        url = urlsplit(request.url)
        if counting[0] and url.netloc == base and not url.path.startswith("/console"):
            into.requests.append(f"{request.method} {url.path}")

    def frame(_payload: Any) -> None:
        if counting[0]:
            into.frames_sent += 1

    page.on("request", record)
    page.on("websocket", lambda ws: ws.on("framesent", frame))
    try:
        sign_in(page, server, mode)
        settled = settle(page, -1)
        step = mode.interval_ms / steps
        counting[0] = True
        began = page.evaluate("() => Date.now()")
        for _ in range(cycles * steps):
            page.clock.run_for(round(step))
            settled = settle(page, settled)
        into.idle_page_ms = page.evaluate("() => Date.now()") - began
        into.idle_steps = cycles * steps
        counting[0] = False
    finally:
        context.close()


def settle(page: Any, seen: int) -> int:
    """Wait (real time) until every fetch the page started has settled and it starts no new one."""
    while True:
        started, settled = page.evaluate(FETCHES)
        if started != settled:
            page.wait_for_timeout(10)
        elif started != seen:
            seen = started
            page.wait_for_timeout(50)  # the page handles the answer (and may ask again, or set its next timer)
        else:
            return started


def measure(browser: Any, server: Any, modes: list[Mode], messages: int, cycles: int, steps: int,
            seed_value: int = 23) -> dict[str, Measured]:
    server.travel("open")  # within the agency's hours: every message opens or keeps an inquiry
    run = f"{int(time.time()) % 100_000:05d}"
    clients = seed(server, messages, run)
    rng = random.Random(seed_value)
    found: dict[str, Measured] = {}
    for mode in modes:
        found[mode.key] = Measured(latencies=webhook_to_screen(browser, server, mode, clients, run, rng))
    for mode in modes:
        idle(browser, server, mode, cycles, steps, found[mode.key])
    return found


# -- the table -----------------------------------------------------------------------------------


def secs(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def rows(modes: list[Mode], found: dict[str, Measured]) -> list[Row]:
    by_key = {mode.key: mode for mode in modes}
    live, base = found["live"], found["fallback"]
    fallback = by_key["fallback"]
    n = len(live.latencies)
    out: list[Row] = []
    polled = [by_key[key] for key in ("fallback", "old") if key in found]
    for mode in polled:
        got = found[mode.key]
        for what, value, other in (("median", live.median, got.median), ("p95", live.p95, got.p95)):
            out.append(Row("webhook to screen", f"live push, {what} of {n}", secs(value),
                           f"{secs(other)} ({mode.label}, same run)", ratio(value, other)))
    for mode in polled:
        got = found[mode.key]
        half = mode.interval_ms / 2000  # a message meets the poll at a random phase
        out.append(Row("webhook to screen", f"{mode.label}, median of {len(got.latencies)} (p95 {secs(got.p95)})",
                       secs(got.median), f"{secs(half)} (computed: half the interval, before the refresh itself)",
                       ratio(got.median, half)))
    window = {key: f"{got.idle_page_ms / 60_000:.1f} min of the page's clock in {got.idle_steps} steps"
              for key, got in found.items()}
    base_rate = base.per_hour(len(base.requests))
    for mode in (by_key[key] for key in ("live", "fallback", "old") if key in found):
        got = found[mode.key]
        rate = got.per_hour(len(got.requests))
        kinds = ", ".join(f"{kind} {got.requests.count(kind)}" for kind in sorted(set(got.requests))) or "none"
        measure = f"API requests, {mode.label} ({kinds} in {window[mode.key]})"
        if mode.key == "fallback":  # the baseline itself: against the polls an hour holds (ratio: requests per poll)
            polls = HOUR_MS / mode.interval_ms
            out.append(Row("idle console-hour", measure, f"{rate:.1f}",
                           f"{polls:.0f} polls (computed: one every {mode.interval_ms / 1000:g} s)", ratio(rate, polls)))
        else:
            out.append(Row("idle console-hour", measure, f"{rate:.1f}", f"{base_rate:.1f} ({fallback.label}, same run)",
                           ratio(rate, base_rate)))
    if "old" in found:  # the inbox of 9f19543 had no Notifications control: its GET /inbox were all it asked
        got = found["old"]
        rate = got.per_hour(got.requests.count("GET /inbox"))
        out.append(Row("idle console-hour", "API requests, the previous design as it was: the GET /inbox of the 10 s "
                       "row alone (the old inbox had no Notifications control to refresh with it)",
                       f"{rate:.1f}", f"{base_rate:.1f} ({fallback.label}, same run)", ratio(rate, base_rate)))
    keepalive = shipped_ms("KEEPALIVE_MS")
    out.append(Row("idle console-hour", f"WebSocket keep-alive frames sent, live push (in {window['live']})",
                   f"{live.per_hour(live.frames_sent):.1f}",
                   f"{HOUR_MS / keepalive:.1f} (computed: one per KEEPALIVE_MS = {keepalive // 60_000} min)",
                   ratio(live.per_hour(live.frames_sent), HOUR_MS / keepalive)))
    return out


def bench(messages: int, cycles: int, steps: int, modes: list[Mode] | None = None) -> tuple[list[Mode], dict[str, Measured]]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import LAUNCH_ARGS, find_chromium_or_none, launch, stop

    chromium = find_chromium_or_none()
    if chromium is None:
        raise SystemExit("no Chromium: install one (Debian: apt-get install -y chromium) or set CMDM_CHROMIUM")
    modes = modes or default_modes()
    server = launch(Path(tempfile.mkdtemp()) / "server.log")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            try:
                return modes, measure(browser, server, modes, messages, cycles, steps)
            finally:
                browser.close()
    finally:
        stop(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live")
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=60, help="poll intervals in the idle window")
    parser.add_argument("--steps", type=int, default=60, help="clock steps per poll interval")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    modes, found = bench(args.messages, args.cycles, args.steps)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    text = (f"Measured {stamp} (load average {load:.1f} on {os.cpu_count()} CPUs); headless Chromium against "
            "`make run`'s stack on loopback (tests/browser/serve.py: moto's server, the WebSocket stand-in), signed "
            f"in as `{WORKER}` on the Inbox, service workers blocked. Webhook to screen: from `time.time()` just "
            "before the signed Twilio POST to a MutationObserver's stamp (`performance.timeOrigin + "
            "performance.now()`, offset to Python's clock by the shortest `evaluate` round trip) when the text is "
            "in the Inbox list; live sends the next message once the last shows, polling spreads its messages over whole "
            "poll intervals, one at a random moment of each equal slot (so they meet the poll at evenly spread phases). "
            "The 10 s row reproduces the previous inbox "
            "(commit 9f19543: a 10 s timer after each refresh) by a page route rewriting `FALLBACK_POLL_MS` in "
            "js/live.js. Idle: Playwright's clock runs the poll interval "
            f"{args.cycles} times in {args.steps} steps each (the 10 s mode's 10 minutes scaled to the hour), "
            "each answer landing before the clock moves on (a timer set as an answer lands starts at the end of its "
            "step: a poll may come up to one step late); the fallback's idle row is set against the polls an hour "
            "holds, so its ratio is requests per poll (GET /inbox and the Notifications control's GET /notifications)."
            "\n\n" + table(rows(modes, found)))
    print(text)
    if args.write:
        if START not in RESULTS.read_text(encoding="utf-8"):
            with RESULTS.open("a", encoding="utf-8") as fh:
                fh.write(f"\n## Live updates (python -m bench.live --write)\n\n{START}\n{END}\n")
        write_results(text, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
