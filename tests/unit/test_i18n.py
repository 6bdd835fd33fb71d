"""``{next_open}`` written for people, and BCP 47 tags in canonical case."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.i18n import format_next_open, normalise_language, resolve_locale

EDMONTON = "America/Edmonton"
ZONE = ZoneInfo(EDMONTON)
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=ZONE)
FRIDAY_EVENING = datetime(2026, 11, 27, 18, 0, tzinfo=ZONE)


def test_english_names_the_weekday_and_hour() -> None:
    text = format_next_open(MONDAY_9, EDMONTON, "en", now=FRIDAY_EVENING)
    assert text == "Monday at 9:00 a.m."


def test_french_names_the_weekday_and_hour() -> None:
    text = format_next_open(MONDAY_9, EDMONTON, "fr", now=FRIDAY_EVENING)
    assert "lundi" in text
    assert text == "lundi à 9 h"  # Canadian French usage: no leading zero, no "00" on the hour


def test_arabic_names_the_weekday_and_hour() -> None:
    text = format_next_open(MONDAY_9, EDMONTON, "ar", now=FRIDAY_EVENING)
    assert "الاثنين" in text
    assert "9:00" in text or "٩:٠٠" in text


def test_regional_tags_keep_their_region() -> None:
    assert "09:00" in format_next_open(MONDAY_9, EDMONTON, "en-GB", now=FRIDAY_EVENING)
    assert "الاثنين" in format_next_open(MONDAY_9, EDMONTON, "ar-SY", now=FRIDAY_EVENING)


def test_other_cldr_languages_work() -> None:
    assert "понеділок" in format_next_open(MONDAY_9, EDMONTON, "uk", now=FRIDAY_EVENING)
    assert "lunes" in format_next_open(MONDAY_9, EDMONTON, "es", now=FRIDAY_EVENING)
    assert "دوشنبه" in format_next_open(MONDAY_9, EDMONTON, "fa", now=FRIDAY_EVENING)
    assert "دوشنبه" in format_next_open(MONDAY_9, EDMONTON, "prs", now=FRIDAY_EVENING)  # Dari


@pytest.mark.parametrize("language", ["xx", "tlh", "not a tag", "", "qaa-x-private"])
def test_unknown_locale_falls_back_to_english(language: str) -> None:
    assert format_next_open(MONDAY_9, EDMONTON, language, now=FRIDAY_EVENING) == "Monday at 9:00 a.m."


def test_time_is_read_in_the_agency_zone() -> None:
    instant = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 09:00 in Edmonton (UTC-6), 11:00 in Halifax
    assert format_next_open(instant, EDMONTON, "en", now=FRIDAY_EVENING) == "Monday at 9:00 a.m."
    assert format_next_open(instant, "America/Halifax", "en", now=FRIDAY_EVENING) == "Monday at 11:00 a.m."


def test_date_is_added_a_week_or_more_ahead() -> None:
    # Monday 18:00 -> next Monday 09:00 is 7 local days ahead: name the date.
    monday_evening = datetime(2026, 11, 23, 18, 0, tzinfo=ZONE)
    assert format_next_open(MONDAY_9, EDMONTON, "en", now=monday_evening) == "Monday, November 30 at 9:00 a.m."
    assert format_next_open(MONDAY_9, EDMONTON, "fr", now=monday_evening) == "lundi 30 novembre à 9 h"
    assert "30" in format_next_open(MONDAY_9, EDMONTON, "ar", now=monday_evening)
    # Six days ahead (Tuesday -> Monday): the weekday is enough.
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=ZONE)
    assert format_next_open(MONDAY_9, EDMONTON, "en", now=tuesday) == "Monday at 9:00 a.m."


def test_now_defaults_to_the_current_time() -> None:
    far = datetime(2100, 1, 4, 9, 0, tzinfo=ZONE)  # a Monday, far ahead: the date is shown
    assert format_next_open(far, EDMONTON, "en") == "Monday, January 4 at 9:00 a.m."


def test_output_has_no_narrow_spaces() -> None:
    for language in ("en", "fr", "ar", "uk"):
        text = format_next_open(MONDAY_9, EDMONTON, language, now=FRIDAY_EVENING)
        assert "\u202f" not in text and "\u00a0" not in text


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        format_next_open(datetime(2026, 11, 30, 9), EDMONTON, "en", now=FRIDAY_EVENING)
    with pytest.raises(ValueError):
        format_next_open(MONDAY_9, EDMONTON, "en", now=datetime(2026, 11, 27))


def test_resolve_locale_uses_the_zone_region() -> None:
    assert str(resolve_locale("en", EDMONTON)) == "en_CA"
    assert str(resolve_locale("fr", "America/Toronto")) == "fr_CA"
    assert str(resolve_locale("ar", EDMONTON)) == "ar"
    assert str(resolve_locale("fr", "Europe/Paris")) == "fr_FR"
    assert str(resolve_locale("en")) == "en"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("AR", "ar"),
        ("fr-ca", "fr-CA"),
        ("FR-CA", "fr-CA"),
        ("zh-hant", "zh-Hant"),
        ("ZH-HANT-tw", "zh-Hant-TW"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("es-419", "es-419"),
        ("pt_BR", "pt-BR"),
        (" uk ", "uk"),
        ("prs", "prs"),
        ("de-CH-1901", "de-CH-1901"),
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
        ("zh-yue-HK", "zh-yue-HK"),
        ("en-x-Private", "en-x-private"),
    ],
)
def test_normalise_language(tag: str, expected: str) -> None:
    assert normalise_language(tag) == expected


@pytest.mark.parametrize(
    "tag",
    [
        "",
        " ",
        "e",
        "english",
        "arabic",
        "abcd",
        "12",
        "en--us",
        "en-",
        "-en",
        "en us",
        "ar!",
        "x-private",
        "en-a",
        "العربية",
        "en-US-US-US",
        "a" * 100,
        None,
        7,
    ],
)
def test_normalise_language_refuses_garbage(tag: object) -> None:
    with pytest.raises(ValueError):
        normalise_language(tag)  # type: ignore[arg-type]


@given(st.text(max_size=30))
def test_normalise_language_is_idempotent_or_refuses(text: str) -> None:
    try:
        tag = normalise_language(text)
    except ValueError:
        return
    assert normalise_language(tag) == tag


@given(
    st.text(max_size=20),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_format_next_open_never_fails_on_odd_languages(language: str, at: datetime) -> None:
    assert format_next_open(at, EDMONTON, language, now=FRIDAY_EVENING)
