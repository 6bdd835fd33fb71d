"""Serves the staff console (SPEC §4.6) from the same Chalice app as the API, same origin.

The console is static files in ``chalicelib/web/`` (so ``chalice package`` ships them with the
code; no build step): HTML, one stylesheet, ES modules and one JSON text catalogue per language.
This blueprint returns them with their content types, refuses any other name with the API's
404 error shape (never a 500), and answers ``/console/config.json`` with what the browser must
know about this stage (how staff sign in). It reads no table except for the local sign-in list.

Issue 23 makes the console installable: ``manifest.webmanifest`` (its own content type), PNG and
SVG icons, and ``sw.js``, the service worker, served with the list of shell files and a version
drawn from their bytes filled in (so a new deployment's worker replaces the old one's cache).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

WEB_ROOT = Path(__file__).resolve().parent / "web"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
}
BINARY = frozenset({".png"})  # answered as bytes (Chalice's binary types include image/png)
SERVICE_WORKER = "sw.js"
# One path segment: letters, digits, dot, dash, underscore; no leading dot (so no "..").
SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$")
BASE_TAG = '<base href="/console/">'

console = Blueprint(__name__)


def _headers(content_type: str, cache: str = "no-cache") -> dict[str, str]:
    """Strict headers: the console's own scripts only, never framed, no referrer, never sniffed.

    The shell files hold no personal information: a browser may keep them but asks again each
    time (``no-cache``); what depends on the stage is never kept (``no-store``, as the API's answers).
    """
    from . import bootstrap

    settings = bootstrap.container().settings
    media = _media_origin(settings)
    cognito = os.environ.get("CMDM_COGNITO_DOMAIN", "")
    live = _live_origin(settings.ws_url)  # issue 23: the WebSocket API (wss://, or make run's ws://)
    connect = " ".join(x for x in ("'self'", media, f"https://{cognito}" if cognito else "", live) if x)
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob: {media}; media-src 'self' blob: {media}; connect-src {connect}; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Type": content_type,
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": policy,
    }


def _media_origin(settings: Any) -> str:
    """Where presigned media links and uploads point: the S3 endpoint, or the bucket's host."""
    from urllib.parse import urlsplit

    if settings.s3_endpoint:
        parts = urlsplit(settings.s3_endpoint)
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://{settings.media_bucket}.s3.{settings.region}.amazonaws.com"


def _live_origin(ws_url: str | None) -> str:
    from urllib.parse import urlsplit

    if not ws_url:
        return ""
    parts = urlsplit(ws_url)
    return f"{parts.scheme}://{parts.netloc}"


def not_found(message: str = "no such page in the console") -> Response:
    return Response(body={"error": {"code": "not_found", "message": message}}, status_code=404,
                    headers={"Content-Type": "application/json"})


@lru_cache(maxsize=256)
def _read(relative: str) -> bytes | None:
    path = (WEB_ROOT / relative).resolve()
    if WEB_ROOT not in path.parents or not path.is_file():
        return None
    return path.read_bytes()


def static_file(*segments: str) -> Response:
    if not all(SEGMENT.match(s) for s in segments):
        return not_found()
    relative = "/".join(segments)
    content_type = CONTENT_TYPES.get(Path(relative).suffix.lower())
    body = _read(relative) if content_type else None
    if body is None:
        return not_found()
    if Path(relative).suffix.lower() in BINARY:
        return Response(body=body, status_code=200, headers=_headers(content_type))
    return Response(body=body.decode("utf-8"), status_code=200, headers=_headers(content_type))


@lru_cache(maxsize=1)
def _shell() -> tuple[list[str], str]:
    """The files the service worker keeps (relative to /console/) and a version of their bytes."""
    import hashlib

    files, digest = ["./", "config.json"], hashlib.sha256()
    for path in sorted(WEB_ROOT.rglob("*")):
        relative = path.relative_to(WEB_ROOT).as_posix()
        if not path.is_file() or relative == SERVICE_WORKER or path.suffix.lower() not in CONTENT_TYPES:
            continue
        if not all(SEGMENT.match(part) for part in relative.split("/")):
            continue
        files.append(relative)
        digest.update(relative.encode() + b"\0" + path.read_bytes())
    return files, digest.hexdigest()[:16]


def _service_worker() -> Response:
    files, version = _shell()
    script = (_read(SERVICE_WORKER) or b"").decode("utf-8")
    script = script.replace("__CMDM_VERSION__", version).replace("__CMDM_SHELL__", json.dumps(files))
    return Response(body=script, status_code=200, headers=_headers(CONTENT_TYPES[".js"]))


def _base_href() -> str:
    """``/console/`` below wherever the API is mounted (``/api`` behind API Gateway's stage)."""
    context = console.current_request.context or {}
    path = str(context.get("path") or "/console")
    prefix = path[: path.find("/console")] if "/console" in path else ""
    return f"{prefix}/console/"


def _index() -> Response:
    html = (_read("index.html") or b"").decode("utf-8").replace(BASE_TAG, f'<base href="{_base_href()}">', 1)
    return Response(body=html, status_code=200, headers=_headers(CONTENT_TYPES[".html"]))


def _config() -> Response:
    """What the browser needs to sign in on this stage; no secret is in it."""
    from . import bootstrap

    settings = bootstrap.container().settings
    body: dict[str, Any] = {"stage": settings.stage, "signin": "cognito" if settings.is_aws else "local"}
    if settings.is_aws:
        body["cognito"] = {
            "domain": os.environ.get("CMDM_COGNITO_DOMAIN", ""),
            "client_id": os.environ.get("CMDM_COGNITO_CLIENT_ID", ""),
            "scopes": ["openid", "email"],
        }
    return Response(body=json.dumps(body), status_code=200, headers=_headers(CONTENT_TYPES[".json"], "no-store"))


@console.route("/console", methods=["GET"])
def console_index() -> Response:
    return _index()


@console.route("/console/{name}", methods=["GET"])
def console_file(name: str) -> Response:
    if name == "index.html":
        return _index()
    if name == "config.json":
        return _config()
    if name == SERVICE_WORKER:
        return _service_worker()
    return static_file(name)


@console.route("/console/{folder}/{name}", methods=["GET"])
def console_file_2(folder: str, name: str) -> Response:
    return static_file(folder, name)


@console.route("/console/{folder}/{sub}/{name}", methods=["GET"])
def console_file_3(folder: str, sub: str, name: str) -> Response:
    return static_file(folder, sub, name)
