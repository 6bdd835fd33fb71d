"""A scripted month through the HTTP API, every Table 7 figure hand-counted (issue 16).

Calgary, March 2026, amal's caseload of 34 SMS files (all times local, UTC-7 until 8 March):

| when          | what happens                                                                  |
|---------------|-------------------------------------------------------------------------------|
| 3 Dec 2025    | intake of c32, c33, who consent (files from before the month)                 |
| Mon 2, 10:00  | intake of c00..c31; c00..c24 consent with posts, c25..c29 without, c30, c31 never |
| Tue 3, 10:00  | follow-up job: c32 and c33 get their monthly check-in (opened on the 3rd); their 90-day survey waits a day |
| Tue 3, 10:00  | c00 asks (inquiry 1); amal answers at 10:30                                   |
| Tue 3, 10:05  | c01 asks (inquiry 2); amal sends a holding reply at 10:40                     |
| Tue 3, 11:00  | c02 asks (inquiry 3); amal answers at 11:10, Twilio reports it failed         |
| Tue 3, 20:00  | c03 asks after hours (inquiry 4, automatic reply); amal writes at 20:30: held |
| Wed 4, 09:05  | the sweep sends amal's held message: inquiry 4 answered                       |
| Wed 4, 10:00  | follow-up job: c32 and c33 get the survey; at 11:00 they answer 4 and 5 (and are thanked) |
| Thu 5, 10:00  | c04 texts STOP; c05's consent is withdrawn at 10:30                           |
| Fri 6, 10:00  | c06 suspended under the conduct policy (service_ended notice); c07 closed, case complete |
| Mon 9, 10:00  | amal posts to her caseload, English speakers only (c20..c24 speak Arabic)     |
| Mon 9, 11:00  | two referrals: c00 and c01                                                    |
| Tue 10, 10:00 | follow-up job: the quiet c08..c29 get their weekly follow-up                  |
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

import app as application
from chalicelib.adapters import models as m
from tests.conftest import new_client
from tests.twilio_helpers import inbound, post, sms_form, status_form

EDMONTON = ZoneInfo("America/Edmonton")
AMAL = "+15873550101"
CONSENT = {"form_version": "CFN-2026", "signed_at": "2026-03-02T09:00:00-07:00", "channels": ["sms"],
           "circle_of_care": []}


def local(text: str):
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


def phone(n: int) -> str:
    return f"+1587558{n:04d}"


def texts(http, n: int, body: str) -> None:
    assert inbound(http.client, sms_form(phone(n), AMAL, body)).status_code == 200


def test_a_scripted_month_gives_the_hand_counted_table7(http, agency):
    amal = agency["amal"]
    ids: list[str] = []
    with local("2025-12-03T10:00"):  # two files from before the month: c32, c33
        elder = [new_client(http, amal, phone=phone(n), channel="sms", language="en", consent=False)["client_id"]
                 for n in (32, 33)]
        for cid in elder:
            r = http.call("PUT", f"/clients/{cid}/consent", amal, {**CONSENT, "signed_at": "2025-12-03T09:00:00-07:00"})
            assert r.status_code == 200, r.body
    with local("2026-03-02T10:00"):
        for n in range(32):
            ids.append(new_client(http, amal, phone=phone(n), channel="sms", language="ar" if 20 <= n < 25 else "en",
                                  consent=False)["client_id"])
            if n < 30:
                r = http.call("PUT", f"/clients/{ids[n]}/consent", amal, {**CONSENT, "posts": n < 25})
                assert r.status_code == 200, r.body

    def send(n: int, body: str, **extra) -> dict:
        r = http.call("POST", f"/clients/{ids[n]}/messages", amal, {"body": body, **extra})
        assert r.status_code in (201, 202), r.body
        return r.json

    with local("2026-03-03T10:00"):
        application.run_job("run_followups")
        texts(http, 0, "When is my appointment?")
    with local("2026-03-03T10:05"):
        texts(http, 1, "Can you help with my tax form?")
    with local("2026-03-03T10:30"):
        send(0, "Thursday at 2 pm")
    with local("2026-03-03T10:40"):
        send(1, "I am looking into it and will come back to you", holding=True)
    with local("2026-03-03T11:00"):
        texts(http, 2, "Is the bus pass ready?")
    with local("2026-03-03T11:10"):
        send(2, "Yes, pick it up at reception")
        sid = next(i.twilio_sid for i in m.MessageModel.query(ids[2]) if i.kind == "staff")
        assert post(http.client, "/webhooks/twilio/status", status_form(sid, "failed", "30003")).status_code == 200
    with local("2026-03-03T20:00"):
        texts(http, 3, "My landlord wants me out")
    with local("2026-03-03T20:30"):
        assert send(3, "Come in tomorrow morning, we will call him")["status"] in ("held", "scheduled")
    with local("2026-03-04T09:05"):
        application.run_job("sweep_clocks")
    with local("2026-03-04T10:00"):
        application.run_job("run_followups")
    with local("2026-03-04T11:00"):
        texts(http, 32, "4")
        texts(http, 33, "5")
    with local("2026-03-05T10:00"):
        texts(http, 4, "STOP")
    with local("2026-03-05T10:30"):
        assert http.call("DELETE", f"/clients/{ids[5]}/consent", amal, {"reason": "moving"}).status_code == 200
    with local("2026-03-06T10:00"):
        r = http.call("PUT", f"/clients/{ids[6]}/status", amal, {"status": "suspended", "reason": "abuse", "conduct": True})
        assert r.status_code == 200, r.body
        r = http.call("PUT", f"/clients/{ids[7]}/status", amal, {"status": "closed", "reason": "case complete"})
        assert r.status_code == 200, r.body
        application.run_job("sweep_clocks")  # the service_ended notice goes out
    with local("2026-03-09T10:00"):
        r = http.call("POST", "/posts", amal, {"body": "Job fair on Thursday", "audience": {"languages": ["en"]}})
        assert r.status_code == 202, r.body
        # c00..c19 agreed to posts and speak English, less c04 (STOP), c05 (withdrew), c06 (suspended),
        # c07 (closed): 16 recipients; c20..c24 speak Arabic, c25..c29 said no to posts, c30 and c31
        # never consented.
        assert r.json["recipients"] == 16
        for _second in range(3):  # 10 a second: the job sends the rest in the next runs
            application.run_job("send_posts")
    with local("2026-03-09T10:01"):
        application.run_job("send_posts")
        assert http.call("GET", f"/posts/{r.json['post_id']}", amal).json["sent"] == 16
    with local("2026-03-10T10:00"):
        application.run_job("run_followups")
    with local("2026-03-09T11:00"):
        for n in (0, 1):
            referral = {"to": "Legal Aid", "service": "tenancy", "client_consented": True}
            assert http.call("POST", f"/clients/{ids[n]}/referrals", amal, referral).status_code == 201

    with local("2026-04-10T12:00"):
        application.run_job("roll_up_reports")
        r = http.call("GET", "/reports/usage?from=2026-03-01&to=2026-03-31&period=month", agency["supervisor"])
    assert r.status_code == 200, r.body
    assert r.json["totals"] == {
        # 30 consented in March, less c04 (STOP), c05 (withdrew), c06 (suspended), c07 (closed); plus c32, c33
        "active_clients": 28,
        "new_clients": 30,  # c00..c29 gave consent for the first time; c30, c31 never did; c32, c33 in December
        "clients_left": 2,  # c04 (STOP) and c05 (withdrawal); c07's case-complete closure is not leaving
        "clients_removed": 1,  # c06, suspended under the conduct policy
        "participants": 7,  # c00, c01, c02, c03 asked, c04 sent STOP, c32 and c33 answered the survey
        "inquiries": 4,  # inquiries 1-4 (a survey score opens none)
        "inquiries_answered": 2,  # 1 and 4; 2 had a holding reply only, 3's answer failed
        "messages_in": 6,  # the four questions and the two survey scores; STOP is a keyword
        "messages_out": 3,  # the answer to c00, the holding reply, the held message once sent; not the failed one
        # c03's after-hours reply, c06's service_ended notice, 2 check-ins, 2 surveys, 2 survey thanks,
        # 22 weekly follow-ups
        "automatic_messages": 30,
        "private_messages": 9,  # 6 + 3
        "posts": 1,  # one post, whatever its 16 recipients
        "referrals": 2,  # c00 and c01
        # the check-ins of c32 and c33 (3 March) and the follow-ups of c08..c29 (10 March): quiet since
        # their consent on 2 March (a post is not a personal contact); c00..c03 spoke on 3 March (due on
        # the 11th), c04..c07 are out, c30 and c31 never consented, c32 and c33 spoke on 4 March
        "followups": 24,
        "survey_responses": 2,  # c32 answered 4, c33 answered 5
        "survey_mean_score": 4.5,
        "calls": 0,  # no phone calls (SPEC §5.10)
        "call_minutes": 0,
    }
    assert [mo["month"] for mo in r.json["months"]] == ["2026-03"]
