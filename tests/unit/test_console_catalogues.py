"""The console's word catalogues (chalicelib/web/i18n): every word in both languages (issue 22).

The browser tests walk every page; this checks the catalogues themselves, quickly: the same keys
in English and French, the same placeholders for each key, plural texts with the forms both
languages' rules choose, and every key the console's scripts name literally present.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "chalicelib" / "web"
LANGUAGES = ("en", "fr")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# t("area.name" ...) with a literal key; dynamic keys (t("role." + role)) are the browser walk's.
LITERAL_KEY = re.compile(r"""\bt\(\s*"([a-z0-9_]+(?:\.[a-z0-9_]+)+)"\s*[,)]""")


def catalogue(lang: str) -> dict:
    return json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def forms(value) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(value) -> set[str]:
    return {name for text in forms(value) for name in PLACEHOLDER.findall(text)}


def test_english_and_french_have_the_same_keys():
    en, fr = catalogue("en"), catalogue("fr")
    assert sorted(set(en) - set(fr)) == [] and sorted(set(fr) - set(en)) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_is_a_string_or_plural_forms_by_rule(lang):
    for key, value in catalogue(lang).items():
        if isinstance(value, dict):
            # Intl.PluralRules gives "one" and "other" for English and French (fr: 0 and 1 are "one")
            assert set(value) == {"one", "other"}, key
            assert all("{n}" in text for text in value.values()), f"{key}: a plural text says its count"
        else:
            assert isinstance(value, str) and value.strip(), key


def test_each_key_has_the_same_placeholders_in_both_languages():
    en, fr = catalogue("en"), catalogue("fr")
    different = {key: (placeholders(en[key]), placeholders(fr[key])) for key in en
                 if placeholders(en[key]) != placeholders(fr[key])}
    assert different == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_text_ends_a_placeholder_with_a_doubled_stop(lang):
    doubled = [key for key, value in catalogue(lang).items() for text in forms(value) if ".." in text]
    assert doubled == []


def test_every_key_the_scripts_name_is_in_the_catalogue():
    en = catalogue("en")
    named = {key for path in (WEB / "js").rglob("*.js") for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    assert named, "the scan found the scripts' keys"
    assert sorted(named - set(en)) == []
