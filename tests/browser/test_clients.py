"""The Clients page in Chromium (issue 22): a worker finds a client who is not waiting by a phone
number typed the national way, opens the conversation, reads what Send will do, and writes first;
at 390 px and 1280 px, in English and in French."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.xdist_group("browser")

WORDS = {
    "en": {"nav": "Clients", "search": "Search clients", "list": "Clients", "show": "Show", "conversation": "Conversation",
           "message": "Message", "send": "Send", "now": "Will be sent now.", "sent": "✓ sent",
           "no_consent": "Cannot send: there is no signed consent on record", "filter_no_consent": "No consent yet"},
    "fr": {"nav": "Clients", "search": "Rechercher des clients", "list": "Clients", "show": "Afficher",
           "conversation": "Conversation", "message": "Message", "send": "Envoyer", "now": "Sera envoyé maintenant.",
           "sent": "✓ envoyé", "no_consent": "Envoi impossible : aucun consentement signé",
           "filter_no_consent": "Sans consentement pour l’instant"},
}


# Per run: the client found (not waiting), one still without consent, one waiting for an answer.
PEOPLE = {
    "390-en": ("Rania Odeh", "Milan Horvat", "Samira Haddad"),
    "1280-en": ("Tomás Rivera", "Ilka Novak", "Joseph Mbeki"),
    "390-fr": ("Amina Diallo", "Lucas Moreau", "Hoda Karimi"),
    "1280-fr": ("Yusuf Demir", "Olena Shevchenko", "Marie Uwase"),
}


def national(e164: str) -> str:
    """+15875570012 as a Calgary worker types it: 587 557 0012."""
    digits = e164[2:]
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


@pytest.mark.parametrize(("viewport", "lang"), [(PHONE, "en"), (DESKTOP, "en"), (PHONE, "fr"), (DESKTOP, "fr")],
                         ids=["390-en", "1280-en", "390-fr", "1280-fr"])
def test_a_worker_finds_a_client_by_a_national_number_and_writes_first(console, server, viewport, lang):
    words = WORDS[lang]
    found_name, unconsented, waiting_name = PEOPLE[f"{viewport['width']}-{lang}"]
    server.travel("open")
    client = server.new_client(found_name, language="ar", channel="sms")
    server.new_client(unconsented, language="uk", channel="sms", consent=False)
    waiting = server.new_client(waiting_name, language="fr", channel="sms")
    server.client_message(waiting["phone"], "Bonjour, j'ai reçu une lettre d'IRCC", whatsapp=False)
    page = console.sign_in_as("amal")
    page.set_viewport_size(viewport)
    if lang == "fr":
        page.get_by_label("Language").select_option("fr")
    page.get_by_role("navigation", name="Main").get_by_role("link", name=words["nav"], exact=True).click()
    clients = page.get_by_role("list", name=words["list"], exact=True)
    expect(clients.get_by_role("listitem").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if lang == "en":
        console.screenshot(f"clients-{viewport['width']}")

    page.get_by_role("searchbox", name=words["search"]).fill(national(client["phone"]))
    found = clients.get_by_role("listitem", name=re.compile(found_name))
    expect(found).to_have_count(1)
    expect(clients.get_by_role("listitem")).to_have_count(1)
    found.get_by_role("link").click()

    conversation = page.get_by_role("region", name=words["conversation"])
    expect(conversation).to_be_visible()
    expect(page.locator("#compose-plan")).to_have_text(words["now"])  # nothing waiting, yet Send is offered
    text = f"Rappel : rendez-vous jeudi à 10 h ({viewport['width']}{lang})"
    page.get_by_role("textbox", name=words["message"]).fill(text)
    page.get_by_role("button", name=words["send"], exact=True).click()
    expect(conversation.get_by_role("listitem").filter(has_text=text)).to_contain_text(words["sent"], timeout=20_000)
    assert [m for m in server.outbox() if m["to"] == client["phone"] and m["body"] == text]


def test_the_filter_lists_files_without_consent_and_their_composer_says_why_send_is_refused(console, server):
    server.travel("open")
    client = server.new_client("Ilse Vermeer", language="nl", channel="sms", consent=False)
    page = console.sign_in_as("amal")
    page.goto(server.console("#/clients"))
    page.get_by_label("Show").select_option(label=WORDS["en"]["filter_no_consent"])
    clients = page.get_by_role("list", name="Clients", exact=True)
    item = clients.get_by_role("listitem", name=re.compile("Ilse Vermeer"))
    expect(item).to_contain_text("No consent yet")
    expect(page).to_have_url(re.compile(r"#/clients\?filter=no_consent$"))
    item.get_by_role("link").click()
    expect(page.locator("#compose-plan")).to_contain_text(WORDS["en"]["no_consent"])
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    page.go_back()  # Back returns to the same filtered list
    expect(page.get_by_label("Show")).to_have_value("no_consent")
    expect(page.get_by_role("list", name="Clients", exact=True).get_by_role("listitem", name=re.compile(client["name"]))).to_be_visible()


@pytest.mark.parametrize("staff", ["sup-maria", "admin-lee"])
def test_supervisors_and_admins_find_any_client_of_the_agency_and_read_the_conversation(console, server, staff):
    server.travel("open")
    client = server.new_client(f"Noor Saleh {staff}", language="ar", channel="sms", manager="jean")
    server.client_message(client["phone"], "مرحبا", whatsapp=False)
    page = console.sign_in_as(staff)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("searchbox", name="Search clients").fill(client["phone"][-4:])
    clients = page.get_by_role("list", name="Clients", exact=True)
    expect(clients.get_by_role("listitem")).to_have_count(1)  # the search's own list, not the one before it
    found = clients.get_by_role("listitem", name=re.compile(f"Noor Saleh {staff}"))
    expect(found).to_contain_text("Waiting")
    found.get_by_role("link").click()
    expect(page.get_by_role("region", name="Conversation")).to_contain_text("مرحبا")
    expect(page.get_by_role("button", name="Send", exact=True)).to_have_count(0)  # only the case manager answers


def find(page, name: str, typed: str) -> None:
    """Search the Clients page and open the one file the search leaves."""
    page.get_by_role("searchbox", name="Search clients").fill(typed)
    clients = page.get_by_role("list", name="Clients", exact=True)
    expect(clients.get_by_role("listitem")).to_have_count(1)
    clients.get_by_role("listitem", name=re.compile(name)).get_by_role("link").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_a_workers_round_finds_writes_notes_and_keeps_a_half_written_answer(console, server, viewport):
    """Issue 22's whole journey: found by a number typed the national way while not waiting, written
    to, a note saved, an answer left half-written, the page left and come back to: the answer is there."""
    server.travel("open")
    name = {390: "Farid Osmani", 1280: "Nadia Petrenko"}[viewport["width"]]
    client = server.new_client(name, language="en", channel="sms")
    page = console.sign_in_as("amal")
    page.set_viewport_size(viewport)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Clients", exact=True).click()
    find(page, name, national(client["phone"]))

    conversation = page.get_by_role("region", name="Conversation")
    page.get_by_role("textbox", name="Message").fill("Your appointment is on Thursday at 10:00.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(conversation.get_by_role("listitem").filter(has_text="on Thursday at 10:00")).to_contain_text("✓ sent")
    notes = page.get_by_role("region", name="Notes")
    notes.get_by_role("textbox", name="Note").fill("Reminded of Thursday's appointment.")
    notes.get_by_role("button", name="Save note").click()
    expect(notes.get_by_role("listitem").filter(has_text="Reminded of Thursday")).to_be_visible()

    half = "Also, please bring your PR card and"
    page.get_by_role("textbox", name="Message").fill(half)
    nav.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("list", name="Inbox")).to_be_attached()
    nav.get_by_role("link", name="Clients", exact=True).click()
    find(page, name, national(client["phone"]))
    expect(page.get_by_role("textbox", name="Message")).to_have_value(half)
    expect(page.get_by_role("region", name="Notes").get_by_role("listitem").filter(
        has_text="Reminded of Thursday")).to_be_visible()
    page.get_by_role("link", name="← Clients").click()  # the way back is the list it came from, searched
    expect(page.get_by_role("searchbox", name="Search clients")).to_have_value(national(client["phone"]))
    assert not [m for m in server.outbox() if m["to"] == client["phone"] and m["body"] == half]  # never sent
