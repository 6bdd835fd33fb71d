"""Pages of ``GET /clients`` read from one or more index partitions at once, with an opaque cursor.

A worker who covers an absent colleague reads two partitions (their files and the colleague's), a
filter reads one per state (``domain.caseload.FileState``), a search one per case manager. Each
page queries every partition not yet exhausted once, for at most ``limit`` keys, merges them in the
index's order and keeps, per partition, where the page stopped. So a page costs the same number of
DynamoDB calls however many files the partitions hold.

The cursor (``next``) is those positions and a digest of the partitions they belong to: a cursor
given for another list (another agency, another worker, another filter or search) or altered is
refused with a 400 before anything is read. A position carries only the keys that vary inside its
partition (an instant, a client id), never the partition itself, which always comes from the
caller's own query: a cursor can neither reveal nor reach another caseload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain import validation as v
from ..domain.errors import InvalidInput

MAX_CURSOR = 8000
_DONE = False  # a partition with nothing left to read


@dataclass(frozen=True)
class Partition:
    """One partition of a table or index, read in key order."""

    source: Any  # a PynamoDB model class or one of its indexes
    value: str  # the partition key's value
    fixed: Mapping[str, str]  # key attributes whose (serialized) values are the same for every item
    varying: tuple[tuple[str, Any], ...]  # (name, PynamoDB attribute) of the other key attributes
    order: str  # the attribute the partition is ordered by (its range key)

    def position_of(self, item: Any) -> list[str]:
        return [attr.serialize(getattr(item, name)) for name, attr in self.varying]

    def start_key(self, position: list[str] | None) -> dict[str, dict[str, str]] | None:
        if position is None:
            return None
        return {**{n: {"S": s} for n, s in self.fixed.items()},
                **{name: {"S": s} for (name, _), s in zip(self.varying, position, strict=True)}}

    def valid(self, position: Any) -> bool:
        if not isinstance(position, list) or len(position) != len(self.varying):
            return False
        for (name, attr), text in zip(self.varying, position, strict=True):
            if not isinstance(text, str) or not 0 < len(text) <= 200:
                return False
            if name == "client_id":
                if not v.is_identifier(text):
                    return False
            else:
                try:
                    attr.deserialize(text)
                except (TypeError, ValueError):
                    return False
        return True


def read_page(partitions: Sequence[Partition], cursor: str | None, limit: int, *,
              descending: bool) -> tuple[list[Any], str | None]:
    """The next ``limit`` items of the partitions merged in order, and the cursor after them."""
    positions = _decode(cursor, partitions) if cursor else [None] * len(partitions)
    read: list[tuple[int, list[Any], bool]] = []
    for i, (partition, position) in enumerate(zip(partitions, positions, strict=True)):
        if position is _DONE:
            continue
        results = partition.source.query(partition.value, scan_index_forward=not descending, limit=limit,
                                         page_size=limit, last_evaluated_key=partition.start_key(position))
        items = list(results)
        read.append((i, items, len(items) < limit))
    merged = [(item, i) for i, items, _ in read for item in items]
    # Stable: items of one partition keep the partition's own order, whatever ties there are.
    merged.sort(key=lambda pair: getattr(pair[0], partitions[pair[1]].order), reverse=descending)
    page = merged[:limit]
    for i, items, exhausted in read:
        taken = [item for item, source in page if source == i]
        if taken:
            positions[i] = partitions[i].position_of(taken[-1])
        if exhausted and len(taken) == len(items):
            positions[i] = _DONE
    if all(p is _DONE for p in positions):
        return [item for item, _ in page], None
    return [item for item, _ in page], _encode(partitions, positions)


def _digest(partitions: Sequence[Partition]) -> str:
    names = "\n".join(p.value for p in partitions)
    return hashlib.sha256(names.encode()).hexdigest()[:24]


def _encode(partitions: Sequence[Partition], positions: list[Any]) -> str:
    raw = json.dumps([_digest(partitions), positions], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, partitions: Sequence[Partition]) -> list[Any]:
    refused = InvalidInput("next", "is not a cursor of this list: start again from the first page")
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        digest, positions = json.loads(raw.decode())
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        raise refused from None
    if digest != _digest(partitions) or not isinstance(positions, list) or len(positions) != len(partitions):
        raise refused
    for partition, position in zip(partitions, positions, strict=True):
        if position is not None and position is not _DONE and not partition.valid(position):
            raise refused
    return positions
