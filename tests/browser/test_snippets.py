"""Snippets in Chromium (issue 22), at 390 px and 1280 px, in English and in French: "/" in the
Message textbox opens the listbox of the client's snippets, the keyboard chooses and inserts one with
the client's first name filled in, and it goes out as written; an administrator keeps the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Console

pytestmark = pytest.mark.xdist_group("browser")

LISTBOX = {"en": "Snippets", "fr": "Réponses préparées"}
SEND = {"en": "Send", "fr": "Envoyer"}


@pytest.mark.parametrize(("language", "viewport", "client_language", "name", "wanted"), [
    ("en", PHONE, "en", "Grace Mensah", "appointment-reminder"),
    ("fr", PHONE, "fr", "Aline Mukamana", "rappel-rendez-vous"),
    ("en", DESKTOP, "ar", "Yusra Khalil", "appointment-reminder-ar"),
    ("fr", DESKTOP, "en", "Tomas Ruiz", "appointment-reminder"),
], ids=["en-390", "fr-390", "en-1280", "fr-1280"])
def test_a_worker_inserts_a_snippet_by_keyboard_with_the_first_name_filled(console, server, language, viewport,
                                                                           client_language, name, wanted):
    server.travel("open")
    # Inserting needs no consent; sending does. Only the screenshot's client has it, and sends, so
    # these tests add one member to the usage figures (see test_notes.open_conversation).
    sends = viewport is PHONE and language == "en"
    client = server.new_client(name, language=client_language, channel="sms", consent=sends)
    if sends:
        server.client_message(client["phone"], "When is my appointment?", whatsapp=False)
    filled = {s["snippet_id"]: s["text"] for s in
              server.api("GET", f"/clients/{client['client_id']}/snippets", "amal")[1]["snippets"]}
    first = name.split()[0]
    assert first in filled[wanted] and "{" not in filled[wanted]

    page = console.sign_in_as("amal")
    page.set_viewport_size(viewport)
    if language != "en":
        page.get_by_label("Language").select_option(language)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    if sends:
        expect(page.get_by_role("region", name="Conversation")).to_contain_text("When is my appointment?")
    message = page.get_by_role("textbox", name="Message")
    listbox = page.get_by_role("listbox", name=LISTBOX[language])

    message.focus()
    page.keyboard.type("/")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(len(filled))  # the client's language, all of them
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # from the first, up wraps to the last
    expect(options.nth(len(filled) - 1)).to_have_attribute("aria-selected", "true")
    page.keyboard.type("remind" if wanted.startswith("appointment") else "rappel")
    option = listbox.get_by_role("option", selected=True)
    expect(option).to_contain_text(filled[wanted][:20])
    expect(message).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "")
    if sends:
        console.screenshot("snippet-390")
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(message).to_have_value(filled[wanted])
    expect(message).to_be_focused()

    # Escape closes the list and keeps what was typed; the same "/" stays closed as typing goes on.
    page.keyboard.type(" /")
    expect(listbox).to_be_visible()
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    page.keyboard.type("x")
    expect(listbox).to_be_hidden()
    for _ in range(3):
        page.keyboard.press("Backspace")
    expect(message).to_have_value(filled[wanted])
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    if sends:  # and it goes out as inserted, the first name filled in
        page.get_by_role("button", name=SEND[language], exact=True).click()
        expect(page.get_by_role("region", name="Conversation").get_by_role("listitem").filter(
            has_text=filled[wanted][:30])).to_be_visible()
        sent = [m for m in server.outbox() if m["to"] == client["phone"]]
        assert [m["body"] for m in sent] == [filled[wanted]]


def test_no_snippet_matching_says_so_and_enter_keeps_typing(console, server):
    server.travel("open")
    client = server.new_client("Pavel Novak", language="en", channel="sms", consent=False)
    page = console.sign_in_as("amal")
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    message = page.get_by_role("textbox", name="Message")
    message.focus()
    page.keyboard.type("See /zzzz")
    listbox = page.get_by_role("listbox", name="Snippets")
    expect(listbox).to_contain_text("No snippet matches “zzzz”")
    expect(listbox.get_by_role("option", selected=True)).to_have_count(0)
    page.keyboard.press("Enter")
    expect(message).to_have_value("See /zzzz\n")


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("fr", PHONE)], ids=["en-1280", "fr-390"])
def test_an_administrator_adds_changes_and_deletes_a_snippet(browser, server, language, viewport):
    context = browser.new_context(viewport=viewport, locale="en-CA")
    context.set_default_timeout(10_000)
    tab = Console(context.new_page(), server)
    try:
        page = tab.sign_in_as("admin-lee")
        words = {"en": ("Identifier (letters, digits, - and _)", "Title", "Text", "Save snippet", "Change", "Delete"),
                 "fr": ("Identifiant (lettres, chiffres, - et _)", "Titre", "Texte", "Enregistrer la réponse",
                        "Modifier", "Supprimer")}[language]
        if language != "en":
            page.get_by_label("Language").select_option(language)
        page.goto(server.console("#/setup/snippets"))
        heading = {"en": "Snippets", "fr": "Réponses préparées"}[language]
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        snippet_id = f"bt-bus-pass-{language}"
        page.get_by_label(words[0]).fill(snippet_id)
        page.get_by_label(words[1]).fill("Bus pass")
        page.get_by_label(words[2]).fill("Hello {client_name}, your bus pass is ready.")
        page.get_by_role("button", name=words[3]).click()
        # Refused next to the field it names; the text stays.
        expect(page.locator("#sn-body-error")).to_contain_text("{client_name}")
        expect(page.get_by_label(words[2])).to_have_value("Hello {client_name}, your bus pass is ready.")
        page.get_by_label(words[2]).fill("Hello , your bus pass is ready.")
        page.get_by_label(words[2]).press("Home")
        for _ in range(len("Hello ")):
            page.get_by_label(words[2]).press("ArrowRight")
        page.get_by_role("button", name="{first_name}").click()  # a placeholder put where the caret is
        expect(page.get_by_label(words[2])).to_have_value("Hello {first_name}, your bus pass is ready.")
        page.get_by_role("button", name=words[3]).click()
        item = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Bus pass"))
        expect(item).to_contain_text("Hello {first_name}, your bus pass is ready.")
        expect(item).to_contain_text("Lee Chen")
        stored = {s["snippet_id"]: s for s in server.api("GET", "/snippets", "amal")[1]["snippets"]}
        assert stored[snippet_id]["body"] == "Hello {first_name}, your bus pass is ready."

        item.get_by_role("button", name=words[4]).click()
        page.get_by_label(words[1]).fill("Bus pass ready")
        page.get_by_role("button", name=words[3]).click()
        item = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Bus pass ready"))
        expect(item).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        item.get_by_role("button", name=words[5]).click()
        item.get_by_role("button", name={"en": "Delete “Bus pass ready”", "fr": "Supprimer « Bus pass ready »"}[language]).click()
        expect(page.get_by_role("heading", name="Bus pass ready")).to_have_count(0)
        assert snippet_id not in {s["snippet_id"] for s in server.api("GET", "/snippets", "amal")[1]["snippets"]}
        assert [e for e in tab.errors if "400" not in e] == []
    finally:
        context.close()
