"""Which client files and whose notifications a committed unit of work wrote (issue 23).

The unit of work hands its committed writes here; the items are PynamoDB models, so this is the
one place that reads them for live updates and names them in the domain's words (``Change``). A
write that names no file (staff, numbers, claims, audit, counters) changes nothing a console shows
live; an inquiry written by key alone (``_proxy``: no client id on the item) is covered by the
client write that goes with it when the inbox changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..domain.live import Change, What, merged
from . import models as m

_CLIENT_PARTS = frozenset({What.FILE, What.INBOX})


def _agency_of(item: Any) -> str | None:
    value = getattr(item, "agency_id", None)
    return value if isinstance(value, str) and value else None


def change_of(op: str, item: Any, fallback_agency: str | None) -> Change | None:
    """The change one committed write makes, or None when no console shows it live."""
    if isinstance(item, m.NotificationModel):
        agency, _, staff = (item.recipient or "").partition("#")
        if not agency or not staff:
            return None
        return Change(agency, item.client_id, frozenset({What.NOTIFICATIONS}), recipient=staff,
                      crisis=op == "save" and item.type == "crisis")
    if isinstance(item, m.MessageModel):
        wrote = op == "save" and item.direction == "inbound" and item.kind == "client"
        return _file(item, fallback_agency, {What.MESSAGES} | ({What.INBOX} if wrote else set()), wrote)
    if isinstance(item, m.ClientModel):
        return _file(item, fallback_agency, _CLIENT_PARTS, False)
    if isinstance(item, m.InquiryModel):
        return _file(item, fallback_agency, {What.INBOX}, False)
    return None


def _file(item: Any, fallback_agency: str | None, what: set[What] | frozenset[What], wrote: bool) -> Change | None:
    client_id = getattr(item, "client_id", None)
    agency = _agency_of(item) or fallback_agency
    if not isinstance(client_id, str) or not client_id:
        return None
    return Change(agency or "", client_id, frozenset(what), client_wrote=wrote)


def changes_of(writes: Iterable[tuple[str, Any]]) -> list[Change]:
    """The changes of one commit, one per file or recipient. A file written by key alone takes the
    agency another write of the same commit names (an inbound filing writes the message in full);
    the publisher reads the file's agency anyway and drops a change whose agency disagrees."""
    writes = list(writes)
    agencies = {getattr(item, "client_id", None): _agency_of(item) for _, item in writes if _agency_of(item)}
    found = []
    for op, item in writes:
        change = change_of(op, item, agencies.get(getattr(item, "client_id", None)))
        if change is not None:
            found.append(change)
    return merged(found)
