"""What a repository needs of the unit of work, below both: the write queue and conflict meanings.

Repositories queue their writes on the unit of work that made them, and say what a failed
condition means; the unit of work imports the repositories to hand them out. Keeping the queue's
shape (a ``Protocol``) and the condition helpers here lets both depend on this module instead of
on each other (``../shared/tools/import_cycles.py`` reports no cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

CHECK_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"

#: What a queued write's failed condition means: the exception to raise, or None for the default.
OnConflict = Callable[[str], Exception | None]


class WriteQueue(Protocol):
    """The writes a repository queues for its unit of work's commit."""

    def save(self, item: Any, condition: Any = None, *, on_conflict: OnConflict | None = None) -> None: ...

    def update(self, item: Any, actions: list[Any], condition: Any = None, *, add_version_condition: bool = True,
               on_conflict: OnConflict | None = None) -> None: ...

    def delete(self, item: Any, condition: Any = None, *, on_conflict: OnConflict | None = None) -> None: ...

    def wrote_at_once(self, op: str, items: list[Any]) -> None: ...


def condition_failed(err: Exception) -> bool:
    """Whether a single-item write failed on its condition (as opposed to any other error)."""
    return getattr(err, "cause_response_code", None) == "ConditionalCheckFailedException"


def raises(exception: Callable[[], Exception], *, also_conflict: bool = False) -> OnConflict:
    """``on_conflict`` for a write whose failed condition means ``exception`` (and, with
    ``also_conflict``, a concurrent transaction on the same item too)."""

    def meaning(code: str) -> Exception | None:
        return exception() if code == CHECK_FAILED or also_conflict else None

    return meaning


__all__ = ["CHECK_FAILED", "TRANSACTION_CONFLICT", "OnConflict", "WriteQueue", "condition_failed", "raises"]
