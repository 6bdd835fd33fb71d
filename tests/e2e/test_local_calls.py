"""Calls on one laptop (issue 25, item 5): ``cli phone --voicemail`` against ``make run``'s stack.

The simulator calls the seeded client's work number; whatever the hour (open: the worker's phone
rings and nobody answers; closed: the after-hours text), the caller leaves a voicemail. The
recording waits at the local Twilio stand-in; the stack's ``copy_media`` job copies it into the
bucket and deletes it there. Real processes, real threads, the job timer at one second.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local_stack import ROOT, LocalStack

FATIMA = "+15875550123"  # seeded WhatsApp client with consent
VOICEMAIL = b"ID3\x03cmdm-local-voicemail" * 40


@pytest.fixture(scope="module")
def call_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("local-twilio-calls")
    stack = LocalStack(extra_env={"CMDM_JOB_INTERVAL": "1", "CMDM_LOCAL_TWILIO_DIR": str(folder)})
    stack.folder = folder  # type: ignore[attr-defined]
    yield stack.start()
    stack.stop()


def test_a_voicemail_from_the_simulator_is_filed_copied_and_leaves_twilio(call_stack: LocalStack,
                                                                           tmp_path: Path) -> None:
    audio = tmp_path / "message.mp3"
    audio.write_bytes(VOICEMAIL)
    env = {k: v for k, v in call_stack.env.items() if k != "CMDM_MOTO_PORT"}
    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "phone", "--from", FATIMA, "--voicemail",
                           str(audio)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the phone says" in done.stdout and "beep: recording a voicemail" in done.stdout
    assert "voicemail: filed" in done.stdout

    status, clients = call_stack.call("GET", "/clients", call_stack.staff())
    (fatima,) = [c for c in clients["clients"] if c["name"].startswith("Fatima")]
    deadline = time.monotonic() + 90  # the job timer runs every second in this stack
    while True:
        status, body = call_stack.call("GET", f"/clients/{fatima['client_id']}/messages", call_stack.staff())
        [call] = [m for m in body["messages"] if m["kind"] == "call"]
        if call["media"][0]["status"] == "stored" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert call["direction"] == "inbound" and call["media"][0]["content_type"] == "audio/mpeg"
    assert call["media"][0]["status"] == "stored"
    assert list((call_stack.folder / "recordings").glob("RE*")) == []  # type: ignore[attr-defined]
