"""The Policy value object: durations, defaults, template lookup and rendering (pure, no files)."""

from __future__ import annotations

import copy
from datetime import time, timedelta
from typing import Any

import pytest

from chalicelib.domain.business_time import ClockMode
from chalicelib.domain.policy import (
    DEFAULT_TEMPLATES,
    InvalidPolicy,
    Policy,
    WhatsAppTemplate,
    parse_duration,
)

WEEKDAY_HOURS = [["09:00", "17:00"]]


def minimal_policy_data() -> dict[str, Any]:
    """Exactly the fixed keys of SPEC §4.5, nothing optional."""
    return {
        "agency_id": "test-agency",
        "name": "Test Agency",
        "timezone": "America/Edmonton",
        "holidays": {"country": "CA", "subdivision": "AB"},
        "closures": ["2026-12-24"],
        "hours": {
            "mon": WEEKDAY_HOURS,
            "tue": WEEKDAY_HOURS,
            "wed": WEEKDAY_HOURS,
            "thu": WEEKDAY_HOURS,
            "fri": WEEKDAY_HOURS,
            "sat": [],
            "sun": [],
        },
        "response": {"target": "PT24H", "clock": "calendar"},
        "emergency_line": "911",
        "followups": {"cadence": "P7D", "time": "10:00", "monthly_checkin": True},
        "surveys": {"cadence": "P90D"},
        "templates": {
            "after_hours": {
                "en": "Closed. We answer from {next_open}. Emergency: {emergency_line}.",
                "fr": "Fermé. Réponse à partir de {next_open}. Urgence : {emergency_line}.",
                "ar": "مغلق. سنرد ابتداءً من {next_open}. الطوارئ: {emergency_line}.",
                "zh-Hant": "zh-Hant text",
            },
            "intake": {"en": "Please visit {agency_name} to open a file."},
            "help": {"en": "Help from {agency_name}."},
            "followup": {"en": "Hello {client_name}, this is {case_manager}."},
            "checkin": {"en": "Monthly check-in, {client_name}."},
            "survey": {"en": "Reply 1 to 5."},
        },
    }


@pytest.fixture
def policy() -> Policy:
    return Policy.from_dict(minimal_policy_data())


# -- parse_duration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT24H", timedelta(hours=24)),
        ("PT8H", timedelta(hours=8)),
        ("PT30M", timedelta(minutes=30)),
        ("PT45S", timedelta(seconds=45)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("PT1H30M15S", timedelta(hours=1, minutes=30, seconds=15)),
        ("P7D", timedelta(days=7)),
        ("P3D", timedelta(days=3)),
        ("P90D", timedelta(days=90)),
        ("P2W", timedelta(days=14)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P1W2D", timedelta(days=9)),
        ("P0D", timedelta(0)),
        ("P2Y", timedelta(days=730)),
        ("P1Y6M", timedelta(days=365 + 180)),
        ("P18M", timedelta(days=540)),
        ("P1MT1M", timedelta(days=30, minutes=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "24H",
        "PT24",
        "pt24h",
        "P1.5D",
        "PT-1H",
        "-PT1H",
        " PT1H",
        "PT1H ",
        "P1H",
        "PT1D",
        "P1D1W",
        "PT1M1H",
        "1 day",
        "P١D",
        "P1DT1H1M1S1",
    ],
)
def test_parse_duration_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_duration_refuses_non_strings() -> None:
    with pytest.raises(ValueError):
        parse_duration(24)  # type: ignore[arg-type]


def test_parse_duration_refuses_overflow() -> None:
    with pytest.raises(ValueError):
        parse_duration("P999999999999D")


# -- from_dict and defaults -----------------------------------------------------------------


def test_from_dict_reads_fixed_keys(policy: Policy) -> None:
    assert policy.agency_id == "test-agency"
    assert policy.name == "Test Agency"
    assert policy.timezone == "America/Edmonton"
    assert policy.calendar.holiday_country == "CA"
    assert policy.calendar.holiday_subdivision == "AB"
    assert policy.response_target == timedelta(hours=24)
    assert policy.clock is ClockMode.CALENDAR
    assert policy.emergency_line == "911"
    assert policy.followup_cadence == timedelta(days=7)
    assert policy.followup_time == time(10, 0)
    assert policy.monthly_checkin is True
    assert policy.survey_cadence == timedelta(days=90)


def test_from_dict_applies_defaults(policy: Policy) -> None:
    assert policy.languages == ("en",)
    assert dict(policy.whatsapp_templates) == {}
    assert policy.warnings_before_meeting == 2
    assert policy.closed_file_retention == timedelta(days=730)
    assert policy.intake_reply_interval == timedelta(hours=24)
    assert policy.survey_reply_window == timedelta(days=3)
    assert policy.outbound_max_attempts == 5
    for name in ("absence", "opted_out", "opted_in"):
        assert policy.template(name, "en") == DEFAULT_TEMPLATES[name]["en"]
        assert policy.template(name, "ar") == DEFAULT_TEMPLATES[name]["en"]


def test_from_dict_reads_optional_keys() -> None:
    data = minimal_policy_data()
    data.update(
        {
            "languages": ["en", "ar"],
            "whatsapp_templates": {
                "followup": {"content_sid": "HX" + "a" * 32, "variables": {"1": "{client_name}"}},
                "checkin": {"content_sid": "HX" + "b" * 32},
                "survey": {"content_sid": "HX" + "c" * 32, "variables": {}},
                "staff_reopen": {"content_sid": "HX" + "d" * 32, "variables": {"1": "{case_manager}"}},
            },
            "conduct": {"warnings_before_meeting": 1},
            "retention": {"closed_files": "P18M"},
            "intake_reply_interval": "PT12H",
            "survey_reply_window": "P2D",
            "outbound_retry": {"max_attempts": 3},
            "response": {"target": "PT8H", "clock": "business_hours"},
        }
    )
    data["templates"]["absence"] = {"en": "{case_manager} is away; {cover_name} covers."}
    policy = Policy.from_dict(data)
    assert policy.languages == ("en", "ar")
    assert policy.whatsapp_templates["followup"] == WhatsAppTemplate("HX" + "a" * 32, {"1": "{client_name}"})
    assert dict(policy.whatsapp_templates["checkin"].variables) == {}
    assert policy.warnings_before_meeting == 1
    assert policy.closed_file_retention == timedelta(days=540)
    assert policy.intake_reply_interval == timedelta(hours=12)
    assert policy.survey_reply_window == timedelta(days=2)
    assert policy.outbound_max_attempts == 3
    assert policy.clock is ClockMode.BUSINESS_HOURS
    assert policy.response_target == timedelta(hours=8)
    assert policy.template("absence", "en") == "{case_manager} is away; {cover_name} covers."
    assert policy.whatsapp_variables("followup", client_name="Amal") == {"1": "Amal"}


def test_from_dict_does_not_share_state_with_input() -> None:
    data = minimal_policy_data()
    policy = Policy.from_dict(data)
    data["templates"]["help"]["en"] = "changed"
    assert policy.template("help", "en") == "Help from {agency_name}."
    with pytest.raises(TypeError):
        policy.templates["help"]["en"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["response"].update(target="PT0H"), "response.target"),
        (lambda d: d["followups"].update(cadence="P0D"), "followups.cadence"),
        (lambda d: d["hours"].update(mon=[["17:00", "09:00"]]), "hours.mon"),
        (lambda d: d.update(timezone="Mars/Olympus_Mons"), "timezone"),
        (lambda d: d.update(holidays={"country": "ZZ"}), "holidays"),
        (lambda d: d.update(closures=["2026-02-30"]), "closures"),
        (lambda d: d.update(hours={k: [] for k in d["hours"]}), "hours"),
    ],
)
def test_from_dict_names_the_field_of_unusable_values(mutate: Any, field: str) -> None:
    data = copy.deepcopy(minimal_policy_data())
    mutate(data)
    with pytest.raises(InvalidPolicy) as info:
        Policy.from_dict(data)
    assert info.value.field == field
    assert str(info.value).startswith(field + ": ")


def test_policy_is_hashable_and_comparable(policy: Policy) -> None:
    again = Policy.from_dict(minimal_policy_data())
    assert policy == again
    assert hash(policy) == hash(again)
    assert {policy.agency_id: policy}[again.agency_id] is policy


# -- template lookup ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected_start"),
    [
        ("en", "Closed."),
        ("fr", "Fermé."),
        ("FR", "Fermé."),
        ("fr-CA", "Fermé."),
        ("fr_CA", "Fermé."),
        ("ar", "مغلق."),
        ("ar-SY", "مغلق."),
        ("zh-Hant", "zh-Hant text"),
        ("zh-hant-TW", "zh-Hant text"),
        ("zh", "Closed."),
        ("zh-Hans", "Closed."),
        ("uk", "Closed."),
        ("", "Closed."),
        ("not a language", "Closed."),
    ],
)
def test_template_language_fallback(policy: Policy, language: str, expected_start: str) -> None:
    assert policy.template("after_hours", language).startswith(expected_start)


def test_template_unknown_name_is_a_key_error(policy: Policy) -> None:
    with pytest.raises(KeyError):
        policy.template("no_such_template", "en")


def test_has_translation(policy: Policy) -> None:
    assert policy.has_translation("after_hours", "ar-SY")
    assert not policy.has_translation("intake", "ar")
    assert not policy.has_translation("no_such_template", "en")


# -- rendering ------------------------------------------------------------------------------


def test_render_fills_placeholders_and_policy_values(policy: Policy) -> None:
    text = policy.render("after_hours", "fr", next_open="lundi à 09 h 00")
    assert text == "Fermé. Réponse à partir de lundi à 09 h 00. Urgence : 911."
    assert policy.render("intake", "en") == "Please visit Test Agency to open a file."


def test_render_leaves_missing_placeholders(policy: Policy) -> None:
    assert policy.render("followup", "en", client_name="Amal") == "Hello Amal, this is {case_manager}."


def test_render_copies_braces_in_values_literally(policy: Policy) -> None:
    text = policy.render("followup", "en", client_name="{case_manager} {0} {", case_manager="Sam}")
    assert text == "Hello {case_manager} {0} {, this is Sam}."


def test_render_text_never_raises_on_odd_templates(policy: Policy) -> None:
    odd = "{0} {} {a.b} {x[1]} { {{ }} {next_open:>5} {next_open}"
    assert policy.render_text(odd, next_open="Monday") == "{0} {} {a.b} {x[1]} { {{ }} {next_open:>5} Monday"


def test_values_may_override_policy_values(policy: Policy) -> None:
    assert policy.render_text("{agency_name}/{emergency_line}", emergency_line="211") == "Test Agency/211"


def test_voice_notes_are_permitted_unless_the_policy_says_otherwise(policy: Policy) -> None:
    assert policy.voice_notes is True  # CMDM: "voice notes are permitted"
    data = minimal_policy_data()
    data["voice_notes"] = False
    assert Policy.from_dict(data).voice_notes is False
