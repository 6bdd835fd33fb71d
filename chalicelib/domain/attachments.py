"""What a worker may attach to a message, by channel (issue 14, sending media).

Twilio checks the ``Content-Type`` of every ``MediaUrl`` and refuses what the channel does not
carry, after the worker has pressed Send; these rules refuse it before the upload instead, with a
message the console shows as is. Limits are Twilio's for each channel:

* WhatsApp: 16 MB for a message, 5 MB for an image; images JPEG or PNG, audio OGG (Opus: what
  WhatsApp plays as a voice note), MPEG, AAC or AMR, MP4 video, PDF documents. Media goes only
  inside WhatsApp's 24-hour window: outside it only an approved template may be sent.
* SMS (MMS): 5 MB for the whole message; JPEG, PNG or GIF images, PDF documents.

One attachment per message: a second photo is a second message, as on the client's phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidInput
from .model import Channel

MB = 1024 * 1024

# content type -> largest size in bytes, per channel
ALLOWED: dict[Channel, dict[str, int]] = {
    Channel.WHATSAPP: {
        "image/jpeg": 5 * MB,
        "image/png": 5 * MB,
        "audio/ogg": 16 * MB,
        "audio/mpeg": 16 * MB,
        "audio/aac": 16 * MB,
        "audio/amr": 16 * MB,
        "video/mp4": 16 * MB,
        "application/pdf": 16 * MB,
    },
    Channel.SMS: {
        "image/jpeg": 5 * MB,
        "image/png": 5 * MB,
        "image/gif": 5 * MB,
        "application/pdf": 5 * MB,
    },
}

UPLOAD_ID = re.compile(r"^up_[0-9a-f]{32}$")


@dataclass(frozen=True)
class Attachment:
    """An upload the API has checked: where it is, what it is, how big."""

    key: str
    content_type: str
    size: int


def limit_for(channel: Channel, content_type: str) -> int:
    """The largest size allowed for ``content_type`` on ``channel``, or ``InvalidInput`` naming what is."""
    allowed = ALLOWED[channel]
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind not in allowed:
        names = ", ".join(sorted(allowed))
        raise InvalidInput("content_type", f"{channel.value} cannot carry {kind or 'this file'}; it takes {names}")
    return allowed[kind]


def check(channel: Channel, content_type: str, size: int) -> str:
    """The bare content type if a file of ``size`` bytes may go on ``channel``; else ``InvalidInput``."""
    largest = limit_for(channel, content_type)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InvalidInput("size", "must be the file's size in bytes, at least 1")
    if size > largest:
        raise InvalidInput("size", f"is {size / MB:.1f} MB; {channel.value} takes at most "
                                   f"{largest // MB} MB for {content_type.split(';', 1)[0]}")
    return content_type.split(";", 1)[0].strip().lower()


def upload_key(agency_id: str, client_id: str, upload_id: str) -> str:
    """Where a worker's upload for one file lives in the agency's bucket."""
    return f"{agency_id}/{client_id}/uploads/{upload_id}"


def upload_id_of(agency_id: str, client_id: str, key: str) -> str:
    """The upload id of ``key`` if it is an upload of this very file; else ``InvalidInput``."""
    prefix = upload_key(agency_id, client_id, "")
    upload_id = key[len(prefix):] if isinstance(key, str) and key.startswith(prefix) else ""
    if not UPLOAD_ID.match(upload_id):
        raise InvalidInput("media", "is not an upload for this client's file")
    return upload_id


def is_ogg_opus(head: bytes) -> bool:
    """Whether a file starts as an Ogg stream whose first packet is Opus's ``OpusHead``.

    The first Ogg page has a 27-byte header and a segment table of ``head[26]`` bytes; its first
    packet follows. WhatsApp plays a voice note only from Ogg/Opus (Chromium records WebM/Opus,
    which the console remuxes before uploading).
    """
    if len(head) < 28 or head[:4] != b"OggS":
        return False
    start = 27 + head[26]
    return head[start:start + 8] == b"OpusHead"


def _mpeg_audio(head: bytes) -> bool:
    """An MP3: an ID3 tag, or an MPEG audio frame's 11-bit sync word."""
    return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _adts(head: bytes) -> bool:
    """Raw AAC in ADTS frames: a 12-bit sync word and layer 0."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


# content type -> whether a file's first bytes are that format (what Twilio and the phone will parse)
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/jpeg": lambda head: head[:3] == b"\xff\xd8\xff",
    "image/png": lambda head: head[:8] == b"\x89PNG\r\n\x1a\n",
    "image/gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    "application/pdf": lambda head: head[:5] == b"%PDF-",
    "audio/ogg": is_ogg_opus,
    "audio/mpeg": _mpeg_audio,
    "audio/aac": _adts,
    "audio/amr": lambda head: head[:6] == b"#!AMR\n",
    "video/mp4": lambda head: head[4:8] == b"ftyp",
}
SNIFF_BYTES = 512  # enough for every signature above, and for an Ogg page header with its segment table


def matches_content(content_type: str, head: bytes) -> bool:
    """Whether a file that says it is ``content_type`` starts as that format does.

    A worker's upload carries the type the browser guessed from the file name; a renamed program
    or a WebM recording labelled OGG would reach the client's phone as a broken attachment (or be
    refused by Twilio after the message was counted as sent), so the bytes are checked before sending.
    """
    check_head = SIGNATURES.get(content_type.split(";", 1)[0].strip().lower())
    return check_head is not None and check_head(head)
