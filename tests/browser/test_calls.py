"""Calls in Chromium (issue 25, SPEC §5.10): the `Call` button says what will happen, demands a
reason while closed, and calls and voicemails show in the thread (a voicemail with a player),
at 1280 and 390 px."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LOCAL_TWILIO_TOKEN, PHONE

pytestmark = pytest.mark.xdist_group("browser")

AMAL_NUMBER = "+15873550101"
VOICEMAIL = b"ID3\x03browser-voicemail" * 64


def voice_webhook(server: Any, path: str, form: dict[str, str]) -> Any:
    """A voice webhook signed as Twilio signs it."""
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(LOCAL_TWILIO_TOKEN).compute_signature(server.base + path, form)
    status, reply = server._call(server.base + path, "POST", form=form, headers={"X-Twilio-Signature": signature})
    assert status == 200, reply
    return reply


def open_conversation(console: Any, server: Any, name: str) -> tuple[dict[str, Any], Any]:
    client = server.new_client(name, language="ar", channel="whatsapp")
    server.client_message(client["phone"], "هل يمكنك الاتصال بي؟")
    page = console.sign_in_as("amal")
    page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile(name)).get_by_role("link").click()
    expect(page.get_by_role("region", name="Conversation")).to_contain_text("هل يمكنك الاتصال بي؟")
    return client, page


def test_the_call_button_says_your_phone_rings_first_and_the_call_shows_in_the_thread(console: Any, server: Any):
    server.travel("open")
    client, page = open_conversation(console, server, "Rana Saleh")
    panel = page.get_by_role("region", name="Call")
    expect(panel).to_contain_text("Your own phone rings first")
    expect(panel).to_contain_text("sees only that number")
    expect(panel.get_by_role("textbox")).to_have_count(0)  # open: no reason asked
    panel.get_by_role("button", name="Call").click()
    call = page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(has_text="Call to the client")
    expect(call).to_contain_text("calling your phone")
    console.screenshot("call-desktop")
    page.set_viewport_size(PHONE)
    expect(panel.get_by_role("button", name="Call")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    console.screenshot("call-phone")


def test_while_closed_a_call_needs_a_reason_in_its_labelled_field(console: Any, server: Any):
    server.travel("open")
    client, page = open_conversation(console, server, "Omar Fadel")
    server.travel("closed")
    page.reload()
    panel = page.get_by_role("region", name="Call")
    expect(panel).to_contain_text("The agency is closed")
    reason = panel.get_by_role("textbox", name="Reason for calling outside hours (supervisors see it)")
    expect(reason).to_be_visible()
    panel.get_by_role("button", name="Call").click()
    expect(panel.get_by_role("alert")).to_contain_text("Give the reason for calling outside business hours.")
    expect(reason).to_be_focused()
    reason.fill("eviction notice for tonight")
    panel.get_by_role("button", name="Call").click()
    thread = page.get_by_role("region", name="Conversation")
    expect(thread.get_by_role("listitem").filter(has_text="Call to the client")).to_have_count(1)
    page.set_viewport_size(PHONE)
    expect(reason).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_voicemail_left_while_closed_plays_in_the_thread(console: Any, server: Any):
    from chalicelib.local_twilio import LOCAL_TWILIO_DIR, put_recording

    server.travel("open")
    client = server.new_client("Hiba Yousef", language="ar", channel="whatsapp")
    server.travel("closed")
    call_sid, recording = "CA" + uuid.uuid4().hex, "RE" + uuid.uuid4().hex
    put_recording(LOCAL_TWILIO_DIR, recording, VOICEMAIL)
    account = "AC" + "0" * 32
    said = voice_webhook(server, "/webhooks/twilio/voice", {
        "CallSid": call_sid, "AccountSid": account, "From": client["phone"], "To": AMAL_NUMBER,
        "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"})
    assert "<Record" in said
    voice_webhook(server, "/webhooks/twilio/voice/recording", {
        "AccountSid": account, "CallSid": call_sid, "RecordingSid": recording, "RecordingStatus": "completed",
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{recording}",
        "RecordingDuration": "14", "RecordingChannels": "1", "RecordingSource": "RecordVerb"})
    server.run_job("copy_media")
    page = console.sign_in_as("amal")
    page.get_by_role("list", name="Inbox").get_by_role("listitem", name=re.compile("Hiba Yousef")).get_by_role("link").click()
    call = page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(has_text="Call from the client")
    expect(call).to_contain_text("no answer")
    expect(call).to_contain_text("voicemail")
    player = call.locator("audio[controls]")
    expect(player).to_have_count(1)
    expect(player).to_have_attribute("aria-label", "Voice note")
    console.screenshot("voicemail-desktop")
    page.set_viewport_size(PHONE)
    expect(player).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
