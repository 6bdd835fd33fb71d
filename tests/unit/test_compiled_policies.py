"""Policies compiled by ``make package`` answer exactly like the ones validated at run time.

The compiled bundle (``chalicelib/adapters/policy_bundle.py``) carries each validated policy with
its holidays resolved for a range of years; these tests compare its business time with the run-time
loader's over every day of those years, holidays and closures included, and pin what happens
outside them and with a bundle that does not fit.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from chalicelib.adapters.policy_bundle import (
    COMPILED_FILENAME,
    FORMAT,
    YEARS_AHEAD,
    CompiledPolicyError,
    CompiledPolicyStore,
    compiled_bundle,
    holiday_years,
    load_compiled,
)
from chalicelib.adapters.policy_loader import PolicyStore, compile_policies
from chalicelib.domain.business_time import response_deadline

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
YEARS = range(2023, 2032)  # compiled
COMPARED = range(2024, 2031)  # compared day by day (searches from their edges reach the next year)


@pytest.fixture(scope="module")
def compiled_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / COMPILED_FILENAME
    path.write_text(json.dumps(compile_policies(POLICIES, YEARS)), encoding="utf-8")
    return path


def _days(years: range) -> list[date]:
    day, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    days = []
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def test_compiled_business_time_equals_the_run_time_one_over_the_compiled_years(
    compiled_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_time = {p.agency_id: p for p in PolicyStore(POLICIES).all()}
    compiled = {p.agency_id: p for p in CompiledPolicyStore(compiled_file).all()}
    assert sorted(compiled) == sorted(run_time) == ["calgary-cfn", "halifax-isans", "ottawa-ociso"]
    for agency_id, policy in compiled.items():
        expected = run_time[agency_id]
        assert policy == expected  # every field but the (uncompared) compiled holidays
        calendar, reference = policy.calendar, expected.calendar
        holidays_seen = closures_seen = 0
        for day in _days(COMPARED):
            assert calendar.is_holiday(day) == reference.is_holiday(day), (agency_id, day)
            assert calendar.is_closed_day(day) == reference.is_closed_day(day), (agency_id, day)
            holidays_seen += reference.is_holiday(day)
            closures_seen += day in reference.closures
            if day.day in (1, 9, 17, 24):  # deadlines and openings from a few instants of each month
                for hour in (3, 12, 20):
                    at = datetime.combine(day, time(hour), tzinfo=UTC)
                    assert calendar.next_opening(at) == reference.next_opening(at), (agency_id, at)
                    for target, clock in ((expected.response_target, expected.clock), (timedelta(hours=30), "business_hours")):
                        assert response_deadline(at, calendar, target, clock) == response_deadline(
                            at, reference, target, clock
                        ), (agency_id, at, clock)
        assert holidays_seen >= 7 * len(COMPARED), agency_id  # the years really had holidays to compare
        assert closures_seen == len(expected.calendar.closures), agency_id  # and every closure was compared
    assert not [r for r in caplog.records if r.name == "chalicelib.domain.business_time"]  # never fell back


def test_christmas_and_an_agency_closure_close_a_compiled_calendar(compiled_file: Path) -> None:
    calgary = CompiledPolicyStore(compiled_file).get("calgary-cfn").calendar
    assert calgary.is_holiday(date(2026, 12, 25))
    assert not calgary.is_holiday(date(2026, 12, 24)) and calgary.is_closed_day(date(2026, 12, 24))  # a closure
    assert not calgary.is_closed_day(date(2026, 12, 23))


def test_a_year_outside_the_compiled_range_is_resolved_at_run_time_with_a_warning(
    compiled_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    compiled = CompiledPolicyStore(compiled_file).get("ottawa-ociso").calendar
    reference = PolicyStore(POLICIES).get("ottawa-ociso").calendar
    later = YEARS[-1] + 5
    with caplog.at_level(logging.WARNING, logger="chalicelib.domain.business_time"):
        assert compiled.holiday_dates(later) == reference.holiday_dates(later)
        assert date(later, 12, 25) in compiled.holiday_dates(later)
        compiled.holiday_dates(later)  # once per year, not per question
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert f"holidays of {later} are not compiled (the package has {YEARS[0]}-{YEARS[-1]})" in warnings[0]
    assert "make package" in warnings[0]


def test_loading_the_compiled_bundle_imports_neither_jsonschema_nor_holidays(compiled_file: Path) -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from chalicelib.adapters.policy_bundle import CompiledPolicyStore\n"
        "from datetime import date\n"
        f"store = CompiledPolicyStore(Path({str(compiled_file)!r}))\n"
        "assert store.get('calgary-cfn').calendar.is_closed_day(date(2026, 12, 25))\n"
        "print(sorted(m for m in ('jsonschema', 'holidays') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_packaged_years_reach_ten_years_ahead_of_the_packaging_date() -> None:
    years = holiday_years(date(2026, 12, 2))
    assert years[0] == 2023 and years[-1] == 2026 + YEARS_AHEAD
    # A deadline's search reaches 400 days ahead; the compiled range covers it for the years ahead.
    assert (date(2026, 12, 2) + timedelta(days=400)).year in years


def test_a_compiled_bundle_of_another_format_refuses_to_load(tmp_path: Path, compiled_file: Path) -> None:
    data = json.loads(compiled_file.read_text(encoding="utf-8"))
    data["format"] = "cmdm-compiled-policies/0"
    old = tmp_path / COMPILED_FILENAME
    old.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CompiledPolicyError, match=f"not '{FORMAT}'; run `make package` again"):
        load_compiled(old)
    old.write_text("{not json", encoding="utf-8")
    with pytest.raises(CompiledPolicyError, match="cannot be read"):
        CompiledPolicyStore(old).all()


def test_compiling_refuses_years_the_holidays_package_has_no_data_for() -> None:
    with pytest.raises(CompiledPolicyError, match="no CA holidays in 1800"):
        compile_policies(POLICIES, range(1800, 1801))


def test_only_a_deployed_package_serves_the_compiled_bundle(tmp_path: Path) -> None:
    (tmp_path / COMPILED_FILENAME).write_text("{}", encoding="utf-8")
    # This project has a policies/ folder, as local and test runs do: the run-time path, always.
    assert compiled_bundle(None, tmp_path) is None
    assert compiled_bundle(POLICIES, tmp_path) is None
