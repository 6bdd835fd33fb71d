"""The SQS queues that spread a big job over many Lambda invocations (follow-ups, posts).

One class for both: the follow-up sweep and a post's fan-out each queue JSON bodies in batches of
ten (``SendMessageBatch``'s limit); a post also delays each batch so that a minute's sending is
spread over the minute. The queue URL is looked up by name once, when the stack gives only that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .aws import LazyClient

BATCH = 10  # SendMessageBatch takes at most 10 entries


class QueueRefused(RuntimeError):
    """SQS answered but did not take every message of a batch."""


class SqsQueue:
    def __init__(self, queue_url: str | None, region: str, queue_name: str | None = None,
                 endpoint: str | None = None) -> None:
        self._queue_url = queue_url
        self._queue_name = queue_name
        self._sqs = LazyClient("sqs", region, endpoint)

    @property
    def queue_url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs().get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def send(self, bodies: Sequence[dict[str, Any]], delays: Sequence[int] | None = None) -> int:
        """Queue each body as one message, the i-th delayed ``delays[i]`` seconds; returns how many."""
        delay_of = list(delays) if delays is not None else [0] * len(bodies)
        for start in range(0, len(bodies), BATCH):
            entries = [{"Id": str(i), "MessageBody": json.dumps(body), "DelaySeconds": int(delay_of[start + i])}
                       for i, body in enumerate(bodies[start:start + BATCH])]
            response = self._sqs().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if response.get("Failed"):
                raise QueueRefused(f"{len(response['Failed'])} of {len(entries)} queue messages were not taken")
        return len(bodies)
