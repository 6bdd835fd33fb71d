"""``make run``'s stand-in for the parts of Twilio's REST API that media needs, on loopback.

On a laptop no photo or voice note ever reaches Twilio, so ``copy_media`` would find nothing to
copy and media would stay ``pending``. The simulator (``cli phone --media-file``) puts the file
in a shared folder under the Twilio media resource it would have (``Messages/MM…/Media/ME…``);
this server answers the same requests Twilio would, with the account's credentials checked:

- ``GET  /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}``: the file, with its content type;
- ``DELETE /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}.json``: gone (204), 404 after;
- ``POST /2010-04-01/Accounts/{AC}/Messages/{MM}.json`` with ``Body=``: a redaction, answered as
  Twilio answers it (the message resource, JSON);
- ``POST /2010-04-01/Accounts/{AC}/Calls.json``: a call placed (SPEC §5.10), recorded in ``calls``
  and in the local outbox (``.local/outbox.jsonl``), answered with the call resource;
- ``GET``/``DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.mp3`` / ``{RE}.json``: a voicemail
  (``cli phone --voicemail``), served and deleted as its media is.

``make run`` points ``CMDM_TWILIO_API_BASE`` at it when messages go to the local outbox. Nothing
here is deployed behaviour; it is never started in the ``aws`` stage.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

#: Where media "at Twilio" waits for the stand-in to serve it (``make run`` and ``cli phone --media-file``).
LOCAL_TWILIO_DIR = Path(os.environ.get("CMDM_LOCAL_TWILIO_DIR") or Path(__file__).resolve().parent.parent / ".local-twilio")

MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/((?:SM|MM)[0-9a-f]{32})/Media/(ME[0-9a-f]{32})"
                   r"(\.json)?$")
RECORDING = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/(RE[0-9a-f]{32})\.(mp3|json)$")
CALLS = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")
MESSAGE = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/((?:SM|MM)[0-9a-f]{32})\.json$")


def media_path(folder: Path, message_sid: str, media_sid: str) -> Path:
    return folder / "media" / message_sid / media_sid


def put_media(folder: Path, message_sid: str, media_sid: str, data: bytes, content_type: str) -> None:
    """What Twilio holds for a message's media item (the simulator's side)."""
    path = media_path(folder, message_sid, media_sid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_suffix(".type").write_text(content_type, encoding="utf-8")


def recording_path(folder: Path, recording_sid: str) -> Path:
    return folder / "recordings" / recording_sid


def put_recording(folder: Path, recording_sid: str, data: bytes) -> None:
    """What Twilio holds of a voicemail (the simulator's side), served as MP3."""
    path = recording_path(folder, recording_sid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_suffix(".type").write_text("audio/mpeg", encoding="utf-8")


class TwilioStandIn:
    """The HTTP server; ``start()`` returns its base URL (for ``CMDM_TWILIO_API_BASE``)."""

    def __init__(self, folder: Path, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0,
                 outbox: Path | None = None) -> None:
        self.folder = folder
        self.redacted: list[str] = []
        self.calls: list[dict[str, str]] = []  # calls placed, as Twilio received them
        self.outbox = outbox
        expected = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # no paths (they carry message SIDs) in the console
                return

            def _answer(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorised(self, account: str) -> bool:
                if account != account_sid or self.headers.get("Authorization") != expected:
                    self._answer(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401}).encode())
                    return False
                return True

            def _recording(self, delete: bool) -> None:
                match = RECORDING.match(self.path.split("?", 1)[0])
                if not match or (match.group(3) == "json") != delete:
                    return self._answer(404, b"{}")
                if not self._authorised(match.group(1)):
                    return None
                path = recording_path(stand_in.folder, match.group(2))
                if not path.exists():
                    return self._answer(404, json.dumps({"code": 20404, "status": 404}).encode())
                if not delete:
                    return self._answer(200, path.read_bytes(), "audio/mpeg")
                path.unlink()
                path.with_suffix(".type").unlink(missing_ok=True)
                return self._answer(204)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if "/Recordings/" in self.path:
                    return self._recording(delete=False)
                match = MEDIA.match(self.path.split("?", 1)[0])
                if not match or match.group(4):
                    return self._answer(404, b"{}")
                if not self._authorised(match.group(1)):
                    return None
                path = media_path(stand_in.folder, match.group(2), match.group(3))
                if not path.exists():
                    return self._answer(404, b"{}")
                content_type = path.with_suffix(".type").read_text(encoding="utf-8")
                return self._answer(200, path.read_bytes(), content_type)

            def do_DELETE(self) -> None:  # noqa: N802
                if "/Recordings/" in self.path:
                    return self._recording(delete=True)
                match = MEDIA.match(self.path.split("?", 1)[0])
                if not match:
                    return self._answer(404, b"{}")
                if not self._authorised(match.group(1)):
                    return None
                path = media_path(stand_in.folder, match.group(2), match.group(3))
                if not path.exists():
                    return self._answer(404, json.dumps({"code": 20404, "status": 404}).encode())
                path.unlink()
                path.with_suffix(".type").unlink(missing_ok=True)
                return self._answer(204)

            def _call(self, account: str) -> None:
                if not self._authorised(account):
                    return None
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
                if not form.get("To") or not form.get("From") or not (form.get("Twiml") or form.get("Url")):
                    return self._answer(400, json.dumps({"code": 21205, "message": "To, From and Twiml or Url"}).encode())
                sid = "CA" + uuid.uuid4().hex
                record = {"kind": "call", "sid": sid, "at": datetime.now(UTC).isoformat(), "to": form["To"],
                          "from_number": form["From"], "twiml": form.get("Twiml") or "",
                          "status_callback": form.get("StatusCallback") or ""}
                with stand_in._lock:
                    stand_in.calls.append(record)
                    if stand_in.outbox is not None:
                        stand_in.outbox.parent.mkdir(parents=True, exist_ok=True)
                        with stand_in.outbox.open("a", encoding="utf-8") as fh:
                            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                return self._answer(201, json.dumps({"sid": sid, "account_sid": account, "status": "queued",
                                                     "to": form["To"], "from": form["From"]}).encode())

            def do_POST(self) -> None:  # noqa: N802
                calls = CALLS.match(self.path.split("?", 1)[0])
                if calls:
                    return self._call(calls.group(1))
                match = MESSAGE.match(self.path.split("?", 1)[0])
                if not match:
                    return self._answer(404, b"{}")
                if not self._authorised(match.group(1)):
                    return None
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                if form.get("Body") != [""]:
                    return self._answer(400, json.dumps({"code": 21610, "message": "only redaction"}).encode())
                stand_in.redacted.append(match.group(2))
                return self._answer(200, json.dumps({"sid": match.group(2), "account_sid": match.group(1),
                                                     "body": "", "status": "delivered"}).encode())

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
