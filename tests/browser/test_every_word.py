"""Every word in both languages (issue 22, item 7).

The walk opens every page of the console in English and in French, at 1280 px and at 390 px, as
an administrator and as a worker, and fails on a `{placeholder}`, `undefined`, `NaN`, `null`, a
doubled stop, a catalogue key or a raw audit event name shown as text, an English text of the
console left on a French page, or any error in the browser console (the `console` fixture).
The other tests check what the walk cannot see by looking: plurals by each language's rule,
times written once, toasts that leave (and errors that stay), the period form kept when a To date
is before From, national phone formats, and forms that keep their values when the API refuses them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import cache

import pytest
from playwright.sync_api import expect

from chalicelib.domain.audit import AuditType
from tests.browser.words import (
    LOOK_IDS,
    LOOKS,
    TWO_LOOK_IDS,
    TWO_LOOKS,
    catalogue,
    ensure_open,
    new_name,
    open_as,
    say,
)

pytestmark = pytest.mark.xdist_group("browser")

ADMIN_PAGES = ["#/inbox", "#/compliance", "#/reviews", "#/usage", "#/audit", "#/inquiries", "#/setup/staff",
               "#/setup/numbers", "#/setup/policy", "#/setup/intake"]
SHOWN = """() => {
  const names = [...document.querySelectorAll('[aria-label], [title], [placeholder]')]
    .map((e) => ['aria-label', 'title', 'placeholder'].map((a) => e.getAttribute(a) || '').join(' '));
  return [document.body.innerText, ...names].join('\\n');
}"""
_NATIONAL = itertools.count(101)
TOKEN = re.compile(r"(?<![\w@/.-])([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)(?![\w/-])")


@cache
def areas() -> frozenset[str]:
    return frozenset(key.split(".")[0] for key in catalogue("en"))


@cache
def english_only() -> tuple[str, ...]:
    """Pieces of the English catalogue, 14 characters or more, that French says otherwise. The
    toolkit's Table 7 labels are shown in English beside the French on purpose."""
    en, fr = catalogue("en"), catalogue("fr")
    pieces = set()
    for key, value in en.items():
        if key.startswith("table7.") or value == fr[key]:
            continue
        for text in (value.values() if isinstance(value, dict) else [value]):
            pieces.update(p.strip() for p in re.split(r"\{\w+\}", text) if len(p.strip()) >= 14)
    french = "\n".join(v for value in fr.values() for v in (value.values() if isinstance(value, dict) else [value]))
    return tuple(sorted(p for p in pieces if p not in french))


def problems(text: str, lang: str) -> list[str]:
    found = []
    for pattern, what in ((r"\{\w+\}", "placeholder"), (r"\bundefined\b", "undefined"), (r"\bNaN\b", "NaN"),
                          (r"\bnull\b", "null"), (r"(?<!\.)\.\.(?!\.)", "double stop")):
        found += [f"{what}: {m.group(0)!r} in …{text[max(0, m.start() - 40):m.end() + 20]!r}"
                  for m in re.finditer(pattern, text)]
    raw_events = {t.value for t in AuditType}
    for token in TOKEN.findall(text):
        if token in catalogue("en") or token.split(".")[0] in areas() or token in raw_events:
            found.append(f"raw key or event name: {token!r}")
    if lang == "fr":
        found += [f"English left on a French page: {piece!r}" for piece in english_only() if piece in text]
    return found


def walk(page, server, fragments: list[str], lang: str) -> list[str]:
    found = []
    for fragment in fragments:
        page.goto(server.console(fragment))
        page.locator("main h1").first.wait_for()
        page.wait_for_load_state("networkidle")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        found += [f"{fragment}: {p}" for p in problems(page.evaluate(SHOWN), lang)]
    return found


def cancel_held(server, client: dict) -> None:
    """Cancel what a test left held: released later, it would count in another test's period."""
    messages = server.api("GET", f"/clients/{client['client_id']}/messages", "amal")[1]["messages"]
    for message in messages:
        if message["status"] == "held":
            status, body = server.api("DELETE", f"/clients/{client['client_id']}/messages/{message['id']}", "amal")
            assert status == 200, body


@pytest.fixture(scope="module")
def a_conversation(server) -> Iterator[dict]:
    """A file of amal's with a question, her answer, a held answer and a follow-up question."""
    ensure_open(server)
    client = server.new_client(new_name(), language="ar", channel="whatsapp")
    server.client_message(client["phone"], "مرحبا، متى موعدي القادم؟")
    status, body = server.api("POST", f"/clients/{client['client_id']}/messages", "amal", {"body": "Thursday at 10:00."})
    assert status == 201, body
    server.client_message(client["phone"], "Can my husband come too?")
    server.travel("closed")
    status, body = server.api("POST", f"/clients/{client['client_id']}/messages", "amal", {"body": "Yes, he is welcome."})
    assert status == 202, body
    server.travel("open")
    server.client_message(client["phone"], "Thank you!")
    yield client
    cancel_held(server, client)


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_every_page_in_both_languages_shows_words_only(console, server, a_conversation, lang, size):
    client = a_conversation
    ensure_open(server)
    conversation = f"#/clients/{client['client_id']}"
    warnings: list[str] = []
    console.page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)

    page = console.page  # signed out first: the sign-in page
    page.set_viewport_size(size)
    page.goto(server.console())
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.locator("#lang").select_option(lang)
    expect(page.get_by_role("heading", level=1, name=say(lang, "signin.title"))).to_be_visible()
    found = [f"sign-in: {p}" for p in problems(page.evaluate(SHOWN), lang)]
    page.goto("about:blank")

    page = open_as(console, "admin-lee", lang, size)
    found += walk(page, server, [*ADMIN_PAGES, conversation, conversation + "/file"], lang)
    if lang == "fr" and size["width"] == 1280:
        page.goto(server.console("#/usage"))
        page.get_by_role("table", name=say(lang, "usage.table")).scroll_into_view_if_needed()
        console.screenshot("usage-table7-fr")
    who = page.locator("#who").inner_text()
    assert who.count("(") == 1, f"the role is shown once: {who!r}"
    page.goto(server.console("#/compliance"))
    expect(page.get_by_role("table", name=say(lang, "dash.caption"))).to_be_visible()  # the caption in the language

    page.goto("about:blank")
    page = open_as(console, "amal", lang, size)
    found += walk(page, server, ["#/inbox", conversation, conversation + "/file"], lang)
    page.goto(server.console(conversation))
    thread = page.get_by_role("region", name=say(lang, "conv.region"))
    expect(thread.get_by_role("listitem").filter(has_text="Thursday at 10:00.")).to_contain_text("Amal Haddad ·")
    expect(thread).not_to_contain_text("(amal)")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name=say(lang, "keys.title"))
    expect(help_dialog).to_be_visible()
    found += [f"help: {p}" for p in problems(help_dialog.inner_text(), lang)]
    assert found == []
    assert [w for w in warnings if w.startswith("no text for")] == []


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_plurals_follow_each_languages_rule(console, server, lang, size):
    page = open_as(console, "amal", lang, size)
    said = page.evaluate("""async () => {
      const i18n = await import(new URL('js/i18n.js', document.baseURI).href);
      return [0, 1, 2, 21].flatMap((n) => [i18n.t('n.inquiries', { n }), i18n.t('inq.count', { n, from: 'a', to: 'b' }),
        i18n.t('dash.breaches_in', { n, week: 'w' }), i18n.t('n.answered_on_time', { n })]);
    }""")
    expected = [say(lang, key, n=n, **{"from": "a", "to": "b", "week": "w"})
                for n in (0, 1, 2, 21) for key in ("n.inquiries", "inq.count", "dash.breaches_in", "n.answered_on_time")]
    assert said == expected
    singular = {"en": ["1 inquiry", "1 inquiry opened", "1 breach in", "1 answered on time"],
                "fr": ["1 demande", "1 demande ouverte", "1 dépassement la", "1 répondue à temps"]}[lang]
    assert [text.startswith(start) for text, start in zip(said[4:8], singular, strict=True)] == [True] * 4
    zero = said[0]
    assert zero == ("0 inquiries" if lang == "en" else "0 demande")  # French counts 0 as one


@pytest.fixture(scope="module")
def a_file(server) -> dict:
    """A file for the tests that only need one to act on (each adds its own message or warning)."""
    ensure_open(server)
    client = server.new_client(new_name(), language="en", channel="sms")
    server.client_message(client["phone"], "Is the office open tonight?", whatsapp=False)
    return client


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_a_time_ending_a_sentence_is_written_with_one_stop(console, server, a_file, lang, size):
    client = a_file
    server.travel("closed")
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}"))
    page.get_by_role("textbox", name=say(lang, "compose.message")).fill("We open at nine.")
    page.get_by_role("button", name=say(lang, "compose.send"), exact=True).click()
    toast = page.locator("#notice")  # the page's notice (the snippet picker has a status of its own)
    expect(toast).to_contain_text(say(lang, "compose.done_held", time="").rstrip(". "))
    text = toast.inner_text().strip()
    assert ".." not in text and text.endswith(".") and not text.endswith(". ."), text
    if lang == "en":
        assert re.search(r"\d:00 a\.m\.$", text), text
    cancel_held(server, client)


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_information_leaves_by_itself_and_an_error_stays_until_dismissed(console, server, a_file, lang, size):
    client = a_file
    page = console.page
    page.clock.install()
    page = open_as(console, "amal", lang, size)
    page.goto(server.console(f"#/clients/{client['client_id']}/file"))
    page.get_by_label(say(lang, "file.warn_reason")).fill("Shouted at the front desk")
    page.get_by_role("button", name=say(lang, "file.warn_button")).click()
    status = page.locator("#notice")  # the page's notice (the header's live status is one too)
    expect(status).to_have_text(say(lang, "file.warned"))
    page.clock.run_for(7_000)
    expect(status).to_have_text("")

    page.goto(server.console("#/compliance"))  # not a worker's page: an error, which stays
    alert = page.get_by_role("alert").filter(has_text=say(lang, "error.not_for_role"))
    expect(alert).to_be_visible()
    page.clock.run_for(120_000)
    expect(alert).to_be_visible()
    alert.get_by_role("button", name=say(lang, "shell.dismiss")).click()
    expect(alert).to_have_count(0)


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_a_to_date_before_from_keeps_the_form_and_says_why_next_to_to(console, server, lang, size):
    page = open_as(console, "sup-maria", lang, size)
    why = re.compile(re.escape(say(lang, "form.end_before_start")))
    for fragment in ("#/compliance", "#/usage", "#/reviews", "#/inquiries", "#/audit"):
        page.goto(server.console(f"{fragment}?from=2027-03-07&to=2027-03-01"))
        period = page.get_by_role("form", name=say(lang, "sup.period")) if fragment != "#/audit" \
            else page.get_by_role("search", name=say(lang, "audit.search"))
        end = period.get_by_label(say(lang, "audit.f_to" if fragment == "#/audit" else "sup.to"), exact=True)
        expect(end).to_have_accessible_description(why)
        expect(end).to_have_value("2027-03-01")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    # typed in the form: the same, and nothing is asked of the API
    page.goto(server.console("#/compliance?from=2027-03-01&to=2027-03-07"))
    period = page.get_by_role("form", name=say(lang, "sup.period"))
    expect(page.get_by_role("table", name=say(lang, "dash.caption"))).to_be_visible()
    period.get_by_label(say(lang, "sup.to"), exact=True).fill("2027-02-20")
    period.get_by_role("button", name=say(lang, "sup.show")).click()
    expect(period.get_by_label(say(lang, "sup.to"), exact=True)).to_have_accessible_description(why)
    expect(page).to_have_url(re.compile(r"from=2027-03-01&to=2027-03-07$"))


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_the_inquiries_page_opened_from_its_address_says_which_period_it_shows(console, server, lang, size):
    page = open_as(console, "sup-maria", lang, size)
    page.goto(server.console("#/inquiries"))
    period = page.get_by_role("form", name=say(lang, "sup.period"))
    start = period.get_by_label(say(lang, "sup.from"), exact=True)
    end = period.get_by_label(say(lang, "sup.to"), exact=True)
    expect(start).to_have_value(re.compile(r"^\d{4}-\d{2}-01$"))
    count = page.locator("p.count")
    expect(count).to_contain_text(f"{start.input_value()}")
    expect(count).to_contain_text(f"{end.input_value()}")
    assert "undefined" not in count.inner_text()


@pytest.mark.parametrize(("lang", "size"), LOOKS, ids=LOOK_IDS)
def test_a_work_number_typed_the_national_way_is_accepted(console, server, lang, size):
    page = open_as(console, "admin-lee", lang, size)
    page.goto(server.console("#/setup/numbers"))
    number = page.get_by_label(say(lang, "num.number_field"), exact=True)
    expect(number).to_have_accessible_description(say(lang, "num.number_hint"))
    number.fill("587 355 0109")
    page.get_by_label(say(lang, "num.worker"), exact=True).select_option("jean")
    page.get_by_role("button", name=say(lang, "num.check")).click()
    expect(page.get_by_role("heading", name=say(lang, "num.what_happens"))).to_be_visible()
    expect(page.locator(".preview-box")).to_contain_text(re.compile(r"\+15873550109|Jean Tremblay"))
    expect(number).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize(("lang", "size"), TWO_LOOKS, ids=TWO_LOOK_IDS)
def test_a_form_the_api_refuses_keeps_its_values_and_says_why_next_to_the_field(console, server, lang, size):
    page = open_as(console, "admin-lee", lang, size)
    page.goto(server.console("#/setup/intake"))
    name = new_name()
    page.get_by_label(say(lang, "intake.name"), exact=True).fill(name)
    phone = page.get_by_label(say(lang, "intake.phone"), exact=True)
    phone.fill("12")
    page.get_by_role("button", name=say(lang, "intake.create")).click()
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description(re.compile("phone number"))
    expect(phone).to_be_focused()
    expect(phone).to_have_value("12")
    expect(page.get_by_label(say(lang, "intake.name"), exact=True)).to_have_value(name)
    phone.fill(f"(587) 556-{next(_NATIONAL):04d}")  # the national way: accepted
    page.get_by_role("button", name=say(lang, "intake.create")).click()
    expect(page.get_by_role("heading", name=say(lang, "intake.consent_for", name=name))).to_be_visible()
    expect(phone).not_to_have_attribute("aria-invalid", "true")
    console.errors[:] = [e for e in console.errors if "status of 400" not in e]  # the refusal is the point
