"""Referrals to another agency or service (CMDM: "be referred to another agency"; SPEC §5.8).

Only the client's case manager (or a colleague covering their absence) records one, and only with
the client's explicit permission to share (``client_consented: true``; anything else is a 400, so
a referral without permission cannot be recorded by mistake). The referral is part of the file
(``GET /clients/{id}``, the export), is audited (``referral.recorded``, carrying no free text so
that erasure leaves nothing about the client in the trail) and is counted in the usage report.
Erasure keeps only each referral's id and instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.model import Client, ClientStatus, Principal, Referral
from .retry import retry_on_conflict

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

MAX_REFERRALS = 200  # per file: the list lives on the client record


@dataclass(frozen=True)
class RecordReferral:
    to: str
    service: str
    note: str | None

    @classmethod
    def parse(cls, payload: Any) -> RecordReferral:
        body = v.require_object(payload)
        if body.get("client_consented") is not True:
            raise InvalidInput("client_consented", "must be true: record a referral only with the client's "
                                                   "explicit permission to share their information")
        return cls(
            to=v.text(body, "to", max_len=200) or "",
            service=v.text(body, "service", max_len=200) or "",
            note=v.text(body, "note", required=False, max_len=1000) or None,
        )


class ReferralService:
    def __init__(self, uow: Callable[[], UnitOfWork], covering_for: Callable[[Principal], frozenset[str]] | None = None) -> None:
        self._uow = uow
        self._covering_for = covering_for or (lambda principal: frozenset())

    def _client(self, principal: Principal, client_id: str) -> Client:
        client = self._uow().clients.get(client_id) if v.is_identifier(client_id) else None
        if client is None or client.agency_id != principal.agency_id or client.status_erased():
            raise NotFound("no such client")
        if client.case_manager_id == principal.staff_id or client.case_manager_id in self._covering_for(principal):
            return client
        raise Forbidden("only the client's case manager (or a colleague covering their absence) records referrals")

    def record(self, principal: Principal, client_id: str, command: RecordReferral) -> tuple[Client, Referral]:
        def attempt() -> tuple[Client, Referral]:
            client = self._client(principal, client_id)  # read again on every attempt
            if client.status is ClientStatus.CLOSED:
                raise Conflict("the client file is closed", code="file_closed")
            if len(client.referrals) >= MAX_REFERRALS:
                raise Conflict(f"a file holds at most {MAX_REFERRALS} referrals", code="too_many_referrals")
            now = utcnow()
            referral = Referral(referral_id=new_id("ref"), at=now, by=principal.staff_id, to=command.to,
                                service=command.service, note=command.note)
            event = AuditEvent(
                agency_id=client.agency_id, type=AuditType.REFERRAL_RECORDED, at=now, actor=principal.staff_id,
                client_id=client.client_id, staff_id=client.case_manager_id,
                details={"referral_id": referral.referral_id, "client_consented": True},
            )
            referrals = (*client.referrals, referral)
            with self._uow() as uow:
                uow.clients.update(client, {"referrals": referrals})
                uow.audit.add([event])
                uow.commit()
            return replace(client, referrals=referrals, version=client.version + 1), referral

        try:
            return retry_on_conflict(attempt)
        except ConcurrentUpdate:
            raise Conflict("the client file changed meanwhile; please retry", code="busy") from None
