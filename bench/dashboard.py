"""The supervisor's dashboard for a month: DynamoDB round trips at 1,000 and 10,000 clients.

    python -m bench.dashboard [--clients 1000,10000] [--write]

What the dashboard reads (``chalicelib/services/supervision.py``): the inquiries opened in the
period (``by_agency_opened``), one audit range query over the period and the agency's staff.
Nothing is read per client, so the number of files does not matter; the month's *traffic* does.
The world here is a month of ordinary traffic for N clients written straight into the tables (the
same items the webhook and the staff API write): each client opens one inquiry, sends three
messages and gets two staff answers (9 audit events), and one in ten writes after hours and gets
an automatic reply; 50 workers hold the caseload.

Round trips are counted twice. moto answers a Query in one page whatever its size, so "calls
under moto" is the floor; real DynamoDB returns at most 1 MB a page, so the pages a real table
needs are estimated from the bytes of the items read (their JSON size, a fair proxy for
DynamoDB's item size). The baseline is ``GET /reports/compliance`` for the same month, measured
in the same run: the dashboard adds the charts without adding a read.
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


def seed_month(clients: int, offset: int) -> None:
    """A month of traffic for ``clients`` clients (ids from ``offset``), written in batches."""
    from chalicelib.adapters import models as m
    from chalicelib.adapters.store import audit_item
    from chalicelib.domain.audit import AuditEvent, AuditType

    with m.AuditModel.batch_write() as audit, m.InquiryModel.batch_write() as inquiries:
        for i in range(offset, offset + clients):
            client_id, staff = f"cl_bench{i:06d}", f"w{i % WORKERS:02d}"
            # spread over the month's working days, in office hours
            opened = MONTH_START + timedelta(days=(i % 20) // 5 * 7 + (i % 5), minutes=(i * 7) % 420)
            answered = opened + timedelta(minutes=30 + i % 90)
            inquiry_id = f"iq_bench{i:06d}"
            inquiries.save(m.InquiryModel(
                inquiry_id=inquiry_id, agency_id="calgary-cfn", client_id=client_id, staff_id=staff,
                status="answered", staff_status=f"calgary-cfn#{staff}#answered", agency_status="calgary-cfn#answered",
                opened_at=opened, due_at=opened + timedelta(hours=24), answered_at=answered, answered_by=staff,
                first_response_business_seconds=(answered - opened).total_seconds()))

            def event(audit_type: AuditType, at: datetime, staff: str = staff, client_id: str = client_id,
                      **details: object) -> None:
                audit.save(audit_item(AuditEvent(agency_id="calgary-cfn", type=audit_type, at=at, actor=staff,
                                                 client_id=client_id, staff_id=staff, details=details)))

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
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.clients.split(",")]

    import time_machine

    from bench import world as w

    world = w.start(0)
    for k in range(WORKERS):
        world.call("PUT", f"/staff/w{k:02d}", world.admin, {"role": "worker", "name": f"Worker {k:02d}"})
    rows = []
    seeded = 0
    period = "?from=2027-03-01&to=2027-03-31"
    with time_machine.travel(datetime(2027, 4, 1, 16, tzinfo=UTC), tick=False):
        for size in sizes:
            t0 = time.perf_counter()
            seed_month(size - seeded, seeded)
            seeded = size
            seed_seconds = time.perf_counter() - t0
            base = measure(world, "/reports/compliance" + period)
            dash = measure(world, "/reports/dashboard" + period)
            rows.append((size, dash, base, seed_seconds))
    world.close()

    lines = ["| clients (a month of traffic) | audit events + inquiries read | dashboard: calls under moto | dashboard: 1 MB pages on DynamoDB (est.) | compliance report (baseline): pages | ratio | dashboard handler time (moto) |",
             "|---|---|---|---|---|---|---|"]
    for size, dash, base, _seed in rows:
        lines.append(f"| {size:,} | {dash[1]:,} | {dash[0]} | {dash[2]} | {base[2]} | {dash[2] / base[2]:.2f}x | {dash[3] * 1000:.0f} ms |")
    first, last = rows[0], rows[-1]
    lines.append("")
    lines.append(f"From {first[0]:,} to {last[0]:,} clients the pages grow {last[1][2] / first[1][2]:.1f}x "
                 f"(items read {last[1][1] / first[1][1]:.1f}x): linear in the period's audit events and inquiries, "
                 "flat in the number of files and workers (one staff Query); the same reads as the compliance report.")
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
