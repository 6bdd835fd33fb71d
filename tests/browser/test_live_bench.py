"""The live-updates bench (bench/live.py, part of ``make bench``) end to end on a small sample.

Against the browser tests' own server and Chromium: three messages pushed and three polled (the
fallback's interval rewritten to 6 s, so the sample takes seconds rather than minutes), and an
idle window of nine poll intervals on Playwright's clock (nine minutes for the live page). The
figures must be sane: pushed messages show sooner than polled ones, an idle page with its socket
up asks the API nothing and sends its one keep-alive (every 8 minutes), a polling one asks at
each poll.
"""

from __future__ import annotations

import pytest

from bench import live
from bench.run import table

pytestmark = pytest.mark.xdist_group("browser")

POLL_MS = 6_000


def test_the_live_bench_finds_pushed_messages_sooner_and_an_idle_pushed_page_silent(browser, server):
    modes = [live.Mode("live", "live push", push=True),
             live.Mode("fallback", f"fallback polling every {POLL_MS // 1000} s", push=False, poll_ms=POLL_MS)]

    found = live.measure(browser, server, modes, messages=3, cycles=9, steps=4)

    pushed, polled = found["live"], found["fallback"]
    assert len(pushed.latencies) == len(polled.latencies) == 3
    assert all(0 < seconds < 15 for seconds in pushed.latencies + polled.latencies), found
    assert pushed.median < polled.median, found
    assert pushed.requests == [], "an idle inbox with its socket up asked the API"
    assert pushed.frames_sent == 1  # the keep-alive, 8 minutes after the socket opened
    assert polled.requests.count("GET /inbox") >= 5, polled.requests  # nine intervals: a poll in most
    assert polled.idle_page_ms >= 9 * POLL_MS and pushed.idle_page_ms >= 9 * live.shipped_ms("FALLBACK_POLL_MS")
    text = table(live.rows(modes, found))
    assert "| webhook to screen | live push, median of 3 |" in text
    assert "| idle console-hour | API requests, live push (none in" in text
