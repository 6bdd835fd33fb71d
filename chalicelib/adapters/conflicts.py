"""What a failed write means, below every repository and the unit of work.

The unit of work raises these; the retry helper (``adapters/retry.py``) retries ``ConcurrentUpdate``;
services catch them by name, never the store's own exceptions (PynamoDB's stay in the adapters).
Keeping them here lets a repository and the retry helper use them without importing the unit of
work (which imports the repositories).
"""

from __future__ import annotations


class ConcurrentUpdate(Exception):
    """Someone else changed an item between our read and our write; re-read and retry."""


class Duplicate(Exception):
    """This ``MessageSid`` (or once-only key) was already handled."""


class AlreadyFiled(Exception):
    """A staff message with this idempotency key was filed (or is being filed) by another request."""


class StoreUnavailable(Exception):
    """The store did not take a write for a reason other than its condition (a throttle, a timeout,
    an error of its own): nothing of it was written, and the same write may succeed if tried again."""


__all__ = ["AlreadyFiled", "ConcurrentUpdate", "Duplicate", "StoreUnavailable"]
