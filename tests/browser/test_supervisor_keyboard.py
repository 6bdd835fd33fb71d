"""The supervisor's pages by keyboard alone, and at 390 px (issue 15 item 6)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.xdist_group("browser")

ACTIVE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {name: "", outline: "none"};
  const name = (e.getAttribute("aria-label") || e.innerText || e.value || e.id || "").trim();
  return {name, outline: getComputedStyle(e).outlineStyle, tag: e.tagName, type: e.type || ""};
}"""


def tab_to(page, pattern: str, limit: int = 150) -> dict:
    """Press Tab until the focused element's name matches; every stop must show where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        # A date field takes focus in its own parts (day, month, year), which Chromium highlights.
        if active["name"] and active["type"] not in ("date", "datetime-local", "time"):
            assert active["outline"] != "none", f"no visible focus on {active}"
        if re.search(pattern, active["name"]):
            return active
    raise AssertionError(f"Tab never reached {pattern!r}")


def test_a_supervisor_reviews_an_override_and_opens_a_figure_by_keyboard_alone(console, server):
    # An override of its own, in April (the other tests look at March): Tuesday 20:00, closed.
    client = server.new_client("Yara Keyboard", language="en", channel="sms")
    server.travel(to="2027-04-06T20:00:00-06:00")
    status, body = server.api("POST", f"/clients/{client['client_id']}/messages", "amal",
                              {"body": "Your hearing moved to 8 a.m.", "override_reason": "court date tomorrow"})
    assert status == 201, body
    server.travel(to="2027-04-07T10:00:00-06:00")
    page = console.sign_in_as("sup-maria")

    tab_to(page, r"^Reviews")  # the Main navigation
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#/reviews"))
    page.goto(server.console("#/reviews?from=2027-04-05&to=2027-04-11"))
    reviews = page.get_by_role("list", name="Reviews")
    override = reviews.get_by_role("listitem", name=re.compile("Override by Amal Haddad"))
    expect(override).to_contain_text("court date tomorrow")
    tab_to(page, r"^Mark reviewed$")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Marked reviewed.")).to_be_visible()

    tab_to(page, r"^Compliance$")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table", name="Compliance by worker")).to_be_visible()
    page.goto(server.console("#/compliance?from=2027-04-05&to=2027-04-11"))
    expect(page.get_by_role("table", name="Compliance by worker")).to_be_visible()
    tab_to(page, r"^Show$")  # the period picker is reachable
    tab_to(page, r"(?i)^1: list the overrides of amal")  # a figure's link
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"#/compliance"))


@pytest.mark.parametrize("fragment", ["#/compliance", "#/reviews", "#/usage", "#/audit", "#/setup/staff",
                                      "#/setup/numbers", "#/setup/policy", "#/setup/intake"])
def test_each_supervision_page_fits_a_390_px_phone(console, server, fragment):
    page = console.sign_in_as("admin-lee")
    page.set_viewport_size(PHONE)
    page.goto(server.console(fragment))
    page.get_by_role("heading", level=1).first.wait_for()
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{fragment} is {width} px wide at {PHONE['width']} px"
