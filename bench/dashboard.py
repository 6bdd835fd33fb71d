"""The supervisor's dashboard for a month: DynamoDB round trips at 1,000 and 10,000 clients.

    python -m bench.dashboard [--clients 1000,10000] [--raw-clients 100] [--write]

What the dashboard reads (``chalicelib/services/supervision.py``, ``services/usage_rollup.py``):
the period's daily compliance roll-ups (one Query of ``<agency>#compliance``), the agency's staff
(one Query), and, for the days not rolled up yet (today, and yesterday until the job has run), their inquiries and audit
events; the reasons of the overrides it lists are read back by key (BatchGetItem, 100 a call).

The month of ordinary traffic for N clients (each opens one inquiry, sends three messages and gets
two staff answers; one in ten writes after hours and gets an automatic reply; one in a hundred
answers is an emergency override; 50 workers hold the caseload) is turned into its roll-ups by the
real roll-up function (``domain.compliance_days.facts_for_days``) and written to the counters
table; only the overrides' audit events are written raw (their reasons live there). The baseline,
measured in the same run, is the raw path: a month that has no roll-ups, for fewer clients, read
from its inquiries and events as every report did before the roll-ups.

Round trips are counted twice. moto answers a Query in one page whatever its size, so "calls
under moto" is the floor; real DynamoDB returns at most 1 MB a page, so the pages a real table
needs are estimated from the bytes of the items read (their JSON size, a fair proxy for
DynamoDB's item size).
"""

from __future__ import annotations

import argparse
import json
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- dashboard:start -->", "<!-- dashboard:end -->"
PAGE_BYTES = 1024 * 1024
WORKERS = 50
MONTH_START = datetime(2027, 3, 1, 16, tzinfo=UTC)  # Monday 1 March 2027, 09:00 in Calgary


def traffic(clients: int, offset: int, month_start: datetime) -> tuple[list, list]:
    """A month of traffic for ``clients`` clients (ids from ``offset``): (inquiry items, audit events)."""
    from chalicelib.adapters import models as m
    from chalicelib.domain.audit import AuditEvent, AuditType

    inquiries, events = [], []
    for i in range(offset, offset + clients):
        client_id, staff = f"cl_bench{i:06d}", f"w{i % WORKERS:02d}"
        # spread over the month's working days, in office hours
        opened = month_start + timedelta(days=(i % 20) // 5 * 7 + (i % 5), minutes=(i * 7) % 420)
        answered = opened + timedelta(minutes=30 + i % 90)
        inquiry_id = f"iq_bench{month_start:%m}{i:06d}"
        inquiries.append(m.InquiryModel(
            inquiry_id=inquiry_id, agency_id="calgary-cfn", client_id=client_id, staff_id=staff,
            status="answered", staff_status=f"calgary-cfn#{staff}#answered", agency_status="calgary-cfn#answered",
            opened_at=opened, due_at=opened + timedelta(hours=24), answered_at=answered, answered_by=staff,
            first_response_business_seconds=(answered - opened).total_seconds()))

        def event(audit_type: AuditType, at: datetime, staff: str = staff, client_id: str = client_id,
                  **details: object) -> None:
            events.append(AuditEvent(agency_id="calgary-cfn", type=audit_type, at=at, actor=staff,
                                     client_id=client_id, staff_id=staff, details=details))

        event(AuditType.INQUIRY_OPENED, opened, inquiry_id=inquiry_id)
        for k in range(3):
            event(AuditType.MESSAGE_FILED, opened + timedelta(minutes=k), direction="inbound", kind="client",
                  channel="sms", message_id=f"ms_{uuid.uuid4().hex[:20]}", media=0)
        for k in range(2):
            message_id = f"ms_{uuid.uuid4().hex[:20]}"
            event(AuditType.MESSAGE_FILED, answered + timedelta(minutes=k), direction="outbound", kind="staff",
                  channel="sms", message_id=message_id)
            event(AuditType.STAFF_MESSAGE_SENT, answered + timedelta(minutes=k), message_id=message_id, holding=False)
        event(AuditType.INQUIRY_ANSWERED, answered, inquiry_id=inquiry_id, late=False,
              first_response_business_minutes=(answered - opened).total_seconds() / 60, holding=False)
        if i % 10 == 0:
            event(AuditType.AUTO_REPLY_SENT, opened + timedelta(hours=10), template="after_hours")
        if i % 100 == 0:
            event(AuditType.OVERRIDE, answered, reason="the client's hearing is tomorrow morning", message_id="ms_x")
    return inquiries, events


def seed_raw(inquiries: list, events: list) -> None:
    """The month as the webhook and the staff API would have left it: every item in its table."""
    from chalicelib.adapters import models as m
    from chalicelib.adapters.audit_repository import audit_item

    with m.AuditModel.batch_write() as audit, m.InquiryModel.batch_write() as rows:
        for item in inquiries:
            rows.save(item)
        for event in events:
            audit.save(audit_item(event))


def seed_rollups(inquiries: list, events: list, month_start: datetime) -> int:
    """The month's daily roll-ups from the real roll-up function; only overrides stay raw. Items written."""
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m
    from chalicelib.adapters.audit_repository import audit_item
    from chalicelib.adapters.inquiries_repository import inquiry_from
    from chalicelib.adapters.rollups_repository import COMPLIANCE, RollupRepository
    from chalicelib.domain import compliance_days as cd
    from chalicelib.domain.audit import AuditType
    from chalicelib.domain.reporting import AuditRecord, inquiry_fact

    policy = bootstrap.container().policies.get("calgary-cfn")
    zone = policy.calendar.zone()
    first = month_start.astimezone(zone).date()
    days = [first + timedelta(days=k) for k in range(31) if (first + timedelta(days=k)).month == first.month]
    records = [AuditRecord(event_id=e.event_id, type=e.type.value, at=e.at, actor=e.actor, staff_id=e.staff_id,
                           client_id=e.client_id, details=dict(e.details)) for e in events]
    facts = cd.facts_for_days(days, zone, [inquiry_fact(inquiry_from(i)) for i in inquiries], records, policy.calendar.is_open)
    store = RollupRepository()
    for day, day_facts in facts.items():
        m.CounterModel(counter_key=f"calgary-cfn#{COMPLIANCE}", day=day.isoformat()).delete()
        store.save("calgary-cfn", COMPLIANCE, day, day_facts.to_item())
    with m.AuditModel.batch_write() as audit:
        for event in events:
            if event.type is AuditType.OVERRIDE:
                audit.save(audit_item(event))
    return len(facts)


def measure(world, path: str) -> tuple[int, int, int, float]:
    """(calls under moto, items read, estimated 1 MB pages, seconds) of one GET."""
    from bench.world import bearer
    from tests.fault_helpers import DynamoTap

    supervisor = bearer("sup-maria", "supervisor")
    sizes: list[tuple[str, int]] = []

    class SizingTap(DynamoTap):  # the tap, plus the bytes of what each read returned
        def _call(self, connection, operation, kwargs):  # type: ignore[no-untyped-def]
            result = super()._call(connection, operation, kwargs)
            if isinstance(result, dict):
                sizes.append((operation, sum(len(json.dumps(item)) for item in result.get("Items", []))))
            return result

    with SizingTap() as tap:
        t0 = time.perf_counter()
        response = world.client.http.get(path, headers=supervisor)
        elapsed = time.perf_counter() - t0
    assert response.status_code == 200, response.body[:300]
    pages = sum(max(1, math.ceil(size / PAGE_BYTES)) if op == "Query" else 1
                for op, size in sizes if op in ("Query", "GetItem", "BatchGetItem", "Scan"))
    return tap.reads, tap.items_read, pages, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1000,10000")
    parser.add_argument("--raw-clients", type=int, default=100, help="clients of the raw baseline month")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.clients.split(",")]

    import time_machine

    from bench import world as w

    world = w.start(0)
    for k in range(WORKERS):
        world.call("PUT", f"/staff/w{k:02d}", world.admin, {"role": "worker", "name": f"Worker {k:02d}"})
    rows = []
    february, march = datetime(2027, 2, 1, 16, tzinfo=UTC), MONTH_START
    # Three weeks after the end of March: every day of March has settled and is rolled up.
    with time_machine.travel(datetime(2027, 4, 21, 16, tzinfo=UTC), tick=False):
        seed_raw(*traffic(args.raw_clients, 0, february))  # February has no roll-ups: the raw path
        raw = measure(world, "/reports/dashboard?from=2027-02-01&to=2027-02-28")
        for size in sizes:
            t0 = time.perf_counter()
            written = seed_rollups(*traffic(size, 0, march), march)
            seed_seconds = time.perf_counter() - t0
            dash = measure(world, "/reports/dashboard?from=2027-03-01&to=2027-03-31")
            base = measure(world, "/reports/compliance?from=2027-03-01&to=2027-03-31")
            rows.append((size, dash, base, written, seed_seconds))
    world.close()

    lines = ["| clients (a month of traffic) | dashboard: calls under moto | items read | 1 MB pages on DynamoDB (est.) | compliance report: calls | handler time (moto) | raw path, same run: calls / items / pages / time |",
             "|---|---|---|---|---|---|---|"]
    raw_text = f"{raw[0]} / {raw[1]:,} / {raw[2]} / {raw[3] * 1000:.0f} ms ({args.raw_clients:,} clients, February)"
    for size, dash, base, _written, _seed in rows:
        lines.append(f"| {size:,} | {dash[0]} | {dash[1]:,} | {dash[2]} | {base[0]} | {dash[3] * 1000:.0f} ms | {raw_text} |")
    first, last = rows[0], rows[-1]
    lines.append("")
    lines.append(
        f"From {first[0]:,} to {last[0]:,} clients the dashboard makes {first[1][0]} and {last[1][0]} calls "
        f"({first[1][2]} and {last[1][2]} pages): one Query of the month's {first[3]} daily roll-ups, one of the staff, "
        "and one BatchGetItem per 100 overrides listed (their reasons stay in the audit trail). What grows is the size "
        "of each roll-up (the workers' counts and the first-response minutes of the day's inquiries, so medians stay "
        f"exact): {last[1][1]:,} items read at {last[0]:,} clients, against {raw[1]:,} raw items for "
        f"{args.raw_clients:,} clients on the raw path, which grows with every event of the period.")
    table = "\n".join(lines)
    print(table)
    if args.write:
        text = RESULTS.read_text(encoding="utf-8")
        block = (f"{START}\n### Supervisor dashboard, one month (`python -m bench.dashboard --write`)\n\n"
                 f"{table}\n{END}")
        if START in text:
            text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
