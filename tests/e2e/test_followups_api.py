"""GET /followups and the schedule on the client file, through HTTP (issue 5, SPEC §4.4)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib.adapters import models as m
from tests.conftest import new_client

EDMONTON = ZoneInfo("America/Edmonton")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)


def open_file(http, who, at, **kwargs):
    with time_machine.travel(at, tick=False):
        return new_client(http, who, **kwargs)


def run_at(at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return application.run_job("run_followups")


def test_consent_puts_the_file_on_the_schedule_and_the_file_shows_it(http, agency):
    with time_machine.travel(local("2026-11-18T14:00"), tick=False):
        client = new_client(http, agency["amal"], consent=False)
        assert client["next_followup_at"] is None
        r = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {
            "form_version": "CFN-2026", "signed_at": "2026-11-18T13:00:00-06:00", "channels": ["whatsapp"]})
    assert r.status_code == 200
    assert r.json["next_followup_at"] == "2026-11-26T10:00:00-06:00"
    r = http.call("GET", f"/clients/{client['client_id']}", agency["amal"])
    assert r.json["next_followup_at"] == "2026-11-26T10:00:00-06:00"
    assert r.json["next_checkin_at"] == "2026-12-18T10:00:00-06:00"
    item = m.ClientModel.get(client["client_id"])
    assert item.followup_agency == item.checkin_agency == item.survey_agency == "calgary-cfn"


def test_withdrawn_consent_takes_the_file_off_the_schedule(http, agency):
    client = open_file(http, agency["amal"], local("2026-11-18T14:00"))
    r = http.call("DELETE", f"/clients/{client['client_id']}/consent", agency["amal"], {"reason": "asked"})
    assert r.status_code == 200 and r.json["next_followup_at"] is None
    item = m.ClientModel.get(client["client_id"])
    assert item.followup_agency is None and item.checkin_agency is None and item.survey_agency is None


def test_worker_sees_their_follow_ups_newest_first_and_whether_the_client_replied(http, agency):
    quiet = open_file(http, agency["amal"], local("2026-11-16T09:00"), phone="+15875550201")
    replier = open_file(http, agency["amal"], local("2026-11-16T09:30"), phone="+15875550202", channel="sms")
    open_file(http, agency["jean"], local("2026-11-16T09:00"), phone="+15875550203", manager="jean")
    run_at(local("2026-11-23T10:05"))
    # The inbound feature stamps last_inbound_at when the client answers.
    m.ClientModel.get(replier["client_id"]).update(
        actions=[m.ClientModel.last_inbound_at.set(local("2026-11-23T12:00").astimezone(UTC))])

    r = http.call("GET", "/followups", agency["amal"])
    assert r.status_code == 200
    items = r.json["followups"]
    assert {i["client_id"] for i in items} == {quiet["client_id"], replier["client_id"]}
    by_client = {i["client_id"]: i for i in items}
    assert by_client[replier["client_id"]]["replied"] is True
    assert by_client[replier["client_id"]]["replied_at"] == "2026-11-23T12:00:00-06:00"
    assert by_client[quiet["client_id"]]["replied"] is False and "replied_at" not in by_client[quiet["client_id"]]
    assert all(i["kind"] == "followup" and i["at"] == "2026-11-23T10:05:00-06:00" for i in items)

    # A week later the quiet client is followed up again; newest first.
    run_at(local("2026-11-30T10:05"))
    items = http.call("GET", "/followups", agency["amal"]).json["followups"]
    assert items[0]["at"] == "2026-11-30T10:05:00-06:00" and items[0]["client_id"] == quiet["client_id"]
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)


def test_supervisor_may_choose_a_worker_and_a_worker_may_not(http, agency):
    open_file(http, agency["jean"], local("2026-11-16T09:00"), phone="+15875550203", manager="jean")
    run_at(local("2026-11-23T10:05"))
    r = http.call("GET", "/followups?staff_id=jean", agency["supervisor"])
    assert r.status_code == 200 and len(r.json["followups"]) == 1
    assert len(http.call("GET", "/followups", agency["supervisor"]).json["followups"]) == 1
    assert http.call("GET", "/followups?staff_id=jean", agency["amal"]).status_code == 403
    assert http.call("GET", "/followups", agency["amal"]).json == {"followups": []}
    assert http.call("GET", "/followups?limit=0", agency["amal"]).status_code == 400
    assert http.call("GET", "/followups").status_code == 401


def test_survey_score_recorded_on_the_follow_up_row_is_shown(http, agency):
    client = open_file(http, agency["amal"], local("2026-11-16T09:00"))
    run_at(local("2026-11-23T10:05"))
    [row] = list(m.FollowupModel.query("calgary-cfn#amal"))
    row.update(actions=[m.FollowupModel.score.set(4)])  # as the inbound feature records a score
    [item] = http.call("GET", "/followups", agency["amal"]).json["followups"]
    assert item["client_id"] == client["client_id"] and item["score"] == 4
