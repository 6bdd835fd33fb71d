"""Crisis at any hour and the notification centre (issue 23, SPEC §5.9, §4.4): the notifications
each member of staff reads and marks, a worker's crisis mark on a client message, and the client's
emergency contact shown with every crisis."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.api.edge import endpoint, json_body, query, zone

alerts = Blueprint(__name__)


# --- the notification centre -------------------------------------------------------------------


@endpoint(alerts, "/notifications", ["GET"])
def list_notifications(who: Any) -> Any:
    """The caller's notifications, newest first, with ``unread`` (and ``unread_reviews``) counts."""
    from chalicelib.services.notification_centre import ListNotifications, page_view

    page = bootstrap.container().notification_centre.list(who, ListNotifications.parse(query()))
    return page_view(page, zone(who.agency_id))


@endpoint(alerts, "/notifications/{notification_id}", ["PUT"])
def put_notification(who: Any, notification_id: str) -> Any:
    """``{"read": true}`` (or false: unread again); another person's notification is not found."""
    from chalicelib.services.notification_centre import MarkNotification, notification_view

    note = bootstrap.container().notification_centre.mark(who, notification_id, MarkNotification.parse(json_body()))
    return notification_view(note, zone(who.agency_id))


@endpoint(alerts, "/notifications/{notification_id}/read", ["PUT"])
def read_notification(who: Any, notification_id: str) -> Any:
    """The older form of ``PUT /notifications/{id}`` ``{"read": true}``, kept for integrations."""
    from chalicelib.services.notification_centre import MarkNotification, notification_view

    note = bootstrap.container().notification_centre.mark(who, notification_id, MarkNotification(read=True))
    return notification_view(note, zone(who.agency_id))


@endpoint(alerts, "/notifications/read", ["POST"])
def read_all_notifications(who: Any) -> Any:
    """Mark every notification of the caller read: ``{"marked": n, "unread": 0}``."""
    marked = bootstrap.container().notification_centre.mark_all_read(who)
    return {"marked": marked, "unread": 0}


# --- crisis: a worker's mark, the emergency contact -----------------------------------------------


@endpoint(alerts, "/clients/{client_id}/messages/{message_id}/crisis", ["PUT"])
def put_crisis_mark(who: Any, client_id: str, message_id: str) -> Any:
    """``{"crisis": true|false, "reason"?}``: mark a client message as a crisis by hand, or take it back."""
    from chalicelib.services.crisis_marks import MarkCrisis, crisis_mark_view

    outcome = bootstrap.container().crisis_marks.mark(who, client_id, message_id, MarkCrisis.parse(json_body()))
    return {**crisis_mark_view(outcome), "crisis_banner": crisis_banner(outcome.client)}


@endpoint(alerts, "/clients/{client_id}/emergency-contact", ["PUT"])
def put_emergency_contact(who: Any, client_id: str) -> Any:
    """``{"name", "phone", "relation"}`` (the case manager, with the client's agreement, or an admin)."""
    from chalicelib.services.emergency_contacts import SetEmergencyContact
    from chalicelib.views import client_view

    client = bootstrap.container().emergency_contacts.put(who, client_id, SetEmergencyContact.parse(json_body()))
    return client_view(client, zone(client.agency_id))


def crisis_banner(client: Any) -> dict[str, Any] | None:
    """What the conversation shows while the file is in crisis (SPEC §5.9): since when, the agency's
    emergency line and the client's emergency contact; None when it is not in crisis."""
    if client.crisis_at is None:
        return None
    from chalicelib.services.emergency_contacts import emergency_contact_view
    from chalicelib.views import iso

    policy = bootstrap.container().policies.get(client.agency_id)
    return {"since": iso(client.crisis_at, policy.calendar.zone()), "emergency_line": policy.emergency_line,
            "emergency_contact": emergency_contact_view(client.emergency_contact)}
