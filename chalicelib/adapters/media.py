"""Where client media goes: fetched from Twilio, kept in the agency's S3 bucket, deleted at Twilio.

Twilio keeps a WhatsApp voice note or photo behind an authenticated URL until we delete it; SPEC
§5.7 wants it in the agency's own bucket (server-side encrypted) and gone from Twilio. Download
and delete use the account's credentials; only Twilio's own hosts (or the configured local
stand-in) are ever contacted, whatever URL a form carries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .aws import LazyClient

log = logging.getLogger("cmdm.media")

MAX_MEDIA_BYTES = 20 * 1024 * 1024  # WhatsApp caps media at 16 MB


class MediaUnavailable(Exception):
    """Twilio (or S3) could not be reached or refused; try again later."""


class MediaRejected(MediaUnavailable):
    """Not a media resource of this account's message: never fetched, never tried again."""


def media_resource(url: str, account_sid: str, message_sid: str | None) -> bool:
    """Whether ``url`` is Twilio's media resource of ``message_sid`` in our account and nothing else:
    ``https://api.twilio.com/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…`` (no query).

    The copier sends the account's credentials to that URL, so any other path on Twilio's API
    (``…/Messages.json``, another account, another message) is refused.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname != "api.twilio.com" or parts.port is not None:
        return False
    if parts.query or parts.fragment or parts.username or parts.password:
        return False
    recording = _RECORDING_PATH.fullmatch(parts.path)
    if recording is not None:  # a voicemail (SPEC §5.10): a recording of this account, filed on its call
        return recording["account"] == account_sid and (message_sid is None or message_sid.startswith("CA"))
    match = _MEDIA_PATH.fullmatch(parts.path)
    if match is None or match["account"] != account_sid:
        return False
    return message_sid is None or match["message"] == message_sid


_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Messages/(?P<message>(MM|SM)[0-9a-f]{32})"
    r"/Media/ME[0-9a-f]{32}", re.ASCII)
_RECORDING_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Recordings/RE[0-9a-f]{32}\.mp3",
                             re.ASCII)


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str


class TwilioMedia:
    """Downloads and deletes message media at Twilio with the official client's credentials."""

    def __init__(self, account_sid: str, auth_token: str, *, api_base: str | None = None, timeout: float = 20.0) -> None:
        self._auth = (account_sid, auth_token)
        self._sid = account_sid
        self._api_base = api_base.rstrip("/") if api_base else None
        self._timeout = timeout
        self._client: Any = None

    def _target(self, url: str, message_sid: str | None = None) -> str:
        parts = urlsplit(url)
        if not media_resource(url, self._sid, message_sid):
            raise MediaRejected("media URL is not a media resource of this message at Twilio")
        if self._api_base:  # tests and the local stand-in
            base = urlsplit(self._api_base)
            return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))
        return urlunsplit(("https", parts.netloc, parts.path, parts.query, ""))

    def download(self, url: str, message_sid: str | None = None) -> Fetched:
        import requests

        target = self._target(url, message_sid)  # MediaRejected before any connection
        try:
            response = requests.get(target, auth=self._auth, timeout=self._timeout, stream=True)
        except requests.RequestException:
            raise MediaUnavailable("media download failed") from None
        with response:
            if response.status_code != 200:
                raise MediaUnavailable(f"media download answered {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise MediaUnavailable("media larger than allowed")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "application/octet-stream")
        return Fetched(b"".join(chunks), content_type.split(";")[0].strip()[:100])

    def delete(self, message_sid: str, media_sid: str) -> None:
        """Delete Twilio's copy through the REST client; an already-deleted item counts as done."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        client = self._rest()
        try:
            if media_sid.startswith("RE"):  # a voicemail: the call's recording
                client.api.v2010.accounts(self._sid).recordings(media_sid).delete()
            else:
                client.api.v2010.accounts(self._sid).messages(message_sid).media(media_sid).delete()
        except TwilioRestException as err:
            if err.status == 404:
                return
            raise MediaUnavailable(f"twilio answered {err.status} to the media delete") from None
        except TwilioException:
            raise MediaUnavailable("twilio unreachable for the media delete") from None
        except OSError:
            raise MediaUnavailable("twilio unreachable for the media delete") from None

    def redact(self, message_sid: str) -> None:
        """Blank a message's body in Twilio's logs (POST Messages/{sid} Body=""); an unknown one is done."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            self._rest().api.v2010.accounts(self._sid).messages(message_sid).update(body="")
        except TwilioRestException as err:
            if err.status == 404:
                return
            raise MediaUnavailable(f"twilio answered {err.status} to the redaction") from None
        except (TwilioException, OSError):
            raise MediaUnavailable("twilio unreachable for the redaction") from None

    def _rest(self) -> Any:
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            from .twilio_gateway import _redirecting_http_client

            http = (_redirecting_http_client(self._api_base, self._timeout) if self._api_base
                    else TwilioHttpClient(timeout=self._timeout))
            self._client = Client(self._auth[0], self._auth[1], http_client=http)
        return self._client


class MediaBucket:
    """The agency's media bucket (SSE on every object)."""

    def __init__(self, bucket: str, region: str, endpoint: str | None = None) -> None:
        self.bucket = bucket
        self._client = LazyClient("s3", region, endpoint)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                                      ServerSideEncryption="AES256")
        except (BotoCoreError, ClientError):
            raise MediaUnavailable("could not store media in the bucket") from None

    def upload_form(self, key: str, content_type: str, max_size: int, seconds: int = 300) -> dict[str, Any]:
        """A presigned POST the browser sends the file with, straight to the bucket: only this key,
        this content type, encrypted, at most ``max_size`` bytes, for ``seconds``. Signed locally."""
        fields = {"Content-Type": content_type, "x-amz-server-side-encryption": "AES256"}
        conditions: list[Any] = [{"Content-Type": content_type}, {"x-amz-server-side-encryption": "AES256"},
                                 ["content-length-range", 1, max_size]]
        return dict(self._client().generate_presigned_post(self.bucket, key, Fields=fields, Conditions=conditions,
                                                           ExpiresIn=seconds))

    def head(self, key: str) -> tuple[str, int] | None:
        """(content type, size) of a stored object, or None when there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self._client().head_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise MediaUnavailable("could not read the bucket") from None
        except BotoCoreError:
            raise MediaUnavailable("could not read the bucket") from None
        return str(found.get("ContentType") or ""), int(found.get("ContentLength") or 0)

    def first_bytes(self, key: str, count: int = 512) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self._client().get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{count - 1}")
            return bytes(found["Body"].read())
        except (BotoCoreError, ClientError):
            raise MediaUnavailable("could not read the bucket") from None

    def link(self, key: str, seconds: int = 900) -> str:
        """A short-lived link staff can open; signing is local, no call to S3."""
        return self._client().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds,
        )


class S3Media:
    """Deletes a file's media objects from the agency's bucket."""

    def __init__(self, bucket: str, region: str, endpoint: str | None = None) -> None:
        self._bucket = bucket
        self._s3 = LazyClient("s3", region, endpoint)

    def delete(self, keys: Iterable[str]) -> int:
        """Delete the objects, then every older version of them where the bucket keeps versions.

        The media bucket is versioned, and a plain delete only adds a delete marker. Old versions
        are purged here when the role may (``s3:ListBucketVersions``, ``s3:DeleteObjectVersion``);
        otherwise they are left to the bucket's lifecycle rule for noncurrent versions.
        """
        keys = sorted(set(keys))
        for i in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            self._delete_batch([{"Key": k} for k in keys[i : i + 1000]])
        self._purge_versions(keys)
        return len(keys)

    def keys_under(self, prefix: str) -> list[str]:
        """Every current object key that starts with ``prefix`` (one List request per 1,000)."""
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
        return [entry["Key"] for page in pages for entry in page.get("Contents", [])]

    def _delete_batch(self, objects: list[dict[str, str]]) -> None:
        if not objects:
            return
        result = self._s3().delete_objects(Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True})
        if result.get("Errors"):
            raise RuntimeError(f"{len(result['Errors'])} media objects could not be deleted")

    def _purge_versions(self, keys: list[str]) -> None:
        from botocore.exceptions import ClientError

        try:
            for key in keys:
                versions: list[dict[str, str]] = []
                pages = self._s3().get_paginator("list_object_versions").paginate(Bucket=self._bucket, Prefix=key)
                for page in pages:
                    for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        if entry["Key"] == key:
                            versions.append({"Key": key, "VersionId": entry["VersionId"]})
                for i in range(0, len(versions), 1000):
                    self._delete_batch(versions[i : i + 1000])
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code not in ("AccessDenied", "AccessDeniedException"):
                raise
            log.warning("old media versions are left for the bucket's lifecycle rule (%s)", code)
