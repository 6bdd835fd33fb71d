"""A worker's casework beside the messages (issue 22): private case notes, and the agency's snippets."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.edge import created, endpoint, json_body, query, zone

casework = Blueprint(__name__)


# --- private case notes (SPEC §4.4) ---------------------------------------------------------------


@endpoint(casework, "/clients/{client_id}/notes", ["POST"])
def post_note(who: Any, client_id: str) -> Any:
    from chalicelib.services.notes import WriteNote, note_view

    notes = bootstrap.container().notes
    note = notes.write(who, client_id, WriteNote.parse(json_body()))
    return created(note_view(note, zone(note.agency_id), notes.names(note.agency_id)))


@endpoint(casework, "/clients/{client_id}/notes", ["GET"])
def list_notes(who: Any, client_id: str) -> Any:
    from chalicelib.services.notes import notes_view

    notes = bootstrap.container().notes
    page, can_write = notes.page(who, client_id, query())
    return notes_view(page, can_write, zone(who.agency_id), notes.names(who.agency_id))


# --- snippets: prepared answers ---------------------------------------------------------------------


@endpoint(casework, "/snippets", ["GET"])
def list_snippets(who: Any) -> Any:
    from chalicelib.services.snippets import snippet_view

    container = bootstrap.container()
    found = container.snippets.list(who, query().get("language") or None)
    policy = container.policies.get(who.agency_id)
    # ``languages``: the policy's, the ones a new snippet is most likely written in
    names = container.snippets.names(who.agency_id)
    return {"snippets": [snippet_view(s, policy.calendar.zone(), names) for s in found],
            "languages": list(policy.languages)}


@endpoint(casework, "/snippets/{snippet_id}", ["PUT"])
def put_snippet(who: Any, snippet_id: str) -> Any:
    from chalicelib.services.snippets import PutSnippet, snippet_view

    snippets = bootstrap.container().snippets
    snippet, new = snippets.put(who, PutSnippet.parse(snippet_id, json_body()))
    body = snippet_view(snippet, zone(who.agency_id), snippets.names(who.agency_id))
    return Response(body=body, status_code=201 if new else 200,
                    headers={"Content-Type": "application/json"})


@endpoint(casework, "/snippets/{snippet_id}", ["DELETE"])
def delete_snippet(who: Any, snippet_id: str) -> Any:
    from chalicelib.services.snippets import version_query

    gone = bootstrap.container().snippets.delete(who, snippet_id, version_query(query().get("version")))
    return {"snippet_id": gone.snippet_id, "deleted": True}


@endpoint(casework, "/clients/{client_id}/snippets", ["GET"])
def client_snippets(who: Any, client_id: str) -> Any:
    """The snippets for this client's language, filled in for them (the composer's `/` list)."""
    from chalicelib.services.snippets import filled_view

    return filled_view(*bootstrap.container().snippets.for_client(who, client_id))
