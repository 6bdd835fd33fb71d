"""``make bench``: what CMDM costs, each figure a ratio to a baseline measured in the same run.

    python -m bench.run [--calls 300] [--imports 5] [--followup-sizes 10,1000,10000] [--write]

Cases
- inbound webhook: DynamoDB round trips by operation and the in-process handler time (Chalice's
  test client under moto), against the floor handler of ``bench/floor.py`` (signature + one put);
- cold start (``bench/cold.py``): a new Lambda container's first webhook from the zip ``make package``
  ships, unpacked read-only under Lambda's own Python, against the floor handler compiled for it;
  the zip's size and files;
- follow-up run and reports: DynamoDB reads for N clients with a fixed number due (only when those
  features are present in this branch; "not available" otherwise);
- staff API: round trips of ``GET /clients/{id}`` and ``GET /clients/{id}/messages`` (and
  ``GET /inquiries`` when the route exists) against one keyed read.

``--write`` replaces the generated table in ``bench/RESULTS.md`` (between the bench markers).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
EDMONTON = ZoneInfo("America/Edmonton")
FOLLOWUP_DUE = 10


@dataclass
class Row:
    case: str
    measure: str
    value: str
    baseline: str
    ratio: str


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "n/a"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def ops_text(counter: Counter[str], calls: int) -> str:
    return ", ".join(f"{op} {n / calls:g}" for op, n in sorted(counter.items())) or "none"


# -- inbound webhook -------------------------------------------------------------------------------


def bench_inbound(world: Any, calls: int) -> list[Row]:
    import time_machine
    from chalice.test import Client

    from bench import floor
    from bench import world as w
    from tests.fault_helpers import DynamoTap

    path = "/webhooks/twilio/messages"
    instant = datetime(2026, 11, 23, 10, tzinfo=EDMONTON)  # a Monday, in office hours

    own: dict[str, list[float]] = {"cmdm": [], "floor": []}

    def post(client: Any, sender: str, tap: Any = None, who: str = "") -> float:
        headers, body = w.signed(path, w.sms_form(sender, "I have a question about my rent", "SM" + uuid.uuid4().hex))
        before = len(tap.calls) if tap is not None else 0
        t0 = time.perf_counter()
        response = client.http.post(path, headers=headers, body=body)
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.body[:200]!r}")
        if tap is not None:  # the handler's own time: what is left once DynamoDB (moto) answered
            own[who].append(elapsed - sum(c.seconds for c in tap.calls[before:]))
        return elapsed

    senders = [c["phone"] for c in world.clients]
    floor.configure(w.TWILIO_TOKEN, w.PUBLIC_URL)
    with time_machine.travel(instant, tick=False), Client(floor.floor, stage_name="test",
                                                         project_dir=str(ROOT)) as floor_client:
        from chalicelib import bootstrap

        bootstrap.reset()
        first = post(world.client, senders[0])  # a fresh container: wiring, policies, the number's read
        for i in range(20):  # warm both handlers (imports, connection pools, caches)
            post(world.client, senders[i % len(senders)])
            post(floor_client, senders[i % len(senders)])
        with DynamoTap() as tap:
            cmdm = [post(world.client, senders[i % len(senders)], tap, "cmdm") for i in range(calls)]
        cmdm_ops = tap.by_operation()
        with DynamoTap() as tap:
            base = [post(floor_client, senders[i % len(senders)], tap, "floor") for i in range(calls)]
        base_ops = tap.by_operation()

    cmdm_rt, base_rt = sum(cmdm_ops.values()) / calls, sum(base_ops.values()) / calls
    median, base_median = statistics.median(cmdm), statistics.median(base)
    p99, base_p99 = percentile(cmdm, 99), percentile(base, 99)
    return [
        Row("inbound webhook", "DynamoDB round trips / message", f"{cmdm_rt:g} ({ops_text(cmdm_ops, calls)})",
            f"{base_rt:g} ({ops_text(base_ops, calls)})", ratio(cmdm_rt, base_rt)),
        Row("inbound webhook", "Scan calls", str(cmdm_ops.get("Scan", 0)), "0", "-"),
        Row("inbound webhook", f"handler time, median of {calls}", ms(median), ms(base_median),
            ratio(median, base_median)),
        Row("inbound webhook", f"handler time, p99 of {calls}", ms(p99), ms(base_p99), ratio(p99, base_p99)),
        Row("inbound webhook", "own time (handler minus DynamoDB calls), median",
            ms(statistics.median(own["cmdm"])), ms(statistics.median(own["floor"])),
            ratio(statistics.median(own["cmdm"]), statistics.median(own["floor"]))),
        Row("inbound webhook", "own time (handler minus DynamoDB calls), p99",
            ms(percentile(own["cmdm"], 99)), ms(percentile(own["floor"], 99)),
            ratio(percentile(own["cmdm"], 99), percentile(own["floor"], 99))),
        Row("inbound webhook", "first request of a fresh container", ms(first), ms(median) + " (warm median)",
            ratio(first, median)),
    ]


# -- staff API -------------------------------------------------------------------------------------


def bench_staff_api(world: Any, calls: int) -> list[Row]:
    from app import app
    from tests.fault_helpers import DynamoTap

    client_id = world.clients[0]["client_id"]
    targets = [("GET /clients/{id}", f"/clients/{client_id}"),
               ("GET /clients/{id}/messages", f"/clients/{client_id}/messages")]
    if "/inquiries" in app.routes and "GET" in app.routes["/inquiries"]:
        targets.append(("GET /inquiries", "/inquiries"))
    rows = []
    for label, path in targets:
        world.call("GET", path, world.worker)  # warm
        times = []
        with DynamoTap() as tap:
            for _ in range(max(10, calls // 5)):
                t0 = time.perf_counter()
                world.call("GET", path, world.worker)
                times.append(time.perf_counter() - t0)
        n = len(times)
        ops = tap.by_operation()
        rt = sum(ops.values()) / n
        rows.append(Row("staff API", f"{label}: DynamoDB round trips", f"{rt:g} ({ops_text(ops, n)})",
                        "1 (one keyed read)", ratio(rt, 1)))
        rows.append(Row("staff API", f"{label}: median handler time", ms(statistics.median(times)), "-", "-"))
    return rows


# -- follow-ups and reports ------------------------------------------------------------------------


def bench_followups(world: Any, sizes: list[int]) -> list[Row]:
    """Reads of the follow-up run and of the reports for N clients, FOLLOWUP_DUE of them due.

    Built by other teams (issues 5 and 6); measured here only when present in this branch.
    """
    import app as application
    from tests.fault_helpers import DynamoTap

    rows = []
    has_followups = "run_followups" in getattr(application, "JOBS", {})
    report_paths = sorted(p for p, r in application.app.routes.items() if p.startswith("/reports") and "GET" in r
                          and "{" not in p)
    if not has_followups:
        rows.append(Row("follow-up run", "DynamoDB reads for " + "/".join(f"{s:,}" for s in sizes) + " clients",
                        "not available (run_followups not in this branch)", "-", "-"))
    if not report_paths:
        rows.append(Row("reports", "DynamoDB reads for " + "/".join(f"{s:,}" for s in sizes) + " clients",
                        "not available (no GET /reports route in this branch)", "-", "-"))
    if not has_followups and not report_paths:
        return rows
    import time_machine

    supervisor = __import__("bench.world", fromlist=["bearer"]).bearer("sup-maria", "supervisor")
    first_reads = None
    for index, size in enumerate(sizes):
        missing = size - len(world.clients)
        if missing > 0:
            world.add_clients(missing)
        # Only FOLLOWUP_DUE clients are due. The others are what a quiet week looks like for most of
        # a caseload: their next follow-up, check-in and survey are all later than the run.
        from chalicelib.adapters import models as m

        later = datetime(2028, 3, 1, 17, tzinfo=UTC)
        for i, c in enumerate(world.clients):
            if i >= FOLLOWUP_DUE:
                item = m.ClientModel.get(c["client_id"])  # read first: the update is conditioned on its version
                if item.next_followup_at != later:
                    item.update(actions=[m.ClientModel.next_followup_at.set(later),
                                         m.ClientModel.next_checkin_at.set(later),
                                         m.ClientModel.next_survey_at.set(later)])
        # A week later for each size: the same FOLLOWUP_DUE quiet clients are due again.
        run_at = datetime(2027, 1, 12, 17, tzinfo=UTC) + timedelta(days=7 * index)
        with time_machine.travel(run_at, tick=False):
            if has_followups:
                with DynamoTap() as tap:
                    application.run_job("run_followups")
                reads = tap.reads
                first_reads = first_reads or reads
                rows.append(Row("follow-up run", f"DynamoDB reads, {size:,} clients ({FOLLOWUP_DUE} due)",
                                f"{reads} calls, {tap.items_read} items (scans: {tap.by_operation().get('Scan', 0)})",
                                f"{first_reads} calls (at {sizes[0]:,} clients)", ratio(reads, first_reads)))
            for path in report_paths:
                with DynamoTap() as tap:
                    response = world.client.http.get(path + f"?from=2026-12-01&to={run_at.date()}", headers=supervisor)
                assert response.status_code == 200, (path, response.body[:200])
                rows.append(Row("reports", f"GET {path}: DynamoDB reads, {size:,} clients",
                                f"{tap.reads} calls, {tap.items_read} items (scans: {tap.by_operation().get('Scan', 0)})",
                                "-", "-"))
    return rows


# -- cold start ------------------------------------------------------------------------------------
# The cold-start rows come from bench/cold.py: the zip `make package` ships, unpacked read-only,
# under Lambda's own Python, beside the floor handler compiled for it. The two helpers below serve
# the in-process tests of the deployed code path (tests/integration/test_compiled_policies_cold_start.py).


def api_event(path: str, headers: dict[str, str], body: str) -> dict[str, Any]:
    return {
        "resource": path, "path": path, "httpMethod": "POST", "headers": {**headers, "Host": "cmdm.bench.test"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": path, "httpMethod": "POST", "stage": "api", "requestId": "bench",
                           "identity": {"sourceIp": "127.0.0.1"}},
    }


def deployed_copy(target: Path, today: Any = None) -> Path:
    """``app.py`` and ``chalicelib/`` as ``make package`` ships them, compiled policies included
    (their holidays compiled around ``today``, a ``date``; the real date when ``None``), without the
    vendored libraries (the caller runs it with its interpreter's installed ones), byte-compiled for
    that interpreter. Not the zip: ``bench/cold.py`` measures the zip itself.
    """
    import compileall
    import shutil

    from infra import package

    shutil.copy2(ROOT / "app.py", target / "app.py")
    shutil.copytree(ROOT / "chalicelib", target / "chalicelib", ignore=package._ignore_build_litter)
    package.bundle_policies(ROOT / "policies", target / "chalicelib" / package.BUNDLE_NAME, today)
    compileall.compile_dir(target / "chalicelib", quiet=1)
    compileall.compile_file(target / "app.py", quiet=1)
    return target


# -- output ----------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = ["| case | measure | CMDM | baseline | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {r.case} | {r.measure} | {r.value} | {r.baseline} | {r.ratio} |" for r in rows]
    return "\n".join(lines)


def machine() -> str:
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs (nproc), "
            f"Python {platform.python_version()} on {platform.system()} {platform.machine()}; "
            "moto in-process, with per-item transaction rollback (bench/load_stack.py)")


def write_results(text: str, start: str = START, end: str = END) -> None:
    """Replace the block between ``start`` and ``end`` in bench/RESULTS.md (appended if missing)."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# CMDM evidence\n"
    if start not in current:
        current += f"\n{start}\n{end}\n"
    head, rest = current.split(start, 1)
    _, tail = rest.split(end, 1)
    RESULTS.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


GROUPS = {"cold": ("cold start",), "inbound": ("inbound webhook",), "staff": ("staff API",),
          "followups": ("follow-up run", "reports")}


def merge_rows(current: str, rows: list[Row], groups: list[str]) -> str:
    """The recorded table with the rows of ``groups`` replaced by ``rows`` and the others kept.

    For re-measuring some cases (``--only``) without a full run: the heading says which rows are
    newer than the rest.
    """
    cases = {case for group in groups for case in GROUPS[group]}
    block = current.split(START, 1)[1].split(END, 1)[0] if START in current else ""
    heading = next((line for line in block.splitlines() if line.startswith("Measured ")), "")
    kept: list[Row] = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] not in ("case", "---") and cells[0] not in cases:
            kept.append(Row(*cells))
    group_of = {case: index for index, cases_of in enumerate(GROUPS.values()) for case in cases_of}
    merged = sorted(rows + kept, key=lambda r: group_of.get(r.case, len(GROUPS)))  # stable within a group
    note = f"Rows of {', '.join(sorted(cases))} re-measured {machine()}; the others as recorded before."
    if heading:
        note = f"{heading}\n\n{note}"
    return f"{note}\n\n{table(merged)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="webhook calls per handler (default 300)")
    parser.add_argument("--imports", type=int, default=15,
                        help="fresh interpreters per cold-start case (default 15: fewer swing by 0.1x)")
    parser.add_argument("--clients", type=int, default=50, help="client files the webhooks rotate over")
    parser.add_argument("--followup-sizes", default="10,1000,10000")
    parser.add_argument("--only", default="", help="comma-separated cases to measure: " + ",".join(GROUPS)
                        + " (default all); with --write the other recorded rows are kept")
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    args = parser.parse_args(argv)
    groups = [g for g in args.only.split(",") if g] or list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")

    sys.path.insert(0, str(ROOT))
    import logging

    logging.disable(logging.WARNING)
    from bench import world as w

    rows: list[Row] = []
    started = w.start(clients=args.clients)
    try:
        if "cold" in groups:
            from bench.cold import bench_cold

            rows += bench_cold(started, args.imports)
        if "inbound" in groups:
            rows += bench_inbound(started, args.calls)
        if "staff" in groups:
            rows += bench_staff_api(started, args.calls)
        if "followups" in groups:
            rows += bench_followups(started, [int(s) for s in args.followup_sizes.split(",") if s])
    finally:
        started.close()
    if len(groups) == len(GROUPS):
        text = f"Measured {machine()}.\n\n{table(rows)}"
    else:
        text = merge_rows(RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "", rows, groups)
    print(text)
    if args.write:
        write_results(text)
        print(f"\nrecorded in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
