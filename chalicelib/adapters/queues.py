"""The SQS queues: big jobs spread over many Lambda invocations (follow-ups, posts), and the
changes each commit hands to the live updates (issue 23).

One class for all: the follow-up sweep and a post's fan-out each queue JSON bodies in batches of
ten (``SendMessageBatch``'s limit); a post also delays each batch so that a minute's sending is
spread over the minute. The queue URL is looked up by name once, at the first send, when the
stack gives only that.

The client is made on first use (``warm`` makes it sooner, without a request: a Lambda's init
phase). By default boto3 makes it; given ``session``, a botocore session the container has
loaded already (the DynamoDB connection's), the client comes from that session instead: no
boto3 import and no second copy of botocore's endpoint data, which a cold container would
otherwise pay on its first send (about 60 ms under CPython 3.13, ``bench/cold.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .aws import LazyClient

BATCH = 10  # SendMessageBatch takes at most 10 entries


class QueueRefused(RuntimeError):
    """SQS answered but did not take every message of a batch."""


class _SessionClient:
    """An SQS client made on first use from the botocore session ``session()`` returns."""

    def __init__(self, session: Callable[[], Any], region: str, endpoint: str | None) -> None:
        self._session = session
        self._region = region
        self._endpoint = endpoint
        self._client: Any = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = self._session().create_client("sqs", region_name=self._region,
                                                         endpoint_url=self._endpoint)
        return self._client


class SqsQueue:
    def __init__(self, queue_url: str | None, region: str, queue_name: str | None = None,
                 endpoint: str | None = None, session: Callable[[], Any] | None = None) -> None:
        self._queue_url = queue_url
        self._queue_name = queue_name
        self._sqs: Callable[[], Any] = (LazyClient("sqs", region, endpoint) if session is None
                                        else _SessionClient(session, region, endpoint))

    def warm(self) -> None:
        """Make the client now, without any request (the queue URL, if only its name is known, is
        still looked up at the first send)."""
        self._sqs()

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
