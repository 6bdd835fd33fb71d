"""A Lambda container's init phase, and what a SnapStart restore must redo (issue 24).

Lambda imports the handler's module once per container (the *init phase*) before the first event.
Outside Lambda importing ``app`` builds nothing (tests, ``make run``); in Lambda (``_HANDLER`` and
``AWS_LAMBDA_FUNCTION_NAME`` set) ``at_init`` also prepares what the function's first event needs,
so that event does only its own work:

- the modules its first event imports (``FIRST_EVENT_MODULES``: for the API handler the inbound
  webhook's path, with the domain, the unit of work, its repositories and Twilio's validator and
  TwiML; for a job, its service), and with SnapStart every service module of the function;
- the compiled agency policies, parsed;
- the DynamoDB client (botocore parses the service model once per session: ~100 ms), built
  without any request;
- for the API handler, the live updates' dispatch and its SQS client (``LIVE_AT_FIRST_EVENT``):
  in AWS every webhook's commit sends its changes to the live-updates queue (issue 23). The client
  comes from the DynamoDB connection's botocore session; no request (the queue URL is the stack's;
  a queue known only by name is looked up at the first send, never here).

Nothing that needs the Twilio credentials: they come from Secrets Manager, and importing ``app``
never reaches the network (SPEC §4.2).

Garbage collection is off while that runs (what it allocates lives as long as the container) and
those objects are frozen afterwards (``gc.freeze``), so no later collection walks them again.

**SnapStart.** Lambda runs the init phase once per published version, snapshots the environment
and starts every new environment of that version from a copy. What must not be shared between
copies is refreshed by runtime hooks (``snapshot_restore_py``, part of Lambda's Python runtime;
absent elsewhere, so imported guardedly):

- before the snapshot: everything the container built except what is safe to share (``SHARED``:
  the unit of work, the policies, the token verifier) is forgotten (the live dispatch and its SQS
  client among them), and so is the DynamoDB client with the credentials its session resolved,
  so the snapshot holds no credentials, no open connection and no cached Twilio secret;
- after a restore: ``random`` is reseeded from the operating system (every copy would otherwise
  draw the same numbers, e.g. the same retry jitter), the same things are forgotten again, and the
  DynamoDB client is built again from the session already loaded (~8 ms), with this
  environment's credentials and connections of its own; so is the API handler's SQS client
  (a few ms: its model is parsed in the snapshot), inside a dispatch of this copy's own. The unit
  of work is shared but looks the dispatch up at each commit (``bootstrap``), so a copy never
  sends through the snapshot's.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import pkgutil
import random
from collections.abc import Mapping

log = logging.getLogger("cmdm")

#: What each Lambda function's first event imports, by handler (``_HANDLER``).
FIRST_EVENT_MODULES: Mapping[str, tuple[str, ...]] = {
    "app.app": ("chalicelib.services.inbound", "pynamodb.transactions", "twilio.request_validator",
                "twilio.twiml.messaging_response", "concurrent.futures.thread",
                # what the unit of work and the inbound path import on first use (bench/cold.py
                # lists any module the first webhook still imports), and the codec a socket to a
                # named host loads
                "chalicelib.services.absences", "chalicelib.adapters.numbers_repository",
                "chalicelib.adapters.staff_repository", "chalicelib.adapters.clients_repository",
                "chalicelib.adapters.claims_repository", "chalicelib.adapters.messages_repository",
                "chalicelib.adapters.inquiries_repository", "chalicelib.adapters.audit_repository",
                "chalicelib.adapters.live_changes", "encodings.idna"),
    "app.sweep_clocks": ("chalicelib.services.sweep", "chalicelib.adapters.metrics"),
    "app.run_followups": ("chalicelib.services.followups",),
    "app.followup_worker": ("chalicelib.services.followups",),
    "app.send_posts": ("chalicelib.services.posts",),
    "app.post_worker": ("chalicelib.services.posts",),
    "app.erase_expired": ("chalicelib.services.data_rights",),
    "app.copy_media": ("chalicelib.services.media",),
    "app.clear_refused_at_twilio": ("chalicelib.services.twilio_cleanup",),
    "app.roll_up_reports": ("chalicelib.services.usage_rollup",),
    "app.live_worker": ("chalicelib.services.live",),
}
#: Built once and shared by every copy of a snapshot: no credentials, connections or randomness.
SHARED = ("uow", "policies", "verifier")
#: Handlers whose first event commits and is waited for: their live-updates queue client is built
#: before it (the jobs' first commits also tell the live updates, but nobody waits for a job).
LIVE_AT_FIRST_EVENT = ("app.app",)
#: What ``at_init`` prepared in this container (for the logs and ``make bench``).
PREPARED: list[str] = []


def in_lambda(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME") and env.get("_HANDLER"))


def prepare(handler: str, everything: bool = False) -> list[str]:
    """Import and build what ``handler``'s first event needs, without reaching the network;
    ``everything`` adds every service module (SnapStart: paid once per version). Returns what was done."""
    from . import bootstrap

    modules = list(FIRST_EVENT_MODULES.get(handler, ()))
    if everything:
        from . import services

        modules += [f"chalicelib.services.{m.name}" for m in pkgutil.iter_modules(services.__path__)]
    for name in modules:
        importlib.import_module(name)
    done = [f"{len(modules)} modules"]
    container = bootstrap.container()
    container.policies.all()
    container.verifier  # noqa: B018 - built now, kept for the container's life
    container.uow  # noqa: B018 - configures the models
    from .adapters import models

    models.transaction_connection().client  # noqa: B018 - botocore client, no request
    return [*done, "policies", "DynamoDB client", *_prepare_live(handler)]


def _prepare_live(handler: str) -> list[str]:
    """The live dispatch a commit of ``handler``'s first event uses, with its SQS client: no request."""
    from . import bootstrap

    container = bootstrap.container()
    if handler not in LIVE_AT_FIRST_EVENT or container.live_queue is None:
        return []  # not waited for, or no queue (a background thread delivers: make run, tests)
    container.live_dispatch  # noqa: B018 - what the unit of work looks up at each commit
    container.live_queue.warm()
    return ["live-updates SQS client"]


def _renew_dynamodb_client(build: bool) -> None:
    """Drop the DynamoDB client and the credentials it resolved; keep its botocore session.

    PynamoDB builds one botocore client per connection on first use, with the credentials its
    session resolved then (and caches). Dropping both (private attributes of the pinned
    pynamodb 6.1 and botocore 1.44; ``tests/unit/test_snapstart.py`` checks the effect) makes the
    next client resolve them in this environment, while the session's parsed service model keeps
    that build at a few milliseconds.
    """
    from . import bootstrap
    from .adapters import models

    if "uow" not in vars(bootstrap.container()):
        return  # models never configured: no client to renew
    connection = models.transaction_connection()
    client, connection._client = connection._client, None
    if client is not None:
        client.close()  # its pooled connections belong to the snapshot's environment
    session = getattr(connection._local, "session", None)
    if session is not None:
        session._credentials = None
    if build:
        connection.client  # noqa: B018


def before_snapshot() -> None:
    """Leave nothing in the snapshot that one environment must not share with another."""
    from . import bootstrap

    bootstrap.forget_all_but(*SHARED)
    _renew_dynamodb_client(build=False)


def after_restore() -> None:
    """A copy of the snapshot starts: its own random numbers, credentials and connections."""
    from . import bootstrap

    random.seed()  # from os.urandom
    bootstrap.forget_all_but(*SHARED)
    _renew_dynamodb_client(build=True)
    if "uow" in vars(bootstrap.container()):  # the models are configured: the session is this copy's
        _prepare_live(os.environ.get("_HANDLER", ""))


def register_hooks() -> bool:
    """Register the SnapStart hooks with Lambda's runtime; False where there is no such runtime."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not in Lambda's Python runtime (tests, make run)
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def at_init(env: Mapping[str, str] | None = None) -> list[str]:
    """In Lambda: prepare the first event, freeze what that built, register the SnapStart hooks.

    Never fails the import: whatever could not be prepared is done by the first event instead.
    """
    env = os.environ if env is None else env
    PREPARED.clear()
    if not in_lambda(env):
        return []
    snapstart = env.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"
    gc.disable()
    try:
        PREPARED[:] = prepare(env["_HANDLER"], everything=snapstart)
    except Exception as err:  # the first event will build it; the init phase must not fail for this
        log.warning("init phase: nothing prepared (%s); the first event prepares it", type(err).__name__)
    finally:
        gc.freeze()
        gc.enable()
    if register_hooks():
        PREPARED.append("SnapStart hooks")
    return list(PREPARED)
