"""``make run``: the whole service on one laptop, with no AWS account, Docker or Java.

Starts moto's server as the embedded DynamoDB and S3 on loopback, creates the tables, seeds the
demo agency from ``policies/``, prints staff tokens and a simulated client message, runs the
scheduled jobs on a timer, and serves the API on http://127.0.0.1:8000 with Chalice's local
server. Ctrl-C stops everything; the data lives in memory and is gone afterwards.

Two properties of the emulators are fixed here, because the README promises exactly-once filing on
this stack too: moto applies a ``TransactWriteItems`` item by item with no isolation (two deliveries
of one ``MessageSid`` both pass the claim's condition), so every item read and write of moto's
DynamoDB runs under one lock (``isolate_moto_dynamodb``), as DynamoDB's serializable transactions
promise; and Chalice's dev server keeps a listen backlog of 5, which a burst of webhooks overflows
(``deeper_listen_queue``).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .config import LOCAL_DEFAULTS, PROJECT_ROOT

API_HOST = "127.0.0.1"
API_PORT = int(os.environ.get("CMDM_PORT", "8000"))
JOB_INTERVAL_SECONDS = int(os.environ.get("CMDM_JOB_INTERVAL", "60"))
# Where the simulator leaves media "at Twilio" for the local stand-in (chalicelib/local_twilio.py).
LOCAL_ENV = {
    **LOCAL_DEFAULTS,
    "CMDM_STAGE": "local",
    "CMDM_PUBLIC_URL": f"http://{API_HOST}:{API_PORT}",
    "CMDM_OUTBOUND": "outbox",
    "CMDM_MEDIA_BUCKET": "cmdm-local-media",
    "AWS_DEFAULT_REGION": "ca-central-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((API_HOST, 0))
        return int(s.getsockname()[1])


def _start_embedded_aws() -> str:
    from moto.server import ThreadedMotoServer

    # moto's server logs every DynamoDB call through werkzeug; keep the console for what matters.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(os.environ.get("CMDM_MOTO_PORT") or _free_port())
    server = ThreadedMotoServer(ip_address=API_HOST, port=port, verbose=False)
    server.start()
    return f"http://{API_HOST}:{port}"


# moto's DynamoDB operations that read or write items; each runs whole under the lock.
_ITEM_OPERATIONS = ("get_item", "query", "scan", "put_item", "update_item", "delete_item",
                    "transact_write_items", "batch_get_item", "batch_write_item", "transact_get_items")


def isolate_moto_dynamodb() -> Callable[[], None]:
    """Serialise moto's item operations in this process; returns the function that undoes it."""
    import functools

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in _ITEM_OPERATIONS}

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return run

    for name, method in originals.items():
        setattr(DynamoDBBackend, name, locked(method))

    def undo() -> None:
        for name, method in originals.items():
            setattr(DynamoDBBackend, name, method)

    return undo


def deeper_listen_queue() -> None:
    """Chalice's dev server keeps socketserver's listen backlog of 5; a burst of webhooks (WhatsApp
    sends one per photo) overflows it and the kernel resets connections."""
    from chalice.local import ThreadedHTTPServer

    ThreadedHTTPServer.request_queue_size = 512


def _job_loop(stop: threading.Event) -> None:
    """Run the scheduled functions the way EventBridge would, every JOB_INTERVAL_SECONDS."""
    import app as application

    log = logging.getLogger("cmdm.local")
    # A relative sleep, not ``stop.wait(timeout)``: the wait's deadline is an absolute reading of
    # the monotonic clock, which a shifted clock (``faketime`` months ahead, as the README's
    # date-independence check runs the suite) puts months away, so no job would ever run.
    while not stop.is_set():
        time.sleep(JOB_INTERVAL_SECONDS)
        if stop.is_set():
            break
        for name in list(application.JOBS):
            try:
                summary = application.run_job(name)
                if summary:
                    print(f"[jobs] {name}: {summary}", flush=True)
            except Exception as err:  # keep the loop alive; details never include message content
                log.error("scheduled job %s failed: %s", name, type(err).__name__)


def main() -> int:
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    isolate_moto_dynamodb()
    deeper_listen_queue()
    os.environ["DYNAMODB_ENDPOINT"] = _start_embedded_aws()
    if os.environ.get("CMDM_OUTBOUND") == "outbox" and not os.environ.get("CMDM_TWILIO_API_BASE"):
        # Nothing reaches Twilio from a laptop: media and redactions go to the local stand-in.
        from .local_twilio import LOCAL_TWILIO_DIR, TwilioStandIn

        stand_in = TwilioStandIn(LOCAL_TWILIO_DIR, os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"],
                                 outbox=PROJECT_ROOT / ".local" / "outbox.jsonl"
                                 if os.environ.get("CMDM_STAGE", "local") == "local" else None)
        os.environ["CMDM_TWILIO_API_BASE"] = stand_in.start()

    from chalice.config import Config
    from chalice.local import create_local_server

    import app as application

    from . import bootstrap, cli

    if not os.environ.get("CMDM_WS_MANAGEMENT_URL"):
        # Live updates (issue 23): API Gateway's WebSocket API and its management API, on loopback.
        from .local_live import start_for

        start_for(application.app)
    bootstrap.reset()
    if cli.main(["init-db"]) or cli.main(["seed"]):
        return 1
    if bootstrap.container().live_publisher is not None:
        bootstrap.container().live_publisher.warm()

    print("\nStaff tokens (valid 24 h):")
    for staff_id, role, _name in cli.DEMO_STAFF:
        from .adapters.auth import mint_dev_token

        token = mint_dev_token(os.environ["CMDM_DEV_JWT_SECRET"], staff_id, cli.DEMO_AGENCY, role, 24 * 3600)
        print(f"  {role:<10} {staff_id:<10} {token}")
    print(
        "\nPlay the client's phone in another terminal:\n"
        "  .venv/bin/python -m chalicelib.cli phone --whatsapp --from +15875550123 --to +15873550101 "
        '"Hello, I have a question about my rent"\n'
        "Send a photo or a voice note (copied to the file's media by the next copy_media run):\n"
        "  .venv/bin/python -m chalicelib.cli phone --whatsapp --from +15875550123 --media-file lease.jpg "
        '"my lease"\n'
        "Look at the file as the case manager:\n"
        '  curl -H "Authorization: Bearer $(.venv/bin/python -m chalicelib.cli token amal)" '
        f"http://{API_HOST}:{API_PORT}/clients/<client_id>\n"
        f"Live updates: WebSocket {os.environ.get('CMDM_WS_URL')}, management API "
        f"{os.environ.get('CMDM_WS_MANAGEMENT_URL')}.\n"
        f"Scheduled jobs run every {JOB_INTERVAL_SECONDS} s. Ctrl-C stops the service.\n",
        flush=True,
    )
    stop = threading.Event()
    threading.Thread(target=_job_loop, args=(stop,), daemon=True).start()
    config = Config.create(chalice_stage="local", app_name="cmdm", project_dir=str(PROJECT_ROOT))
    server = create_local_server(application.app, config, API_HOST, API_PORT)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        stop.set()
        time.sleep(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
