"""Staff messages and their boundaries (issue 4, SPEC §5.2, §5.4): the one service the routes use.

``MessagingService`` composes the use cases, each in a module of its own:

- ``sending.py``: ``POST /clients/{id}/messages``, sent now or held, with its idempotency;
- ``held.py``: a held message withdrawn by its author, or released by the sweep (with retries);
- ``delivery.py``: the attempt at Twilio, and what a failed delivery takes back (``undo_delivery``);
- ``uploads.py``: ``POST /clients/{id}/uploads``, the attachments a message carries;
- ``compose.py``: ``GET /clients/{id}/compose``, what sending would do now;
- ``worklists.py``: ``GET /inquiries`` (``GET /notifications`` is ``notification_centre.py``);
- ``outgoing.py``: the rules and writes they share.

The names the routes, the wiring and the tests import from here are re-exported below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..domain.inquiry import Inquiry
from ..domain.messages import Message, MessageRef
from ..domain.model import Client, Principal
from .compose import ComposePreview, Composer, compose_view
from .delivery import MEDIA_LINK_SECONDS, SENT_WRITE_ATTEMPTS, Delivery
from .held import Held, cancelled_view
from .sending import IDEMPOTENCY_KEY, MAX_OVERRIDE_REASON, Sending, SendOutcome, SendStaffMessage, send_view
from .uploads import UPLOAD_SECONDS, RequestUpload, Uploads
from .worklists import INQUIRY_STATUSES, LIST_LIMIT, Worklists

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork


class MessagingService:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        policies: Any,
        gateway: Any,
        status_callback: str | None,
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
        bucket: Any = None,
    ) -> None:
        self.delivery = Delivery(uow, policies, gateway, status_callback, bucket)
        self.uploads = Uploads(uow, policies, bucket, covering_for)
        self.sending = Sending(uow, policies, self.delivery, self.uploads, covering_for)
        self.held = Held(uow, policies, self.delivery)
        self.composer = Composer(uow, policies, covering_for)
        self.worklists = Worklists(uow, covering_for)

    def send(self, principal: Principal, client_id: str, command: SendStaffMessage) -> SendOutcome:
        return self.sending.send(principal, client_id, command)

    def compose(self, principal: Principal, client_id: str, language: str = "en") -> ComposePreview:
        return self.composer.compose(principal, client_id, language)

    def upload(self, principal: Principal, client_id: str, command: RequestUpload) -> dict[str, Any]:
        return self.uploads.upload(principal, client_id, command)

    def cancel(self, principal: Principal, client_id: str, message_id: str) -> Message:
        return self.held.cancel(principal, client_id, message_id)

    def release(self, ref: MessageRef, now: datetime) -> str:
        return self.held.release(ref, now)

    def delivery_failed(self, client_id: str, message_id: str, inquiry_id: str | None, author: str | None,
                        error_code: str | None, now: datetime) -> bool:
        return self.delivery.delivery_failed(client_id, message_id, inquiry_id, author, error_code, now)

    def undo_delivery(self, uow: UnitOfWork, client: Client, client_changes: dict[str, Any], message_id: str,
                      inquiry_id: str | None, author: str | None, error_code: str | None, now: datetime) -> bool:
        return self.delivery.undo_delivery(uow, client, client_changes, message_id, inquiry_id, author,
                                           error_code, now)

    def inquiries(self, principal: Principal, status: str) -> list[Inquiry]:
        return self.worklists.inquiries(principal, status)


__all__ = [
    "IDEMPOTENCY_KEY", "INQUIRY_STATUSES", "LIST_LIMIT", "MAX_OVERRIDE_REASON", "MEDIA_LINK_SECONDS",
    "SENT_WRITE_ATTEMPTS", "UPLOAD_SECONDS", "ComposePreview", "MessagingService", "RequestUpload", "SendOutcome",
    "SendStaffMessage", "cancelled_view", "compose_view", "send_view",
]
