"""The live-updates queue a Lambda's init phase prepares (issues 23 and 24, ``chalicelib/snapstart.py``).

Every webhook's commit sends its changes to the live-updates queue, so the API handler's init
phase makes that queue's SQS client, on the botocore session the DynamoDB connection has loaded
already, and must not send anything while doing so. A real botocore client with botocore's own
``Stubber`` plays SQS: any request the stubber was not told to expect fails the test.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.stub import Stubber

from chalicelib.adapters.queues import SqsQueue

URL = "https://sqs.ca-central-1.amazonaws.com/123456789012/cmdm-prod-live"


def test_warming_a_queue_makes_its_client_on_the_session_given_without_a_request() -> None:
    session = botocore.session.get_session()
    asked: list[Any] = []

    def loaded_session() -> Any:
        asked.append(session)
        return session

    queue = SqsQueue(URL, "ca-central-1", session=loaded_session)
    queue.warm()
    client = queue._sqs()
    assert asked == [session]  # made once, on that session: no boto3, no second botocore session
    assert client.meta.service_model.service_name == "sqs" and client.meta.region_name == "ca-central-1"
    with Stubber(client) as sqs:  # nothing expected: any request fails
        queue.warm()
        sqs.assert_no_pending_responses()


def test_a_queue_known_by_name_is_looked_up_at_its_first_send_not_when_warmed() -> None:
    session = botocore.session.get_session()
    queue = SqsQueue(None, "ca-central-1", queue_name="cmdm-prod-live", session=lambda: session)
    queue.warm()
    with Stubber(queue._sqs()) as sqs:
        sqs.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "cmdm-prod-live"})
        sqs.add_response("send_message_batch", {"Successful": [], "Failed": []}, {
            "QueueUrl": URL, "Entries": [{"Id": "0", "MessageBody": '{"changes": []}', "DelaySeconds": 0}]})
        assert queue.send([{"changes": []}]) == 1
        sqs.assert_no_pending_responses()
