"""Time-zone rules from the pinned IANA database, never the machine's copy (SPEC §5.11).

Agencies live by today's law. The law changes (in tzdata 2026f America/Edmonton stays on UTC-6
all year from March 2026), and a machine's own copy of the database lags: Debian's or Lambda's
image may still say UTC-7 in winter. ``zoneinfo`` looks in the machine's folders (its ``TZPATH``)
before the ``tzdata`` package, so a pinned ``tzdata`` alone changes nothing. ``use_pinned_rules``
empties that search path, which leaves the ``tzdata`` package as the only source; the package
``chalicelib`` calls it on import, before any zone is looked up, in the Lambda, in ``make run``
and in the tests alike.

A rules change reaches a deployment by bumping the pin in ``requirements.txt`` and deploying;
``rules_version`` says which rules a process runs (``GET /me`` shows it).
"""

from __future__ import annotations

import zoneinfo
from zoneinfo import ZoneInfo


def use_pinned_rules() -> None:
    """Make every ``ZoneInfo`` lookup of this process read the ``tzdata`` package only.

    Zones already built from the machine's copy are dropped from ``zoneinfo``'s cache, so the next
    lookup of the same name reads the package.
    """
    if not uses_pinned_rules():
        zoneinfo.reset_tzpath(to=())
        ZoneInfo.clear_cache()


def rules_version() -> str:
    """The IANA release the process's zone lookups read, e.g. ``"2026f"``."""
    import tzdata

    return str(tzdata.IANA_VERSION)


def package_version() -> str:
    """The ``tzdata`` package's own version, e.g. ``"2026.6"`` (what ``requirements.txt`` pins)."""
    import tzdata

    return str(tzdata.__version__)


def calendar_rules() -> dict[str, str]:
    """Which rules a deployment runs, for operators (``GET /me``): the IANA release of its zones and
    the ``holidays`` package its statutory holidays come from (pinned in ``requirements.txt`` too)."""
    from importlib import metadata

    try:
        holidays = metadata.version("holidays")
    except metadata.PackageNotFoundError:  # a copy without its metadata: say so rather than guess
        holidays = "unknown"
    return {"time_zones": rules_version(), "tzdata": package_version(), "holidays": holidays}


def uses_pinned_rules() -> bool:
    """Whether zone lookups can only reach the ``tzdata`` package (no machine folders searched)."""
    return not zoneinfo.TZPATH


__all__ = ["calendar_rules", "package_version", "rules_version", "use_pinned_rules", "uses_pinned_rules"]
