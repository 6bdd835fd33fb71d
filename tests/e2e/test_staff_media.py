"""A worker attaches a photo, a document or a voice note (issue 14, sending media), through the API.

``POST /clients/{id}/uploads`` checks the file against what the client's channel carries and
answers a presigned POST; the browser sends the file straight to the media bucket (moto S3 here);
``POST /clients/{id}/messages`` with ``media: [{"key"}]`` checks the object really is that and
sends it through Twilio with a short-lived link, filed with the message.
"""

from __future__ import annotations

import json
import shutil
import struct
from urllib.parse import urlsplit

import boto3
import requests
import time_machine

from chalicelib import bootstrap
from tests.conftest import ROOT, new_client
from tests.e2e.outbound_helpers import at, outbox
from tests.twilio_helpers import inbound, whatsapp_form

TUESDAY_10 = "2026-02-10T10:00:00-07:00"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 64


def ogg_opus_head() -> bytes:
    """The first page of an Ogg/Opus stream: OggS header, one segment, the OpusHead packet."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    page = b"OggS" + bytes([0, 2]) + struct.pack("<qIIIB", 0, 1, 0, 0, 1) + bytes([len(head)])
    return page + head


def upload(http, who, client_id: str, data: bytes, content_type: str) -> str:
    r = http.call("POST", f"/clients/{client_id}/uploads", who, {"content_type": content_type, "size": len(data)})
    assert r.status_code == 201, r.body
    form = r.json
    sent = requests.post(form["url"], data=form["fields"], files={"file": ("upload", data, content_type)}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    return form["key"]


def test_a_photo_goes_to_the_bucket_then_to_twilio_with_a_short_lived_link_and_into_the_file(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms", phone="+15875550130")
        key = upload(http, agency["amal"], client["client_id"], PNG, "image/png")
        assert key.startswith(f"calgary-cfn/{client['client_id']}/uploads/up_")
        r = http.call("POST", f"/clients/{client['client_id']}/messages", agency["amal"],
                      {"body": "Here is the lease page", "media": [{"key": key}]})
        assert r.status_code == 201, r.body
        assert r.json["media"] == [{"content_type": "image/png", "size": len(PNG)}]
        (sent,) = [s for s in outbox() if s["to"] == "+15875550130"]
        (link,) = sent["media_urls"]
        assert urlsplit(link).path.endswith(key) and "Expires=" in link or "X-Amz-Expires=" in link
        listed = http.call("GET", f"/clients/{client['client_id']}/messages", agency["amal"]).json["messages"]
        (mine,) = [m for m in listed if m["direction"] == "outbound"]
        assert mine["body"] == "Here is the lease page"
        assert mine["media"][0]["content_type"] == "image/png" and mine["media"][0]["status"] == "stored"
        assert requests.get(mine["media"][0]["url"], timeout=10).content == PNG
        head = boto3.client("s3", region_name="ca-central-1").head_object(Bucket="cmdm-test-media", Key=key)
        assert head["ServerSideEncryption"] == "AES256"


def test_a_file_the_channel_cannot_carry_is_refused_before_any_upload(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        sms = new_client(http, agency["amal"], channel="sms", phone="+15875550131")
        whatsapp = new_client(http, agency["amal"], channel="whatsapp", phone="+15875550132")
        for client, content_type, size, field in (
            (sms, "audio/ogg", 1000, "content_type"),  # MMS carries no voice notes
            (sms, "image/png", 6 * 1024 * 1024, "size"),  # MMS: 5 MB for the whole message
            (whatsapp, "image/jpeg", 5 * 1024 * 1024 + 1, "size"),  # WhatsApp images: 5 MB
            (whatsapp, "application/pdf", 17 * 1024 * 1024, "size"),  # WhatsApp: 16 MB
            (whatsapp, "application/x-msdownload", 10, "content_type"),
            (whatsapp, "image/png", 0, "size"),
        ):
            r = http.call("POST", f"/clients/{client['client_id']}/uploads", agency["amal"],
                          {"content_type": content_type, "size": size})
            assert r.status_code == 400 and r.json["error"]["field"] == field, (content_type, size, r.body)
        assert boto3.client("s3", region_name="ca-central-1").list_objects_v2(
            Bucket="cmdm-test-media").get("Contents") is None


def test_an_upload_of_another_file_or_one_that_never_arrived_is_not_sent(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        mine = new_client(http, agency["amal"], channel="sms", phone="+15875550133")
        other = new_client(http, agency["amal"], channel="sms", phone="+15875550134")
        key = upload(http, agency["amal"], other["client_id"], PNG, "image/png")
        missing = f"calgary-cfn/{mine['client_id']}/uploads/up_{'0' * 32}"
        for media_key in (key, missing, "../../etc/passwd", f"calgary-cfn/{mine['client_id']}/uploads/x"):
            r = http.call("POST", f"/clients/{mine['client_id']}/messages", agency["amal"],
                          {"body": "see attached", "media": [{"key": media_key}]})
            assert r.status_code == 400 and r.json["error"]["field"] == "media", (media_key, r.body)
        assert [s for s in outbox() if s["to"] == "+15875550133"] == []


def test_a_voice_note_must_be_ogg_opus_and_goes_only_inside_the_whatsapp_window(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False) as clock:
        client = new_client(http, agency["amal"], channel="whatsapp", phone="+15875550135")
        cid = client["client_id"]
        webm = upload(http, agency["amal"], cid, bytes.fromhex("1a45dfa3") + b"\x00" * 60, "audio/ogg")
        assert inbound(http.client, whatsapp_form("+15875550135", "+15873550101", "hello?")).status_code == 200
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"media": [{"key": webm}]})
        assert r.status_code == 400 and "Ogg/Opus" in r.json["error"]["message"], r.body
        note = upload(http, agency["amal"], cid, ogg_opus_head() + b"\x00" * 100, "audio/ogg")
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"media": [{"key": note}]})
        assert r.status_code == 201, r.body
        (sent,) = [s for s in outbox() if s["to"] == "+15875550135"]
        assert len(sent["media_urls"]) == 1 and sent["body"] == ""
        clock.shift(25 * 3600)  # the client has been quiet for a day: the window is closed
        later = upload(http, agency["amal"], cid, ogg_opus_head(), "audio/ogg")
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "and this", "media": [{"key": later}]})
        assert r.status_code == 409 and r.json["error"]["code"] == "whatsapp_window_closed", r.body


def test_a_file_whose_bytes_are_not_its_declared_type_is_not_sent(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms", phone="+15875550136")
        cid = client["client_id"]
        for data, content_type in ((b"MZ" + b"\0" * 80, "image/png"), (PNG, "application/pdf"),
                                   (b"%PDF-1.7\n" + b"\0" * 40, "image/jpeg")):
            key = upload(http, agency["amal"], cid, data, content_type)
            r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "see", "media": [{"key": key}]})
            assert r.status_code == 400 and r.json["error"]["field"] == "media", (content_type, r.body)
            assert f"not a {content_type} file" in r.json["error"]["message"]
        pdf = upload(http, agency["amal"], cid, b"%PDF-1.7\n" + b"\0" * 40, "application/pdf")
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "the form", "media": [{"key": pdf}]})
        assert r.status_code == 201, r.body
        assert [len(s["media_urls"]) for s in outbox() if s["to"] == "+15875550136"] == [1]


def test_the_composer_is_told_what_the_channel_and_the_policy_let_a_worker_attach(http, agency):
    with time_machine.travel(at(TUESDAY_10), tick=False):
        sms = new_client(http, agency["amal"], channel="sms", phone="+15875550137")
        whatsapp = new_client(http, agency["amal"], channel="whatsapp", phone="+15875550138")
        on_sms = http.call("GET", f"/clients/{sms['client_id']}/compose", agency["amal"]).json["attachments"]
        on_whatsapp = http.call("GET", f"/clients/{whatsapp['client_id']}/compose", agency["amal"]).json["attachments"]
    assert on_sms["voice_notes"] is False and {"content_type": "image/png", "max_size": 5 * 1024 * 1024} in on_sms["types"]
    assert all(not t["content_type"].startswith("audio/") for t in on_sms["types"])
    assert on_whatsapp["voice_notes"] is True
    assert {"content_type": "audio/ogg", "max_size": 16 * 1024 * 1024} in on_whatsapp["types"]


def test_an_agency_whose_policy_does_not_permit_voice_notes_gets_none(http, agency, tmp_path, monkeypatch):
    policy = json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8"))
    policy["voice_notes"] = False
    (tmp_path / "calgary-cfn.json").write_text(json.dumps(policy), encoding="utf-8")
    shutil.copy(ROOT / "policies" / "schema.json", tmp_path / "schema.json")
    monkeypatch.setenv("CMDM_POLICY_DIR", str(tmp_path))
    bootstrap.reset()
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="whatsapp", phone="+15875550139")
        cid = client["client_id"]
        assert inbound(http.client, whatsapp_form("+15875550139", "+15873550101", "hello?")).status_code == 200
        compose = http.call("GET", f"/clients/{cid}/compose", agency["amal"]).json["attachments"]
        assert compose["voice_notes"] is False
        assert all(not t["content_type"].startswith("audio/") for t in compose["types"])
        r = http.call("POST", f"/clients/{cid}/uploads", agency["amal"], {"content_type": "audio/ogg", "size": 2000})
        assert r.status_code == 409 and r.json["error"]["code"] == "voice_notes_not_permitted", r.body
        photo = upload(http, agency["amal"], cid, PNG, "image/png")  # photos are still fine
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"media": [{"key": photo}]})
        assert r.status_code == 201, r.body


def test_erasing_a_closed_file_deletes_its_attachments_sent_or_not(http, agency):
    s3 = boto3.client("s3", region_name="ca-central-1")
    with time_machine.travel(at(TUESDAY_10), tick=False):
        client = new_client(http, agency["amal"], channel="sms", phone="+15875550140")
        cid = client["client_id"]
        sent = upload(http, agency["amal"], cid, PNG, "image/png")
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "the lease", "media": [{"key": sent}]})
        assert r.status_code == 201, r.body
        never_sent = upload(http, agency["amal"], cid, b"%PDF-1.7\n" + b"\0" * 40, "application/pdf")
        other = new_client(http, agency["amal"], channel="sms", phone="+15875550141")
        kept = upload(http, agency["amal"], other["client_id"], PNG, "image/png")
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket="cmdm-test-media", Prefix=f"calgary-cfn/{cid}/")["Contents"]}
        assert listed == {sent, never_sent}
        r = http.call("PUT", f"/clients/{cid}/status", agency["admin"], {"status": "closed", "reason": "moved away"})
        assert r.status_code == 200, r.body
        r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
        assert r.status_code == 200, r.body
    assert s3.list_objects_v2(Bucket="cmdm-test-media", Prefix=f"calgary-cfn/{cid}/").get("Contents") is None
    assert s3.head_object(Bucket="cmdm-test-media", Key=kept)["ContentLength"] == len(PNG)  # another file's stays


def test_media_is_never_sent_with_whatsapps_approved_template(http, agency):
    from datetime import timedelta

    from tests.e2e.outbound_helpers import client_wrote_at, sweep

    tuesday_evening = at("2026-02-10T17:30:00-07:00")  # closed: held until Wednesday 9:00
    with time_machine.travel(tuesday_evening, tick=False) as clock:
        client = new_client(http, agency["amal"], channel="whatsapp", phone="+15875550142")
        cid = client["client_id"]
        client_wrote_at(cid, tuesday_evening - timedelta(hours=8))  # the window closes Wednesday 9:30
        photo = upload(http, agency["amal"], cid, PNG, "image/png")
        r = http.call("POST", f"/clients/{cid}/messages", agency["amal"], {"body": "the form", "media": [{"key": photo}]})
        assert r.status_code == 202 and r.json["template"] is None, r.body  # Wednesday 9:00 is inside the window
        clock.move_to(at("2026-02-11T14:00:00-07:00"))  # the sweep only gets to it after the window closed
        sweep()
        (sent,) = [s for s in outbox() if s["to"] == "+15875550142"]
        assert sent["content_sid"] and sent["body"] is None and list(sent["media_urls"]) == []
