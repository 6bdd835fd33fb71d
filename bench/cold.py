"""A cold Lambda's first webhook, measured from the zip ``make package`` ships (issue 24).

    python -m bench.cold [--runs 15] [--zip build/prod/deployment.zip] [--write]   (also part of make bench)

What a new Lambda container does, done here as closely as a laptop can: the zip is unpacked into
a folder made read-only (Lambda's ``/var/task``), a fresh CPython ``LAMBDA_PYTHON`` (the
runtime's own Python, found as ``make package`` finds it) runs with ``PYTHONDONTWRITEBYTECODE=1``
and only that folder (and the runtime's SDK, below) on its path (``-S``), imports the handler as
Lambda's init phase does (with the environment variables Lambda sets, so CMDM prepares what it
prepares in Lambda), then serves one signed Twilio webhook, talking to DynamoDB through moto's
server on loopback.

Live updates are on, as deployed (issue 23): the stack gives every function ``CMDM_LIVE_QUEUE_URL``,
so the webhook's commit also sends its changes to the live-updates queue (one SQS request).
The bench creates that queue in the same moto server (``AWS_ENDPOINT_URL_SQS`` points botocore
at it) and, after every run of CMDM, reads the queue back: a run whose commit did not arrive there
stops the bench, since ``LiveDispatch`` drops a failed send silently (best effort) and the figure
would then leave out work the deployed function does.

The zip carries no boto3: Lambda's Python runtime provides it, on the path after ``/var/task``
(whose botocore wins). The bench stands in for it with the boto3 and s3transfer installed beside
it, compiled for the same Python and read-only, after the zip on the path.

The floor is the least a webhook handler can do (``bench/floor.py``: Chalice, PynamoDB, Twilio's
``RequestValidator``, one conditional ``PutItem``), run by the same interpreter from the same
unpacked zip, its own module compiled for the same Python. Each run starts one interpreter of
each kind, alternating, so both see the same machine load; the figures are the medians and
their ratio. The clock is the bench's office-hours instant (a Monday, 10:00 in Calgary), set
through ``chalicelib.domain.clock``, so every run takes the same path.

Rows: the zip as shipped; the same zip with its bytecode deleted (what ``make package`` shipped
before issue 24, every module compiled at import); the shipped zip imported outside Lambda
(nothing prepared in the init phase), which shows what the init phase took off the first
request; ``import app`` alone against a bare Chalice app; and the zip's size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "build" / "prod" / "deployment.zip"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PATH = "/webhooks/twilio/messages"
# What Lambda sets in every function's environment that CMDM reads at init (chalicelib/snapstart.py).
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "cmdm-bench-APIHandler", "_HANDLER": "app.app",
              "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}

# One cold container: t0 before the handler's import (Lambda's init phase), t1 after it, t2 once
# the first webhook is answered. Prints init, first request, total (seconds) and what was prepared.
FIRST_WEBHOOK = r"""
import json, os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
if sys.argv[1] == "floor":
    from bench import floor
    from chalicelib.adapters import models
    models.configure(os.environ["CMDM_TABLE_PREFIX"], "ca-central-1", os.environ["DYNAMODB_ENDPOINT"])
    floor.configure(os.environ["TWILIO_AUTH_TOKEN"], os.environ["CMDM_PUBLIC_URL"])
    handler = floor.floor
else:
    from datetime import datetime
    import chalicelib.domain.clock as clock
    monday_ten_in_calgary = datetime.fromisoformat("2026-11-23T16:00:00+00:00")
    clock.utcnow = lambda: monday_ten_in_calgary
    import app
    handler = app.app
t1 = time.perf_counter()
if sys.argv[1] == "snapstart":  # the snapshot is taken here; a restored copy starts with after_restore
    from chalicelib import snapstart
    snapstart.before_snapshot()
    t1 = time.perf_counter()
    snapstart.after_restore()
imported_at_init = set(sys.modules)
result = handler(json.loads(sys.argv[2]), None)
t2 = time.perf_counter()
assert result["statusCode"] == 200, result
prepared = getattr(sys.modules.get("chalicelib.snapstart"), "PREPARED", [])
print(json.dumps({"init": t1 - t0, "first": t2 - t1, "total": t2 - t0, "cpu": time.process_time() - c0,
                  "prepared": list(prepared), "first_imports": sorted(set(sys.modules) - imported_at_init),
                  "body": result["body"][:200]}))
"""

IMPORT_ONLY = r"""
import sys, time
t0 = time.perf_counter()
if sys.argv[1] == "bare":
    import chalice, pynamodb.models
    chalice.Chalice(app_name="bare")
else:
    import app
print(time.perf_counter() - t0)
"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _interpreter() -> str:
    from infra import package

    return package.require_runtime_interpreter(os.environ.get("RUNTIME_PYTHON") or None)


def _floor_code(target: Path, interpreter: str) -> Path:
    """``bench/floor.py`` alone, compiled for ``interpreter`` like the zip, read-only."""
    from infra import bytecode

    (target / "bench").mkdir(parents=True)
    (target / "bench" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copy2(ROOT / "bench" / "floor.py", target / "bench" / "floor.py")
    bytecode.compile_tree(target, interpreter)
    bytecode.make_read_only(target)
    return target


def _runtime_sdk(target: Path, interpreter: str) -> Path:
    """What Lambda's Python runtime adds after ``/var/task``: boto3 (and s3transfer, which boto3
    imports for S3), here the copies installed beside the bench, compiled for ``interpreter``."""
    import importlib.util

    from infra import bytecode

    target.mkdir(parents=True)
    for name in ("boto3", "s3transfer"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"{name} is not installed beside the bench (requirements-dev.txt)")
        shutil.copytree(next(iter(spec.submodule_search_locations)), target / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    bytecode.compile_tree(target, interpreter)
    bytecode.make_read_only(target)
    return target


def _without_bytecode(task: Path, target: Path) -> Path:
    from infra import bytecode

    shutil.copytree(task, target, ignore=shutil.ignore_patterns("__pycache__"))
    bytecode.make_read_only(target)
    return target


class _LiveQueue:
    """The live-updates queue of the stack, in the bench's moto server: every CMDM run must leave
    its first webhook's changes there, as a deployed function does."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self._sqs = boto3.client("sqs", region_name="ca-central-1", endpoint_url=endpoint)
        self.url = self._sqs.create_queue(QueueName="cmdm-bench-live")["QueueUrl"]

    def expect_change_of(self, client_id: str, case: str) -> None:
        got = self._sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        changes = [c for m in messages for c in json.loads(m["Body"]).get("changes", [])]
        for m in messages:
            self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        if not any(c.get("client_id") == client_id and c.get("client_wrote") for c in changes):
            raise RuntimeError(f"{case}: the first webhook's commit sent no live update to the queue "
                               f"({len(messages)} message(s) there)")


def _run(interpreter: str, code: str, args: list[str], path: list[Path], env: dict[str, str]) -> dict[str, Any]:
    """``code`` in a fresh ``interpreter`` whose path is ``path``, in the task folder (``path[-2]``,
    the last being the runtime's SDK), as Lambda runs a handler in /var/task."""
    run_env = {**env, "PYTHONPATH": os.pathsep.join(map(str, path))}
    out = subprocess.run([interpreter, "-S", "-c", code, *args], cwd=path[-2], env=run_env, capture_output=True,
                         text=True, timeout=300)
    if out.returncode:
        raise RuntimeError(f"{args[0]} failed under {interpreter}: {out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def zip_rows(zip_path: Path, before: dict[str, int] | None = None) -> list[Any]:
    from bench.run import Row
    from infra import bytecode

    figures = bytecode.zip_figures(zip_path)
    rows = [Row("cold start", f"the zip ({zip_path.relative_to(ROOT)}): bytes, files (.py / .pyc)",
                f"{figures['zip_bytes'] / 1e6:.1f} MB, {figures['files']:,} files ({figures['py']:,} / "
                f"{figures['pyc']:,})",
                f"{before['zip_bytes'] / 1e6:.1f} MB, {before['files']:,} files ({before['py']:,} / {before['pyc']:,})"
                " before issue 24" if before else "-",
                f"{figures['zip_bytes'] / before['zip_bytes']:.2f}x" if before else "-"),
            Row("cold start", "the zip unpacked", f"{figures['unzipped_bytes'] / 1e6:.1f} MB", "250 MB Lambda limit",
                f"{figures['unzipped_bytes'] / LAMBDA_UNZIPPED_LIMIT:.0%}")]
    return rows


def bench_cold(world: Any, runs: int, zip_path: Path = ZIP) -> list[Any]:
    """The rows described in the module docstring; ``world`` is ``bench.world.start()``'s moto world."""
    from moto.server import ThreadedMotoServer

    from bench import world as w
    from bench.run import Row, ratio
    from infra import bytecode

    if not zip_path.exists():
        raise SystemExit(f"{zip_path} is missing: run `make package` first (make bench does)")
    interpreter = _interpreter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    base_env = {k: v for k, v in w.ENV.items() if k != "CMDM_POLICY_DIR"}
    live = _LiveQueue(f"http://{host}:{port}")
    base_env.update(PATH=os.environ.get("PATH", ""), DYNAMODB_ENDPOINT=f"http://{host}:{port}",
                    PYTHONDONTWRITEBYTECODE="1", AWS_EC2_METADATA_DISABLED="true",
                    CMDM_LIVE_QUEUE_URL=live.url, AWS_ENDPOINT_URL_SQS=f"http://{host}:{port}")
    lambda_env = {**base_env, **LAMBDA_ENV}
    snapstart_env = {**lambda_env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    cases = ("shipped", "unprepared", "snapstart", "floor", "no-bytecode")
    slow_runs = min(runs, 5)  # every module compiled at import: seconds each
    samples: dict[str, list[dict[str, Any]]] = {c: [] for c in cases}
    imports: dict[str, list[float]] = {"app": [], "bare": []}
    prepared: list[str] = []
    first_imports: set[str] = set()  # what a first webhook of "shipped" imported that its init phase did not
    tmp = Path(tempfile.mkdtemp(prefix="cmdm-bench-cold-"))
    try:
        task = bytecode.extract_read_only(zip_path, tmp / "task")
        floor_code = _floor_code(tmp / "floor", interpreter)
        bare_task = _without_bytecode(task, tmp / "task-without-bytecode")
        sdk = _runtime_sdk(tmp / "runtime", interpreter)
        for i in range(runs):
            todo = cases[:-1] if i >= slow_runs else cases
            for case in todo[i % len(todo):] + todo[:i % len(todo)]:  # a different order each run
                sender = world.clients[i % len(world.clients)]["phone"]
                headers, body = w.signed(PATH, w.sms_form(sender, "first message", "SM" + uuid.uuid4().hex))
                event = json.dumps(_api_event(headers, body))
                path = [*{"floor": [floor_code, task], "no-bytecode": [bare_task]}.get(case, [task]), sdk]
                env = {"unprepared": base_env, "snapstart": snapstart_env}.get(case, lambda_env)
                result = _run(interpreter, FIRST_WEBHOOK, [case if case in ("floor", "snapstart") else "cmdm", event],
                              path, env)
                samples[case].append(result)
                if case != "floor":
                    live.expect_change_of(world.clients[i % len(world.clients)]["client_id"], case)
                if case == "shipped":
                    prepared = result["prepared"]
                    first_imports.update(result["first_imports"])
            for who in ("app", "bare"):
                out = subprocess.run([interpreter, "-S", "-c", IMPORT_ONLY, who], cwd=task,
                                     env={**base_env, "PYTHONPATH": os.pathsep.join((str(task), str(sdk)))},
                                     capture_output=True, text=True, check=True)
                imports[who].append(float(out.stdout.strip().splitlines()[-1]))
    finally:
        server.stop()
        for folder in tmp.iterdir():
            bytecode.make_writable(folder)
        shutil.rmtree(tmp)

    def median(case: str, part: str) -> float:
        return statistics.median(s[part] for s in samples[case])

    version = subprocess.run([interpreter, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True).stdout.strip()
    floor_total = median("floor", "total")
    floor_text = f"{ms(floor_total)} (floor: init {ms(median('floor', 'init'))}, request {ms(median('floor', 'first'))})"
    shipped = f"init {ms(median('shipped', 'init'))} + first request {ms(median('shipped', 'first'))}"
    unprepared = f"init {ms(median('unprepared', 'init'))} + first request {ms(median('unprepared', 'first'))}"
    return [
        Row("cold start", f"first webhook of a new container: the zip as shipped, unpacked read-only, CPython {version}, "
            f"no bytecode written, live updates on (each run's commit read back from the live-updates queue) "
            f"({shipped}; median of {runs})", ms(median("shipped", "total")), floor_text,
            ratio(median("shipped", "total"), floor_total)),
        Row("cold start", "the same runs in CPU time (the interpreter's own work, which other load on the machine "
            "disturbs least; DynamoDB's answers are moto's time, not counted)", ms(median("shipped", "cpu")),
            f"{ms(median('floor', 'cpu'))} (floor)", ratio(median("shipped", "cpu"), median("floor", "cpu"))),
        Row("cold start", f"the same zip with its bytecode deleted (as shipped before issue 24: every module compiled "
            f"at import; median of {slow_runs})", ms(median("no-bytecode", "total")), floor_text,
            ratio(median("no-bytecode", "total"), floor_total)),
        Row("cold start", f"the shipped zip outside Lambda, nothing prepared at init ({unprepared})",
            ms(median("unprepared", "total")), floor_text, ratio(median("unprepared", "total"), floor_total)),
        Row("cold start", f"first request alone, after Lambda's init phase prepared {', '.join(prepared) or 'nothing'}"
            f" (modules the first request still imported: {', '.join(sorted(first_imports)) or 'none'})",
            ms(median("shipped", "first")), f"{ms(median('unprepared', 'first'))} (nothing prepared)",
            ratio(median("shipped", "first"), median("unprepared", "first"))),
        Row("cold start", "SnapStart, simulated in one interpreter: init with every service, before_snapshot; then what "
            "a restored copy runs, after_restore + first request (Lambda's own restore time not included)",
            ms(median("snapstart", "first")), floor_text, ratio(median("snapstart", "first"), floor_total)),
        Row("cold start", f"import app.py outside Lambda, from the zip (median of {runs})",
            ms(statistics.median(imports["app"])),
            f"{ms(statistics.median(imports['bare']))} (bare Chalice app importing chalice+pynamodb)",
            ratio(statistics.median(imports["app"]), statistics.median(imports["bare"]))),
        *zip_rows(zip_path, BEFORE_ISSUE_24),
    ]


#: ``make package`` before issue 24 (commit 0068d9d): no bytecode, nothing left out.
BEFORE_ISSUE_24 = {"zip_bytes": 39_985_291, "files": 7_322, "py": 2_572, "pyc": 0}


def _api_event(headers: dict[str, str], body: str) -> dict[str, Any]:
    from bench.run import api_event

    return api_event(PATH, headers, body)


def record(rows: list[Any], runs: int, load: tuple[float, float]) -> str:
    """Put the cold-start rows into ``bench/RESULTS.md``'s bench table, the other rows kept, under a
    line that says when, how and under what load they were measured (``load``: the one-minute
    load average before and after the runs)."""
    from datetime import UTC, datetime

    from bench.run import RESULTS, merge_rows, write_results

    text = merge_rows(RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "", rows, ["cold"])
    note = (f"Rows of cold start re-measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.cold "
            f"--runs {runs} --write` after `make package`: load average {load[0]:.1f} before and {load[1]:.1f} "
            f"after, {os.cpu_count()} CPUs (nproc), {platform.system()} {platform.machine()}; the zip under "
            "the runtime's Python (named in the rows), moto's server on loopback; the others as recorded before.")
    lines = [note if line.startswith("Rows of cold start re-measured") else line for line in text.splitlines()]
    text = "\n".join(lines)
    write_results(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per case (default 15)")
    parser.add_argument("--zip", type=Path, default=ZIP)
    parser.add_argument("--write", action="store_true",
                        help="record the rows in bench/RESULTS.md (make bench's table; its other rows kept)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import logging

    logging.disable(logging.WARNING)
    from bench import world as w
    from bench.run import table

    load_before = os.getloadavg()[0]
    started = w.start(clients=10)
    try:
        rows = bench_cold(started, args.runs, args.zip.resolve())
    finally:
        started.close()
    print(table(rows))
    if args.write:
        record(rows, args.runs, (load_before, os.getloadavg()[0]))
        print("\nrecorded in bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
