"""Nothing typed is lost, and the conversation opens at its newest message (issue 22, item 4).

A draft in `Message` is kept per signed-in staff member and client (the tab's sessionStorage):
it survives the file and back, a language switch and a reload; it goes once the API accepted the
message, never when the API refused it, and every draft goes on sign-out. The thread opens at its
newest message even when photos load after it was drawn, with `Message` and `Send` in the window
at 390 px and at 1280 px.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_sending_media import PNG
from tests.browser.words import (
    LOOK_IDS,
    LOOKS,
    TWO_LOOK_IDS,
    TWO_LOOKS,
    ensure_open,
    in_viewport,
    new_name,
    open_as,
    say,
    use_language,
)

pytestmark = pytest.mark.xdist_group("browser")

DRAFTS = "Object.keys(sessionStorage).filter((k) => k.startsWith('cmdm.draft.'))"


def waiting_client(server, name: str, question: str = "Can I come on Friday with my papers?"):
    ensure_open(server)
    client = server.new_client(name, language="en", channel="sms")
    server.client_message(client["phone"], question, whatsapp=False)
    return client


@pytest.fixture(scope="module")
def writer(server):
    """One file the drafts of every size and language are written to (each test sends its own
    text): the tests share one agency, whose reports slow down with each file added."""
    return waiting_client(server, new_name())


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_a_draft_survives_the_file_a_language_switch_and_a_reload_and_goes_once_sent(console, server, writer, lang, size):
    client = writer
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    message = page.get_by_role("textbox", name=say(lang, "compose.message"))
    half = f"Yes, Friday at 2 pm works ({lang}, {size['width']} px). Please bring"
    message.fill(half)

    page.get_by_role("link", name=say(lang, "conv.file"), exact=True).click()
    expect(page.get_by_role("heading", name=say(lang, "file.title", name=client["name"]))).to_be_visible()
    page.get_by_role("link", name=re.compile(re.escape(say(lang, "file.back")))).click()
    expect(message).to_have_value(half)

    other = "fr" if lang == "en" else "en"
    use_language(page, other)
    expect(page.get_by_role("textbox", name=say(other, "compose.message"))).to_have_value(half)
    use_language(page, lang)
    page.reload()
    expect(message).to_have_value(half)

    message.fill(half + " your lease.")
    page.get_by_role("button", name=say(lang, "compose.send"), exact=True).click()
    sent = page.get_by_role("region", name=say(lang, "conv.region")).get_by_role("listitem").filter(has_text=half)
    expect(sent).to_contain_text(say(lang, "status.sent"))
    expect(message).to_have_value("")
    assert page.evaluate(DRAFTS) == []
    page.reload()
    expect(message).to_have_value("")


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_a_message_the_api_refuses_stays_a_draft_and_says_why_next_to_message(console, server, lang, size):
    client = waiting_client(server, new_name())
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    message = page.get_by_role("textbox", name=say(lang, "compose.message"))
    expect(page.locator("#compose-plan")).to_have_text(say(lang, "compose.plan_now"))
    # consent is withdrawn meanwhile, in another office: the API now refuses to send
    status, body = server.api("DELETE", f"/clients/{client['client_id']}/consent", "admin-lee", {"reason": "asked by phone"})
    assert status == 200, body
    message.fill("Your appointment is confirmed.")
    page.get_by_role("button", name=say(lang, "compose.send"), exact=True).click()
    refusal = page.locator("#compose-error")
    expect(refusal).to_be_visible()
    expect(message).to_have_accessible_description(re.compile(re.escape(refusal.inner_text())))
    expect(message).to_have_value("Your appointment is confirmed.")
    page.reload()
    expect(message).to_have_value("Your appointment is confirmed.")
    assert [m for m in server.outbox() if m["to"] == client["phone"]] == []
    console.errors[:] = [e for e in console.errors if "status of 409" not in e]  # the refusal is the point


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_signing_out_forgets_every_draft_of_the_tab(console, server, writer, lang, size):
    client = writer
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    page.get_by_role("textbox", name=say(lang, "compose.message")).fill("A private answer about her lease")
    assert len(page.evaluate(DRAFTS)) == 1
    page.get_by_role("button", name=say(lang, "shell.signout")).click()
    expect(page.get_by_role("heading", name=say(lang, "signin.title"))).to_be_visible()
    assert page.evaluate(DRAFTS) == []
    page.get_by_role("button", name=re.compile("Amal Haddad")).click()
    expect(page.get_by_role("heading", name=say(lang, "nav.inbox"))).to_be_visible()
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    expect(page.get_by_role("textbox", name=say(lang, "compose.message"))).to_have_value("")


def photo_message(server, client, body: str) -> None:
    """A staff message with a photo, sent as the console sends one: the presigned upload, then the message."""
    path = f"/clients/{client['client_id']}"
    status, form = server.api("POST", f"{path}/uploads", "amal", {"content_type": "image/png", "size": len(PNG)})
    assert status == 201, form
    uploaded = requests.post(form["url"], data=form["fields"], files={"file": ("scan.png", PNG, "image/png")}, timeout=30)
    assert uploaded.status_code < 300, uploaded.text
    status, sent = server.api("POST", f"{path}/messages", "amal", {"body": body, "media": [{"key": form["key"]}]})
    assert status == 201, sent


@pytest.fixture(scope="module")
def photo_thread(server):
    """A WhatsApp thread of questions and staff answers with photos, the newest message last."""
    ensure_open(server)
    client = server.new_client(new_name(), language="en")
    server.client_message(client["phone"], "Here are my papers, page by page")
    for page_number in range(1, 5):
        photo_message(server, client, f"Page {page_number}: sign where it is marked")
        server.client_message(client["phone"], f"And after page {page_number}?")
    server.client_message(client["phone"], "The newest question: which office do I go to?")
    return client


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_the_conversation_opens_at_its_newest_message_after_its_photos_load_with_send_in_view(
        console, server, photo_thread, lang, size):
    client = photo_thread
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    held = []  # the photos' requests, answered only once the thread is drawn: they load after it
    page.route(re.compile(r".*"), lambda route: held.append(route) if route.request.resource_type == "image"
               else route.continue_())
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    thread = page.get_by_role("region", name=say(lang, "conv.region"))
    newest = thread.get_by_role("listitem").filter(has_text="The newest question")
    expect(newest).to_be_visible()
    for route in held:
        route.continue_()
    page.unroute(re.compile(r".*"))
    photos = thread.get_by_role("img")
    expect(photos).to_have_count(4)
    for i in range(4):  # every photo in view has loaded (the others wait, lazily, above the fold)
        if photos.nth(i).bounding_box()["y"] >= 0:
            expect(photos.nth(i)).to_have_js_property("complete", True)
    gap = page.evaluate("(() => { const r = document.querySelector('.conversation');"
                        " return r.scrollHeight - r.scrollTop - r.clientHeight; })()")
    assert gap < 2, f"the thread is {gap} px above its newest message"
    assert in_viewport(page, newest)
    send = page.get_by_role("button", name=say(lang, "compose.send"), exact=True)
    assert in_viewport(page, send) and in_viewport(page, page.get_by_role("textbox", name=say(lang, "compose.message")))
    # reading back up the thread, the composer stays in view
    page.evaluate("document.querySelector('.conversation').scrollTop = 0")
    assert in_viewport(page, send)
    assert page.evaluate("getComputedStyle(document.querySelector('.composer')).position") == "sticky"
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    if lang == "fr" and size["width"] == 390:
        page.evaluate("document.querySelector('.conversation').scrollTop = 1e6")
        console.screenshot("conversation-photos-fr-phone")
