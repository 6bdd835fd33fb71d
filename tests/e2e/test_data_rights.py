"""The client's data rights through HTTP: whole-file export, erasure of closed files, retention job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

import app as application
from chalicelib import bootstrap
from chalicelib.adapters import models as m
from chalicelib.adapters.clients_repository import closing_changes, reopening_changes
from chalicelib.adapters.keys import sort_key
from chalicelib.domain.audit import AuditEvent, AuditType
from tests.conftest import auth, new_client
from tests.storage_dump import every_stored_text as everything_stored
from tests.store_helpers import append_audit, get_client, update_client

AGENCY = "calgary-cfn"
BUCKET = "cmdm-test-media"
PHONE = "+15875550123"
BODIES = ("My landlord wants me out by Friday", "Voice note about the lease", "We will call the housing office")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def s3():
    return boto3.client("s3", region_name="ca-central-1")


def seed_file(client_id: str) -> list[str]:
    """Three messages (one with a voice note in the bucket), an inquiry and its audit events."""
    _ = bootstrap.container().uow
    keys = []
    for i, (body, direction, kind) in enumerate(zip(BODIES, ("inbound", "inbound", "outbound"),
                                                   ("client", "client", "staff"), strict=True)):
        at = utc(2026, 3, 2, 17, i)
        media = []
        if i == 1:
            key = f"{AGENCY}/{client_id}/voice-{i}.ogg"
            s3().put_object(Bucket=BUCKET, Key=key, Body=b"OggS...voice of the client")
            keys.append(key)
            media = [m.MediaMap(content_type="audio/ogg", s3_key=key, status="stored", size=26)]
        m.MessageModel(client_id=client_id, sk=sort_key(at, f"msg{i}"), message_id=f"msg{i}", agency_id=AGENCY,
                       direction=direction, kind=kind, body=body, at=at, status="received", channel="whatsapp",
                       staff_id="amal", from_number="+15873550101", inquiry_id=f"inq_{client_id}", media=media,
                       # the first still waits in the media-copy queue
                       due_agency=f"media#{AGENCY}" if i == 0 else None, due_at=at if i == 0 else None).save()
    m.InquiryModel(inquiry_id=f"inq_{client_id}", agency_id=AGENCY, client_id=client_id, staff_id="amal", status="answered",
                   staff_status=f"{AGENCY}#amal#answered", agency_status=f"{AGENCY}#answered",
                   opened_at=utc(2026, 3, 2, 17), due_at=utc(2026, 3, 3, 17), answered_at=utc(2026, 3, 2, 17, 2),
                   answered_by="amal").save()
    append_audit([
        AuditEvent(agency_id=AGENCY, type=AuditType.MESSAGE_FILED, at=utc(2026, 3, 2, 17), actor="client",
                   client_id=client_id, staff_id="amal", details={"direction": "inbound", "kind": "client"}),
        AuditEvent(agency_id=AGENCY, type=AuditType.INQUIRY_OPENED, at=utc(2026, 3, 2, 17), actor="system",
                   client_id=client_id, staff_id="amal", details={"inquiry_id": f"inq_{client_id}"}),
    ])
    return keys


def close(client_id: str, at: datetime, conduct: bool = False) -> None:
    """What issue 5's PUT /clients/{id}/status does when it closes a file."""
    event = AuditEvent(agency_id=AGENCY, type=AuditType.CLIENT_STATUS, at=at, actor="admin-lee",
                       client_id=client_id, staff_id="amal", details={"status": "closed", "conduct": conduct})
    update_client(client_id, closing_changes(at), [event])


# --- export --------------------------------------------------------------------------------------


def test_case_manager_exports_the_whole_file(http, agency):
    client = new_client(http, agency["amal"], phone=PHONE)
    cid = client["client_id"]
    keys = seed_file(cid)
    r = http.call("GET", f"/clients/{cid}/export", agency["amal"])
    assert r.status_code == 200, r.body
    body = r.json
    assert body["client"]["client_id"] == cid and body["client"]["phone"] == PHONE
    assert body["client"]["consent"]["state"] == "given"
    assert [x["body"] for x in body["messages"]] == list(BODIES)  # oldest first
    assert body["messages"][0]["at"] == "2026-03-02T10:00:00-07:00"
    assert body["media"] == [{"message_id": "msg1", "content_type": "audio/ogg", "s3_key": keys[0],
                              "status": "stored", "size": 26}]
    assert [(i["id"], i["status"]) for i in body["inquiries"]] == [(f"inq_{cid}", "answered")]
    types = [e["type"] for e in body["audit"]]
    assert {"client.created", "consent.given", "message.filed", "inquiry.opened"} <= set(types)
    exported = [e for e in m.AuditModel.by_client.query(cid) if e.type == AuditType.CLIENT_EXPORTED.value]
    assert len(exported) == 1 and exported[0].actor == "amal"
    assert PHONE not in json.dumps(exported[0].details.as_dict())


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("supervisor", 403), ("jean", 403), ("halifax", 404), ("nobody", 401)])
def test_only_the_case_manager_or_an_admin_may_export(http, agency, who, status):
    cid = new_client(http, agency["amal"])["client_id"]
    caller = {"halifax": auth("admin-h", "admin", "halifax-isans"), "nobody": None}.get(who, agency.get(who))
    r = http.call("GET", f"/clients/{cid}/export", caller)
    assert r.status_code == status


def test_export_of_an_unknown_file_is_a_404(http, agency):
    assert http.call("GET", "/clients/cl_nope/export", agency["admin"]).status_code == 404
    assert http.call("GET", "/clients/..%2F..%2Fx/export", agency["admin"]).status_code == 404


# --- erasure -------------------------------------------------------------------------------------


def test_an_open_file_cannot_be_erased(http, agency):
    cid = new_client(http, agency["amal"])["client_id"]
    r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
    assert r.status_code == 409 and r.json["error"]["code"] == "file_not_closed"
    assert http.call("GET", f"/clients/{cid}", agency["amal"]).json["phone"] == PHONE


@pytest.mark.parametrize(("who", "status"), [
    ("amal", 403), ("supervisor", 403), ("jean", 403), ("halifax", 404), ("nobody", 401)])
def test_only_an_admin_of_the_agency_may_erase(http, agency, who, status):
    cid = new_client(http, agency["amal"])["client_id"]
    close(cid, utc(2026, 3, 2, 17))
    caller = {"halifax": auth("admin-h", "admin", "halifax-isans"), "nobody": None}.get(who, agency.get(who))
    assert http.call("DELETE", f"/clients/{cid}", caller).status_code == status
    assert m.ClientModel.get(cid).phone == PHONE


def test_erasure_leaves_no_body_media_or_phone_number_anywhere(http, agency):
    other = new_client(http, agency["jean"], phone="+15875550999", manager="jean", channel="sms")
    cid = new_client(http, agency["amal"], phone=PHONE)["client_id"]
    keys = seed_file(cid)
    seed_file(other["client_id"])  # a colleague's file must survive untouched
    close(cid, utc(2026, 3, 9, 17))
    before = everything_stored()
    assert PHONE in before and BODIES[0] in before

    r = http.call("DELETE", f"/clients/{cid}", agency["admin"])
    assert r.status_code == 200, r.body
    assert r.json["client_id"] == cid and r.json["messages_cleared"] == 3

    application.run_job("copy_media")  # the erased message left the media queue: nothing comes back
    application.run_job("sweep_clocks")
    stored = everything_stored()
    assert PHONE not in stored and PHONE[1:] not in stored
    assert keys[0] not in stored
    tombstone = m.ClientModel.get(cid)
    assert tombstone.phone is None and tombstone.name is None and tombstone.erased_at is not None
    assert tombstone.status == "closed" and tombstone.created_at is not None
    assert list(tombstone.consent.circle_of_care) == []
    from chalicelib.adapters.messages_repository import message_from

    for message in m.MessageModel.query(cid):
        assert message.body is None and list(message.media) == [] and message.due_agency is None
        message_from(message)  # the other features still read an erased message
    # The colleague's file keeps everything.
    kept = [x.body for x in m.MessageModel.query(other["client_id"])]
    assert kept == list(BODIES)
    assert len(s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])) == 1
    # Erased files are gone from the API, and erasure is audited once.
    assert http.call("GET", f"/clients/{cid}", agency["admin"]).status_code == 404
    assert http.call("GET", f"/clients/{cid}/export", agency["admin"]).status_code == 404
    assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 404
    erased = [e for e in m.AuditModel.by_client.query(cid) if e.type == AuditType.CLIENT_ERASED.value]
    assert len(erased) == 1 and erased[0].details.as_dict() == {"reason": "request"}


def test_erased_names_are_gone_and_counts_stay_true(http, agency):
    with time_machine.travel(utc(2026, 3, 3, 17), tick=False):
        cid = new_client(http, agency["amal"], phone=PHONE)["client_id"]
    close(cid, utc(2026, 3, 4, 17))
    assert http.call("DELETE", f"/clients/{cid}", agency["admin"]).status_code == 200
    assert "Fatima" not in json.dumps(m.ClientModel.get(cid).attribute_values, default=str)
    r = http.call("GET", "/reports/usage?from=2026-03-01&to=2026-03-31", agency["supervisor"])
    # Closed because the case is complete: neither left (not at the client's request) nor removed.
    totals = r.json["totals"]
    assert (totals["new_clients"], totals["clients_left"], totals["clients_removed"]) == (1, 0, 0)
    # The number is free again: the person can come back as a new client.
    again = new_client(http, agency["amal"], phone=PHONE)
    assert again["client_id"] != cid


def test_erasure_purges_every_version_of_a_media_object(aws):
    from chalicelib.adapters.media import S3Media

    client = s3()
    client.create_bucket(Bucket="cmdm-test-versioned", CreateBucketConfiguration={"LocationConstraint": "ca-central-1"})
    client.put_bucket_versioning(Bucket="cmdm-test-versioned", VersioningConfiguration={"Status": "Enabled"})
    for content in (b"first take", b"second take"):
        client.put_object(Bucket="cmdm-test-versioned", Key="calgary-cfn/cl_1/voice.ogg", Body=content)
    client.put_object(Bucket="cmdm-test-versioned", Key="calgary-cfn/cl_1/voice.ogg.keep", Body=b"other")
    try:
        assert S3Media("cmdm-test-versioned", "ca-central-1").delete(["calgary-cfn/cl_1/voice.ogg"]) == 1
        left = client.list_object_versions(Bucket="cmdm-test-versioned")
        assert [v["Key"] for v in left.get("Versions", [])] == ["calgary-cfn/cl_1/voice.ogg.keep"]
        assert left.get("DeleteMarkers", []) == []
    finally:
        for v in client.list_object_versions(Bucket="cmdm-test-versioned").get("Versions", []):
            client.delete_object(Bucket="cmdm-test-versioned", Key=v["Key"], VersionId=v["VersionId"])
        client.delete_bucket(Bucket="cmdm-test-versioned")


# --- retention -----------------------------------------------------------------------------------


def test_retention_job_erases_files_closed_longer_than_the_policy_allows(http, agency):
    # Calgary keeps closed files for P2Y (730 days).
    with time_machine.travel(utc(2023, 1, 9, 17), tick=False):
        old, recent, reopened, still_open = (
            new_client(http, agency["amal"], phone=f"+1587555030{i}", consent=False)["client_id"] for i in range(1, 5))
    seed_file(old)
    close(old, utc(2024, 1, 10, 17))
    close(recent, utc(2025, 6, 1, 17))
    close(reopened, utc(2023, 6, 1, 17))
    update_client(reopened, reopening_changes())
    assert get_client(still_open).closed_at is None

    with time_machine.travel(utc(2026, 1, 11, 9), tick=False):
        assert application.run_job("erase_expired") == {"erased": 1, "failed": 0}
        assert application.run_job("erase_expired") is None  # nothing twice
    assert m.ClientModel.get(old).erased_at is not None and m.ClientModel.get(old).phone is None
    assert all(x.body is None for x in m.MessageModel.query(old))
    for cid in (recent, reopened, still_open):
        assert m.ClientModel.get(cid).erased_at is None and m.ClientModel.get(cid).phone
    (event,) = [e for e in m.AuditModel.by_client.query(old) if e.type == AuditType.CLIENT_ERASED.value]
    assert event.actor == "system" and event.details.as_dict() == {"reason": "retention"}

    with time_machine.travel(utc(2027, 6, 2, 9), tick=False):
        assert application.run_job("erase_expired") == {"erased": 1, "failed": 0}
    assert m.ClientModel.get(recent).erased_at is not None


def test_closing_sets_the_sparse_key_the_retention_job_reads(aws):
    changes = closing_changes(utc(2026, 3, 2, 17))
    assert changes["closed_at"] == utc(2026, 3, 2, 17) and changes["status"].value == "closed"
    assert reopening_changes()["closed_at"] is None
    assert m.ClientModel.closed_files.Meta.index_name == "closed_files"
    assert timedelta(days=730) == bootstrap.container().policies.get(AGENCY).closed_file_retention


def test_supervision_and_data_rights_never_scan_a_table(http, agency, monkeypatch):
    from pynamodb.connection.base import Connection

    operations: list[str] = []
    original = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        operations.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    cid = new_client(http, agency["amal"], phone=PHONE)["client_id"]
    seed_file(cid)
    close(cid, utc(2023, 3, 9, 17))
    for path in ("/audit?from=2026-03-01&to=2026-03-31&staff_id=amal", "/audit?from=2026-03-01&to=2026-03-31",
                 f"/audit?from=2026-03-01&to=2026-03-31&client_id={cid}",
                 "/reports/compliance?from=2026-03-01&to=2026-03-31",
                 "/reports/usage?from=2026-01-01&to=2026-12-31&period=month"):
        assert http.call("GET", path, agency["supervisor"]).status_code == 200, path
    assert http.call("GET", f"/clients/{cid}/export", agency["admin"]).status_code == 200
    with time_machine.travel(utc(2026, 1, 11, 9), tick=False):
        application.run_job("erase_expired")
    assert m.ClientModel.get(cid).erased_at is not None
    assert "Query" in operations and "Scan" not in operations
