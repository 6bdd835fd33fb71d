"""Who hears of a change, and what they are told (issue 23): the publisher with fakes.

The fakes behave like the real parts: the connections repository keeps sockets by agency and
staff and answers only keyed look-ups (``agency_wide``, ``of_staff``), the management API answers
``gone`` for a socket it does not know, the directory is the agency's staff records with absences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.absence import Absence
from chalicelib.domain.live import Change, LiveConnection, What, merged
from chalicelib.domain.model import Role
from chalicelib.services.live import LiveDispatch, LivePublisher, changes_from_queue

# Tuesday 2026-12-08, 10:00 in Calgary (UTC-6): the agency is open.
OPEN = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
CLOSED = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 21:00 the evening before


class FakeConnections:
    """Sockets by id; look-ups by agency (supervisors and admins) and by member, like the table's indexes."""

    def __init__(self) -> None:
        self.sockets: dict[str, tuple[LiveConnection, datetime]] = {}
        self.lookups: list[tuple[str, ...]] = []

    def open(self, connection_id: str, agency_id: str, staff_id: str, role: Role,
             expires_at: datetime = OPEN + timedelta(hours=2)) -> None:
        self.sockets[connection_id] = (LiveConnection(connection_id, agency_id, staff_id, role), expires_at)

    def agency_wide(self, agency_id: str, now: datetime) -> list[LiveConnection]:
        self.lookups.append(("agency_wide", agency_id))
        return [c for c, _ in self.sockets.values() if c.agency_id == agency_id and c.role in (Role.SUPERVISOR, Role.ADMIN)]

    def of_staff(self, agency_id: str, staff_id: str, now: datetime) -> list[LiveConnection]:
        self.lookups.append(("of_staff", agency_id, staff_id))
        return [c for c, _ in self.sockets.values() if c.agency_id == agency_id and c.staff_id == staff_id]

    def remove(self, connection_id: str) -> None:
        self.sockets.pop(connection_id, None)


@dataclass
class FakeManagementApi:
    """API Gateway's management API: knows the sockets still open; ``gone`` for the others."""

    open: set[str] = field(default_factory=set)
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)

    def post(self, connection_id: str, event: dict[str, Any]) -> str:
        if connection_id in self.failing:
            return "failed"
        if connection_id not in self.open:
            return "gone"
        self.posted.append((connection_id, event))
        return "sent"

    def to(self, connection_id: str) -> list[dict[str, Any]]:
        return [e for c, e in self.posted if c == connection_id]


@dataclass
class Directory:
    roles: dict[str, Role]
    absences: dict[str, list[Absence]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class File:
    agency_id: str
    case_manager_id: str


@pytest.fixture
def policies() -> Any:
    from chalicelib.adapters.policy_loader import PolicyStore
    from tests.conftest import ROOT

    return PolicyStore(ROOT / "policies")


CALGARY = {"amal": Role.WORKER, "jean": Role.WORKER, "sup-maria": Role.SUPERVISOR, "admin-lee": Role.ADMIN}
HALIFAX = {"w-h": Role.WORKER, "sup-h": Role.SUPERVISOR}


def world(policies: Any, at: datetime = OPEN, absences: dict[str, list[Absence]] | None = None,
          roles: dict[str, Role] | None = None) -> tuple[LivePublisher, FakeConnections, FakeManagementApi]:
    connections, api = FakeConnections(), FakeManagementApi()
    for connection_id, agency, staff, role in (
        ("c-amal", "calgary-cfn", "amal", Role.WORKER),
        ("c-amal-phone", "calgary-cfn", "amal", Role.WORKER),
        ("c-jean", "calgary-cfn", "jean", Role.WORKER),
        ("c-maria", "calgary-cfn", "sup-maria", Role.SUPERVISOR),
        ("c-lee", "calgary-cfn", "admin-lee", Role.ADMIN),
        ("c-halifax-sup", "halifax-isans", "sup-h", Role.SUPERVISOR),
        ("c-halifax-w", "halifax-isans", "w-h", Role.WORKER),
    ):
        connections.open(connection_id, agency, staff, role)
        api.open.add(connection_id)
    files = {"cl-fatima": File("calgary-cfn", "amal"), "cl-halifax": File("halifax-isans", "w-h")}
    directories = {"calgary-cfn": Directory(roles if roles is not None else dict(CALGARY), absences or {}),
                   "halifax-isans": Directory(dict(HALIFAX))}
    publisher = LivePublisher(connections, api, file_of=files.get, directory=directories.__getitem__,
                              policies=policies, clock=lambda: at)
    return publisher, connections, api


def fatima_wrote() -> Change:
    return Change("calgary-cfn", "cl-fatima", frozenset({What.MESSAGES, What.INBOX}), client_wrote=True)


def test_a_file_change_reaches_its_case_manager_and_the_agency_supervisors_and_admins_only(policies):
    publisher, _, api = world(policies)
    done = publisher.deliver([fatima_wrote()])
    reached = {c for c, _ in api.posted}
    assert reached == {"c-amal", "c-amal-phone", "c-maria", "c-lee"}
    assert done.sent == 4 and done.failed == done.gone == 0
    assert api.to("c-maria") == [{"type": "client_changed", "client_id": "cl-fatima", "what": ["inbox", "messages"]}]


def test_a_change_never_reaches_another_agency_even_one_that_names_the_same_file(policies):
    publisher, _, api = world(policies)
    publisher.deliver([fatima_wrote()])
    assert not api.to("c-halifax-sup") and not api.to("c-halifax-w")
    # A change that claims another agency for a Calgary file is dropped whole.
    forged = Change("halifax-isans", "cl-fatima", frozenset({What.MESSAGES}), client_wrote=True)
    api.posted.clear()
    publisher.deliver([forged])
    assert api.posted == []


def test_a_colleague_outside_the_file_hears_nothing(policies):
    publisher, _, api = world(policies)
    publisher.deliver([fatima_wrote()])
    assert api.to("c-jean") == []


def test_a_new_client_message_alerts_the_case_manager_within_the_agency_hours_and_nobody_else(policies):
    publisher, _, api = world(policies, at=OPEN)
    publisher.deliver([fatima_wrote()])
    assert api.to("c-amal")[0]["alert"] == "message"
    assert "alert" not in api.to("c-maria")[0] and "alert" not in api.to("c-lee")[0]


def test_after_hours_the_change_is_pushed_without_an_alert(policies):
    publisher, _, api = world(policies, at=CLOSED)
    publisher.deliver([fatima_wrote()])
    assert api.to("c-amal") and all("alert" not in e for e in api.to("c-amal"))


def test_while_the_case_manager_is_away_the_covering_colleague_hears_and_is_alerted(policies):
    away = {"amal": [Absence("ab1", date(2026, 12, 7), date(2026, 12, 11), "jean")]}
    publisher, _, api = world(policies, absences=away)
    publisher.deliver([fatima_wrote()])
    assert api.to("c-jean")[0]["alert"] == "message"
    # The absent case manager still sees their own file change, but is not alerted on holiday.
    assert api.to("c-amal") and all("alert" not in e for e in api.to("c-amal"))


def test_a_crisis_notification_alerts_its_recipient_at_any_hour_and_only_them(policies):
    publisher, _, api = world(policies, at=CLOSED)
    crisis = Change("calgary-cfn", "cl-fatima", frozenset({What.NOTIFICATIONS}), recipient="jean", crisis=True)
    publisher.deliver([crisis])
    assert api.posted == [("c-jean", {"type": "notifications_changed", "what": ["notifications"],
                                      "client_id": "cl-fatima", "alert": "crisis"})]


def test_a_member_without_an_active_record_hears_nothing(policies):
    roles = {k: v for k, v in CALGARY.items() if k != "sup-maria"}  # deactivated since the socket opened
    publisher, _, api = world(policies, roles=roles)
    publisher.deliver([fatima_wrote()])
    assert api.to("c-maria") == []
    publisher.deliver([Change("calgary-cfn", None, frozenset({What.NOTIFICATIONS}), recipient="sup-maria")])
    assert api.to("c-maria") == []


def test_a_socket_the_gateway_no_longer_knows_is_forgotten_and_a_failure_is_counted(policies):
    publisher, connections, api = world(policies)
    api.open.discard("c-amal-phone")  # closed without a disconnect reaching us
    api.failing.add("c-lee")  # throttled
    done = publisher.deliver([fatima_wrote()])
    assert (done.sent, done.gone, done.failed) == (2, 1, 1)
    assert "c-amal-phone" not in connections.sockets and "c-lee" in connections.sockets


def test_a_publish_looks_sockets_up_by_agency_and_by_member_never_all_of_them(policies):
    publisher, connections, _ = world(policies)
    publisher.deliver([fatima_wrote()])
    assert sorted(connections.lookups) == [("agency_wide", "calgary-cfn"), ("of_staff", "calgary-cfn", "amal")]


def test_a_socket_past_its_lifetime_that_the_gateway_closed_is_forgotten_on_the_next_push(policies):
    publisher, connections, api = world(policies)
    connections.open("c-old", "calgary-cfn", "amal", Role.WORKER, expires_at=OPEN - timedelta(seconds=1))
    publisher.deliver([fatima_wrote()])  # the gateway ended it two hours after it opened
    assert api.to("c-old") == [] and "c-old" not in connections.sockets


def test_changes_of_one_file_are_folded_into_one_event_per_socket(policies):
    publisher, _, api = world(policies)
    publisher.deliver([Change("calgary-cfn", "cl-fatima", frozenset({What.FILE})), fatima_wrote()])
    assert api.to("c-amal") == [{"type": "client_changed", "client_id": "cl-fatima",
                                 "what": ["file", "inbox", "messages"], "alert": "message"}]


def test_merged_unites_what_changed_and_keeps_the_flags():
    a = Change("x", "c1", frozenset({What.FILE}))
    b = Change("x", "c1", frozenset({What.MESSAGES}), client_wrote=True)
    c = Change("x", "c2", frozenset({What.INBOX}))
    assert merged([a, b, c]) == [Change("x", "c1", frozenset({What.FILE, What.MESSAGES}), client_wrote=True), c]


def test_changes_survive_the_queue_and_malformed_ones_are_skipped():
    change = Change("calgary-cfn", None, frozenset({What.NOTIFICATIONS}), recipient="jean", crisis=True)
    bodies = [{"changes": [change.to_json(), {"agency_id": 3}, {"agency_id": "a", "what": ["nonsense"]}]}, "junk", {}]
    assert changes_from_queue(bodies) == [change]


def test_the_dispatch_hands_changes_to_the_queue_when_there_is_one():
    sent: list[Any] = []

    class Queue:
        def send(self, bodies: list[Any]) -> int:
            sent.extend(bodies)
            return len(bodies)

    delivered: list[Any] = []
    LiveDispatch(delivered.append, queue_sender=Queue()).changed([fatima_wrote()])
    assert sent == [{"changes": [fatima_wrote().to_json()]}] and delivered == []


def test_the_dispatch_delivers_in_the_background_and_a_failure_never_reaches_the_caller():
    delivered: list[Any] = []

    def deliver(changes: list[Change]) -> None:
        if any(c.client_id == "boom" for c in changes):
            raise RuntimeError("management API down")
        delivered.extend(changes)

    dispatch = LiveDispatch(deliver)
    dispatch.changed([Change("x", "boom")])  # returns at once, whatever the delivery does
    assert dispatch.wait_idle()
    dispatch.changed([fatima_wrote()])
    assert dispatch.wait_idle()
    assert delivered == [fatima_wrote()]
