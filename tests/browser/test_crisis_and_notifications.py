"""Issue 23 items 1 and 2 in Chromium, at 390 and 1280 px, in English and in French.

A client writes a crisis word while the agency is open: the worker's open inbox lists the client
first with the word `Crisis` (`Crise`), and the header's control is named `Notifications, 1 unread`
(`Notifications, 1 non lue`). Opening the notification marks it read, opens the conversation with
the crisis banner (emergency line, emergency contact) and the control says `Notifications` again.
A supervisor's `Reviews` badge clears once the override it counted is reviewed.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS

pytestmark = pytest.mark.xdist_group("browser")

WORDS = {
    "en": {"crisis": "Crisis", "one": "Notifications, 1 unread", "none": "Notifications", "inbox": "Inbox",
           "list": "Notifications", "line": "Emergency line:", "mark_all": "Mark all read"},
    "fr": {"crisis": "Crise", "one": "Notifications, 1 non lue", "none": "Notifications",
           "inbox": "Boîte de réception", "list": "Notifications", "line": "Ligne d'urgence :",
           "mark_all": "Tout marquer comme lu"},
}
WITHIN = 3_000  # issue 23: pushed to an open console within 3 s of the webhook


def everything_read(server, staff_id: str) -> None:
    """Earlier tests left notifications on this shared server: start from none unread."""
    status, body = server.api("POST", "/notifications/read", staff_id)
    assert status == 200, body


def no_crisis_waiting(server) -> None:
    """Earlier cases' clients in crisis would still be waiting first: amal answers them."""
    status, inbox = server.api("GET", "/inbox", "amal")
    assert status == 200, inbox
    for item in inbox["items"]:
        if item["crisis"]:
            status, body = server.api("POST", f"/clients/{item['client_id']}/messages", "amal",
                                      {"body": "I am calling you now."})
            assert status == 201, body


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_crisis_while_open_puts_the_client_first_and_the_notification_opens_the_conversation(
        console, server, lang, viewport):
    words = WORDS[lang]
    server.travel("open_tomorrow_too")
    waiting = server.new_client(f"Waiting {lang} {viewport['width']}", language="en")
    client = server.new_client(f"Crisis {lang} {viewport['width']}", language="en")
    status, body = server.api("PUT", f"/clients/{client['client_id']}/emergency-contact", "amal",
                              {"name": "Amina Haddad", "phone": "(403) 555-0142", "relation": "sister"})
    assert status == 200, body
    server.client_message(waiting["phone"], "When is my appointment?")  # due first
    no_crisis_waiting(server)
    everything_read(server, "amal")

    page = console.sign_in_as("amal")
    page.set_viewport_size(viewport)
    if lang == "fr":
        page.get_by_label("Language").select_option("fr")
    inbox = page.get_by_role("list", name=words["inbox"])
    expect(inbox.get_by_role("listitem", name=re.compile(waiting["name"]))).to_be_visible()
    expect(page.get_by_role("link", name=words["none"], exact=True)).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "up")  # the socket is open

    server.client_message(client["phone"], "My husband says he will kill me tonight")
    first = inbox.get_by_role("listitem").first
    expect(first).to_contain_text(client["name"], timeout=WITHIN)
    expect(first).to_contain_text(words["crisis"])
    expect(first).to_have_accessible_name(re.compile(f"^{words['crisis']} {client['name']}"))
    control = page.get_by_role("link", name=words["one"], exact=True)
    expect(control).to_be_visible(timeout=WITHIN)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if lang == "en" and viewport is DESKTOP:
        page.screenshot(path=str(SCREENSHOTS / "crisis-inbox-1280.png"))

    control.click()
    notes = page.get_by_role("list", name=words["list"])
    item = notes.get_by_role("listitem").first
    expect(item).to_contain_text(client["name"])
    expect(item).to_contain_text(words["crisis"])
    expect(item).not_to_contain_text(client["client_id"])  # names, never ids
    expect(page.get_by_role("button", name=words["mark_all"])).to_be_enabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if lang == "en" and viewport is PHONE:
        page.screenshot(path=str(SCREENSHOTS / "notifications-390.png"))

    item.get_by_role("link").click()
    expect(page.get_by_role("region", name="Conversation")).to_be_visible()
    banner = page.get_by_role("region", name=words["crisis"])
    expect(banner).to_contain_text(words["line"])
    expect(banner).to_contain_text("911")
    expect(banner).to_contain_text("Amina Haddad")
    expect(banner).to_contain_text("+14035550142")
    expect(page.get_by_role("link", name=words["none"], exact=True)).to_be_visible()  # read: no count left
    if lang == "en" and viewport is PHONE:
        page.screenshot(path=str(SCREENSHOTS / "crisis-conversation-390.png"))
    status, body = server.api("GET", "/notifications", "amal")
    assert status == 200 and body["unread"] == 0, body


def test_reading_a_notification_in_one_tab_updates_the_count_in_every_open_tab(browser, server):
    server.travel("open_tomorrow_too")
    no_crisis_waiting(server)
    everything_read(server, "amal")
    tabs = []
    context = browser.new_context(viewport=DESKTOP, locale="en-CA")
    try:
        context.set_default_timeout(10_000)
        for _ in range(2):
            tab = context.new_page()
            tab.goto(server.console(f"#id_token={server.token('amal')}"))
            expect(tab.locator("#live-status")).to_have_attribute("data-state", "up")
            tabs.append(tab)
        client = server.new_client("Two Tabs Crisis", language="en")
        server.client_message(client["phone"], "I am not safe at home tonight")
        for tab in tabs:  # both hear it, pushed
            expect(tab.get_by_role("link", name="Notifications, 1 unread", exact=True)).to_be_visible(timeout=WITHIN)
        tabs[0].get_by_role("link", name="Notifications, 1 unread", exact=True).click()
        tabs[0].get_by_role("button", name="Mark all read").click()
        for tab in tabs:  # read in one tab: the other's count follows, without a reload
            expect(tab.get_by_role("link", name="Notifications", exact=True)).to_be_visible(timeout=WITHIN)
    finally:
        context.close()
    no_crisis_waiting(server)


def test_a_worker_marks_a_message_as_a_crisis_by_hand_and_takes_it_back(console, server):
    server.travel("open_tomorrow_too")
    client = server.new_client("Marked By Hand", language="en")
    server.client_message(client["phone"], "I cannot go on like this")
    page = console.sign_in_as("amal")
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    thread = page.get_by_role("region", name="Conversation")
    expect(thread).to_contain_text("I cannot go on like this")
    expect(page.get_by_role("region", name="Crisis")).to_have_count(0)
    thread.get_by_role("button", name="Mark as crisis").click()
    expect(page.get_by_role("region", name="Crisis")).to_contain_text("911")
    expect(thread.get_by_text("Crisis", exact=True)).to_be_visible()
    thread.get_by_role("button", name="Not a crisis").click()
    expect(page.get_by_role("region", name="Crisis")).to_have_count(0)
    status, trail = server.api("GET", "/audit?type=crisis.marked,crisis.unmarked", "sup-maria")
    assert status == 200, trail
    mine = [e for e in trail["events"] if e["client_id"] == client["client_id"]]
    assert [e["type"] for e in mine] == ["crisis.marked", "crisis.unmarked"] and {e["actor"] for e in mine} == {"amal"}


def test_the_supervisors_reviews_badge_clears_once_the_review_is_done(console, server):
    everything_read(server, "sup-maria")
    server.travel("closed")
    client = server.new_client("Override Review", language="en")
    status, body = server.api("POST", f"/clients/{client['client_id']}/messages", "amal",
                              {"body": "The shelter has a bed tonight.", "override_reason": "no bed tonight"})
    assert status == 201, body
    page = console.sign_in_as("sup-maria")
    nav = page.get_by_role("navigation", name="Main")
    reviews = nav.get_by_role("link", name=re.compile("^Reviews"))
    expect(reviews).to_have_accessible_name("Reviews 1 to review")
    expect(page.get_by_role("link", name="Notifications, 1 unread", exact=True)).to_be_visible()
    reviews.click()
    item = page.get_by_role("list", name="Reviews").get_by_role("listitem", name=re.compile("Override by Amal Haddad")).filter(
        has_text="no bed tonight")
    item.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_text("Marked reviewed.")).to_be_visible()
    expect(reviews).to_have_accessible_name("Reviews")  # the badge is gone
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()


def test_the_case_manager_records_the_emergency_contact_on_the_file_page(console, server):
    client = server.new_client("Contact Card", language="en")
    page = console.sign_in_as("amal")
    page.goto(server.console(f"#/clients/{client['client_id']}/file"))
    card = page.get_by_role("region", name="Emergency contact")
    expect(card).to_contain_text("No emergency contact on file.")
    card.get_by_label("Name").fill("Amina Haddad")
    card.get_by_label("Phone").fill("(403) 555-0142")
    card.get_by_label("Relation to the client").fill("sister")
    card.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text("Emergency contact saved.")).to_be_visible()
    expect(page.get_by_role("region", name="Emergency contact")).to_contain_text("+14035550142")  # stored E.164
    status, body = server.api("GET", f"/clients/{client['client_id']}", "amal")
    assert status == 200 and body["emergency_contact"] == {"name": "Amina Haddad", "phone": "+14035550142",
                                                          "relation": "sister"}
