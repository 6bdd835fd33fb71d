"""The key formats of the tables, in one place: every repository builds its keys from these."""

from __future__ import annotations

from datetime import UTC, datetime

from ..domain.messages import MessageRef
from ..domain.model import Channel

_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sort_key(at: datetime, item_id: str) -> str:
    """``<fixed-width UTC instant>#<id>``: string order is time order."""
    return f"{instant(at)}#{item_id}"


def instant(at: datetime) -> str:
    """The bare instant of a sort key: it sorts before every key at that instant (range bounds)."""
    return at.strftime(_INSTANT)


def message_key(ref: MessageRef) -> str:
    """A message's sort key, from what the message says of itself: when it was written, and its id.

    The instant is read in UTC (a naive one is UTC already, as PynamoDB stores it), so a message
    read back from the table, whose ``at`` comes back in UTC, names the same item it was written as.
    """
    at = ref.at.replace(tzinfo=UTC) if ref.at.tzinfo is None else ref.at.astimezone(UTC)
    return sort_key(at, ref.message_id)


def message_ref(client_id: str, key: str) -> MessageRef:
    """The message a sort key names (an index that projects only the keys gives no more)."""
    at, _, message_id = key.partition("#")
    return MessageRef(client_id, message_id, datetime.strptime(at, _INSTANT).replace(tzinfo=UTC))


def agency_staff(agency_id: str, staff_id: str) -> str:
    return f"{agency_id}#{staff_id}"


def staff_of(agency_staff_key: str | None) -> str | None:
    """The staff id of an ``agency#staff`` key."""
    if not agency_staff_key:
        return None
    return agency_staff_key.split("#", 1)[1] if "#" in agency_staff_key else agency_staff_key


def contact_key(agency_id: str, channel: Channel, phone: str) -> str:
    return f"{agency_id}#{channel.value}#{phone}"


def staff_status(agency_id: str, staff_id: str, status: str) -> str:
    return f"{agency_id}#{staff_id}#{status}"


def agency_status(agency_id: str, status: str) -> str:
    return f"{agency_id}#{status}"


def state_key(agency_id: str, staff_id: str | None, state: str) -> str:
    """A caseload state partition (issue 22): ``agency#staff#state``, or ``agency#state`` agency-wide."""
    return f"{agency_id}#{staff_id}#{state}" if staff_id is not None else f"{agency_id}#{state}"


def search_key(agency_id: str, staff_id: str | None, term: str) -> str:
    """A search term's partition (issue 22): ``agency#staff#term``, or ``agency#term`` agency-wide."""
    return f"{agency_id}#{staff_id}#{term}" if staff_id is not None else f"{agency_id}#{term}"
