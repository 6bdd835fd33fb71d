"""The live-updates bench (bench/live.py, part of ``make bench``) end to end on a small sample.

Against the browser tests' own server and Chromium: three messages pushed and three polled (the
fallback's interval rewritten to 4 s, so the sample takes seconds rather than minutes), and an
idle window of three poll intervals on Playwright's clock. The figures must be sane: pushed
messages show sooner than polled ones, an idle page with its socket up asks the API nothing, a
polling one asks at each poll.
"""

from __future__ import annotations

import pytest

from bench import live
from bench.run import table

pytestmark = pytest.mark.xdist_group("browser")

POLL_MS = 4_000


def test_the_live_bench_finds_pushed_messages_sooner_and_an_idle_pushed_page_silent(browser, server):
    modes = [live.Mode("live", "live push", push=True),
             live.Mode("fallback", f"fallback polling every {POLL_MS // 1000} s", push=False, poll_ms=POLL_MS)]

    found = live.measure(browser, server, modes, messages=3, cycles=3, steps=6)

    pushed, polled = found["live"], found["fallback"]
    assert len(pushed.latencies) == len(polled.latencies) == 3
    assert all(0 < seconds < 15 for seconds in pushed.latencies + polled.latencies), found
    assert pushed.median < polled.median, found
    assert pushed.requests == [], "an idle inbox with its socket up asked the API"
    assert polled.requests.count("GET /inbox") >= 2, polled.requests  # three intervals: a poll in each
    assert polled.idle_page_ms >= 3 * POLL_MS and pushed.idle_page_ms >= 3 * live.shipped_ms("FALLBACK_POLL_MS")
    text = table(live.rows(modes, found))
    assert "| webhook to screen | live push, median of 3 |" in text
    assert "| idle console-hour | API requests, live push (none in" in text
