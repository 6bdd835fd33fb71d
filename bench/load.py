"""``make load``: signed webhooks against ``make run``'s stack on loopback, then an exactly-once audit.

    python -m bench.load [--messages 5000] [--clients 500] [--concurrency 20] [--max-seconds 900]
                         [--duplicates 0.02] [--port 0] [--write]

1. Starts the local stack (``bench/load_stack.py``: ``chalicelib.local.main`` with moto's rollback
   copies made per item) as a subprocess on free loopback ports, jobs timer off.
2. Opens ``--clients`` consented client files through the staff API.
3. Sends ``--messages`` signed SMS webhooks round-robin from those clients at ``--concurrency``,
   each with a unique body; a ``--duplicates`` share is delivered a second time with the same
   ``MessageSid`` (Twilio's retry). Stops sending at ``--max-seconds``.
4. Reads every file back through ``GET /clients/{id}/messages`` and checks each delivered message
   is filed exactly once, and that no request got a 5xx.

Prints throughput and latency percentiles; exits 1 if any check fails. ``--write`` records the run
in bench/RESULTS.md (between the load markers).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
LOAD_START, LOAD_END = "<!-- load:start -->", "<!-- load:end -->"
HOST = "127.0.0.1"
WEBHOOK = "/webhooks/twilio/messages"
WORK_NUMBER = "+15873550101"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Stack:
    """The local stack in a subprocess; stopped (by its own pid) on exit."""

    def __init__(self, port: int) -> None:
        from chalicelib.config import LOCAL_DEFAULTS

        self.port = port
        self.public_url = f"http://{HOST}:{port}"
        self.twilio_token = os.environ.get("TWILIO_AUTH_TOKEN", LOCAL_DEFAULTS["TWILIO_AUTH_TOKEN"])
        self.jwt_secret = os.environ.get("CMDM_DEV_JWT_SECRET", LOCAL_DEFAULTS["CMDM_DEV_JWT_SECRET"])
        env = {**os.environ, "CMDM_PORT": str(port), "CMDM_MOTO_PORT": str(free_port()),
               "CMDM_JOB_INTERVAL": "86400", "CMDM_STAGE": "local", "CMDM_TABLE_PREFIX": "cmdm-local-",
               "PYTHONUNBUFFERED": "1"}
        for key in ("DYNAMODB_ENDPOINT", "CMDM_PUBLIC_URL", "CMDM_OUTBOUND"):
            env.pop(key, None)
        self.log = open(ROOT / ".load-stack.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.load_stack"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the stack exited early; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/clients/none")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the stack did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


_local = threading.local()


def request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes, float]:
    """One HTTP request on this thread's keep-alive connection; (status, body, seconds)."""
    for attempt in range(2):
        conn = getattr(_local, "conn", None)
        if conn is None:
            conn = _local.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close" or response.version == 10:
                conn.close()
                _local.conn = None
            return response.status, data, time.perf_counter() - t0
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            _local.conn = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after this long")
    parser.add_argument("--duplicates", type=float, default=0.02, help="share delivered twice (Twilio retries)")
    parser.add_argument("--port", type=int, default=0, help="API port (default: a free one, never 8000)")
    parser.add_argument("--write", action="store_true", help="record this run in bench/RESULTS.md")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from twilio.request_validator import RequestValidator

    from chalicelib.adapters.auth import mint_dev_token

    stack = Stack(args.port or free_port())
    try:
        stack.wait_ready()
        validator = RequestValidator(stack.twilio_token)
        token = mint_dev_token(stack.jwt_secret, "amal", "calgary-cfn", "worker", 3600)
        staff = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def open_file(i: int) -> tuple[str, str]:
            phone = f"+1403{6000000 + i:07d}"
            status, data, _ = request(stack.port, "POST", "/clients", staff, json.dumps(
                {"case_manager_id": "amal", "phone": phone, "channel": "sms", "language": "en",
                 "name": f"Load {i}"}).encode())
            if status != 201:
                raise RuntimeError(f"POST /clients answered {status}: {data[:200]!r}")
            client_id = json.loads(data)["client_id"]
            status, data, _ = request(stack.port, "PUT", f"/clients/{client_id}/consent", staff, json.dumps(
                {"form_version": "CFN-2026", "signed_at": "2026-01-05T10:00:00-07:00", "channels": ["sms"],
                 "circle_of_care": ["settlement team"]}).encode())
            if status != 200:
                raise RuntimeError(f"PUT consent answered {status}: {data[:200]!r}")
            return client_id, phone

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            files = list(pool.map(open_file, range(args.clients)))
        setup_seconds = time.perf_counter() - t0
        print(f"opened {len(files)} consented files in {setup_seconds:.1f} s", flush=True)

        every = max(1, round(1 / args.duplicates)) if args.duplicates > 0 else 0
        plan: list[tuple[int, dict[str, str]]] = []
        for i in range(args.messages):
            _, phone = files[i % len(files)]
            sid = "SM" + uuid.uuid4().hex
            form = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32,
                    "From": phone, "To": WORK_NUMBER, "Body": f"load message {i} \u0645\u0631\u062d\u0628\u0627",
                    "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
            plan.append((i, form))
            if every and i % every == every - 1:
                plan.append((i, form))  # Twilio's retry of the same delivery
        deadline = time.monotonic() + args.max_seconds
        outcomes: list[tuple[int, int, float]] = []  # (message index, status, seconds)
        lock = threading.Lock()

        def deliver(entry: tuple[int, dict[str, str]]) -> None:
            if time.monotonic() > deadline:
                return
            i, form = entry
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": validator.compute_signature(stack.public_url + WEBHOOK, form)}
            try:
                status, _, seconds = request(stack.port, "POST", WEBHOOK, headers, urlencode(form).encode())
            except OSError:
                status, seconds = 599, 0.0  # no answer at all
            with lock:
                outcomes.append((i, status, seconds))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(deliver, plan))
        elapsed = time.perf_counter() - t0

        # -- exactly once --------------------------------------------------------------------------
        def read_file(entry: tuple[str, str]) -> list[str]:
            status, data, _ = request(stack.port, "GET", f"/clients/{entry[0]}/messages", staff, None)
            if status != 200:
                raise RuntimeError(f"GET messages answered {status}")
            return [m["body"] for m in json.loads(data)["messages"] if m["direction"] == "inbound"]

        with ThreadPoolExecutor(args.concurrency) as pool:
            stored = Counter(body for bodies in pool.map(read_file, files) for body in bodies)
    finally:
        stack.stop()

    statuses = Counter(status for _, status, _ in outcomes)
    accepted = {i for i, status, _ in outcomes if status == 200}
    sent = {i for i, _, _ in outcomes}
    twice = [b for b, n in stored.items() if n > 1]
    missing = [i for i in accepted if stored.get(f"load message {i} \u0645\u0631\u062d\u0628\u0627", 0) != 1]
    latencies = [s for _, status, s in outcomes if status < 600]
    p = (lambda q: sorted(latencies)[min(len(latencies) - 1, int(q * len(latencies)))]) if latencies else (lambda q: 0)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    ok = not twice and not missing and server_errors == 0 and len(sent) == args.messages
    report = [
        f"Load run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" stack and load generator on the same machine (loopback).",
        f"- {len(files)} client files; {len(outcomes)} webhook requests ({len(sent)} distinct messages, "
        f"{len(outcomes) - len(sent)} Twilio-style redeliveries) at concurrency {args.concurrency}"
        + ("" if len(sent) == args.messages else f"; stopped at --max-seconds with {args.messages - len(sent)} unsent"),
        f"- statuses: {dict(sorted(statuses.items()))}; 5xx: {server_errors}",
        f"- throughput: {len(outcomes) / elapsed:.1f} requests/s over {elapsed:.1f} s",
        f"- latency: p50 {statistics.median(latencies) * 1000:.0f} ms, p90 {p(0.90) * 1000:.0f} ms, "
        f"p99 {p(0.99) * 1000:.0f} ms, max {max(latencies, default=0) * 1000:.0f} ms",
        f"- filed exactly once: {len(accepted) - len(missing)}/{len(accepted)} accepted messages; "
        f"filed twice: {len(twice)}; {'PASS' if ok else 'FAIL'}",
    ]
    text = "\n".join(report)
    print(text)
    if args.write:
        from bench.run import write_results

        command = " ".join(argv if argv is not None else sys.argv[1:])
        write_results(f"Command: `python -m bench.load {command}`\n\n{text}", LOAD_START, LOAD_END)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
