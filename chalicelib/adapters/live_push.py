"""Posts events to open WebSockets through API Gateway's management API (issue 23).

The same code in every stage: boto3's ``apigatewaymanagementapi`` client with ``endpoint_url`` set
to ``CMDM_WS_MANAGEMENT_URL`` (``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`` in
AWS, the local stand-in's loopback address under ``make run`` and in the tests:
``chalicelib/local_live.py``). Short timeouts and one retry: a push is worth little late, and a
slow gateway must not hold the work that caused it.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any


class Posted(StrEnum):
    SENT = "sent"
    GONE = "gone"  # API Gateway no longer knows the connection: forget it
    FAILED = "failed"  # anything else (throttled, timed out); the console catches up when it reconnects


class ManagementApi:
    def __init__(self, endpoint: str, region: str) -> None:
        self._endpoint = endpoint
        self._region = region
        self._client: Any = None

    def _api(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "apigatewaymanagementapi", region_name=self._region, endpoint_url=self._endpoint,
                config=Config(connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 2, "mode": "standard"}),
            )
        return self._client

    def warm(self) -> None:
        """Build the client now (a long-running process: make run), not on the first push."""
        self._api()

    def post(self, connection_id: str, event: dict[str, Any]) -> Posted:
        api = self._api()
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=json.dumps(event).encode("utf-8"))
        except api.exceptions.GoneException:
            return Posted.GONE
        except Exception:  # botocore's errors and timeouts alike: the caller counts a failure
            return Posted.FAILED
        return Posted.SENT
