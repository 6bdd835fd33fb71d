"""The Inbox page in Chromium: waiting clients, soonest due first, new ones without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.xdist_group("browser")


def test_a_simulated_client_message_appears_in_the_inbox_without_a_reload(console, server):
    server.travel("open_tomorrow_too")  # a 24 h clock: the next day must be open too (not a Friday)
    amina = server.new_client("Amina Yusuf", language="ar")
    page = console.sign_in_as("amal")
    inbox = page.get_by_role("list", name="Inbox")
    expect(inbox).to_be_attached()
    expect(inbox.get_by_role("listitem", name=re.compile("Amina Yusuf"))).to_have_count(0)
    server.client_message(amina["phone"], "مرحبا، لدي سؤال عن الإيجار")
    item = inbox.get_by_role("listitem", name=re.compile("Amina Yusuf"))
    expect(item).to_be_visible(timeout=20_000)  # the page polls every 10 s (slack for a loaded machine)
    expect(item).to_contain_text("لدي سؤال")
    expect(item).to_contain_text(re.compile(r"(23 h 5\d|24 h 0) min left"))  # the CMDM 24 h clock
    assert item.locator(".preview").get_attribute("dir") == "auto"  # Arabic reads right to left
    assert item.locator(".preview").evaluate("el => getComputedStyle(el).direction") == "rtl"


def test_the_inbox_is_soonest_due_first_overdue_in_red_and_fits_a_phone(console, server):
    server.travel("open_tomorrow_too")
    early, later = server.new_client("Oksana Petrenko", language="uk"), server.new_client("Hamid Karimi", language="fa")
    server.client_message(early["phone"], "Good morning, is the English class still on Thursday?")
    server.travel(to=_plus_hours(server, 25))  # Oksana's clock runs out first
    server.client_message(later["phone"], "سلام، فرم تمدید را کجا تحویل بدهم؟")
    page = console.sign_in_as("amal")
    inbox = page.get_by_role("list", name="Inbox")
    expect(inbox.get_by_role("listitem", name=re.compile("Hamid Karimi"))).to_be_visible()
    names = [n for n in inbox.locator(".name").all_inner_texts() if n in ("Oksana Petrenko", "Hamid Karimi")]
    assert names == ["Oksana Petrenko", "Hamid Karimi"]
    overdue = inbox.get_by_role("listitem", name=re.compile("Oksana Petrenko"))
    expect(overdue).to_contain_text("overdue by")
    assert overdue.locator(".clock").evaluate("el => getComputedStyle(el).color") == "rgb(176, 0, 32)"
    console.screenshot("inbox-desktop")
    page.set_viewport_size(PHONE)
    expect(overdue).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sideways
    console.screenshot("inbox-phone")
    overdue.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"#/clients/"))


def _plus_hours(server, hours: int) -> str:
    from datetime import datetime, timedelta

    status, now = server._call(server.control + "/now")
    return (datetime.fromisoformat(now["now"]) + timedelta(hours=hours)).isoformat()
