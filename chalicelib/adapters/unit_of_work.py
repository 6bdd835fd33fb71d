"""One use case's writes, committed together (cosmicpython's unit of work, on DynamoDB).

Repositories read at once (DynamoDB has no read transaction) and queue their writes here;
``commit`` sends them in one ``TransactWriteItems``, or as one conditional write when there is
only one. Each queued write may say what its failed condition means (``on_conflict``): a
``MessageSid`` claimed before is a ``Duplicate``, an idempotency key taken is ``AlreadyFiled``, a
contact row taken is "this client exists". Any other failed condition, or a concurrent
transaction on the same item, is ``ConcurrentUpdate``: the caller reads again and decides again.
A write the store did not take for another reason (a throttle, a timeout) is ``StoreUnavailable``:
nothing was written, and the same commit may be tried again. Services see only these words, never
PynamoDB's exceptions. Leaving the ``with`` block without ``commit`` writes nothing.

After a commit succeeded, the unit of work tells ``on_commit`` (wired by ``bootstrap``: the live
updates of issue 23) which client files and notifications it wrote, in the domain's words
(``adapters/live_changes.py``); a failure there is logged by type and never fails the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from . import models as m
from .conflicts import AlreadyFiled, ConcurrentUpdate, Duplicate, StoreUnavailable
from .writes import CHECK_FAILED, TRANSACTION_CONFLICT, OnConflict, condition_failed, raises

__all__ = ["AlreadyFiled", "ConcurrentUpdate", "Duplicate", "StoreUnavailable", "UnitOfWork", "condition_failed",
           "raises", "transaction_cancelled"]

if TYPE_CHECKING:
    from .audit_repository import AuditRepository
    from .claims_repository import ClaimRepository
    from .clients_repository import ClientRepository
    from .followups_repository import FollowupRepository
    from .inquiries_repository import InquiryRepository
    from .messages_repository import MessageRepository
    from .notes_repository import NoteRepository
    from .notifications_repository import NotificationRepository
    from .numbers_repository import NumberRepository
    from .posts_repository import PostRepository
    from .rollups_repository import RollupRepository
    from .snippets_repository import SnippetRepository
    from .staff_repository import StaffRepository

#: The order TransactWriteItems lists its cancellation reasons in: PynamoDB sends deletes, then
#: puts, then updates, whatever order they were added in.
_SENT_ORDER = ("delete", "save", "update")


def transaction_cancelled(err: TransactWriteError) -> bool:
    """Whether a TransactWrite was cancelled by a failed condition or a concurrent transaction."""
    return any(code in (CHECK_FAILED, TRANSACTION_CONFLICT) for code in _codes(err))


def _codes(err: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (getattr(err, "cancellation_reasons", None) or [])]


@dataclass
class _Write:
    op: str  # save | update | delete
    item: Any
    kwargs: dict[str, Any] = field(default_factory=dict)
    on_conflict: OnConflict | None = None


class UnitOfWork:
    """The repositories of one use case, and the writes they queued until ``commit``."""

    def __init__(self, on_commit: Callable[[list[Any]], None] | None = None) -> None:
        self._writes: list[_Write] = []
        self._on_commit = on_commit  # told the changes (domain.live.Change) of each successful commit

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self._writes = []  # what was not committed is dropped (cosmicpython's rollback)

    # -- the repositories, one per aggregate ----------------------------------------------------

    @cached_property
    def clients(self) -> ClientRepository:
        from .clients_repository import ClientRepository

        return ClientRepository(self)

    @cached_property
    def messages(self) -> MessageRepository:
        from .messages_repository import MessageRepository

        return MessageRepository(self)

    @cached_property
    def inquiries(self) -> InquiryRepository:
        from .inquiries_repository import InquiryRepository

        return InquiryRepository(self)

    @cached_property
    def notifications(self) -> NotificationRepository:
        from .notifications_repository import NotificationRepository

        return NotificationRepository(self)

    @cached_property
    def audit(self) -> AuditRepository:
        from .audit_repository import AuditRepository

        return AuditRepository(self)

    @cached_property
    def claims(self) -> ClaimRepository:
        from .claims_repository import ClaimRepository

        return ClaimRepository(self)

    @cached_property
    def numbers(self) -> NumberRepository:
        from .numbers_repository import NumberRepository

        return NumberRepository(self)

    @cached_property
    def staff(self) -> StaffRepository:
        from .staff_repository import StaffRepository

        return StaffRepository(self)

    @cached_property
    def followups(self) -> FollowupRepository:
        from .followups_repository import FollowupRepository

        return FollowupRepository(self)

    @cached_property
    def posts(self) -> PostRepository:
        from .posts_repository import PostRepository

        return PostRepository(self)

    @cached_property
    def rollups(self) -> RollupRepository:
        from .rollups_repository import RollupRepository

        return RollupRepository(self)

    @cached_property
    def notes(self) -> NoteRepository:
        from .notes_repository import NoteRepository

        return NoteRepository(self)

    @cached_property
    def snippets(self) -> SnippetRepository:
        from .snippets_repository import SnippetRepository

        return SnippetRepository(self)

    # -- queued writes (repositories call these) --------------------------------------------------

    def save(self, item: Any, condition: Any = None, *, on_conflict: OnConflict | None = None) -> None:
        self._writes.append(_Write("save", item, {"condition": condition}, on_conflict))

    def update(self, item: Any, actions: list[Any], condition: Any = None, *, add_version_condition: bool = True,
               on_conflict: OnConflict | None = None) -> None:
        kwargs = {"actions": actions, "condition": condition, "add_version_condition": add_version_condition}
        self._writes.append(_Write("update", item, kwargs, on_conflict))

    def delete(self, item: Any, condition: Any = None, *, on_conflict: OnConflict | None = None) -> None:
        self._writes.append(_Write("delete", item, {"condition": condition}, on_conflict))

    def commit(self) -> None:
        """Write everything queued, all or nothing; raises what the first failed condition means
        (``StoreUnavailable`` when the store took none of it for another reason)."""
        writes, self._writes = self._writes, []
        if len(writes) == 1:
            self._write_one(writes[0])
        elif writes:
            self._transact(writes)
        if self._on_commit is not None and writes:
            self._tell(writes)

    def wrote_at_once(self, op: str, items: list[Any]) -> None:
        """Writes a repository made at once, each conditioned on its own rather than queued (marking
        notifications read): the live updates hear of them as of a commit."""
        if self._on_commit is not None and items:
            self._tell([_Write(op, item) for item in items])

    def _tell(self, writes: list[_Write]) -> None:
        """Best effort: what was committed stays committed whatever the listener does."""
        try:
            from .live_changes import changes_of

            changes = changes_of((w.op, w.item) for w in writes)
            if changes and self._on_commit is not None:
                self._on_commit(changes)
        except Exception as err:  # never fail a committed change; nothing personal in the line
            logging.getLogger("cmdm").warning("live updates not told of a commit: %s", type(err).__name__)

    def commit_unless_changed(self) -> bool:
        """``commit``, or False when an item changed since it was read (the first writer won)."""
        try:
            self.commit()
        except ConcurrentUpdate:
            return False
        return True

    @staticmethod
    def _write_one(write: _Write) -> None:
        try:
            getattr(write.item, write.op)(**write.kwargs)
        except PynamoDBException as err:
            if not condition_failed(err):
                raise StoreUnavailable(type(err).__name__) from err
            raise _meaning(write, CHECK_FAILED) from None

    @staticmethod
    def _transact(writes: list[_Write]) -> None:
        from pynamodb.transactions import TransactWrite

        try:
            with TransactWrite(connection=m.transaction_connection()) as tx:
                for write in writes:
                    getattr(tx, write.op)(write.item, **write.kwargs)
        except TransactWriteError as err:
            codes = _codes(err)
            sent = [w for op in _SENT_ORDER for w in writes if w.op == op]
            for write, code in zip(sent, codes, strict=False):
                if code in (CHECK_FAILED, TRANSACTION_CONFLICT) and write.on_conflict is not None:
                    meaning = write.on_conflict(code)
                    if meaning is not None:
                        raise meaning from None
            if transaction_cancelled(err):
                raise ConcurrentUpdate() from None
            raise StoreUnavailable(type(err).__name__) from err
        except PynamoDBException as err:  # the connection's own errors, before DynamoDB answered
            raise StoreUnavailable(type(err).__name__) from err


def _meaning(write: _Write, code: str) -> Exception:
    meaning = write.on_conflict(code) if write.on_conflict is not None else None
    return meaning if meaning is not None else ConcurrentUpdate()
