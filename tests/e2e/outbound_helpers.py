"""Helpers for the staff-message and sweep tests (issue 4).

Inbound handling (which opens inquiries) is built elsewhere, so these tests open inquiries by
writing the rows the inbound side writes: an ``open`` inquiry and the client's ``open_inquiry_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib import bootstrap
from chalicelib.adapters import models as m
from chalicelib.domain.audit import new_id

AGENCY = "calgary-cfn"


def at(text: str) -> datetime:
    """An instant from an ISO string with offset (Calgary is -07:00 in winter)."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value.astimezone(UTC)


def open_inquiry(client_id: str, *, opened_at: datetime, due_at: datetime, staff_id: str = "amal",
                 inbound_at: datetime | None = None) -> str:
    inquiry_id = new_id("iq")
    m.InquiryModel(
        inquiry_id=inquiry_id,
        agency_id=AGENCY,
        client_id=client_id,
        staff_id=staff_id,
        status="open",
        staff_status=f"{AGENCY}#{staff_id}#open",
        agency_status=f"{AGENCY}#open",
        opened_at=opened_at,
        due_at=due_at,
    ).save()
    client = m.ClientModel.get(client_id)
    client.update(actions=[
        m.ClientModel.open_inquiry_id.set(inquiry_id),
        m.ClientModel.open_inquiry_due_at.set(due_at),
        m.ClientModel.last_inbound_at.set(inbound_at or opened_at),
    ])
    return inquiry_id


def client_wrote_at(client_id: str, when: datetime) -> None:
    """The client's last inbound message (opens WhatsApp's 24-hour window)."""
    m.ClientModel.get(client_id).update(actions=[m.ClientModel.last_inbound_at.set(when)])


def inquiry(inquiry_id: str) -> m.InquiryModel:
    return m.InquiryModel.get(inquiry_id, consistent_read=True)


def client_row(client_id: str) -> m.ClientModel:
    return m.ClientModel.get(client_id, consistent_read=True)


def outbox() -> list[dict[str, Any]]:
    """What the outbox gateway has 'sent' in this test."""
    return bootstrap.container().gateway.sent


def messages(client_id: str) -> list[m.MessageModel]:
    return list(m.MessageModel.query(client_id, consistent_read=True))


def audit(kind: str | None = None) -> list[m.AuditModel]:
    events = list(m.AuditModel.query(AGENCY, consistent_read=True))
    return [e for e in events if kind is None or e.type == kind]


def sweep() -> Any:
    import app

    return app.run_job("sweep_clocks")


def use_gateway(gateway: Any) -> None:
    """Send through ``gateway`` from now on (services that hold the old one are rebuilt)."""
    built = bootstrap.container().__dict__
    built["gateway"] = gateway
    for name in ("messaging", "sweep"):
        built.pop(name, None)
