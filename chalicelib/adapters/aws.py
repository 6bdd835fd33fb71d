"""A boto3 client made on first use.

Importing boto3 and building a client costs a cold Lambda tens of milliseconds; a container whose
requests never touch S3 or SQS should not pay it. Each adapter holds one of these and calls it.
"""

from __future__ import annotations

from typing import Any


class LazyClient:
    def __init__(self, service: str, region: str, endpoint: str | None = None) -> None:
        self._service = service
        self._region = region
        self._endpoint = endpoint
        self._client: Any = None

    def __call__(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(self._service, region_name=self._region, endpoint_url=self._endpoint)
        return self._client
