"""The one retry loop for optimistic writes (``adapters/retry.py``), under the services' name."""

from __future__ import annotations

from ..adapters.retry import ATTEMPTS, backoff, retry_on_conflict

__all__ = ["ATTEMPTS", "backoff", "retry_on_conflict"]
