"""Media on one laptop: ``make run``'s Twilio stand-in (issue 11, item 16).

The simulator sends a photo as WhatsApp would (a ``MediaUrl`` at Twilio's media resource of that
message); the local stack's ``copy_media`` job fetches it from the stand-in with the account's
credentials, stores it in the (embedded) bucket and deletes it "at Twilio". Real threads, real
processes: the stack is ``python -m chalicelib.local`` with its job timer at one second.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local_stack import ROOT, LocalStack

FATIMA = "+15875550123"  # seeded WhatsApp client with consent
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"cmdm-test-photo"


@pytest.fixture(scope="module")
def media_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("local-twilio")
    stack = LocalStack(extra_env={"CMDM_JOB_INTERVAL": "1", "CMDM_LOCAL_TWILIO_DIR": str(folder)})
    stack.folder = folder  # type: ignore[attr-defined]
    yield stack.start()
    stack.stop()


def _fatima_messages(stack: LocalStack) -> list[dict]:
    status, clients = stack.call("GET", "/clients", stack.staff())
    (fatima,) = [c for c in clients["clients"] if c["name"].startswith("Fatima")]
    status, body = stack.call("GET", f"/clients/{fatima['client_id']}/messages", stack.staff())
    assert status == 200
    return body["messages"]


def test_a_photo_from_the_simulator_reaches_the_file_and_leaves_twilio(media_stack: LocalStack, tmp_path: Path):
    photo = tmp_path / "lease.png"
    photo.write_bytes(PNG)
    env = {k: v for k, v in media_stack.env.items() if k != "CMDM_MOTO_PORT"}
    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "phone", "--whatsapp", "--from", FATIMA,
                           "--media-file", str(photo), "my lease"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "filed in the client's file" in done.stdout
    left = list((media_stack.folder / "media").rglob("ME*"))  # type: ignore[attr-defined]
    assert [p.suffix for p in left] == [""] or sorted(p.suffix for p in left) == ["", ".type"]

    deadline = time.monotonic() + 90  # the job timer runs every second in this stack
    while True:
        [message] = [m for m in _fatima_messages(media_stack) if m["body"] == "my lease"]
        if message["media"][0]["status"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    media = message["media"][0]
    assert media["status"] == "stored", media
    assert media["content_type"] == "image/png" and media["size"] == len(PNG)
    with urllib.request.urlopen(media["url"], timeout=10) as response:  # the bucket's short-lived link
        assert response.read() == PNG
    assert list((media_stack.folder / "media").rglob("ME*")) == []  # deleted "at Twilio"  # type: ignore[attr-defined]
