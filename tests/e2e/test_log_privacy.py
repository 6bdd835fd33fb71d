"""No phone number or message body ever reaches a log (SPEC §5.7), even with everything at DEBUG.

A handler on the root logger at DEBUG records every line any logger emits (ours, Chalice's,
botocore's, PynamoDB's, moto's) while a scenario touches many endpoints with real-looking numbers
and bodies; then no line may contain an E.164 number or any of the bodies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import app as application
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from chalicelib.adapters.clients_repository import closing_changes
from chalicelib.adapters.keys import sort_key
from chalicelib.domain.audit import AuditEvent, AuditType
from tests.conftest import auth, new_client
from tests.store_helpers import update_client

E164 = re.compile(r"\+?1?\s?\(?587\)?[\s.-]?555[\s.-]?\d{4}|\+\d{8,15}")
PHONES = ("+15875550123", "+15875550124", "+15873550101", "+15873550102")
BODIES = ("Mon propriétaire veut que je parte vendredi", "أحتاج موعدًا مع الطبيب", "Secret appointment at 3pm")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record still counts: keep its raw parts
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def every_log_line() -> Iterator[Collect]:
    import app  # noqa: F401  (Chalice configures its "cmdm" logger, which does not propagate, on import)

    root = logging.getLogger()
    handler = Collect()
    # Loggers that do not propagate to the root (Chalice's app logger) get the handler directly.
    isolated = [logging.getLogger(name) for name, lg in logging.root.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and not lg.propagate]
    watched = [root, *isolated]
    old_levels = [lg.level for lg in watched]
    for lg in watched:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in zip(watched, old_levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def seed_messages(client_id: str) -> None:
    for i, body in enumerate(BODIES):
        at = datetime(2026, 3, 2, 17, i, tzinfo=UTC)
        m.MessageModel(client_id=client_id, sk=sort_key(at, f"m{i}"), message_id=f"m{i}", agency_id="calgary-cfn",
                       direction="inbound", kind="client", body=body, at=at, status="received", channel="sms",
                       from_number=PHONES[2]).save()


def test_a_day_of_supervision_logs_no_phone_number_and_no_body(http, agency, every_log_line, monkeypatch):
    admin, sup, amal = agency["admin"], agency["supervisor"], agency["amal"]
    first = new_client(http, amal, phone=PHONES[0], channel="sms", language="fr")
    second = new_client(http, amal, phone=PHONES[1], channel="whatsapp")
    seed_messages(first["client_id"])
    calls = [
        ("POST", "/clients", amal, {"case_manager_id": "amal", "phone": PHONES[0], "channel": "sms",
                                    "language": "fr", "name": "Twice"}),  # 409: duplicate number
        ("POST", "/clients", amal, {"case_manager_id": "amal", "phone": "+1587555012", "channel": "sms",
                                    "language": "fr", "name": "Short"}),  # 400: invalid number
        ("GET", f"/clients/{first['client_id']}", amal, None),
        ("GET", f"/clients/{first['client_id']}/export", amal, None),
        ("GET", f"/clients/{first['client_id']}/export", auth("admin-h", "admin", "halifax-isans"), None),
        ("DELETE", f"/clients/{second['client_id']}/consent", amal, {"reason": BODIES[2]}),
        ("GET", "/audit?from=2026-01-01&to=2026-12-31", sup, None),
        ("GET", "/reports/compliance?from=2026-01-01&to=2026-12-31", sup, None),
        ("GET", "/reports/usage?from=2026-01-01&to=2026-12-31&period=month", admin, None),
        ("GET", "/reports/usage?from=2026-13-01&to=2026-12-31", admin, None),
        ("DELETE", f"/clients/{first['client_id']}", admin, None),  # 409: still open
    ]
    for method, path, who, body in calls:
        assert http.call(method, path, who, body).status_code < 500, path
    closed_at = datetime(2026, 3, 9, 17, tzinfo=UTC)
    event = AuditEvent(agency_id="calgary-cfn", type=AuditType.CLIENT_STATUS, at=closed_at, actor="admin-lee",
                       client_id=first["client_id"], staff_id="amal", details={"status": "closed"})
    update_client(first["client_id"], closing_changes(closed_at), [event])
    assert http.call("DELETE", f"/clients/{first['client_id']}", admin).status_code == 200
    application.run_job("erase_expired")

    # An unexpected failure whose message carries a number and a body is logged by type only.
    def explode(*_args, **_kwargs):
        raise RuntimeError(f"failed for {PHONES[1]}: {BODIES[0]}")

    monkeypatch.setattr(bootstrap.container().reports, "usage", explode)
    assert http.call("GET", "/reports/usage?from=2026-01-01&to=2026-01-31", sup).status_code == 500

    lines = every_log_line.lines
    assert any("unhandled error" in line for line in lines)  # the handler did see the logs
    leaks = [line for line in lines if E164.search(line) or any(b in line for b in BODIES)
             or any(p[1:] in line for p in PHONES)]
    assert not leaks, f"{len(leaks)} of {len(lines)} log lines leak, e.g.:\n" + "\n".join(x[:300] for x in leaks[:5])


def test_a_week_of_webhooks_staff_messages_and_jobs_logs_no_phone_number_and_no_body(http, agency, every_log_line):
    from tests.e2e.test_supervision_flow import BODIES as WEEK_BODIES
    from tests.e2e.test_supervision_flow import local, text_in, week

    stranger = "+15875550199"
    fatima, _joseph = week(http, agency)
    with local("2026-11-18T11:00"):
        text_in(http, stranger, "+15873550101", "Hello, I need a file please, my number is +15875550199")
        text_in(http, "+15875550124", "+15873550102", "STOP")
    with local("2026-11-23T10:05"):
        application.run_job("run_followups")
        application.run_job("sweep_clocks")
    with local("2026-11-20T12:00"):
        for method, path, body in (
            ("GET", f"/clients/{fatima}/messages", None),
            ("GET", "/inquiries?status=open", None),
            ("GET", "/notifications", None),
            ("GET", "/followups", None),
            ("GET", "/reports/compliance?from=2026-11-16&to=2026-11-20", None),
            ("GET", "/audit?from=2026-11-16&to=2026-11-20", None),
            ("PUT", f"/clients/{fatima}/status", {"status": "closed", "reason": "moved away"}),
            ("GET", f"/clients/{fatima}/export", None),
            ("DELETE", f"/clients/{fatima}", None),
        ):
            who = agency["admin"] if method != "GET" or "export" in path else agency["amal"]
            if path.startswith(("/reports", "/audit")):
                who = agency["supervisor"]
            assert http.call(method, path, who, body).status_code < 500, path
    lines = every_log_line.lines
    assert lines  # the scenario did log (library INFO lines, job summaries)
    texts = (*WEEK_BODIES.values(), "my number is")
    leaks = [line for line in lines if E164.search(line) or any(t in line for t in texts)
             or any(p[1:] in line for p in (*PHONES, stranger))]
    assert not leaks, f"{len(leaks)} of {len(lines)} log lines leak, e.g.:\n" + "\n".join(x[:300] for x in leaks[:5])
