"""Client files and their messages: files, consent, conduct, referrals, data rights, the inbox,
inquiries, follow-ups and information posts (notifications and crises: ``api/alerts.py``)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.alerts import crisis_banner
from chalicelib.api.edge import created, endpoint, json_body, query, request, zone

clients = Blueprint(__name__)


# --- client files ------------------------------------------------------------------------------


@endpoint(clients, "/clients", ["POST"])
def create_client(who: Any) -> Any:
    from chalicelib.services.clients import CreateClient
    from chalicelib.views import client_view

    client = bootstrap.container().clients.create(who, CreateClient.parse(json_body()))
    return created(client_view(client, zone(client.agency_id)))


@endpoint(clients, "/clients", ["GET"])
def list_clients(who: Any) -> Any:
    """The caller's caseload, most recent activity first, a page at a time (issue 22; README "Clients")."""
    from chalicelib.services.caseload import ListClients
    from chalicelib.views import client_view

    page = bootstrap.container().caseload.list(who, ListClients.parse(query()))
    agency_zone = zone(who.agency_id)
    return {"clients": [client_view(c, agency_zone, inquiry) for c, inquiry in page.items], "next": page.next}


@endpoint(clients, "/clients/{client_id}", ["GET"])
def get_client(who: Any, client_id: str) -> Any:
    from chalicelib.views import client_view

    c = bootstrap.container()
    client, inquiry = c.clients.get(who, client_id)
    view = client_view(client, zone(client.agency_id), inquiry)
    view["absences"] = c.absences.covering_file(client.agency_id, client.case_manager_id)
    view["crisis"] = crisis_banner(client)  # SPEC §5.9: with the emergency line and contact
    return view


@endpoint(clients, "/clients/{client_id}/consent", ["PUT"])
def put_consent(who: Any, client_id: str) -> Any:
    from chalicelib.services.clients import GiveConsent
    from chalicelib.views import client_view

    client = bootstrap.container().clients.give_consent(who, client_id, GiveConsent.parse(json_body()))
    return client_view(client, zone(client.agency_id))


@endpoint(clients, "/clients/{client_id}/consent", ["DELETE"])
def delete_consent(who: Any, client_id: str) -> Any:
    from chalicelib.services.clients import WithdrawConsent
    from chalicelib.views import client_view

    client = bootstrap.container().clients.withdraw_consent(who, client_id, WithdrawConsent.parse(json_body()))
    return client_view(client, zone(client.agency_id))


@endpoint(clients, "/clients/{client_id}/warnings", ["POST"])
def warn_client(who: Any, client_id: str) -> Any:
    from chalicelib.services.conduct import Warn
    from chalicelib.views import client_view

    client = bootstrap.container().conduct.warn(who, client_id, Warn.parse(json_body()))
    return created(client_view(client, zone(client.agency_id)))


@endpoint(clients, "/clients/{client_id}/status", ["PUT"])
def put_client_status(who: Any, client_id: str) -> Any:
    from chalicelib.services.conduct import ChangeStatus
    from chalicelib.views import client_view

    client = bootstrap.container().conduct.change_status(who, client_id, ChangeStatus.parse(json_body()))
    return client_view(client, zone(client.agency_id))


@endpoint(clients, "/clients/{client_id}/referrals", ["POST"])
def post_referral(who: Any, client_id: str) -> Any:
    from chalicelib.services.referrals import RecordReferral
    from chalicelib.views import referral_view

    client, referral = bootstrap.container().referrals.record(who, client_id, RecordReferral.parse(json_body()))
    return created({"client_id": client.client_id, **referral_view(referral, zone(client.agency_id))})


@endpoint(clients, "/clients/{client_id}/export", ["GET"])
def export_client(who: Any, client_id: str) -> Any:
    return bootstrap.container().data_rights.export(who, client_id)


@endpoint(clients, "/clients/{client_id}", ["DELETE"])
def erase_client(who: Any, client_id: str) -> Any:
    return bootstrap.container().data_rights.erase(who, client_id)


# --- the messages of a file --------------------------------------------------------------------


@endpoint(clients, "/clients/{client_id}/messages", ["GET"])
def get_messages(who: Any, client_id: str) -> Any:
    from chalicelib.views import message_view

    container = bootstrap.container()
    client, messages = container.clients.messages(who, client_id)
    agency_zone = zone(client.agency_id)
    link = container.media_bucket.link
    names = container.absences.directory(client.agency_id)[0]  # cached: the console shows who wrote, by name
    return {"messages": [{**message_view(msg, agency_zone, link),
                          "staff_name": names.get(msg.staff_id or "") if msg.direction.value == "outbound" else None}
                         for msg in messages],
            "crisis": crisis_banner(client)}


@endpoint(clients, "/clients/{client_id}/messages", ["POST"])
def post_staff_message(who: Any, client_id: str) -> Any:
    from chalicelib.services.messaging import SendStaffMessage, send_view

    command = SendStaffMessage.parse(json_body(), request().headers.get("idempotency-key"))
    outcome = bootstrap.container().messaging.send(who, client_id, command)
    body = send_view(outcome, zone(outcome.message.agency_id))
    status = 202 if outcome.status == "held" else 201
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@endpoint(clients, "/clients/{client_id}/uploads", ["POST"])
def post_upload(who: Any, client_id: str) -> Any:
    """A presigned POST for one attachment: the browser sends the file straight to the media bucket."""
    from chalicelib.services.messaging import RequestUpload

    return created(bootstrap.container().messaging.upload(who, client_id, RequestUpload.parse(json_body())))


@endpoint(clients, "/clients/{client_id}/messages/{message_id}", ["DELETE"])
def cancel_held_message(who: Any, client_id: str, message_id: str) -> Any:
    from chalicelib.services.messaging import cancelled_view

    message = bootstrap.container().messaging.cancel(who, client_id, message_id)
    return cancelled_view(message, zone(message.agency_id))


@endpoint(clients, "/clients/{client_id}/compose", ["GET"])
def compose_preview(who: Any, client_id: str) -> Any:
    """What a message written now would do (sent now, or held until the next opening; WhatsApp's
    template outside its window), from the server's rules: the console shows it before Send."""
    from chalicelib.services.messaging import compose_view

    language = query().get("lang", "en")
    preview = bootstrap.container().messaging.compose(who, client_id, language if language in ("en", "fr") else "en")
    return compose_view(preview, zone(preview.client.agency_id))


# --- what waits for staff: the inbox, inquiries and follow-ups (notifications: api/alerts.py) ---


@endpoint(clients, "/inbox", ["GET"])
def get_inbox(who: Any) -> Any:
    """Clients waiting for an answer, soonest due first, with their clocks (one Query per case manager)."""
    from chalicelib.domain.clock import utcnow
    from chalicelib.services.inbox import inbox_view

    now = utcnow()
    items, names = bootstrap.container().inbox.inbox(who, now)
    return inbox_view(items, names, who, now, zone(who.agency_id))


@endpoint(clients, "/inquiries", ["GET"])
def list_inquiries(who: Any) -> Any:
    from chalicelib.views import inquiry_view

    params = query()
    if params.get("from") or params.get("to"):  # the inquiries behind a dashboard figure (issue 15)
        found = bootstrap.container().supervision.inquiries_in_period(who, params)
    else:
        found = bootstrap.container().messaging.inquiries(who, params.get("status", "open"))
    agency_zone = zone(who.agency_id)
    container = bootstrap.container()
    clients_named = container.supervision.client_names(who, {i.client_id for i in found})
    staff_named = container.absences.directory(who.agency_id)[0]
    return {"inquiries": [{**inquiry_view(i, agency_zone), "client_name": clients_named.get(i.client_id),
                           "staff_name": staff_named.get(i.staff_id)} for i in found]}


@endpoint(clients, "/followups", ["GET"])
def list_followups(who: Any) -> Any:
    from chalicelib.services.followups import ListFollowups

    query_ = ListFollowups.parse(request().query_params)
    return {"followups": bootstrap.container().followups.list(who, query_)}


# --- information posts (issue 16, SPEC §5.8) ----------------------------------------------------


@endpoint(clients, "/posts", ["POST"])
def create_post(who: Any) -> Any:
    from chalicelib.services.posts import CreatePost, post_view

    post = bootstrap.container().posts.create(who, CreatePost.parse(json_body()))
    return Response(body=post_view(post, zone(who.agency_id)), status_code=202,
                    headers={"Content-Type": "application/json"})


@endpoint(clients, "/posts/{post_id}", ["GET"])
def get_post(who: Any, post_id: str) -> Any:
    from chalicelib.services.posts import post_view

    return post_view(bootstrap.container().posts.get(who, post_id), zone(who.agency_id))
