"""Daily report roll-ups in the ``counters`` table (the audit they are made from is read by
``audit_repository``).

| what                                        | table / index     | key                                        |
|---------------------------------------------|-------------------|--------------------------------------------|
| usage roll-ups of an agency over a period   | counters          | Query ``<agency>#usage``, day between      |
| the latest usage roll-up on or before a day | counters          | Query ``<agency>#usage``, day <=, newest 1 |
| compliance roll-ups over a period           | counters          | Query ``<agency>#compliance``, day between |

A roll-up is written once, with ``attribute_not_exists``: a second run of the job for the same
day finds it there and moves on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pynamodb.exceptions import PutError

from . import models as m
from .writes import WriteQueue, condition_failed

USAGE = "usage"
COMPLIANCE = "compliance"


def _key(agency_id: str, kind: str) -> str:
    return f"{agency_id}#{kind}"


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class RollupRepository:
    """Reads and writes of the daily roll-ups; every read a keyed Query."""

    def __init__(self, uow: WriteQueue | None = None) -> None:
        self._uow = uow

    def days(self, agency_id: str, kind: str, first: date, last: date) -> dict[date, dict[str, Any]]:
        items = m.CounterModel.query(
            _key(agency_id, kind), m.CounterModel.day.between(first.isoformat(), last.isoformat())
        )
        return {date.fromisoformat(i.day): _plain(i.counts) for i in items}

    def latest(self, agency_id: str, kind: str, on_or_before: date) -> tuple[date, dict[str, Any]] | None:
        items = m.CounterModel.query(
            _key(agency_id, kind), m.CounterModel.day <= on_or_before.isoformat(), scan_index_forward=False, limit=1
        )
        for item in items:
            return date.fromisoformat(item.day), _plain(item.counts)
        return None

    def save(self, agency_id: str, kind: str, day: date, counts: Mapping[str, Any]) -> bool:
        """Write one day's roll-up; False when it was already there."""
        item = m.CounterModel(counter_key=_key(agency_id, kind), day=day.isoformat(),
                              counts={k: v for k, v in counts.items() if v is not None})
        try:
            item.save(condition=m.CounterModel.day.does_not_exist())
        except PutError as err:
            if condition_failed(err):
                return False
            raise
        return True

    def replace(self, agency_id: str, kind: str, day: date, counts: Mapping[str, Any]) -> None:
        """Write a day's roll-up again: the job moves settled live inquiries into a compliance day's counts.

        Each such write is a whole day computed from one read of it, and an inquiry moves from
        ``live`` to the counts in the same item, so two runs racing each other never count one twice.
        """
        m.CounterModel(counter_key=_key(agency_id, kind), day=day.isoformat(),
                       counts={k: v for k, v in counts.items() if v is not None}).save()
