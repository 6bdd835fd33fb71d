"""The followups table: each worker's list of automated messages sent to their clients (SPEC §5.5).

Rows are keyed by the worker (``agency#staff``) and the instant the message went, so
``GET /followups`` is one Query, and a survey's score finds its row from the file's
``last_survey_at``.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from ..domain.followups import FollowupRow
from ..domain.messages import Message
from . import models as m
from .keys import agency_staff, message_key, sort_key
from .writes import WriteQueue


def _row_from(item: m.FollowupModel, agency_id: str, staff_id: str) -> FollowupRow:
    return FollowupRow(agency_id=agency_id, staff_id=staff_id, client_id=item.client_id, kind=item.kind,
                       at=item.at, replied_at=item.replied_at,
                       score=int(item.score) if item.score is not None else None)


def _row(agency_id: str, staff_id: str, client_id: str, at: datetime) -> m.FollowupModel:
    return m.FollowupModel(agency_staff=agency_staff(agency_id, staff_id), sk=sort_key(at, client_id))


class FollowupRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def add(self, message: Message) -> None:
        """Queue the row of an automated message (followup, checkin, survey) going to a client now."""
        self._uow.save(m.FollowupModel(
            agency_staff=agency_staff(message.agency_id, message.staff_id or ""),
            sk=sort_key(message.at, message.client_id), client_id=message.client_id, kind=message.kind.value,
            at=message.at, message_sk=message_key(message.ref)))

    def of(self, agency_id: str, staff_id: str, limit: int) -> list[FollowupRow]:
        items = m.FollowupModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False, limit=limit)
        return [_row_from(i, agency_id, staff_id) for i in items]

    def exists(self, agency_id: str, staff_id: str, client_id: str, at: datetime) -> bool:
        """Whether the row of the message sent at ``at`` is there (one keyed GetItem)."""
        try:
            _row(agency_id, staff_id, client_id, at).refresh(consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def score(self, agency_id: str, staff_id: str, client_id: str, survey_at: datetime, score: int,
              replied_at: datetime) -> None:
        """Queue a survey's score on its row (the survey sent at ``survey_at``, which must exist)."""
        self._uow.update(_row(agency_id, staff_id, client_id, survey_at),
                         actions=[m.FollowupModel.score.set(score), m.FollowupModel.replied_at.set(replied_at)],
                         condition=m.FollowupModel.sk.exists())
