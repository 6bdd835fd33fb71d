"""The console by keyboard (issue 22, item 8): focus on the conversation's heading when it opens;
`j`/`k` (or Alt+ArrowDown/Up) for the next and previous conversation, `/` for the search, outside
text fields only; Ctrl+Enter (Cmd+Enter) sends from `Message`; `?` lists the shortcuts.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.words import LOOK_IDS, LOOKS, ensure_open, new_name, open_as, say

pytestmark = pytest.mark.xdist_group("browser")


def waiting(server, count: int) -> list[dict]:
    """`count` clients of amal waiting for an answer, each with a question."""
    ensure_open(server)
    clients = []
    for i in range(count):
        client = server.new_client(new_name(), language="en", channel="sms")
        server.client_message(client["phone"], f"Question {i + 1}: when can I come in?", whatsapp=False)
        clients.append(client)
    return clients


@pytest.fixture(scope="module")
def queue(server) -> list[dict]:
    """Three clients waiting, one after the other, that every test here reads (and none answers):
    the tests share one agency, whose reports slow down with each file added."""
    return waiting(server, 3)


@pytest.fixture(scope="module")
def ctrl_client(server) -> dict:
    """The one file the Ctrl+Enter tests write to (each its own text)."""
    return waiting(server, 1)[0]


def inbox_order(server) -> list[str]:
    return [item["client_id"] for item in server.api("GET", "/inbox", "amal")[1]["items"]]


def conversation_url(client_id: str) -> re.Pattern[str]:
    return re.compile(re.escape(f"#/clients/{client_id}") + "$")


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_opening_a_conversation_puts_focus_on_its_heading(console, server, queue, lang, size):
    client = queue[0]
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    inbox = page.get_by_role("list", name=say(lang, "nav.inbox"))
    inbox.get_by_role("listitem", name=re.compile(re.escape(client["name"]))).get_by_role("link").click()
    heading = page.get_by_role("heading", level=1, name=client["name"])
    expect(heading).to_be_focused()
    page.keyboard.press("Tab")  # on from the heading: the file's link, then the thread
    expect(page.get_by_role("link", name=say(lang, "conv.file"), exact=True)).to_be_focused()


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_j_and_k_move_through_the_inbox_and_its_conversations_but_not_while_typing(console, server, queue, lang, size):
    mine = queue
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    order = inbox_order(server)
    inbox = page.get_by_role("list", name=say(lang, "nav.inbox"))
    expect(inbox.get_by_role("listitem")).to_have_count(len(order))
    page.keyboard.press("j")
    expect(inbox.get_by_role("link").nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(inbox.get_by_role("link").nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(inbox.get_by_role("link").nth(0)).to_be_focused()

    middle = mine[1]["client_id"]
    at = order.index(middle)
    inbox.locator(f'a[data-client-id="{middle}"]').click()
    expect(page).to_have_url(conversation_url(middle))
    page.keyboard.press("j")
    expect(page).to_have_url(conversation_url(order[at + 1]))
    page.keyboard.press("k")
    expect(page).to_have_url(conversation_url(middle))
    page.keyboard.press("Alt+ArrowDown")
    expect(page).to_have_url(conversation_url(order[at + 1]))
    page.keyboard.press("Alt+ArrowUp")
    expect(page).to_have_url(conversation_url(middle))

    message = page.get_by_role("textbox", name=say(lang, "compose.message"))
    message.fill("")
    message.click()
    page.keyboard.type("jk")  # in a field, letters are text
    expect(message).to_have_value("jk")
    message.fill("")  # no draft left for the next test
    expect(page).to_have_url(conversation_url(middle))


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_slash_focuses_the_search_outside_text_fields_only(console, server, queue, lang, size):
    client = queue[0]
    page = open_as(console, "sup-maria", lang, size)
    page.goto(server.console("#/audit"))
    search = page.get_by_role("search", name=say(lang, "audit.search"))
    expect(search).to_be_visible()
    page.keyboard.press("/")
    expect(search.get_by_label(say(lang, "audit.f_from"), exact=True)).to_be_focused()

    page.goto("about:blank")  # a new sign-in in this tab: the worker's
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    message = page.get_by_role("textbox", name=say(lang, "compose.message"))
    message.click()
    page.keyboard.press("/")  # in Message, "/" is the composer's (snippets), never the page's search
    expect(message).to_be_focused()
    expect(page).to_have_url(conversation_url(client["client_id"]))


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_ctrl_enter_or_cmd_enter_sends_from_message(console, server, ctrl_client, lang, size):
    client = ctrl_client
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    expect(page.locator("#compose-plan")).to_have_text(say(lang, "compose.plan_now"))
    message = page.get_by_role("textbox", name=say(lang, "compose.message"))
    chord = "Control+Enter" if size["width"] == 1280 else "Meta+Enter"
    text = f"Come on Thursday at 10:00 ({lang}, {size['width']} px, {chord})."
    message.fill(text)
    message.press(chord)
    thread = page.get_by_role("region", name=say(lang, "conv.region"))
    expect(thread.get_by_role("listitem").filter(has_text=text)).to_contain_text(say(lang, "status.sent"))
    expect(message).to_have_value("")
    assert [m["body"] for m in server.outbox() if m["to"] == client["phone"]].count(text) == 1
    message.fill("a second line")
    message.press("Enter")  # Enter alone is a new line in the message, never a send
    expect(message).to_have_value("a second line\n")


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_question_mark_lists_the_shortcuts_in_the_page_language(console, server, queue, lang, size):
    ensure_open(server)
    page = open_as(console, "amal", lang, size)
    inbox = page.get_by_role("list", name=say(lang, "nav.inbox"))
    expect(inbox.get_by_role("link").first).to_be_visible()
    page.keyboard.press("j")
    first = inbox.get_by_role("link").first
    expect(first).to_be_focused()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name=say(lang, "keys.title"))
    expect(dialog).to_be_visible()
    table = dialog.get_by_role("table")
    for key in ("keys.next", "keys.previous", "keys.search", "keys.send", "keys.help", "keys.close"):
        expect(table).to_contain_text(say(lang, key))
    expect(table).to_contain_text("Ctrl")
    expect(dialog.get_by_role("button", name=say(lang, "dialog.close"))).to_be_focused()
    if lang == "en" and size["width"] == 1280:
        console.screenshot("keyboard-shortcuts")
    page.keyboard.press("j")  # shortcuts wait while a dialog is open
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(first).to_be_focused()
    # the same list from the header's button, for those who do not know `?` yet
    page.get_by_role("button", name=say(lang, "shell.shortcuts")).click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=say(lang, "dialog.close")).click()
    expect(page.get_by_role("button", name=say(lang, "shell.shortcuts"))).to_be_focused()
