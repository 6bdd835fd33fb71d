"""Signing in to the console (SPEC §4.6): the local list, #id_token, roles, sign-out, expiry."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.xdist_group("browser")


def test_a_worker_signed_in_by_id_token_sees_the_inbox_link_and_no_compliance(console):
    page = console.sign_in_as("amal")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    expect(nav.get_by_role("link", name="Compliance")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"#/inbox$"))  # the token is not left in the address bar
    assert "id_token" not in page.evaluate("document.cookie")
    expect(page.get_by_text("Amal Haddad")).to_be_visible()


def test_a_supervisor_also_sees_compliance(console):
    page = console.sign_in_as("sup-maria")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    expect(nav.get_by_role("link", name="Compliance")).to_be_visible()


def test_the_local_sign_in_page_lists_seeded_staff_and_signs_in(console, server):
    page = console.page
    page.goto(server.console())
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("button", name=re.compile("Jean Tremblay")).click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_an_expired_token_sends_the_user_back_to_sign_in(console, server):
    from chalicelib.adapters.auth import mint_dev_token
    from tests.browser.conftest import LOCAL_SECRET

    expired = mint_dev_token(LOCAL_SECRET, "amal", "calgary-cfn", "worker", ttl_seconds=-3600 * 24 * 3650)
    page = console.page
    page.goto(server.console(f"#id_token={expired}"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    console.errors.clear()  # the refused /me call is the point of this test (Chromium logs the 401)


def test_the_interface_switches_to_french(console):
    page = console.sign_in_as("amal")
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Boîte de réception")).to_be_visible()
    page.get_by_label("Langue").select_option("en")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox")).to_be_visible()


ROLE_MAP = """async (role) => {
  const roles = await import(new URL("js/roles.js", document.baseURI).href);
  return { main: roles.mainNav(role).map((item) => item.path),
           supervision: roles.supervisionNav(role).map((item) => item.path),
           compliance: roles.canOpen(role, "compliance") };
}"""


@pytest.mark.parametrize(("staff_id", "role"), [("amal", "worker"), ("sup-maria", "supervisor"), ("admin-lee", "admin")])
def test_each_roles_navigation_is_the_role_maps(console, server, staff_id, role):
    page = console.sign_in_as(staff_id)
    expected = page.evaluate(ROLE_MAP, role)  # js/roles.js, the console's one role map
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_count(len(expected["main"]))
    assert [link.get_attribute("href") for link in nav.get_by_role("link").all()] == ["#" + p for p in expected["main"]]
    # SPEC §4.6: Inbox for every role, Compliance for supervisors and administrators only
    assert "/inbox" in expected["main"]
    assert expected["compliance"] is (role != "worker") and ("/compliance" in expected["main"]) is (role != "worker")
    expect(nav.get_by_role("link", name="Inbox")).to_be_visible()
    expect(nav.get_by_role("link", name="Compliance")).to_have_count(1 if expected["compliance"] else 0)
    if not expected["supervision"]:
        return
    page.goto(server.console("#/compliance"))
    subnav = page.get_by_role("navigation", name="Supervision pages")
    expect(subnav.get_by_role("link")).to_have_count(len(expected["supervision"]))
    assert [link.get_attribute("href") for link in subnav.get_by_role("link").all()] == ["#" + p for p in expected["supervision"]]
    expect(subnav.get_by_role("link", name="Client intake")).to_have_count(1 if role == "admin" else 0)
