"""Who may see and change what (SPEC §2, §4.3).

Another agency's object is reported as not found so its existence does not leak; a colleague's
file inside the same agency is forbidden to a worker.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import Forbidden, NotFound
from ..domain.model import Client, Principal


def require_admin(principal: Principal) -> None:
    if not principal.is_admin():
        raise Forbidden("only an agency administrator may do this")


def require_supervision(principal: Principal) -> None:
    if not principal.sees_whole_agency():
        raise Forbidden("only supervisors and administrators may see this")


def visible_client(principal: Principal, client: Client | None, *, covering: frozenset[str] = frozenset()) -> Client:
    """The client if the caller may read it; ``covering`` lists colleagues the caller covers for."""
    if client is None or client.agency_id != principal.agency_id or client.status_erased():
        raise NotFound("no such client")
    if principal.sees_whole_agency():
        return client
    if client.case_manager_id == principal.staff_id or client.case_manager_id in covering:
        return client
    raise Forbidden("this client belongs to another case manager")


def manageable_client(principal: Principal, client: Client | None, *, covering: frozenset[str] = frozenset()) -> Client:
    """The client if the caller may change it: its case manager (or cover) or an admin."""
    client = visible_client(principal, client, covering=covering)
    if principal.is_admin() or client.case_manager_id == principal.staff_id or client.case_manager_id in covering:
        return client
    raise Forbidden("supervisors have read-only access to client files")


def published_policy(policies: Any, agency_id: str) -> Any:
    """The agency's published policy, or 404 when it has none (its file was removed)."""
    try:
        return policies.get(agency_id)
    except KeyError:
        raise NotFound("no policy is published for this agency") from None
