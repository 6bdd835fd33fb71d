"""The scheduled jobs and the SQS queue handlers, and ``JOBS``: each job by name, in-process.

The blueprint's import name is ``app``: Chalice names a Lambda's handler ``<import name>.<function>``,
so every job's function stays ``app.<function>`` (``app.py`` re-exports them) and its Lambda imports
``app.py`` first (its logging and the privacy of library loggers), as before. The function names are
the Lambda functions' names in the template (``SweepClocks``…): keep them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Rate

from chalicelib import bootstrap

log = logging.getLogger("cmdm")

jobs = Blueprint("app")

# Scheduled jobs by name, so `make run`'s timer and the tests can run them in-process.
JOBS: dict[str, Callable[[], Any]] = {}


def run_job(name: str) -> Any:
    """Run a scheduled job in-process: ``make run``'s timer and the tests use this.

    Each feature registers its job in ``JOBS`` next to its ``@jobs.schedule`` function.
    """
    return JOBS[name]()


def copy_media_job() -> int:
    return bootstrap.container().media.copy_due()


@jobs.schedule(Rate(1, unit=Rate.MINUTES))
def copy_media(event: Any) -> None:
    """Copies new client media from Twilio into the agency bucket and deletes Twilio's copy."""
    copy_media_job()


JOBS["copy_media"] = copy_media_job


def clear_refused_at_twilio_job() -> dict[str, int]:
    return bootstrap.container().twilio_cleanup.run()


@jobs.schedule(Rate(1, unit=Rate.MINUTES))
def clear_refused_at_twilio(event: Any) -> None:
    """Deletes the media and redacts the body, at Twilio, of every message CMDM refused."""
    clear_refused_at_twilio_job()


JOBS["clear_refused_at_twilio"] = clear_refused_at_twilio_job


def run_sweep_clocks(budget_seconds: float | None = None) -> Any:
    """Send held messages whose time came; record breaches once and escalate them (SPEC §4.4)."""
    from chalicelib.adapters.metrics import record_breaches

    summary = bootstrap.container().sweep.run(budget_seconds=budget_seconds)
    record_breaches(int(summary.get("breached", 0)))  # the CloudWatch alarm on clock breaches reads this
    return summary


@jobs.schedule(Rate(5, unit=Rate.MINUTES))
def sweep_clocks(event: Any) -> Any:
    # Stop sending a few seconds before Lambda's timeout; what is left stays due for the next run.
    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return run_sweep_clocks(max(1.0, remaining() / 1000 - 8) if callable(remaining) else None)


JOBS["sweep_clocks"] = run_sweep_clocks


# Follow-ups, check-ins and surveys (issue 5): every 15 minutes, in UTC; local time is worked out in
# code. With CMDM_FOLLOWUP_QUEUE_URL set (or a queue name in the aws stage) the run only queues
# batches of due clients and ``followup_worker`` handles them; otherwise it handles them inline.
FOLLOWUP_QUEUE = os.environ.get("CMDM_FOLLOWUP_QUEUE", "cmdm-local-followups")


def followups_job() -> dict[str, int]:
    summary = bootstrap.container().followups.run()
    log.info("run_followups: %s", summary)  # counts only: no numbers, no bodies
    return summary


@jobs.schedule(Rate(15, unit=Rate.MINUTES))
def run_followups(event: Any) -> dict[str, int]:
    return followups_job()


@jobs.on_sqs_message(queue=FOLLOWUP_QUEUE, batch_size=1)
def followup_worker(event: Any) -> dict[str, int]:
    """One queued batch of due clients of one agency (the same code as the inline run)."""
    totals = _process_queued(event, bootstrap.container().followups.process_batch)
    log.info("followup_worker: %s", totals)
    return totals


def _process_queued(event: Any, process: Callable[[Any], dict[str, int]]) -> dict[str, int]:
    """Each SQS record's JSON body through ``process`` (``None`` for a body that is not JSON), counts summed."""
    totals: dict[str, int] = {}
    for record in event:
        try:
            body = json.loads(record.body)
        except (TypeError, ValueError):
            body = None
        for key, count in process(body).items():
            totals[key] = totals.get(key, 0) + count
    return totals


JOBS["run_followups"] = followups_job


def _erase_expired_files() -> Any:
    summary = bootstrap.container().data_rights.erase_expired()
    return summary if any(summary.values()) else None  # the local job loop prints only news


@jobs.schedule(Rate(1, unit=Rate.DAYS))
def erase_expired(event: Any) -> Any:
    """Daily: erase closed files whose retention period (policy ``retention.closed_files``) has run out."""
    return _erase_expired_files()


JOBS["erase_expired"] = _erase_expired_files


def _roll_up_reports() -> Any:
    summary = bootstrap.container().rollup.run()
    return summary if any(summary.values()) else None  # days, compliance_days, deferred


@jobs.schedule(Rate(1, unit=Rate.HOURS))
def roll_up_reports(event: Any) -> Any:
    """Hourly: roll the days that are over up into the report counters (one item per agency and day)."""
    return _roll_up_reports()


JOBS["roll_up_reports"] = _roll_up_reports


# Information posts (issue 16): every minute the due posts are handed out, to the posts queue when
# one is configured (``post_worker`` sends each batch), else inline.
POSTS_QUEUE = os.environ.get("CMDM_POSTS_QUEUE", "cmdm-local-posts")


def _send_posts() -> Any:
    summary = bootstrap.container().posts.run()
    return summary or None


@jobs.schedule(Rate(1, unit=Rate.MINUTES))
def send_posts(event: Any) -> Any:
    return _send_posts()


@jobs.on_sqs_message(queue=POSTS_QUEUE, batch_size=1)
def post_worker(event: Any) -> dict[str, int]:
    """One queued batch of a post's recipients (the same code as the inline path)."""
    totals = _process_queued(event, bootstrap.container().posts.process_batch)
    log.info("post_worker: %s", totals)  # counts only
    return totals


JOBS["send_posts"] = _send_posts

# The Lambda handlers, by the names app.py re-exports (see the module's docstring).
HANDLERS = ("copy_media", "clear_refused_at_twilio", "sweep_clocks", "run_followups", "followup_worker",
            "erase_expired", "roll_up_reports", "send_posts", "post_worker")
