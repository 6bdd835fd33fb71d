"""Every word the notes region, the snippet picker and the snippets page show exists in English and in
French (issue 22): a key missing from a catalogue would show the key itself to a worker."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT

WEB = ROOT / "chalicelib" / "web"
MODULES = ("js/pages/notes.js", "js/snippet_picker.js", "js/pages/snippets.js")
CATALOGUES = {lang: json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("en", "fr")}


def keys_used(module: str) -> set[str]:
    return set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", (WEB / module).read_text(encoding="utf-8")))


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_each_key_a_casework_module_uses_is_in_the_catalogue(module, language):
    used = keys_used(module)
    assert used, f"{module} uses no catalogue key: the pattern no longer finds them"
    missing = sorted(used - CATALOGUES[language].keys())
    assert not missing, f"{module} uses keys missing from {language}.json: {missing}"


def test_the_fixed_accessible_names_are_the_english_words_of_spec_4_6():
    en = CATALOGUES["en"]
    assert (en["notes.title"], en["notes.label"], en["notes.save"]) == ("Notes", "Note", "Save note")
