"""``make bench`` (console part, issue 14): the inbox call and the console's first load.

    python -m bench.console [--sizes 10,1000] [--calls 20] [--write]

- ``GET /inbox`` for a worker with 10 and with 1,000 clients, every one waiting for an answer
  (the worst case: the whole caseload is in the inbox): DynamoDB round trips (``DynamoTap``) and
  the in-process handler time (Chalice's test client under moto), each ratio to the 10-client run.
- The console in real headless Chromium against ``make run``'s stack (tests/browser/serve.py):
  the bytes of a first load (HTML + JS + CSS + the text catalogue and config, from the browser's
  resource timing) and the time from navigation to a usable inbox (the list holding its items),
  against loading one static file of the same server in the same browser.

``--write`` replaces the table between the console-bench markers in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.run import RESULTS, Row, ms, ops_text, ratio, table, write_results

START, END = "<!-- console-bench:start -->", "<!-- console-bench:end -->"


def bench_inbox(sizes: list[int], calls: int) -> list[Row]:
    from bench import world as w
    from tests.fault_helpers import DynamoTap

    world = w.start(0)
    rows: list[Row] = []
    results: dict[int, tuple[float, float, Any]] = {}
    try:
        from chalicelib import bootstrap

        for size in sizes:
            before = len(world.clients)
            world.add_clients(size - before)
            for i in range(before, size):
                headers, body = w.signed("/webhooks/twilio/messages", w.sms_form(w.phone(i), "a question", f"SM{i + 0xbe00000:032x}"))
                response = world.client.http.post("/webhooks/twilio/messages", headers=headers, body=body)
                assert response.status_code == 200, response.body
            assert len(world.call("GET", "/inbox", world.worker)["items"]) == size
            bootstrap.container().absences.directory(w.AGENCY)  # warm, as a running container is
            times = []
            with DynamoTap() as tap:
                for _ in range(calls):
                    t0 = time.perf_counter()
                    world.call("GET", "/inbox", world.worker)
                    times.append(time.perf_counter() - t0)
            ops = tap.by_operation()
            results[size] = (sum(ops.values()) / calls, statistics.median(times), ops)
    finally:
        world.close()
    small = sizes[0]
    for size in sizes:
        trips, median, ops = results[size]
        rows.append(Row("inbox", f"GET /inbox, {size} clients all waiting: DynamoDB round trips",
                        f"{trips:g} ({ops_text(ops, calls)})", f"{results[small][0]:g} ({small} clients)",
                        ratio(trips, results[small][0])))
        rows.append(Row("inbox", f"GET /inbox, {size} clients all waiting: median handler time of {calls}",
                        ms(median), f"{ms(results[small][1])} ({small} clients)", ratio(median, results[small][1])))
    return rows


FIRST_LOAD = """() => {
  const entries = [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")];
  return entries.filter((e) => e.name.includes("/console/")).map((e) => ({ name: e.name, bytes: e.encodedBodySize }));
}"""


def bench_first_load(waiting: int, runs: int) -> list[Row]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import DESKTOP, LAUNCH_ARGS, find_chromium_or_none, launch, stop

    chromium = find_chromium_or_none()
    if chromium is None:
        return [Row("console", "first load", "not measured: no Chromium (apt-get install chromium)", "-", "-")]
    server = launch(Path(tempfile.mkdtemp()) / "server.log")
    try:
        server.travel("open")
        for i in range(waiting):
            client = server.new_client(f"Client {i:03d}", language="en", channel="sms")
            server.client_message(client["phone"], f"question {i}", whatsapp=False)
        token = server.token("amal")
        loads, floors, files = [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
            for _ in range(runs):
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                page.goto(server.console(f"#id_token={token}"))
                page.wait_for_function(f"document.querySelectorAll('ul.inbox > li').length >= {waiting}")
                loads.append(page.evaluate("performance.now()") / 1000)
                files = page.evaluate(FIRST_LOAD)
                page.goto(server.console("console.css"))
                floors.append(page.evaluate("performance.getEntriesByType('navigation')[0].duration") / 1000)
                context.close()
            browser.close()
    finally:
        stop(server)
    total = sum(int(f["bytes"]) for f in files)
    load, floor = statistics.median(loads), statistics.median(floors)
    return [
        Row("console", f"first load: bytes of HTML + JS + CSS + catalogue + config ({len(files)} files, uncompressed)",
            f"{total / 1024:.1f} KiB", "-", "-"),
        Row("console", f"navigation to a usable inbox ({waiting} waiting), Chromium headless, median of {runs}",
            ms(load), f"{ms(floor)} (one static file from the same server)", ratio(load, floor)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--sizes", default="10,1000")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = bench_inbox(sizes, args.calls) + bench_first_load(10, args.runs)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"Measured {stamp}; moto in-process for the inbox call, `make run`'s stack on loopback for the browser.\n\n"
    text += table(rows)
    print(text)
    if args.write:
        if START not in RESULTS.read_text(encoding="utf-8"):
            with RESULTS.open("a", encoding="utf-8") as fh:
                fh.write(f"\n## The staff console (python -m bench.console --write)\n\n{START}\n{END}\n")
        write_results(text, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
