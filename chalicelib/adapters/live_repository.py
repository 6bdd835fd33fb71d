"""The live_connections table: open consoles' WebSockets and the one-use tickets that open them.

Not part of a unit of work: a socket comes and goes on its own (API Gateway's connect and
disconnect, a ``GoneException`` when posting), and nothing else is written with it. Every read is
keyed: a publish Queries the agency's agency-wide sockets (supervisors and admins, a sparse index)
and each answering worker's sockets (``by_staff``), never a Scan. A ticket is stored under a
digest of itself, so the table never holds a usable ticket; taking it deletes it on a condition,
so it opens one socket at most.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist

from ..domain.live import LiveConnection
from ..domain.model import Role
from . import models as m
from .keys import agency_staff
from .writes import condition_failed

TICKET_PREFIX = "ticket#"


def _ticket_key(ticket: str) -> str:
    return TICKET_PREFIX + hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def _connection_from(item: m.LiveConnectionModel) -> LiveConnection | None:
    try:
        role = Role(item.role)
    except ValueError:
        return None
    return LiveConnection(item.connection_id, item.agency_id, item.staff_id, role, item.connected_at)


class LiveConnectionRepository:
    def add_ticket(self, ticket: str, agency_id: str, staff_id: str, role: Role, expires_at: datetime) -> None:
        m.LiveConnectionModel(connection_id=_ticket_key(ticket), agency_id=agency_id, staff_id=staff_id,
                              role=role.value, expires_at=expires_at).save()

    def take_ticket(self, ticket: str, now: datetime) -> LiveConnection | None:
        """Who the ticket was given to, once: the ticket is gone afterwards. None when unknown,
        expired or taken meanwhile."""
        if not ticket or len(ticket) > 200:
            return None
        key = _ticket_key(ticket)
        try:
            item = m.LiveConnectionModel.get(key, consistent_read=True)
        except DoesNotExist:
            return None
        try:
            item.delete(condition=m.LiveConnectionModel.connection_id.exists())
        except DeleteError as err:
            if condition_failed(err):
                return None
            raise
        if item.expires_at is None or item.expires_at <= now:
            return None
        return _connection_from(item)

    def add(self, connection: LiveConnection, expires_at: datetime) -> None:
        wide = connection.role in (Role.SUPERVISOR, Role.ADMIN)
        m.LiveConnectionModel(
            connection_id=connection.connection_id, agency_id=connection.agency_id, staff_id=connection.staff_id,
            role=connection.role.value, agency_staff=agency_staff(connection.agency_id, connection.staff_id),
            agency_wide=connection.agency_id if wide else None, connected_at=connection.connected_at,
            expires_at=expires_at,
        ).save()

    def remove(self, connection_id: str) -> None:
        if connection_id.startswith(TICKET_PREFIX):
            return
        m.LiveConnectionModel(connection_id=connection_id).delete()

    def agency_wide(self, agency_id: str, now: datetime) -> list[LiveConnection]:
        """The sockets of the agency's supervisors and admins (one Query, sparse index)."""
        return self._of_agency(m.LiveConnectionModel.agency_wide_index.query(agency_id), agency_id)

    def of_staff(self, agency_id: str, staff_id: str, now: datetime) -> list[LiveConnection]:
        """One member's sockets (one Query)."""
        return self._of_agency(m.LiveConnectionModel.by_staff.query(agency_staff(agency_id, staff_id)), agency_id)

    @staticmethod
    def _of_agency(items: object, agency_id: str) -> list[LiveConnection]:
        # A row past its lifetime that TTL has not removed yet is still tried: API Gateway answers
        # GoneException for a socket it closed, and the publisher forgets it then. Its clock, not
        # ours, says when a socket ended.
        found = []
        for item in items:  # type: ignore[attr-defined]
            if item.agency_id != agency_id:
                continue  # another agency's: never, by the key; checked all the same
            connection = _connection_from(item)
            if connection is not None:
                found.append(connection)
        return found


#: API Gateway closes a WebSocket after two hours; its row outlives it a little, then TTL removes it.
CONNECTION_LIFETIME = timedelta(hours=2, minutes=10)
TICKET_LIFETIME = timedelta(seconds=60)
