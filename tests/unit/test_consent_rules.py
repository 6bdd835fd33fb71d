"""Consent and file-state rules on a single client file (CMDM §2, SPEC §5.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def a_client(**changes: object) -> Client:
    client = Client(
        client_id="cl_1", agency_id="calgary-cfn", case_manager_id="amal", phone="+15875550123",
        channel=Channel.WHATSAPP, language="ar", name="F", status=ClientStatus.ACTIVE, created_at=NOW,
        consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.WHATSAPP})),
    )
    return replace(client, **changes)


def test_new_file_without_consent_cannot_be_messaged():
    client = a_client(consent=Consent())
    assert client.messaging_refusal() == "no consent on record for whatsapp"


def test_consent_for_the_files_channel_allows_messaging():
    assert a_client().can_be_messaged()


def test_consent_for_another_channel_does_not_cover_this_one():
    client = a_client(consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS})))
    assert not client.can_be_messaged()


def test_withdrawn_consent_stops_messaging_and_keeps_the_reason():
    consent = a_client().consent.withdraw(NOW, "moved away")
    assert consent.state is ConsentState.WITHDRAWN and consent.withdrawn_reason == "moved away"
    assert a_client(consent=consent).messaging_refusal() == "client withdrew consent"


def test_opted_out_client_cannot_be_messaged_even_with_consent():
    assert a_client(opted_out=True).messaging_refusal() == "client opted out (STOP)"


def test_suspended_and_closed_files_refuse_messaging():
    assert a_client(status=ClientStatus.SUSPENDED).messaging_refusal() == "client file is suspended"
    assert a_client(status=ClientStatus.CLOSED).messaging_refusal() == "client file is closed"
