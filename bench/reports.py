"""Report cost at scale (issue 16 item 4): DynamoDB reads of the usage and compliance reports for a
closed month at 1,000 and 10,000 clients and at ten times the message volume.

    python -m bench.reports [--write]      # also run by make bench

Each case is a fresh moto world: an agency whose clients consented before November (October's
last roll-up says so), and in November
``messages`` client messages per client (each opening an inquiry that a staff reply answers, so
the audit trail holds four events per message). The roll-up job runs once on 16 December, when November has settled (its own
cost is shown: it is the background work that makes the report cheap), then both reports are read
for 1-30 November on 17 December, through the HTTP API, with every DynamoDB call counted
(``tests/fault_helpers.DynamoTap``). Baseline: the 1,000-client case of the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench.reports:start -->", "<!-- bench.reports:end -->"
AGENCY = "calgary-cfn"


def _env() -> None:
    sys.path.insert(0, str(ROOT))
    from tests import conftest

    for key, value in conftest.TEST_ENV.items():
        os.environ[key] = value
    os.environ.pop("DYNAMODB_ENDPOINT", None)


def seed(clients: int, messages: int) -> None:
    """The agency's month as the services record it (audit events and inquiries), written in bulk."""
    from chalicelib.adapters import models as m
    from chalicelib.adapters.audit_repository import audit_item

    # The job has been rolling the agency up all along: October's last roll-up says every client is a
    # member (their consent is older). The month measured is November, rolled up by the job itself.
    from chalicelib.adapters.rollups_repository import USAGE, RollupRepository
    from chalicelib.domain.audit import AuditEvent, AuditType
    from chalicelib.domain.usage import UsageDay

    RollupRepository().save(AGENCY, USAGE, datetime(2026, 10, 31).date(),
                       UsageDay(day=datetime(2026, 10, 31).date(), active_end=clients).to_item())
    with m.AuditModel.batch_write() as audit, m.InquiryModel.batch_write() as inquiries:
        for i in range(clients):
            cid, staff = f"cl_b{i:06d}", ("amal" if i % 2 else "jean")

            def event(type_: AuditType, at: datetime, cid: str = cid, staff: str = staff, **details: Any) -> None:
                audit.save(audit_item(AuditEvent(agency_id=AGENCY, type=type_, at=at, actor=staff, client_id=cid,
                                                 staff_id=staff, details=details)))

            for k in range(messages):
                opened = datetime(2026, 11, 2 + (i + k) % 27, 16, tzinfo=UTC) + timedelta(seconds=i % 3600)
                iid = f"inq_b{i:06d}_{k:02d}"
                event(AuditType.INQUIRY_OPENED, opened, inquiry_id=iid)
                event(AuditType.MESSAGE_FILED, opened, direction="inbound", kind="client", message_id=f"mi{i}_{k}")
                event(AuditType.STAFF_MESSAGE_SENT, opened + timedelta(minutes=20), message_id=f"mo{i}_{k}")
                event(AuditType.INQUIRY_ANSWERED, opened + timedelta(minutes=20), inquiry_id=iid)
                inquiries.save(m.InquiryModel(
                    inquiry_id=iid, agency_id=AGENCY, client_id=cid, staff_id=staff, status="answered",
                    staff_status=f"{AGENCY}#{staff}#answered", agency_status=f"{AGENCY}#answered", opened_at=opened,
                    due_at=opened + timedelta(hours=24), answered_at=opened + timedelta(minutes=20),
                    answered_by=staff, first_response_business_seconds=1200,
                ))


def measure(clients: int, messages: int) -> dict[str, Any]:
    import moto
    import time_machine
    from chalice.test import Client

    from chalicelib import bootstrap, cli
    from tests.conftest import auth
    from tests.fault_helpers import DynamoTap

    with moto.mock_aws():
        bootstrap.reset()
        assert cli.main(["init-db"]) == 0
        from bench.load_stack import cheap_transaction_rollback

        undo = cheap_transaction_rollback()
        try:
            import app as application

            seed(clients, messages)
            with time_machine.travel(datetime(2026, 12, 16, 12, tzinfo=UTC), tick=False), DynamoTap() as job:
                started = time.perf_counter()
                # One scheduled run has a 20 s budget; a big backlog takes a few runs (each resumes).
                for _run in range(50):
                    summary = application.run_job("roll_up_reports") or {}
                    if not summary.get("deferred"):
                        break
                job_seconds = time.perf_counter() - started
            out: dict[str, Any] = {"job_reads": job.reads, "job_seconds": job_seconds}
            supervisor = auth("sup-maria", "supervisor")
            with Client(application.app, stage_name="test", project_dir=str(ROOT)) as client:
                admin = auth("admin-lee", "admin")
                for staff_id, role in (("admin-lee", "admin"), ("sup-maria", "supervisor"), ("amal", "worker"),
                                       ("jean", "worker")):
                    import json

                    client.http.put(f"/staff/{staff_id}", headers=admin, body=json.dumps({"role": role, "name": staff_id}))
                with time_machine.travel(datetime(2026, 12, 17, 17, tzinfo=UTC), tick=False):
                    for path in ("/reports/usage", "/reports/compliance"):
                        client.http.get(path + "?from=2026-11-01&to=2026-11-30", headers=supervisor)  # warm caches
                        with DynamoTap() as tap:
                            started = time.perf_counter()
                            response = client.http.get(path + "?from=2026-11-01&to=2026-11-30&period=month",
                                                       headers=supervisor)
                            seconds = time.perf_counter() - started
                        assert response.status_code == 200, response.body[:300]
                        out[path] = (tap.reads, tap.items_read, seconds)
                        if path == "/reports/usage":
                            totals = json.loads(response.body)["totals"]
                            assert totals["active_clients"] == clients and totals["messages_in"] == clients * messages
                            assert totals["inquiries_answered"] == clients * messages
            return out
        finally:
            undo()
            bootstrap.reset()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--write", action="store_true", help="record the table in bench/RESULTS.md")
    parser.add_argument("--messages", type=int, default=2, help="client messages per client in the month")
    args = parser.parse_args(argv)
    _env()
    import logging

    logging.disable(logging.WARNING)
    cases = [("1,000 clients", 1000, args.messages), ("10,000 clients", 10000, args.messages),
             ("1,000 clients, 10x messages", 1000, args.messages * 10)]
    results = [(label, clients, messages, measure(clients, messages)) for label, clients, messages in cases]
    base = results[0][3]
    lines = ["| report (November, split by month) | case | audit events in the month | DynamoDB reads | items read "
             "| ratio of reads to 1,000 clients | time |", "|---|---|---|---|---|---|---|"]
    for path in ("/reports/usage", "/reports/compliance"):
        for label, clients, messages, out in results:
            reads, items, seconds = out[path]
            lines.append(f"| GET {path} | {label} | {clients * messages * 4:,} | {reads} | {items:,} "
                         f"| {reads / base[path][0]:.2f} | {seconds * 1000:.0f} ms |")
    for label, clients, messages, out in results:
        lines.append(f"| roll_up_reports job (background, once per day) | {label} | {clients * messages * 4:,} "
                     f"| {out['job_reads']} | - | - | {out['job_seconds']:.1f} s |")
    from bench.run import machine

    text = f"Measured {machine()}.\n\n" + "\n".join(lines)
    print(text)
    if args.write:
        from bench.run import write_results

        write_results(text, START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
