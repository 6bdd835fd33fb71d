"""A conversation in Chromium: answer, delivery, after-hours scheduling, cancel, override."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.xdist_group("browser")


def open_conversation(console, server, name: str, language: str = "ar", channel: str = "whatsapp",
                      first: str = "مرحبا، متى موعدي القادم؟"):
    client = server.new_client(name, language=language, channel=channel)
    server.client_message(client["phone"], first, whatsapp=channel == "whatsapp")
    page = console.sign_in_as("amal")
    page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile(name)).get_by_role("link").click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text(first)
    return client, page, conversation


def test_a_worker_answers_and_the_message_reaches_the_outbox_then_shows_delivered(console, server):
    server.travel("open")
    client, page, conversation = open_conversation(console, server, "Layla Haddad")
    expect(page.get_by_text("Will be sent now.")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("Your appointment is on Thursday at 10:00.")
    page.get_by_role("button", name="Send", exact=True).click()
    answer = conversation.get_by_role("listitem").filter(has_text="Your appointment is on Thursday")
    expect(answer).to_contain_text("✓ sent")
    sent = [m for m in server.outbox() if m["to"] == client["phone"] and m["body"] == "Your appointment is on Thursday at 10:00."]
    assert len(sent) == 1 and sent[0]["channel"] == "whatsapp"
    server.delivery_status(sent[0]["sid"], "delivered")
    expect(answer).to_contain_text("✓✓ delivered", timeout=8_000)  # polled every 5 s
    # answered: the client has left the inbox
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Layla Haddad"))).to_have_count(0)


def test_a_client_message_arriving_while_the_conversation_is_open_appears_without_a_reload(console, server):
    server.travel("open")
    client, page, conversation = open_conversation(console, server, "Samir Nasser",
                                                   first="مرحبا، هل يمكنني تجديد تصريح الحافلة الشهري عندكم؟")
    server.client_message(client["phone"], "And one more thing: my daughter needs a school form")
    expect(conversation).to_contain_text("my daughter needs a school form", timeout=10_000)
    page.get_by_role("textbox", name="Message").fill("Yes, bring your ID on Thursday; I will print the school form.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(conversation.get_by_role("listitem").filter(has_text="bring your ID")).to_contain_text("✓ sent")
    console.screenshot("conversation-desktop")
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.screenshot("conversation-phone")


def test_after_hours_the_reply_is_scheduled_with_its_send_time_and_can_be_cancelled(console, server):
    server.travel("open")
    client = server.new_client("Daria Koval", language="uk", channel="sms")
    server.client_message(client["phone"], "Is the office open tomorrow?", whatsapp=False)
    server.travel("closed")
    page = console.sign_in_as("amal")
    page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Daria Koval")).get_by_role("link").click()
    plan = page.locator("#compose-plan")
    expect(plan).to_contain_text(re.compile(r"The agency is closed: Scheduled for \w+ at 9:00 a\.m\.$"))
    page.get_by_role("textbox", name="Message").fill("Yes, from 9:00.")
    page.get_by_role("button", name="Send", exact=True).click()
    held = page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(has_text="Yes, from 9:00.")
    expect(held).to_contain_text(re.compile(r"Scheduled · \w+, \w+ \d+, 9:00 a\.m\."))
    assert not [m for m in server.outbox() if m["to"] == client["phone"]]  # nothing went out
    held.get_by_role("button", name=re.compile("Cancel")).click()
    expect(held).to_contain_text("cancelled")
    server.travel("open")
    server.run_job("sweep_clocks")
    assert not [m for m in server.outbox() if m["to"] == client["phone"]]  # cancelled means never sent


def test_an_emergency_override_demands_a_reason_and_then_sends_now(console, server):
    server.travel("open")
    client = server.new_client("Yusuf Demir", language="tr", channel="sms")
    server.client_message(client["phone"], "My landlord changed the locks tonight", whatsapp=False)
    server.travel("closed")
    page = console.sign_in_as("amal")
    page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Yusuf Demir")).get_by_role("link").click()
    page.get_by_role("textbox", name="Message").fill("Call the shelter line now: 403-555-0100.")
    page.get_by_role("checkbox", name=re.compile("Emergency")).check()
    expect(page.locator("#compose-plan")).to_contain_text("emergency override")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Give the reason")
    assert not [m for m in server.outbox() if m["to"] == client["phone"]]
    page.get_by_role("textbox", name=re.compile("Reason for sending outside hours")).fill("Locked out at night")
    page.get_by_role("button", name="Send", exact=True).click()
    sent = page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(has_text="Call the shelter line")
    expect(sent).to_contain_text("✓ sent")
    assert [m["body"] for m in server.outbox() if m["to"] == client["phone"]] == ["Call the shelter line now: 403-555-0100."]


def test_the_holding_reply_goes_out_in_one_click_and_keeps_the_question_open(console, server):
    server.travel("open")
    client, page, conversation = open_conversation(console, server, "Nadia Rahimi", language="en", channel="sms",
                                                   first="Can you help me with my tax forms?")
    page.get_by_role("button", name=re.compile("Holding reply")).click()
    expect(conversation.get_by_role("listitem").filter(has_text="✓ sent")).to_have_count(1)
    sent = [m for m in server.outbox() if m["to"] == client["phone"]]
    assert len(sent) == 1 and sent[0]["body"]  # the policy's holding reply, in the client's language
    expect(conversation).to_contain_text(sent[0]["body"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    # a holding reply is not an answer (SPEC §5.2): the client still waits in the inbox
    expect(page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Nadia Rahimi"))).to_be_visible()


def test_a_supervisor_reads_a_conversation_without_a_composer(console, server):
    server.travel("open")
    client = server.new_client("Tomas Novak", language="en", channel="sms")
    server.client_message(client["phone"], "Is my file still open?", whatsapp=False)
    page = console.sign_in_as("sup-maria")
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    expect(page.get_by_role("region", name="Conversation")).to_contain_text("Is my file still open?")
    expect(page.get_by_text("Supervisors read conversations; only the case manager answers.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)
