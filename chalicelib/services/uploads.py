"""Staff attachments (issue 4, SPEC §4.4): ``POST /clients/{id}/uploads`` and their checks.

The browser sends the file straight to the media bucket with a presigned POST; ``attachment``
checks that the upload arrived and is what the channel (and the agency's policy) takes before a
staff message carries it (``sending.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain import attachments
from ..domain import validation as v
from ..domain.errors import Conflict, InvalidInput
from ..domain.messages import MediaRef, MediaStatus
from ..domain.model import Client, Principal
from .outgoing import Outgoing

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

UPLOAD_SECONDS = 300  # a presigned upload is good for five minutes


@dataclass(frozen=True)
class RequestUpload:
    """``POST /clients/{id}/uploads``: a file the worker is about to attach."""

    content_type: str
    size: int

    @classmethod
    def parse(cls, payload: Any) -> RequestUpload:
        body = v.require_object(payload)
        content_type = v.text(body, "content_type", max_len=100) or ""
        size = body.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise InvalidInput("size", "must be the file's size in bytes")
        return cls(content_type=content_type, size=size)


class Uploads(Outgoing):
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        policies: Any,
        bucket: Any = None,
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
    ) -> None:
        super().__init__(uow, policies, covering_for)
        self._bucket = bucket  # adapters.media.MediaBucket: staff attachments

    # -- POST /clients/{id}/uploads: an attachment goes straight to the bucket --------------------

    def upload(self, principal: Principal, client_id: str, command: RequestUpload) -> dict[str, Any]:
        """A presigned POST for one attachment to this file, if the channel takes it (SPEC §4.4)."""
        client = self._sendable_client(principal, client_id)
        content_type = attachments.check(client.channel, command.content_type, command.size)
        self._voice_notes_permitted(client, content_type)
        if self._bucket is None:
            raise Conflict("this deployment has no media bucket", code="no_media_bucket")
        upload_id = "up_" + uuid.uuid4().hex
        key = attachments.upload_key(client.agency_id, client.client_id, upload_id)
        largest = attachments.limit_for(client.channel, content_type)
        form = self._bucket.upload_form(key, content_type, largest, seconds=UPLOAD_SECONDS)
        return {"key": key, "url": form["url"], "fields": form["fields"], "content_type": content_type,
                "max_size": largest, "expires_in": UPLOAD_SECONDS}

    def attachment(self, client: Client, key: str, template: str | None) -> tuple[MediaRef, ...]:
        """The upload ``key`` as the message's attachment, once it is checked to be what may go."""
        attachments.upload_id_of(client.agency_id, client.client_id, key)
        if template is not None:
            raise Conflict("WhatsApp's 24-hour window is closed: only the approved template can be sent now; "
                           "send the text first and the file once the client answers", code="whatsapp_window_closed")
        found = self._bucket.head(key) if self._bucket is not None else None
        if found is None:
            raise InvalidInput("media", "the upload has not arrived in the bucket; attach the file again")
        content_type, size = found
        content_type = attachments.check(client.channel, content_type, size)
        self._voice_notes_permitted(client, content_type)
        head = self._bucket.first_bytes(key, attachments.SNIFF_BYTES)
        if content_type == "audio/ogg" and not attachments.is_ogg_opus(head):
            raise InvalidInput("media", "an OGG voice note must be Ogg/Opus, the only audio WhatsApp plays as a voice note")
        if not attachments.matches_content(content_type, head):
            raise InvalidInput("media", f"the file is not a {content_type} file, though it was uploaded as one; "
                                        "attach the original file")
        return (MediaRef(content_type=content_type, s3_key=key, status=MediaStatus.STORED, size=size),)

    def _voice_notes_permitted(self, client: Client, content_type: str) -> None:
        if content_type.startswith("audio/") and not self._policies.get(client.agency_id).voice_notes:
            raise Conflict("this agency's messaging policy does not permit voice notes", code="voice_notes_not_permitted")
