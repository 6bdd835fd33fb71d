"""Live updates (issue 23): open a console's socket, and tell open consoles what changed.

Three use cases:

- ``LiveSockets``: a signed-in member asks for a ticket (``POST /live/tickets``, behind the same
  token check as every staff route), then opens the WebSocket with it; the socket is recorded
  under their agency and role; a closed one is forgotten. Why a ticket rather than the token in
  the socket's URL: in AWS, API Gateway's Cognito authorizer checks the token of every REST call,
  but a WebSocket API takes no Cognito authorizer, so the Lambda would have to verify Cognito's
  RS256 signatures itself (a crypto library and a key download on a cold start); and a URL's query
  string is the part of a request that gateways and proxies log. A ticket is random, single-use,
  expires in a minute and is stored only as a digest: the token itself never leaves the headers
  of the REST API.
- ``LivePublisher.deliver``: the changes a commit made (``domain.live.Change``) become events
  posted to the sockets of staff who may see them: Queries by agency (supervisors and admins) and
  by staff (the answering workers), never a Scan, never another agency's sockets. A socket API
  Gateway no longer knows (``GoneException``) is forgotten; any other failure is counted and
  dropped: a push is best effort, and a console that missed one catches up when it reconnects.
- ``LiveDispatch.changed``: what the unit of work calls after a commit. The request that made the
  change never waits for the push: in AWS the changes go to an SQS queue (one ``SendMessage``) and
  ``live_worker`` delivers them; where no queue is configured (``make run``, the tests) a
  background thread delivers them.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..domain.absence import local_day
from ..domain.clock import utcnow
from ..domain.errors import NotFound, Unauthenticated
from ..domain.live import (
    SEES_WHOLE_AGENCY,
    Change,
    LiveConnection,
    file_audience,
    file_event,
    merged,
    notifications_event,
)
from ..domain.model import Principal

log = logging.getLogger("cmdm")

TICKET_SECONDS = 60
CONNECTION_LIFETIME = timedelta(hours=2, minutes=10)  # API Gateway ends a socket after two hours


class LiveSockets:
    """Tickets, and the sockets they open and close."""

    def __init__(self, connections: Any, ws_url: str | None) -> None:
        self._connections = connections  # adapters.live_repository.LiveConnectionRepository
        self._ws_url = ws_url

    @property
    def available(self) -> bool:
        return bool(self._ws_url)

    def ticket(self, principal: Principal) -> dict[str, Any]:
        """A one-use ticket to open this member's socket, and where to open it."""
        if not self._ws_url:
            raise NotFound("live updates are not configured on this deployment", code="live_unavailable")
        ticket = secrets.token_urlsafe(32)
        self._connections.add_ticket(ticket, principal.agency_id, principal.staff_id, principal.role,
                                     utcnow() + timedelta(seconds=TICKET_SECONDS))
        return {"ticket": ticket, "url": self._ws_url, "expires_in": TICKET_SECONDS}

    def connect(self, ticket: str | None, connection_id: str) -> LiveConnection:
        """Record the socket the ticket opens; ``Unauthenticated`` for a ticket unknown, used or expired."""
        now = utcnow()
        owner = self._connections.take_ticket(ticket or "", now)
        if owner is None or not connection_id:
            raise Unauthenticated("invalid or expired live-updates ticket")
        connection = LiveConnection(connection_id, owner.agency_id, owner.staff_id, owner.role, now)
        self._connections.add(connection, now + CONNECTION_LIFETIME)
        return connection

    def disconnect(self, connection_id: str) -> None:
        if connection_id:
            self._connections.remove(connection_id)


@dataclass
class Delivery:
    """What one ``deliver`` did, in counts (for logs and tests; nothing personal)."""

    sent: int = 0
    gone: int = 0
    failed: int = 0
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (connection id, event)

    def summary(self) -> dict[str, int]:
        return {"sent": self.sent, "gone": self.gone, "failed": self.failed}


class LivePublisher:
    def __init__(self, connections: Any, push: Any, file_of: Callable[[str], Any],
                 directory: Callable[[str], Any], policies: Any, clock: Callable[[], datetime] = utcnow) -> None:
        self._connections = connections
        self._push = push  # adapters.live_push.ManagementApi: post(connection_id, event) -> "sent"|"gone"|"failed"
        self._file_of = file_of  # client id -> the file (agency_id, case_manager_id), or None
        self._directory = directory  # agency id -> StaffDirectory (roles, absences), cached per minute
        self._policies = policies
        self._clock = clock

    def warm(self) -> None:
        """A long-running process (make run) builds its management API client before the first push."""
        warm = getattr(self._push, "warm", None)
        if warm is not None:
            warm()

    def deliver(self, changes: Iterable[Change]) -> Delivery:
        done = Delivery()
        now = self._clock()
        for change in merged(changes):
            try:
                targets = self._targets(change, now)
            except Exception as err:  # one file's trouble never stops the others' pushes
                log.warning("live update not delivered: %s", type(err).__name__)
                done.failed += 1
                continue
            for connection_id, event in targets:
                self._post(connection_id, event, done)
        return done

    def _targets(self, change: Change, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        if change.recipient is not None:
            # A member's own notifications: their sockets only, at any hour.
            roles = self._directory(change.agency_id).roles
            if roles.get(change.recipient) is None:
                return []
            event = notifications_event(change)
            return [(c.connection_id, event)
                    for c in self._connections.of_staff(change.agency_id, change.recipient, now)]
        if change.client_id is None:
            return []
        client = self._file_of(change.client_id)
        if client is None or (change.agency_id and client.agency_id != change.agency_id):
            return []  # erased, or a change naming another agency: nobody hears of it
        agency_id = client.agency_id
        directory = self._directory(agency_id)
        calendar = self._policies.get(agency_id).calendar
        audience = file_audience(client.case_manager_id, directory.roles, directory.absences,
                                 local_day(now, calendar.zone()))
        open_now = calendar.is_open(now)
        sockets = self._sockets(agency_id, audience.answering | {audience.case_manager}, now)
        targets = []
        for connection in sockets:
            role = directory.roles.get(connection.staff_id)
            if connection.agency_id == agency_id and audience.may_see(connection.staff_id, role):
                targets.append((connection.connection_id, file_event(change, connection.staff_id, audience,
                                                                     open_now=open_now)))
        return targets

    def _sockets(self, agency_id: str, workers: Iterable[str], now: datetime) -> list[LiveConnection]:
        found = {c.connection_id: c for c in self._connections.agency_wide(agency_id, now)
                 if c.role in SEES_WHOLE_AGENCY}
        for staff_id in sorted(set(workers)):
            for connection in self._connections.of_staff(agency_id, staff_id, now):
                found.setdefault(connection.connection_id, connection)
        return list(found.values())

    def _post(self, connection_id: str, event: dict[str, Any], done: Delivery) -> None:
        outcome = str(self._push.post(connection_id, event))
        if outcome == "sent":
            done.sent += 1
            done.events.append((connection_id, event))
        elif outcome == "gone":
            done.gone += 1
            try:
                self._connections.remove(connection_id)
            except Exception as err:
                log.warning("a closed live socket was not forgotten: %s", type(err).__name__)
        else:
            done.failed += 1


class LiveDispatch:
    """Hands a commit's changes on without making the committing request wait for the pushes."""

    def __init__(self, deliver: Callable[[list[Change]], Any], queue_sender: Any = None) -> None:
        self._deliver = deliver
        self._queue = queue_sender  # adapters.queues.SqsQueue, or None: a background thread delivers
        self._pending: queue.SimpleQueue[list[Change]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outstanding = threading.Condition()
        self._batches = 0  # handed over and not yet delivered

    def changed(self, changes: list[Change]) -> None:
        if not changes:
            return
        if self._queue is not None:
            try:
                self._queue.send([{"changes": [c.to_json() for c in changes]}])
            except Exception as err:  # best effort: the change itself is committed
                log.warning("live update not queued: %s", type(err).__name__)
            return
        with self._outstanding:
            self._batches += 1
        self._pending.put(list(changes))
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="cmdm-live", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            batch, taken = self._pending.get(), 1
            # What piled up meanwhile goes out as one delivery: one event per file, not per write.
            while True:
                try:
                    batch.extend(self._pending.get_nowait())
                    taken += 1
                except queue.Empty:
                    break
            try:
                self._deliver(batch)
            except Exception as err:
                log.warning("live updates not delivered: %s", type(err).__name__)
            with self._outstanding:
                self._batches -= taken
                self._outstanding.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Tests and tools: True once every change handed over so far was delivered."""
        with self._outstanding:
            return self._outstanding.wait_for(lambda: self._batches == 0, timeout)


def changes_from_queue(bodies: Iterable[Any]) -> list[Change]:
    """The changes in ``live_worker``'s queue messages; anything malformed is skipped."""
    found = []
    for body in bodies:
        items = body.get("changes") if isinstance(body, Mapping) else None
        for item in items if isinstance(items, list) else ():
            change = Change.from_json(item)
            if change is not None:
                found.append(change)
    return found
