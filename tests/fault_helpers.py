"""See and break every DynamoDB call the code makes (issue 8: fault injection and round trips).

``DynamoTap`` replaces ``pynamodb.connection.base.Connection._make_api_call`` for the length of a
``with`` block. Every PynamoDB call (model reads and writes, indexes, ``TransactWrite``) passes
through that one method, so the tap can

- count round trips by operation (the benches and the "at most N round trips" tests);
- fail the Nth call, or the Nth call of one operation, with the error DynamoDB would send
  (``ProvisionedThroughputExceededException``, a cancelled transaction...), raised as the same
  ``VerboseClientError`` PynamoDB raises for a real error, so the code under test cannot tell;
- run something just before a chosen call (a second delivery of the same webhook, a concurrent
  staff edit): a deterministic interleaving instead of a race that passes by luck.

The tap sits above botocore's own retries: an injected throttle is one that survived them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pynamodb.connection.base import Connection
from pynamodb.exceptions import CancellationReason, VerboseClientError

READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
THROTTLE = "ProvisionedThroughputExceededException"


@dataclass
class Call:
    operation: str
    tables: tuple[str, ...]
    ok: bool = True
    error: str | None = None
    injected: bool = False
    items: int = 1  # items in a transaction or batch
    seconds: float = 0.0  # wall time spent in the call (the benches subtract it from handler time)
    returned: int = 0  # items the call returned (GetItem: 0 or 1; Query/Scan: Count)
    returned_lost: bool = False  # the call reached DynamoDB but its answer was dropped (``lose_answer``)

    @property
    def is_read(self) -> bool:
        return self.operation in READ_OPERATIONS

    @property
    def is_write(self) -> bool:
        return self.operation in WRITE_OPERATIONS


def _tables(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if "TransactItems" in kwargs:
        return tuple(next(iter(op.values()))["TableName"] for op in kwargs["TransactItems"])
    if "RequestItems" in kwargs:
        return tuple(kwargs["RequestItems"])
    name = kwargs.get("TableName")
    return (name,) if name else ()


def _items(kwargs: dict[str, Any]) -> int:
    if "TransactItems" in kwargs:
        return len(kwargs["TransactItems"])
    if "RequestItems" in kwargs:
        return sum(len(v) if isinstance(v, list) else len(v.get("Keys", ())) for v in kwargs["RequestItems"].values())
    return 1


def client_error(operation: str, code: str, message: str = "injected by the test", reasons: list[str] | None = None
                 ) -> VerboseClientError:
    """The exception PynamoDB's connection raises when DynamoDB answers with ``code``."""
    cancellation = [
        None if r in (None, "None") else CancellationReason(code=r, message="injected")
        for r in (reasons or [])
    ]
    return VerboseClientError(
        {"Error": {"Code": code, "Message": message}},
        operation,
        {"request_id": "injected", "table_name": "injected"},
        cancellation_reasons=cancellation,
    )


Matcher = Callable[[Call], bool]


def matching(operation: str | None = None, table: str | None = None) -> Matcher:
    """Select calls by operation name and/or by a table-name suffix (``"claims"``)."""

    def match(call: Call) -> bool:
        if operation is not None and call.operation != operation:
            return False
        if table is not None and not any(t.endswith(table) for t in call.tables):
            return False
        return True

    return match


@dataclass
class _Rule:
    match: Matcher
    nth: int  # 1-based among the calls this rule matches
    action: Callable[[Call, dict[str, Any]], None]
    seen: int = 0
    fired: bool = False


@dataclass
class DynamoTap:
    """Records (and optionally breaks) DynamoDB calls made through PynamoDB in this process."""

    calls: list[Call] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _local: threading.local = field(default_factory=threading.local)
    _original: Any = None
    _connection: Any = None

    # -- set-up ------------------------------------------------------------------------------

    def fail(self, nth: int, code: str = THROTTLE, *, match: Matcher | None = None,
             reasons: list[str] | None = None) -> DynamoTap:
        """Fail the ``nth`` call (1-based) that ``match`` selects (all calls by default)."""

        def raise_it(call: Call, kwargs: dict[str, Any]) -> None:
            call_reasons = reasons
            if code == "TransactionCanceledException" and call_reasons is None:
                call_reasons = ["ThrottlingError"] * call.items
            raise client_error(call.operation, code, reasons=call_reasons)

        self._rules.append(_Rule(match or (lambda c: True), nth, raise_it))
        return self

    def lose_answer(self, nth: int, code: str = "RequestTimeout", *, match: Matcher | None = None) -> DynamoTap:
        """Let the ``nth`` selected call reach DynamoDB, then fail it as if the answer never came back.

        The write happened; the caller sees an error (a timeout after commit, a dropped connection).
        """

        def commit_then_raise(call: Call, kwargs: dict[str, Any]) -> None:
            self._local.bypass = True
            try:
                self._original(self._connection, call.operation, kwargs)
            finally:
                self._local.bypass = False
            call.returned_lost = True
            raise client_error(call.operation, code, "the answer was lost after the write")

        self._rules.append(_Rule(match or (lambda c: True), nth, commit_then_raise))
        return self

    def before(self, nth: int, action: Callable[[], Any], *, match: Matcher | None = None) -> DynamoTap:
        """Run ``action`` just before the ``nth`` selected call goes out.

        The calls ``action`` makes (another delivery, another Lambda) pass untouched and uncounted.
        """

        def run(call: Call, kwargs: dict[str, Any]) -> None:
            self._local.bypass = True
            try:
                action()
            finally:
                self._local.bypass = False

        self._rules.append(_Rule(match or (lambda c: True), nth, run))
        return self

    @property
    def fired(self) -> bool:
        """True once every fault or interleaving set up has happened."""
        return all(r.fired for r in self._rules)

    # -- reading the record --------------------------------------------------------------------

    def by_operation(self) -> Counter[str]:
        return Counter(c.operation for c in self.calls if not c.injected)

    @property
    def round_trips(self) -> int:
        return sum(1 for c in self.calls if not c.injected)

    @property
    def reads(self) -> int:
        return sum(1 for c in self.calls if c.is_read and not c.injected)

    @property
    def items_read(self) -> int:
        return sum(c.returned for c in self.calls if c.is_read and not c.injected)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.calls if c.is_write and not c.injected)

    @property
    def successful_writes(self) -> list[Call]:
        return [c for c in self.calls if c.is_write and c.ok]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- the wrapper ---------------------------------------------------------------------------

    def _call(self, connection: Connection, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        call = Call(operation, _tables(kwargs), items=_items(kwargs))
        self._connection = connection
        if not getattr(self._local, "bypass", False):
            with self._lock:
                self.calls.append(call)
                due = []
                for rule in self._rules:
                    if rule.fired or not rule.match(call):
                        continue
                    rule.seen += 1
                    if rule.seen == rule.nth:
                        rule.fired = True
                        due.append(rule)
            for rule in due:
                try:
                    rule.action(call, kwargs)
                except VerboseClientError as err:
                    # A lost answer went out (it counts as a round trip); an injected failure did not.
                    call.ok, call.error = False, err.response["Error"]["Code"]
                    call.injected = not call.returned_lost
                    raise
        started = time.perf_counter()
        try:
            result = self._original(connection, operation, kwargs)
            if isinstance(result, dict):
                call.returned = int(result.get("Count", 1 if result.get("Item") else 0))
            return result
        except Exception as err:
            call.ok = False
            call.error = getattr(err, "response", {}).get("Error", {}).get("Code") or type(err).__name__
            raise
        finally:
            call.seconds = time.perf_counter() - started

    def __enter__(self) -> DynamoTap:
        self._original = Connection._make_api_call
        tap = self

        def _make_api_call(connection: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
            return tap._call(connection, operation_name, operation_kwargs)

        Connection._make_api_call = _make_api_call  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        Connection._make_api_call = self._original  # type: ignore[method-assign]


@contextmanager
def dynamo_tap() -> Iterator[DynamoTap]:
    with DynamoTap() as tap:
        yield tap


def all_items() -> dict[str, int]:
    """Item count of every table (test-only scans): 'nothing half-written' checks compare these."""
    import boto3

    from chalicelib.adapters import models

    dynamo = boto3.client("dynamodb", region_name="ca-central-1")
    counts = {}
    for model in models.ALL_MODELS:
        total = 0
        for page in dynamo.get_paginator("scan").paginate(TableName=model.Meta.table_name, Select="COUNT"):
            total += page["Count"]
        counts[model.Meta.base_name] = total
    return counts
