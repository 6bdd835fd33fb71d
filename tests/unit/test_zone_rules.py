"""Zone rules come from the pinned tzdata package, whatever the machine's own copy says (SPEC §5.11).

This machine's Debian copy (2025b) still puts Alberta on UTC-7 in winter; tzdata 2026f keeps it on
UTC-6 all year from March 2026. Every test here fails on the 2025 rules.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from chalicelib.domain import zones
from chalicelib.domain.business_time import BusinessCalendar

ROOT = Path(__file__).resolve().parents[2]
MONDAY_0930_CALGARY = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


def demo_calendar() -> BusinessCalendar:
    policy = json.loads((ROOT / "policies" / "calgary-cfn.json").read_text())
    return BusinessCalendar.from_strings(
        policy["timezone"], policy["hours"],
        holiday_country=policy["holidays"]["country"], holiday_subdivision=policy["holidays"]["subdivision"],
    )


def pinned_version() -> str:
    match = re.search(r"^tzdata==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert match, "requirements.txt pins tzdata"
    return match.group(1)


def test_calgary_is_open_at_half_past_nine_on_a_december_monday() -> None:
    calendar = demo_calendar()
    assert calendar.is_open(MONDAY_0930_CALGARY)
    local = MONDAY_0930_CALGARY.astimezone(calendar.zone())
    assert (local.hour, local.minute) == (9, 30)
    assert local.utcoffset() == timedelta(hours=-6)


def test_a_staff_message_at_half_past_five_in_december_is_after_hours() -> None:
    assert not demo_calendar().is_open(datetime(2026, 12, 7, 23, 30, tzinfo=UTC))  # 17:30 in Calgary


def test_alberta_kept_daylight_saving_until_march_2026() -> None:
    edmonton = ZoneInfo("America/Edmonton")
    assert datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(edmonton).utcoffset() == timedelta(hours=-7)
    assert datetime(2026, 7, 15, 12, tzinfo=UTC).astimezone(edmonton).utcoffset() == timedelta(hours=-6)
    assert datetime(2027, 1, 15, 12, tzinfo=UTC).astimezone(edmonton).utcoffset() == timedelta(hours=-6)


def test_zone_lookups_search_no_machine_folder() -> None:
    assert zoneinfo.TZPATH == ()
    assert zones.uses_pinned_rules()


def test_the_process_runs_the_pinned_rules() -> None:
    assert zones.package_version() == pinned_version()
    assert re.fullmatch(r"20\d\d[a-z]", zones.rules_version())
    assert zones.rules_version() >= "2026f"


def test_a_process_told_to_read_the_machine_copy_still_reads_the_pinned_rules() -> None:
    # PYTHONTZPATH points zoneinfo at the machine's folders before anything else; importing the
    # package must still leave the tzdata package as the only source.
    script = (
        "import chalicelib\n"
        "from datetime import datetime, UTC\n"
        "from zoneinfo import ZoneInfo\n"
        "print(datetime(2026, 12, 7, 15, 30, tzinfo=UTC).astimezone(ZoneInfo('America/Edmonton')).isoformat())\n"
    )
    env = {**os.environ, "PYTHONTZPATH": "/usr/share/zoneinfo"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2026-12-07T09:30:00-06:00"
