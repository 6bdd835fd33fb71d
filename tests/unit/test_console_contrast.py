"""The console's colours meet WCAG 2.1 AA: text at least 4.5:1 on every background it is drawn on.

Read from the one stylesheet (``chalicelib/web/console.css``), so a colour change that breaks
contrast fails here, not in a user's eyes.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "chalicelib" / "web" / "console.css").read_text(encoding="utf-8")
ROOT_BLOCK = re.search(r":root\s*\{(.*?)\}", CSS, re.S).group(1)  # type: ignore[union-attr]
VARS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", ROOT_BLOCK))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour(name: str) -> str:
    return VARS[name] if not name.startswith("#") else name


# (text, background) as the stylesheet draws them
PAIRS = [
    ("ink", "paper"), ("ink", "wash"), ("muted", "paper"), ("muted", "wash"), ("accent", "paper"), ("accent", "wash"),
    ("accent-ink", "accent"), ("danger", "paper"), ("paper", "danger"), ("paper", "ink"), ("ok", "paper"),
    ("ink", "in-bg"), ("ink", "out-bg"), ("ink", "auto-bg"), ("ink", "warn-bg"),
    ("muted", "in-bg"), ("muted", "out-bg"), ("muted", "auto-bg"), ("accent", "out-bg"),
    ("ink", "#e07b2a"), ("paper", "#9c4305"),  # the heat map's two darkest cells
]


def test_the_stylesheet_defines_every_colour_the_pairs_use():
    assert {n for pair in PAIRS for n in pair if not n.startswith("#")} <= set(VARS)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_meets_the_aa_contrast_ratio_on_its_background(text: str, background: str):
    ratio = contrast(colour(text), colour(background))
    assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"
