"""Fixtures the end-to-end tests share: Twilio's REST API played by the local stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.local_twilio import TwilioStandIn
from tests.conftest import TEST_ENV


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TwilioStandIn]:
    """The stand-in serving media, deletions and redactions at Twilio's paths, wired for this test."""
    stand_in = TwilioStandIn(tmp_path, TEST_ENV["TWILIO_ACCOUNT_SID"], TEST_ENV["TWILIO_AUTH_TOKEN"])
    monkeypatch.setenv("CMDM_TWILIO_API_BASE", stand_in.start())
    bootstrap.reset()
    yield stand_in
    stand_in.stop()
    bootstrap.reset()
