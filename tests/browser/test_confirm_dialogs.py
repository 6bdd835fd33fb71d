"""What cannot be undone is confirmed first (issue 22, item 6): withdrawing consent (with its reason),
deactivating a staff member, removing an absence, closing a file.

Each asks in a modal dialog named by its heading, which names the client or the staff member,
with a sentence saying what follows, Cancel and the confirm button. Focus starts inside, Tab stays
inside, Escape or Cancel changes nothing and gives focus back to the button that opened it.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.words import LOOK_IDS, LOOKS, ensure_open, new_name, open_as, say

pytestmark = pytest.mark.xdist_group("browser")

_SERIAL = itertools.count(1)
FOCUS_IN_DIALOG = "document.activeElement && document.activeElement.closest('dialog[open]') !== null"


def focus_stays_inside(page, presses: int = 6) -> None:
    for key in ["Tab"] * presses + ["Shift+Tab"] * presses:
        page.keyboard.press(key)
        assert page.evaluate(FOCUS_IN_DIALOG), f"{key} left the dialog"


def temporary_worker(server, name: str) -> str:
    """A worker of the demo agency for one test (the shared ones stay as they are)."""
    staff_id = f"tmp-{next(_SERIAL)}-{name.split()[0].lower()}"
    status, body = server.api("PUT", f"/staff/{staff_id}", "admin-lee", {"role": "worker", "name": name})
    assert status in (200, 201), body
    return staff_id


def staff_record(server, staff_id: str) -> dict:
    return next(s for s in server.api("GET", "/staff", "admin-lee")[1]["staff"] if s["staff_id"] == staff_id)


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_withdrawing_consent_asks_for_a_reason_in_a_dialog_naming_the_client(console, server, lang, size):
    client = server.new_client(new_name(), language="en", channel="sms")
    name = client["name"]
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}/file"))
    withdraw = page.get_by_role("region", name=say(lang, "file.consent")).get_by_role(
        "button", name=say(lang, "file.withdraw_button"))
    withdraw.click()
    dialog = page.get_by_role("dialog", name=say(lang, "confirm.withdraw_title", name=name))
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(say(lang, "confirm.withdraw_body", name=name))
    reason = dialog.get_by_role("textbox", name=say(lang, "confirm.withdraw_reason"))
    confirm = dialog.get_by_role("button", name=say(lang, "file.withdraw_button"))
    expect(reason).to_be_focused()
    expect(confirm).to_be_disabled()  # no reason, no withdrawal: the field says why
    expect(reason).to_have_accessible_description(re.compile(re.escape(say(lang, "dialog.reason_needed"))))
    reason.fill("   ")
    expect(confirm).to_be_disabled()
    focus_stays_inside(page)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(withdraw).to_be_focused()
    assert server.api("GET", f"/clients/{client['client_id']}", "amal")[1]["consent"]["state"] == "given"

    withdraw.click()
    dialog.get_by_role("textbox", name=say(lang, "confirm.withdraw_reason")).fill("Moved to Edmonton")
    expect(confirm).to_be_enabled()
    if lang == "en" and size["width"] == 1280:
        console.screenshot("confirm-withdraw-consent")
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#notice")).to_contain_text(say(lang, "file.withdrawn_done"))
    consent = server.api("GET", f"/clients/{client['client_id']}", "amal")[1]["consent"]
    assert (consent["state"], consent["withdrawn_reason"]) == ("withdrawn", "Moved to Edmonton")


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_deactivating_a_staff_member_is_confirmed_in_a_dialog_naming_them(console, server, lang, size):
    name = new_name()
    staff_id = temporary_worker(server, name)
    page = open_as(console, "admin-lee", lang, size)
    page.goto(server.console("#/setup/staff"))
    button = page.get_by_role("button", name=say(lang, "staff.deactivate_who", name=name))
    button.click()
    dialog = page.get_by_role("dialog", name=say(lang, "confirm.deactivate_title", name=name))
    expect(dialog).to_contain_text(say(lang, "confirm.deactivate_body_worker", name=name))
    cancel = dialog.get_by_role("button", name=say(lang, "dialog.cancel"))
    expect(cancel).to_be_focused()  # the safe choice first
    focus_stays_inside(page, 3)
    cancel.click()
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    assert staff_record(server, staff_id)["active"] is True

    button.click()
    dialog.get_by_role("button", name=say(lang, "confirm.deactivate_button"), exact=True).click()
    expect(page.locator("#notice")).to_contain_text(say(lang, "staff.deactivated"))
    assert staff_record(server, staff_id)["active"] is False
    expect(page.get_by_role("button", name=say(lang, "staff.reactivate_who", name=name))).to_be_visible()


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_removing_an_absence_is_confirmed_in_a_dialog_naming_who_and_who_covers(console, server, lang, size):
    name = new_name()
    staff_id = temporary_worker(server, name)
    today = date.fromisoformat(ensure_open(server)[:10])
    start, end = today + timedelta(days=20), today + timedelta(days=24)
    status, body = server.api("PUT", f"/staff/{staff_id}/absences/leave", "admin-lee",
                              {"start": start.isoformat(), "end": end.isoformat(), "cover_id": "jean"})
    assert status in (200, 201), body
    page = open_as(console, "admin-lee", lang, size)
    page.goto(server.console("#/setup/staff"))
    remove = page.get_by_role("button", name=re.compile("^" + re.escape(say(lang, "staff.abs_remove_of", name=name, start="S", end="E")
                                                                          .split(",")[0])))
    remove.click()
    dialog = page.get_by_role("dialog", name=say(lang, "confirm.absence_title", name=name))
    expect(dialog).to_contain_text("Jean Tremblay")
    expect(dialog).to_contain_text(re.compile(str(start.day) + r"\b.*" + str(end.day) + r"\b"))
    page.keyboard.press("Escape")
    expect(remove).to_be_focused()
    assert [a["absence_id"] for a in staff_record(server, staff_id)["absences"]] == ["leave"]
    remove.click()
    dialog.get_by_role("button", name=say(lang, "confirm.absence_button")).click()
    expect(page.locator("#notice")).to_contain_text(say(lang, "staff.abs_removed"))
    assert staff_record(server, staff_id)["absences"] == []


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_closing_a_file_is_confirmed_in_a_dialog_naming_the_client(console, server, lang, size):
    client = server.new_client(new_name(), language="en", channel="sms")
    name = client["name"]
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}/file"))
    status_card = page.get_by_role("region", name=say(lang, "file.status"))
    status_card.get_by_label(say(lang, "file.new_status")).select_option("closed")
    status_card.get_by_label(say(lang, "file.reason"), exact=True).fill("Moved away")
    change = status_card.get_by_role("button", name=say(lang, "file.change_button"))
    change.click()
    dialog = page.get_by_role("dialog", name=say(lang, "confirm.close_title", name=name))
    expect(dialog).to_contain_text(say(lang, "confirm.close_body", name=name))
    dialog.get_by_role("button", name=say(lang, "dialog.cancel")).click()
    expect(change).to_be_focused()
    assert server.api("GET", f"/clients/{client['client_id']}", "amal")[1]["status"] == "active"
    # nothing typed was lost by cancelling
    expect(status_card.get_by_label(say(lang, "file.reason"), exact=True)).to_have_value("Moved away")
    change.click()
    dialog.get_by_role("button", name=say(lang, "confirm.close_button")).click()
    expect(page.locator("#notice")).to_contain_text(say(lang, "file.status_changed", status=say(lang, "file.status.closed")))
    assert server.api("GET", f"/clients/{client['client_id']}", "amal")[1]["status"] == "closed"
