"""The table of live updates (issue 23): each open console's WebSocket, and the tickets that open them.

Kept apart from ``models.py`` (which lists it in ``ALL_MODELS`` and the access-pattern table) so that
file stays readable; both build on ``model_base``. Items are short-lived by design: a ticket for a
minute, a socket for API Gateway's two hours at most, each with a TTL, and API Gateway's
``GoneException`` (not the TTL) is what ends a socket that is still listed.
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from .model_base import TableModel, index_meta


class LiveByStaff(GlobalSecondaryIndex):  # live updates (issue 23): one member's open consoles
    Meta = index_meta("by_staff")
    agency_staff = UnicodeAttribute(hash_key=True)


class LiveAgencyWide(GlobalSecondaryIndex):  # sparse: only supervisors' and admins' sockets carry it
    Meta = index_meta("agency_wide")
    agency_wide = UnicodeAttribute(hash_key=True)


class LiveConnectionModel(TableModel):
    """An open console's WebSocket (API Gateway's connection id), or the one-use ticket that opens one
    (``ticket#<digest>``, in no index); a ticket expires in a minute, a socket after API Gateway's two hours."""

    class Meta(TableModel.Meta):
        base_name = "live_connections"

    connection_id = UnicodeAttribute(hash_key=True)
    agency_id = UnicodeAttribute()
    staff_id = UnicodeAttribute()
    role = UnicodeAttribute()
    agency_staff = UnicodeAttribute(null=True)  # sockets only
    agency_wide = UnicodeAttribute(null=True)  # supervisors' and admins' sockets only
    connected_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()  # readers also skip what expired before DynamoDB removed it
    by_staff = LiveByStaff()
    agency_wide_index = LiveAgencyWide()
