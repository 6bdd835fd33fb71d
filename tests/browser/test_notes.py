"""Case notes in Chromium (issue 22): the `Notes` region of a conversation and of the file, at 390 px
and 1280 px, in English and in French: a note is saved, listed with its author's name and time,
kept when refused, and only read by a supervisor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.xdist_group("browser")

SAVE = {"en": "Save note", "fr": "Enregistrer la note"}


def wall_clock(at: str, language: str) -> str:
    """How the console writes the time of day of an API instant ("10:31 a.m.", "10 h 31")."""
    hour, minute = int(at[11:13]), int(at[14:16])
    if language == "fr":
        return f"{hour} h {minute:02d}"
    return f"{(hour - 1) % 12 + 1}:{minute:02d}"


def open_conversation(console, server, name: str, language: str, viewport: dict, *,
                      consent: bool = False) -> tuple[dict, object]:
    """A new client's conversation as Amal. Notes need no consent: only the screenshot's client has
    one (and a message), so these tests add no member to the agency's usage figures, whose report
    replays every member's history until the nightly roll-up (test_supervisor_console reads it)."""
    client = server.new_client(name, language="ar", channel="whatsapp", consent=consent)
    if consent:
        server.client_message(client["phone"], "مرحبا، وصلتني رسالة من المالك عن تجديد العقد. ماذا أفعل؟")
    page = console.sign_in_as("amal")
    page.set_viewport_size(viewport)
    if language != "en":
        page.get_by_label("Language").select_option(language)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    if consent:
        expect(page.get_by_role("region", name="Conversation")).to_contain_text("تجديد العقد")
    return client, page


@pytest.mark.parametrize(("language", "viewport"), [("en", DESKTOP), ("fr", PHONE), ("en", PHONE), ("fr", DESKTOP)],
                         ids=["en-1280", "fr-390", "en-390", "fr-1280"])
def test_a_worker_saves_a_note_and_sees_it_with_her_name_and_the_time(console, server, language, viewport):
    server.travel("open")
    name = {("en", 1280): "Salma Karimi", ("fr", 390): "Dalia Haddad", ("en", 390): "Rima Aziz",
            ("fr", 1280): "Hiba Nasser"}[(language, viewport["width"])]
    screenshot = (language, viewport["width"]) == ("en", DESKTOP["width"])
    client, page = open_conversation(console, server, name, language, viewport, consent=screenshot)
    notes = page.get_by_role("region", name="Notes")
    expect(notes).to_be_visible()

    # A blank note is refused next to the field; nothing is stored.
    notes.get_by_role("button", name=SAVE[language]).click()
    expect(notes.get_by_role("alert")).to_have_text("Write the note first." if language == "en" else "Écrivez d'abord la note.")
    assert server.api("GET", f"/clients/{client['client_id']}/notes", "amal")[1]["notes"] == []

    notes.get_by_role("textbox", name="Note").fill(f"Met {name.split()[0]} at the office.\nHer lease renewal is due in March.")
    notes.get_by_role("button", name=SAVE[language]).click()
    saved = notes.get_by_role("listitem").filter(has_text="Her lease renewal is due in March.")
    expect(saved).to_be_visible()
    expect(saved).to_contain_text("Amal Haddad")
    [stored] = server.api("GET", f"/clients/{client['client_id']}/notes", "amal")[1]["notes"]
    assert stored["by"] == "amal" and stored["body"] == f"Met {name.split()[0]} at the office.\nHer lease renewal is due in March."
    expect(saved.locator("time")).to_have_attribute("datetime", stored["at"])
    expect(saved.locator("time")).to_contain_text(wall_clock(stored["at"], language))
    expect(notes.get_by_role("textbox", name="Note")).to_have_value("")
    expect(notes.get_by_role("alert")).to_have_count(0)  # the earlier refusal is gone with it
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    if screenshot:
        notes.get_by_role("textbox", name="Note").fill("Called the landlord: he agrees to wait until April.")
        notes.get_by_role("button", name=SAVE[language]).click()
        expect(notes.get_by_role("listitem")).to_have_count(2)
        expect(notes.get_by_role("listitem").first).to_contain_text("wait until April")  # newest first
        page.get_by_role("textbox", name="Message").fill("Your landlord agreed to wait until April.")
        page.evaluate("window.scrollTo(0, 0)")
        console.screenshot("notes-1280")

    # The same notes in the file.
    page.goto(server.console(f"#/clients/{client['client_id']}/file"))
    in_file = page.get_by_role("region", name="Notes")
    expect(in_file.get_by_role("listitem").filter(has_text="Her lease renewal is due in March.")).to_contain_text("Amal Haddad")
    expect(in_file.get_by_role("textbox", name="Note")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_a_refused_note_keeps_its_text_and_says_why(console, server):
    server.travel("open")
    client, page = open_conversation(console, server, "Omar Long Note", "en", DESKTOP)
    notes = page.get_by_role("region", name="Notes")
    too_long = "x" * 4000 + " and more"  # over the API's 4000 characters (the textbox itself stops at 4000)
    notes.get_by_role("textbox", name="Note").evaluate("(box, text) => { box.maxLength = 5000; box.value = text; }", too_long)
    notes.get_by_role("button", name="Save note").click()
    expect(notes.get_by_role("alert")).to_contain_text("4000")
    expect(notes.get_by_role("textbox", name="Note")).to_have_value(too_long)
    assert server.api("GET", f"/clients/{client['client_id']}/notes", "amal")[1]["notes"] == []
    assert [e for e in console.errors if "400" not in e] == []
    console.errors.clear()  # Chromium logs the refused POST (400): the refusal is the point here


def test_a_supervisor_reads_the_notes_without_a_form(console, server):
    server.travel("open")
    client = server.new_client("Nour Supervised", language="en", channel="sms", consent=False)
    status, body = server.api("POST", f"/clients/{client['client_id']}/notes", "amal", {"body": "Asked about night classes."})
    assert status == 201, body
    page = console.sign_in_as("sup-maria")
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    notes = page.get_by_role("region", name="Notes")
    expect(notes.get_by_role("listitem")).to_contain_text("Asked about night classes.")
    expect(notes.get_by_role("listitem")).to_contain_text("Amal Haddad")
    expect(notes.get_by_role("textbox", name="Note")).to_have_count(0)
    expect(notes.get_by_role("button", name="Save note")).to_have_count(0)
