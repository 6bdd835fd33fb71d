"""What the console says in each language, for the browser tests (issue 22).

A test that runs in English and in French asks here for the words it expects: the console's own
catalogues (chalicelib/web/i18n), with placeholders filled and plural forms chosen by each
language's rule, as js/i18n.js does. The sizes and languages every issue-22 behaviour is checked
at are here too.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import ROOT

LOOKS = [("en", DESKTOP), ("en", PHONE), ("fr", DESKTOP), ("fr", PHONE)]
LOOK_IDS = [f"{lang}-{size['width']}" for lang, size in LOOKS]
# One size per language where the size changes nothing the test looks at (the logic, not the layout).
TWO_LOOKS = [("en", DESKTOP), ("fr", PHONE)]
TWO_LOOK_IDS = [f"{lang}-{size['width']}" for lang, size in TWO_LOOKS]


_FIRST = ("Mariam", "Hamid", "Sofia", "Anh", "Yosef", "Leila", "Tariq", "Ines", "Bashir", "Nour", "Kofi", "Zahra",
          "Diego", "Amina", "Farid", "Lucia", "Oksana", "Ravi")
# Surnames no other test uses, so a name here never matches another test's client.
_LAST = ("Abdelrahman", "Bekele", "Castellanos", "Dlamini", "Ebrahimzadeh", "Fofana", "Gebremedhin", "Haidari",
         "Ilunga", "Jaramillo", "Kiplagat", "Lungu")
_NAMES = (f"{first} {last}" for last in _LAST for first in _FIRST)


def new_name() -> str:
    """A client's or staff member's name, as a settlement agency's would read, never the same twice
    in a test session (the tests share one server)."""
    return next(_NAMES)


@cache
def catalogue(lang: str) -> dict[str, Any]:
    return json.loads((ROOT / "chalicelib" / "web" / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def plural_form(lang: str, n: int) -> str:
    """Intl.PluralRules for whole numbers: English "one" is 1 only; French "one" is 0 and 1."""
    return "one" if (n in (0, 1) if lang == "fr" else n == 1) else "other"


def say(lang: str, key: str, **values: Any) -> str:
    text = catalogue(lang)[key]
    if isinstance(text, dict):
        text = text[plural_form(lang, int(values.get("n", 0)))]

    def fill(found: re.Match[str]) -> str:
        name, stop = found.group(1), found.group(2)
        if name not in values:
            return found.group(0)
        value = str(values[name])
        return value if stop and value.endswith(".") else value + stop

    return re.sub(r"\{(\w+)\}(\.?)", fill, text)


def ensure_open(server: Any) -> str:
    """The agency open now, moving the shared server's clock only when it is closed: the tests
    share one clock, and each move forward is a day nearer the dates other tests seed."""
    status, policy = server.api("GET", "/policy", "sup-maria")
    assert status == 200, policy
    return server.travel("open") if not policy["open_now"] else str(policy["now"])


def use_language(page: Any, lang: str) -> None:
    """Choose the interface language with the header's list, as a user does."""
    from playwright.sync_api import expect

    page.locator("#lang").select_option(lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.get_by_role("navigation", name="Main").get_by_role("link", name=say(lang, "nav.inbox")).wait_for()


def open_as(console: Any, staff_id: str, lang: str, size: dict[str, int]) -> Any:
    """A tab signed in as `staff_id`, at `size`, in `lang`."""
    page = console.sign_in_as(staff_id)
    page.set_viewport_size(size)
    use_language(page, lang)
    return page


def in_viewport(page: Any, locator: Any) -> bool:
    """Is the element wholly inside the window, without scrolling?"""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and \
        box["y"] + box["height"] <= size["height"] + 0.5 and box["x"] + box["width"] <= size["width"] + 0.5
