"""Policy files on disk: the shipped ones load, bad ones are refused naming file and field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from chalicelib.adapters import policy_loader
from chalicelib.adapters.policy_loader import (
    SCHEMA_PATH,
    PolicyError,
    PolicyStore,
    default_policy_dir,
    load_policy_file,
    policy_from_data,
)
from chalicelib.domain.policy import PLACEHOLDERS, REQUIRED_TEMPLATES, Policy
from tests.unit.test_policy import minimal_policy_data

PROJECT_POLICIES = Path(__file__).resolve().parents[2] / "policies"
SHIPPED = sorted(p for p in PROJECT_POLICIES.glob("*.json") if p.name != "schema.json")
WHATSAPP_NAMES = ("followup", "checkin", "survey", "staff_reopen")


def write_policy(folder: Path, data: Any, name: str | None = None) -> Path:
    stem = name or (data.get("agency_id") if isinstance(data, dict) else None) or "x"
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# -- the schema and the shipped files -------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert SCHEMA_PATH == PROJECT_POLICIES / "schema.json"


def test_the_project_ships_the_three_agencies() -> None:
    assert {p.stem for p in SHIPPED} >= {"calgary-cfn", "halifax-isans", "ottawa-ociso"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_policy_validates_and_loads(path: Path) -> None:
    policy = load_policy_file(path)
    assert policy.agency_id == path.stem
    data = json.loads(path.read_text(encoding="utf-8"))
    assert policy.languages[0] in data["templates"]["after_hours"]
    for name in (*REQUIRED_TEMPLATES, "absence", "opted_out", "opted_in"):
        for language in policy.languages:
            text = policy.template(name, language)
            assert text.strip()
            assert set(re.findall(r"\{(\w+)\}", text)) <= set(PLACEHOLDERS)
    # Every language the agency serves has its own after-hours, intake, help and survey text.
    for language in policy.languages:
        for name in ("after_hours", "intake", "help", "survey"):
            assert language in policy.templates[name], (name, language)
    assert "{next_open}" in policy.template("after_hours", "en")
    assert "{emergency_line}" in policy.template("after_hours", "en")
    assert set(WHATSAPP_NAMES) <= set(policy.whatsapp_templates)
    for template in policy.whatsapp_templates.values():
        assert re.fullmatch(r"HX[0-9a-f]{32}", template.content_sid)
    for language in policy.languages:
        survey = policy.render("survey", language, client_name="Amal")
        assert "1" in survey and "5" in survey


def test_calgary_follows_the_cmdm_policy() -> None:
    policy = load_policy_file(PROJECT_POLICIES / "calgary-cfn.json")
    assert policy.name == "Centre for Newcomers"
    assert policy.timezone == "America/Edmonton"
    assert policy.response_target.total_seconds() == 24 * 3600
    assert policy.clock.value == "calendar"
    assert policy.languages == ("en", "ar", "fr")
    for name, texts in policy.templates.items():
        assert {"en", "ar", "fr"} <= set(texts), name
    # Friday 18:00 -> next opening Monday 09:00 local.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Edmonton")
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=zone)
    assert policy.calendar.next_opening(friday_evening) == datetime(2026, 11, 30, 9, 0, tzinfo=zone)
    assert policy.calendar.is_closed_day(datetime(2026, 12, 24).date())


def test_halifax_closes_for_lunch() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    policy = load_policy_file(PROJECT_POLICIES / "halifax-isans.json")
    zone = ZoneInfo("America/Halifax")
    assert policy.clock.value == "business_hours"
    assert not policy.calendar.is_open(datetime(2026, 11, 30, 12, 30, tzinfo=zone))
    assert policy.calendar.is_open(datetime(2026, 11, 30, 13, 0, tzinfo=zone))


def test_ottawa_is_francophone_first() -> None:
    policy = load_policy_file(PROJECT_POLICIES / "ottawa-ociso.json")
    assert policy.languages[0] == "fr"
    assert policy.timezone == "America/Toronto"
    assert policy.template("after_hours", "fr-CA").startswith("Merci")


# -- a file with only the fixed keys --------------------------------------------------------


def test_fixed_keys_only_is_valid_and_gets_defaults(tmp_path: Path) -> None:
    data = minimal_policy_data()
    policy = load_policy_file(write_policy(tmp_path, data))
    assert policy == Policy.from_dict(data)
    assert policy.languages == ("en",)
    assert policy.warnings_before_meeting == 2
    assert policy.outbound_max_attempts == 5
    assert policy.intake_reply_interval.total_seconds() == 24 * 3600


def test_spec_example_is_valid(tmp_path: Path) -> None:
    """The exact example of SPEC §4.5 (with its placeholder texts) is a valid file."""
    data = minimal_policy_data()
    data["agency_id"] = "calgary-cfn"
    data["name"] = "Centre for Newcomers"
    data["templates"] = {
        "after_hours": {"en": "... {next_open} ... {emergency_line}", "fr": "...", "ar": "..."},
        "intake": {"en": "..."},
        "help": {"en": "..."},
        "followup": {"en": "..."},
        "checkin": {"en": "..."},
        "survey": {"en": "..."},
    }
    assert load_policy_file(write_policy(tmp_path, data)).agency_id == "calgary-cfn"


# -- refused files --------------------------------------------------------------------------


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[key]
    node[last] = value


def _delete(data: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[key]
    del node[last]


BROKEN: list[tuple[str, Any, str]] = [
    # (id, mutation, field named in the message)
    ("timezone-type", lambda d: _set(d, "timezone", 42), "timezone"),
    ("timezone-empty", lambda d: _set(d, "timezone", ""), "timezone"),
    ("timezone-unknown", lambda d: _set(d, "timezone", "America/Atlantis"), "timezone"),
    ("time-25", lambda d: d["hours"].update(mon=[["09:00", "25:00"]]), "hours.mon[0][1]"),
    ("time-start-24", lambda d: d["hours"].update(tue=[["24:00", "24:00"]]), "hours.tue[0][0]"),
    ("interval-three-items", lambda d: d["hours"].update(wed=[["09:00", "12:00", "17:00"]]), "hours.wed[0]"),
    ("interval-backwards", lambda d: d["hours"].update(thu=[["17:00", "09:00"]]), "hours.thu"),
    ("never-open", lambda d: d.update(hours={k: [] for k in d["hours"]}), "hours"),
    ("followup-time", lambda d: _set(d, "followups.time", "24:00"), "followups.time"),
    ("unknown-clock", lambda d: _set(d, "response.clock", "wall"), "response.clock"),
    ("bad-target", lambda d: _set(d, "response.target", "24 hours"), "response.target"),
    ("zero-target", lambda d: _set(d, "response.target", "PT0S"), "response.target"),
    ("target-in-years", lambda d: _set(d, "response.target", "P1Y"), "response.target"),
    ("missing-after-hours-en", lambda d: _delete(d, "templates.after_hours.en"), "templates.after_hours.en"),
    ("missing-template", lambda d: _delete(d, "templates.survey"), "templates.survey"),
    ("empty-template", lambda d: _set(d, "templates.help.en", ""), "templates.help.en"),
    ("blank-template", lambda d: _set(d, "templates.help.en", "   "), "templates.help.en"),
    ("unknown-placeholder", lambda d: _set(d, "templates.help.en", "Open {nxt_open}"), "templates.help.en"),
    ("bad-language-key", lambda d: _set(d, "templates.help.Arabic", "x"), "templates.help"),
    ("typo-top-level", lambda d: d.update(emergency_lines=d.pop("emergency_line")), "emergency_lines"),
    ("typo-in-hours", lambda d: d["hours"].update(thur=d["hours"].pop("thu")), "hours.thu"),
    ("typo-in-followups", lambda d: d["followups"].update(monthly_check_in=True), "followups.monthly_check_in"),
    ("typo-template-name", lambda d: d["templates"].update(absense={"en": "x"}), "templates.absense"),
    ("agency-id-pattern", lambda d: _set(d, "agency_id", "Bad_ID"), "agency_id"),
    ("closure-not-date", lambda d: _set(d, "closures", ["2026-13-01"]), "closures[0]"),
    ("holiday-country", lambda d: _set(d, "holidays", {"country": "ZZ"}), "holidays"),
    ("holiday-country-case", lambda d: _set(d, "holidays", {"country": "ca"}), "holidays.country"),
    ("monthly-checkin-type", lambda d: _set(d, "followups.monthly_checkin", "yes"), "followups.monthly_checkin"),
    ("languages-bad-tag", lambda d: d.update(languages=["english"]), "languages[0]"),
    ("languages-empty", lambda d: d.update(languages=[]), "languages"),
    (
        "whatsapp-sid",
        lambda d: d.update(whatsapp_templates={n: {"content_sid": "HX1"} for n in WHATSAPP_NAMES}),
        "whatsapp_templates.",
    ),
    (
        "whatsapp-missing-name",
        lambda d: d.update(whatsapp_templates={"followup": {"content_sid": "HX" + "0" * 32}}),
        "whatsapp_templates.checkin",
    ),
    (
        "conduct-negative",
        lambda d: d.update(conduct={"warnings_before_meeting": -1}),
        "conduct.warnings_before_meeting",
    ),
    ("retention-bad", lambda d: d.update(retention={"closed_files": "2 years"}), "retention.closed_files"),
    ("retry-zero", lambda d: d.update(outbound_retry={"max_attempts": 0}), "outbound_retry.max_attempts"),
    ("intake-interval", lambda d: d.update(intake_reply_interval="P1M"), "intake_reply_interval"),
]


@pytest.mark.parametrize(("mutate", "field"), [pytest.param(m, f, id=i) for i, m, f in BROKEN])
def test_broken_field_is_refused_naming_file_and_field(tmp_path: Path, mutate: Any, field: str) -> None:
    data = copy.deepcopy(minimal_policy_data())
    mutate(data)
    path = write_policy(tmp_path, data, name="test-agency")
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}"), message
    assert info.value.field is not None and info.value.field.startswith(field.rstrip("."))


def test_bad_time_message_quotes_the_value(tmp_path: Path) -> None:
    data = minimal_policy_data()
    data["hours"]["mon"] = [["09:00", "25:00"]]
    path = write_policy(tmp_path, data)
    with pytest.raises(PolicyError, match=re.escape(f"{path}: hours.mon[0][1]: '25:00' does not match")):
        load_policy_file(path)


def test_agency_id_must_match_the_file_name(tmp_path: Path) -> None:
    path = write_policy(tmp_path, minimal_policy_data(), name="other-agency")
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert str(info.value).startswith(f"{path}: agency_id: 'test-agency' does not match the file name")
    assert info.value.field == "agency_id"


@pytest.mark.parametrize(
    "content",
    [b"{", b"", b"not json", b'{"agency_id": "x",}', b"\xff\xfe\x00garbage", b"[" * 100_000],
    ids=["truncated", "empty", "text", "trailing-comma", "not-utf8", "deep-nesting"],
)
def test_invalid_json_is_refused_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "test-agency.json"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("document", "where"),
    [([], "(root)"), ("policy", "(root)"), (42, "(root)"), (None, "(root)"), ({}, "agency_id")],
    ids=repr,
)
def test_non_object_documents_are_refused(tmp_path: Path, document: Any, where: str) -> None:
    path = write_policy(tmp_path, document, name="test-agency")
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert str(info.value).startswith(f"{path}: {where}: ")


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy_file(tmp_path / "nowhere.json")


def test_project_files_are_named_relative_to_the_project() -> None:
    with pytest.raises(PolicyError) as info:
        policy_from_data({}, "policies/x.json")
    assert str(info.value) == "policies/x.json: agency_id: is required"
    assert policy_loader._display(PROJECT_POLICIES / "calgary-cfn.json") == "policies/calgary-cfn.json"


# -- folders and the store ------------------------------------------------------------------


def test_default_policy_dir_is_the_project_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMDM_POLICY_DIR", raising=False)
    assert default_policy_dir() == PROJECT_POLICIES


def test_cmdm_policy_dir_overrides_the_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = minimal_policy_data()
    data["agency_id"] = "temp-agency"
    write_policy(tmp_path, data)
    (tmp_path / "schema.json").write_text('{"not": {}}', encoding="utf-8")  # never used as the schema
    (tmp_path / "README.md").write_text("not a policy", encoding="utf-8")
    (tmp_path / "notes.json.bak").write_text("{", encoding="utf-8")
    monkeypatch.setenv("CMDM_POLICY_DIR", str(tmp_path))
    assert default_policy_dir() == tmp_path
    store = PolicyStore()
    assert [p.agency_id for p in store.all()] == ["temp-agency"]
    assert store.get("temp-agency").name == "Test Agency"
    with pytest.raises(KeyError):
        store.get("calgary-cfn")


def test_store_over_the_project_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMDM_POLICY_DIR", raising=False)
    store = PolicyStore()
    ids = [p.agency_id for p in store.all()]
    assert ids == sorted(ids)
    assert {"calgary-cfn", "halifax-isans", "ottawa-ociso"} <= set(ids)
    assert store.get("calgary-cfn").timezone == "America/Edmonton"


def test_store_is_lazy_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = policy_loader.load_policy_file

    def counting(path: Path) -> Policy:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(policy_loader, "load_policy_file", counting)
    write_policy(tmp_path, minimal_policy_data())
    store = PolicyStore(tmp_path)
    assert calls == []
    store.get("test-agency")
    store.get("test-agency")
    store.all()
    assert len(calls) == 1
    data = minimal_policy_data()
    data["agency_id"] = "later-agency"
    write_policy(tmp_path, data)
    with pytest.raises(KeyError):
        store.get("later-agency")
    store.reload()
    assert store.get("later-agency").agency_id == "later-agency"


def test_store_refuses_a_folder_with_a_bad_file(tmp_path: Path) -> None:
    write_policy(tmp_path, minimal_policy_data())
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(PolicyError, match="broken.json"):
        PolicyStore(tmp_path).all()


def test_store_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a folder"):
        PolicyStore(tmp_path / "missing").get("x")


# -- property: validation raises only PolicyError -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)

# Strings shaped like the real values, so mutations get past the schema and reach the domain.
plausible_strings = st.sampled_from(
    [
        "09:00",
        "17:00",
        "24:00",
        "00:00",
        "23:59",
        "25:00",
        "12:00",
        "PT0H",
        "PT24H",
        "P0D",
        "P2Y",
        "P1M",
        "America/Edmonton",
        "Mars/Base",
        "UTC",
        "CA",
        "AB",
        "ZZ",
        "QC",
        "US",
        "2026-02-29",
        "2026-12-24",
        "calendar",
        "business_hours",
        "en",
        "ar",
        "fr-CA",
        "HX" + "0" * 32,
        "{next_open}",
        "{bad}",
        "",
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


BASE = minimal_policy_data()
BASE_PATHS = _paths(BASE)


@st.composite
def mutated_policies(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(BASE_PATHS))
        node: Any = data
        try:
            for key in path[:-1]:
                node = node[key]
            value = draw(st.one_of(json_values, plausible_strings, st.lists(plausible_strings, max_size=3)))
            if draw(st.booleans()) and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, st.dictionaries(st.text(max_size=12), json_values, max_size=6), mutated_policies()))
def test_validation_raises_only_policy_error(document: Any) -> None:
    try:
        policy = policy_from_data(document, "fuzz.json")
    except PolicyError as exc:
        assert str(exc).startswith("fuzz.json: ")
    else:
        assert isinstance(policy, Policy)
