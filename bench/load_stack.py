"""``make run``'s stack for the load test: ``chalicelib.local.main`` with one emulator fix.

moto's ``TransactWriteItems`` deep-copies every table a transaction touches (once per item) so it
can roll back; with thousands of items each webhook would spend seconds copying, and the load test
would measure moto rather than CMDM. ``cheap_transaction_rollback`` keeps the same all-or-nothing
behaviour by saving only the items the transaction names and putting them back if it is cancelled.
Nothing else differs from ``make run`` (same tables, seed, server, job loop, moto isolation lock
and listen backlog: see ``chalicelib/local.py``).

    python -m bench.load_stack   # with CMDM_PORT / CMDM_MOTO_PORT / CMDM_JOB_INTERVAL set
"""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Callable
from typing import Any


def cheap_transaction_rollback() -> Callable[[], None]:
    """Patch moto in this process; returns the function that undoes the patch (for tests)."""
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _NoTableCopies:
        """Stands in for ``copy`` inside moto's backend: tables are not copied, everything else is."""

        def deepcopy(self, value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table):
                return value
            return copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    real_copy = backend_module.copy
    backend_module.copy = _NoTableCopies()  # type: ignore[assignment]
    original = DynamoDBBackend.transact_write_items
    lock = threading.RLock()  # one transaction at a time, as DynamoDB's isolation promises

    def keys_of(self: Any, items: list[dict[str, Any]]) -> list[tuple[Any, dict[str, Any], Any]]:
        saved = []
        for entry in items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            try:
                current = self.get_item(table.name, key)
            except Exception:
                current = None
            saved.append((table, key, copy.deepcopy(current)))
        return saved

    def restore(saved: list[tuple[Any, dict[str, Any], Any]]) -> None:
        for table, key, old in reversed(saved):
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            try:
                table.delete_item(hash_value, range_value)
            except Exception:
                pass
            if old is not None:
                if range_value is not None:
                    table.items[hash_value][range_value] = old
                else:
                    table.items[hash_value] = old

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            saved = keys_of(self, transact_items)
            try:
                return original(self, transact_items)
            except Exception:
                restore(saved)
                raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]

    def undo() -> None:
        backend_module.copy = real_copy  # type: ignore[assignment]
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]

    return undo


def main() -> int:
    cheap_transaction_rollback()
    from chalicelib import local  # which isolates moto's operations and deepens the listen queue

    return local.main()


if __name__ == "__main__":
    sys.exit(main())
