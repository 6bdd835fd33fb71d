"""``cli phone`` plays a client's phone against the server it talks to (issue 11, item 15).

It must reach ``make run`` on whatever port it was started on (``CMDM_PORT``, or ``--server``),
sign for that URL as Twilio would, and say what really happened to the message.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.local_stack import ROOT, LocalStack

FATIMA = "+15875550123"  # seeded: WhatsApp, consented
NADIA = "+15875550125"  # seeded: SMS, no consent on record
WORK_NUMBER = "+15873550101"


def phone(stack: LocalStack, *args: str, port_env: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in stack.env.items() if k not in ("CMDM_PORT", "CMDM_MOTO_PORT")}
    if port_env:
        env["CMDM_PORT"] = str(stack.port)
    return subprocess.run([sys.executable, "-m", "chalicelib.cli", "phone", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def _filed_bodies(stack: LocalStack) -> list[str]:
    status, clients = stack.call("GET", "/clients", stack.staff())
    assert status == 200
    (fatima,) = [c for c in clients["clients"] if c["name"].startswith("Fatima")]
    status, messages = stack.call("GET", f"/clients/{fatima['client_id']}/messages", stack.staff())
    return [m["body"] for m in messages["messages"] if m["direction"] == "inbound"]


def test_phone_follows_cmdm_port_and_says_the_message_was_filed(local_stack):
    assert local_stack.port != 8000
    done = phone(local_stack, "--whatsapp", "--from", FATIMA, "--to", WORK_NUMBER, "question about rent")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "HTTP 200" in done.stdout
    assert "filed in the client's file" in done.stdout
    assert "question about rent" in _filed_bodies(local_stack)


def test_phone_with_server_signs_for_that_server(local_stack):
    done = phone(local_stack, "--server", local_stack.public_url, "--whatsapp", "--from", FATIMA,
                 "--to", WORK_NUMBER, "via --server", port_env=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "HTTP 200" in done.stdout and "filed in the client's file" in done.stdout
    assert "via --server" in _filed_bodies(local_stack)


def test_phone_reports_a_refused_message_as_not_filed(local_stack):
    done = phone(local_stack, "--from", NADIA, "--to", WORK_NUMBER, "hello without consent")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "NOT filed" in done.stdout and "no consent" in done.stdout
    assert "in the file" not in done.stdout


def test_phone_reports_a_replayed_sid_as_already_received(local_stack):
    sid = "SM" + os.urandom(16).hex()
    first = phone(local_stack, "--whatsapp", "--from", FATIMA, "--sid", sid, "once")
    again = phone(local_stack, "--whatsapp", "--from", FATIMA, "--sid", sid, "once")
    assert "filed in the client's file" in first.stdout
    assert "already received" in again.stdout and again.returncode == 0
    assert _filed_bodies(local_stack).count("once") == 1


def test_phone_says_when_no_server_answers(local_stack):
    done = phone(local_stack, "--server", "http://127.0.0.1:9", "--from", FATIMA, "hello", port_env=False)
    assert done.returncode == 1
    assert "no server answered at http://127.0.0.1:9" in done.stderr
