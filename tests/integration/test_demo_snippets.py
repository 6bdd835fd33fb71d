"""The demo agency's snippets (``cli seed``, hence ``make run``): English, French and Arabic ones beside
the seeded holding replies, added once; an edit made since survives a second seed."""

from __future__ import annotations

from chalicelib import bootstrap, cli
from chalicelib.demo_snippets import DEMO_SNIPPETS
from chalicelib.domain.model import Principal, Role
from chalicelib.services.snippets import PutSnippet

ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))


def test_the_seed_adds_the_demo_snippets_once_in_three_languages(aws, capsys):
    assert cli.main(["seed"]) == 0
    assert "snippets: 9 added" in capsys.readouterr().out
    snippets = bootstrap.container().snippets
    listed = {s.snippet_id: s for s in snippets.list(ADMIN)}
    assert {language for _, language, _, _ in DEMO_SNIPPETS} == {"en", "fr", "ar"}
    assert {sid for sid, *_ in DEMO_SNIPPETS} | {"holding-reply-en", "holding-reply-fr", "holding-reply-ar"} == set(listed)

    snippets.put(ADMIN, PutSnippet.parse("office-hours", {"title": "Our hours", "language": "en", "body": "9 to 5"}))
    assert cli.main(["seed"]) == 0
    assert "snippets: 0 added" in capsys.readouterr().out
    assert {s.snippet_id: s.title for s in snippets.list(ADMIN)}["office-hours"] == "Our hours"
