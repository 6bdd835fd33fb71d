"""The supervisor's and administrator's console in Chromium (issue 15), on a seeded week.

The week (Calgary, on UTC-6 all year under tzdata 2026f, SPEC §5.11), sent through the real
local server (signed webhooks, the staff API, the clock sweep), after one sweep on the Sunday
before so older tests' open inquiries breach outside it:

| local time        | what happens                                                        |
|-------------------|---------------------------------------------------------------------|
| Mon 1 Mar 10:00   | Layla (amal's, SMS) writes: inquiry 1 opens, due Tue 10:00           |
| Mon 10:30         | amal answers: on time, 30 business minutes                           |
| Mon 19:00         | Omar (jean's, SMS) writes after hours: automatic reply; inquiry 2    |
| Mon 19:30         | jean answers: held until Tue 09:00                                   |
| Tue 09:05         | sweep: jean's answer is sent, inquiry 2 answered in 5 business min   |
| Tue 20:00         | amal writes to Layla with an emergency override                      |
| Wed 11:00         | Layla writes again: inquiry 3 opens, due Thu 11:00                   |
| Thu 11:10         | sweep: inquiry 3 breached                                            |

Hand-counted for 1-7 March: amal 2 inquiries, 1 on time (50 %), 1 breached, median and p90
first response 30 min, 1 override; jean 1 inquiry, 1 on time (100 %), first response 5 min,
1 held after hours, 1 automatic reply. One breach that week. Three client messages: Mon 10h,
Mon 19h (closed), Wed 11h.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREENSHOTS

pytestmark = pytest.mark.xdist_group("browser")

WEEK = {"from": "2027-03-01", "to": "2027-03-07"}
OVERRIDE_REASON = "Eviction tonight: shelter bed found"
OVERRIDE_BODY = "The shelter on 5th Avenue has a bed for you tonight."
_seeded: dict[str, dict[str, str]] = {}


def at(text: str) -> str:
    return f"{text}:00-06:00"


def seeded_week(server) -> dict[str, dict[str, str]]:
    if _seeded:
        return _seeded
    server.travel(to=at("2027-02-28T12:00"))
    server.run_job("sweep_clocks")  # earlier tests' open inquiries breach now, outside the week
    # The hourly roll-up has run, as in any deployment: the usage report then adds up only the
    # days since, however many files the other tests left in the agency.
    server.run_job("roll_up_reports")
    layla = server.new_client("Layla Nasser", language="ar", channel="sms")
    omar = server.new_client("Omar Farouk", language="en", channel="sms", manager="jean")
    server.travel(to=at("2027-03-01T10:00"))
    server.client_message(layla["phone"], "I need help with my lease", whatsapp=False)
    server.travel(to=at("2027-03-01T10:30"))
    status, body = server.api("POST", f"/clients/{layla['client_id']}/messages", "amal", {"body": "Yes, come at 2 pm."})
    assert status == 201, body
    server.travel(to=at("2027-03-01T19:00"))
    server.client_message(omar["phone"], "Can I bring my son?", to="+15873550102", whatsapp=False)
    server.travel(to=at("2027-03-01T19:30"))
    status, body = server.api("POST", f"/clients/{omar['client_id']}/messages", "jean", {"body": "Yes, he is welcome."})
    assert status == 202, body
    server.travel(to=at("2027-03-02T09:05"))
    server.run_job("sweep_clocks")
    server.travel(to=at("2027-03-02T20:00"))
    status, body = server.api("POST", f"/clients/{layla['client_id']}/messages", "amal",
                              {"body": OVERRIDE_BODY, "override_reason": OVERRIDE_REASON})
    assert status == 201, body
    server.travel(to=at("2027-03-03T11:00"))
    server.client_message(layla["phone"], "The landlord answered", whatsapp=False)
    server.travel(to=at("2027-03-04T11:10"))
    server.run_job("sweep_clocks")
    # Later tests on this server travel on from the clock ("open", "closed"): leave March behind so
    # their messages never land in the seeded month that these tests count.
    server.travel(to=at("2027-06-01T12:00"))
    _seeded.update(layla=layla, omar=omar)
    return _seeded


def open_compliance_week(console):
    page = console.sign_in_as("sup-maria")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compliance").click()
    table = page.get_by_role("table", name="Compliance by worker")
    expect(table).to_be_visible()
    page.get_by_label("From").fill(WEEK["from"])
    page.get_by_label("To", exact=True).fill(WEEK["to"])
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("2027-03-01 to 2027-03-07")).to_be_visible()
    return page, table


def cells(table, staff_id: str) -> list[str]:
    return [c.strip() for c in table.locator(f'tr[data-staff-id="{staff_id}"] td').all_inner_texts()]


def test_a_supervisor_sees_the_compliance_table_and_charts_of_the_seeded_week(console, server):
    seeded_week(server)
    page, table = open_compliance_week(console)
    # inquiries, on time, rate, breached, p50, p90, held, overrides, auto-replies, holding replies, opted out
    assert cells(table, "amal") == ["2", "1", "50 %", "1", "30", "30", "0", "1", "0", "0", "0"]
    assert cells(table, "jean") == ["1", "1", "100 %", "0", "5", "5", "1", "0", "1", "0", "0"]
    body_rows = table.locator("tbody tr")
    workers = server.api("GET", "/staff", "sup-maria")[1]["staff"]
    assert body_rows.count() == sum(1 for s in workers if s["role"] == "worker")  # one row per worker
    on_time = page.get_by_role("figure", name="On-time rate per worker")
    expect(on_time).to_contain_text("50 % (1 of 2)")
    expect(on_time).to_contain_text("100 % (1 of 1)")
    weeks = page.get_by_role("figure", name="Breaches per week")
    expect(weeks.get_by_role("link")).to_have_count(1)
    expect(weeks.get_by_role("link")).to_have_accessible_name(re.compile(r"^1 breach in the week"))  # plural by rule
    pressure = page.get_by_role("figure", name=re.compile("After-hours pressure"))
    expect(pressure).to_contain_text("3 client messages, 1 of them while the agency was closed")
    heat = pressure.get_by_role("table")
    monday = heat.locator("tbody tr").nth(0).locator("td")
    assert [monday.nth(h).inner_text() for h in (10, 19, 9)] == ["1", "1", ""]
    assert "open" in (monday.nth(10).get_attribute("class") or "") and "open" not in (monday.nth(19).get_attribute("class") or "")
    console.page.screenshot(path=str(SCREENSHOTS / "compliance-dashboard.png"), full_page=True)  # the charts too
    page.set_viewport_size(PHONE)
    expect(table).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.screenshot("compliance-dashboard-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    # a figure opens the inquiries it counts
    table.locator('tr[data-staff-id="amal"] td').nth(3).get_by_role("link").click()
    expect(page.get_by_role("heading", name="Inquiries")).to_be_visible()
    rows = page.get_by_role("table", name="Inquiries").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("breached")


def test_a_supervisor_opens_the_override_and_marks_it_reviewed(console, server):
    seeded_week(server)
    page = console.sign_in_as("sup-maria")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator(".badge")).to_be_visible()  # unread notifications (the override, the breach...)
    nav.get_by_role("link", name=re.compile("^Reviews")).click()
    page.get_by_label("From").fill(WEEK["from"])
    page.get_by_label("To", exact=True).fill(WEEK["to"])
    page.get_by_role("button", name="Show").click()
    reviews = page.get_by_role("list", name="Reviews")
    override = reviews.get_by_role("listitem", name=re.compile("Override by Amal Haddad"))
    expect(override).to_contain_text(OVERRIDE_REASON)
    expect(override).to_contain_text(OVERRIDE_BODY)
    expect(override.get_by_role("link", name="Layla Nasser")).to_be_visible()
    breach = reviews.get_by_role("listitem", name=re.compile("Breach: Amal Haddad's inquiry"))
    expect(breach).to_contain_text("breached")
    override.get_by_label("Note (optional)").fill("Justified: eviction")
    override.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_text("Marked reviewed.")).to_be_visible()
    expect(reviews.get_by_role("listitem", name=re.compile("Override by Amal Haddad"))).to_have_count(0)  # left the to-review list
    page.get_by_role("link", name="All", exact=True).click()
    done = page.get_by_role("list", name="Reviews").get_by_role("listitem", name=re.compile("Override by Amal Haddad"))
    expect(done).to_contain_text("Reviewed by Maria Santos")  # names, never ids
    # the review is recorded when it was done (the clock has left the seeded month by then)
    status, trail = server.api("GET", "/audit?from=2027-03-01&to=2027-06-30&type=review.recorded", "sup-maria")
    assert status == 200 and [e["details"]["note"] for e in trail["events"]].count("Justified: eviction") == 1


def test_a_supervisor_downloads_the_table7_csv_and_the_audit_csv(console, server, tmp_path):
    seeded_week(server)
    page = console.sign_in_as("sup-maria")
    page.goto(server.console("#/usage?from=2027-03-01&to=2027-03-31"))
    table = page.get_by_role("table", name="Table 7: usage statistics")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"^Number of private messages \d"))).to_be_visible()
    console.screenshot("usage-table7")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Table 7 (CSV)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    labels = {row[0]: row for row in sheet}
    assert sheet[0][0] == "Reporting Period" and sheet[0][-1].startswith("Total")
    assert labels["Number of private messages from clients"][-1] == "3"
    assert labels["Number of private messages"][-1] == str(3 + 3)  # and 3 staff messages reached the client
    page.goto(server.console("#/audit?from=2027-03-01&to=2027-03-07&type=boundary.override"))
    events = page.get_by_role("table", name="Audit events")
    expect(events.locator("tbody tr")).to_have_count(1)
    expect(events).to_contain_text(OVERRIDE_REASON)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["type"], r["staff_id"], r["client_id"]) for r in rows] == [
        ("boundary.override", "amal", _seeded["layla"]["client_id"])]
    assert OVERRIDE_REASON in rows[0]["details"]


@pytest.mark.parametrize(("fragment", "button"), [
    ("#/usage?from=2027-03-01&to=2027-03-31", "Download Table 7 (CSV)"),
    ("#/audit?from=2027-03-01&to=2027-03-07", "Download CSV"),
])
def test_a_csv_download_refused_for_an_expired_token_signs_out(console, server, fragment, button):
    from chalicelib.adapters.auth import mint_dev_token
    from tests.browser.conftest import LOCAL_SECRET

    page = console.sign_in_as("sup-maria")
    page.goto(server.console(fragment))
    download = page.get_by_role("button", name=button)
    expect(download).to_be_visible()
    # the session runs out while the page is open: the API answers the CSV request 401
    expired = mint_dev_token(LOCAL_SECRET, "sup-maria", "calgary-cfn", "supervisor", ttl_seconds=-3600 * 24 * 3650)
    page.evaluate("token => sessionStorage.setItem('cmdm.id_token', token)", expired)
    download.click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('cmdm.id_token')") is None
    # the refused request is the point of this test (Chromium logs the 401); nothing else may be
    console.errors[:] = [e for e in console.errors if "status of 401" not in e]


def test_a_worker_is_refused_the_supervisor_pages(console, server):
    page = console.sign_in_as("amal")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Compliance")).to_have_count(0)
    for fragment in ("#/compliance", "#/reviews", "#/setup/staff", "#/audit"):
        page.goto(server.console(fragment))
        expect(page.get_by_text("That page is for supervisors and administrators only.")).to_be_visible()
        expect(page).to_have_url(re.compile(r"#/inbox$"))
    expect(page.get_by_role("table", name="Compliance by worker")).to_have_count(0)
    status, body = server.api("GET", "/reports/dashboard", "amal")
    assert status == 403, body


def test_an_admin_assigns_a_number_and_records_consent_and_the_worker_sees_the_client(console, server):
    page = console.sign_in_as("admin-lee")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Set-up").click()
    page.get_by_role("navigation", name="Supervision pages").get_by_role("link", name="Work numbers").click()
    page.get_by_label("Number", exact=True).fill("+15873550109")
    page.get_by_label("Worker").select_option("jean")
    page.get_by_label("WhatsApp").uncheck()
    page.get_by_role("button", name="Check what happens").click()
    expect(page.get_by_text("+15873550109 is new: it will be Jean Tremblay's. No client moves.")).to_be_visible()
    page.get_by_role("button", name="Confirm the assignment").click()
    numbers = page.get_by_role("table", name="Work numbers")
    expect(numbers.get_by_role("row", name=re.compile(r"\+15873550109 Jean Tremblay SMS"))).to_be_visible()

    page.get_by_role("navigation", name="Supervision pages").get_by_role("link", name="Client intake").click()
    phone = "+15875589001"
    page.get_by_label("Name").fill("Samira Haddad")
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Channel", exact=True).select_option("sms")
    page.get_by_label("Client's language").select_option("ar")
    page.get_by_label("Case manager").select_option("jean")
    page.get_by_role("button", name="Create the file").click()
    consent = page.get_by_role("form", name="2. Signed consent of Samira Haddad")
    consent.get_by_label("Signed on").fill("2026-12-01T10:00")
    expect(consent.get_by_label("SMS")).to_be_checked()
    consent.get_by_label("Circle of care (one per line)").fill("settlement team\nLINC teacher")
    consent.get_by_label("Accepts information posts").check()
    consent.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("status").filter(has_text="Consent recorded for Samira Haddad.").first).to_be_visible()
    clients = server.api("GET", "/clients", "jean")[1]["clients"]
    samira = next(c for c in clients if c["name"] == "Samira Haddad")
    assert samira["consent"]["channels"] == ["sms"] and samira["consent"]["circle_of_care"] == ["settlement team", "LINC teacher"]

    server.travel("open")
    server.client_message(phone, "مرحبا، هل يمكنني تغيير موعدي؟", to="+15873550109", whatsapp=False)
    worker = console.page.context.browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        worker.goto(server.console(f"#id_token={server.token('jean')}"))
        expect(worker.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Samira Haddad"))).to_be_visible()
    finally:
        worker.context.close()
