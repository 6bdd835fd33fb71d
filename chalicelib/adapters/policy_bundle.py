"""Agency policies compiled by ``make package``, so a deployed cold start skips the slow parts.

Loading ``policies/*.json`` at run time costs a cold Lambda about 130 ms before its first reply:
importing ``jsonschema`` and validating every file (~70 ms), and importing the ``holidays``
package, whose registry pulls in every country (~60 ms). Neither result changes between two
deployments, so ``make package`` (``infra/package.py``) does both once and writes the outcome to
``chalicelib/policies_bundle/policies.compiled.json``:

* each agency's policy document, already validated against ``policies/schema.json`` and already
  built once into a domain ``Policy`` (so every check the domain makes has passed too);
* its statutory holidays resolved for ``holiday_years`` (from a few years back to ten years ahead
  of the packaging date), as plain ISO dates.

The deployed service (no ``policies/`` folder, no ``$CMDM_POLICY_DIR``) reads that file with the
standard ``json`` module and builds each ``Policy`` with its compiled holidays: neither
``jsonschema`` nor ``holidays`` is imported. ``local`` and ``test`` keep the run-time path
(``policy_loader.PolicyStore`` over ``policies/``), where an edited file is checked on the next start.

When the compiled years run out (a package left deployed for longer than ten years, or a report on
a period before the first compiled year), the calendar resolves that year at run time with the
``holidays`` package, which is still shipped, and logs one warning per year asking for a fresh
``make package``: the answer stays right, only that request is slower. A file of another format
version, or one that cannot be read, stops the container with a message saying to package again:
a deployment never runs on half its policies.

This module must not import ``jsonschema``, ``holidays`` or ``policy_loader``: it is what the
deployed code reads. Compiling (package time) is ``policy_loader.compile_policies``, which
validates with the loader and writes what this module reads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from chalicelib.config import PROJECT_ROOT
from chalicelib.domain.policy import Policy

__all__ = [
    "BUNDLE_DIR",
    "COMPILED_FILENAME",
    "FORMAT",
    "YEARS_AHEAD",
    "YEARS_BEHIND",
    "CompiledPolicyError",
    "CompiledPolicyStore",
    "PolicyCache",
    "compiled_bundle",
    "holiday_years",
    "load_compiled",
]

PROJECT_POLICY_DIR: Path = PROJECT_ROOT / "policies"
# Written by `make package` (infra/package.py) into the staging copy; gitignored, never committed.
BUNDLE_DIR: Path = Path(__file__).resolve().parent.parent / "policies_bundle"
COMPILED_FILENAME = "policies.compiled.json"
FORMAT = "cmdm-compiled-policies/1"
#: Years compiled around the packaging year: reports and "closed since" look back, deadlines and
#: held messages look ahead (at most 400 days), and a package may stay deployed for years.
YEARS_BEHIND = 3
YEARS_AHEAD = 10


class CompiledPolicyError(RuntimeError):
    """The compiled bundle cannot be used; the message says to run ``make package`` again."""


def holiday_years(today: date) -> range:
    """The years ``make package`` compiles holidays for, packaging on ``today``."""
    return range(today.year - YEARS_BEHIND, today.year + YEARS_AHEAD + 1)


def compiled_bundle(policy_dir: Path | None, bundle_dir: Path = BUNDLE_DIR) -> Path | None:
    """The compiled file to serve from, or ``None`` for the run-time path.

    Only a deployed package uses it: no ``$CMDM_POLICY_DIR`` (``policy_dir``), no project
    ``policies/`` folder, and a compiled file in the bundle.
    """
    if policy_dir is not None or PROJECT_POLICY_DIR.is_dir():
        return None
    compiled = bundle_dir / COMPILED_FILENAME
    return compiled if compiled.is_file() else None


# --- package time --------------------------------------------------------------------------------


# --- run time ------------------------------------------------------------------------------------


def _policy(agency_id: str, entry: Mapping[str, Any], years: range) -> Policy:
    document = entry["document"]
    if document.get("agency_id") != agency_id:
        raise CompiledPolicyError(f"compiled policy {agency_id!r} declares {document.get('agency_id')!r}")
    holidays = entry.get("holidays") or {}
    compiled: dict[int, frozenset[date]] | None = None
    if (document.get("holidays") or {}).get("country") is not None:
        # Every compiled year is present (an empty list would mean "no holidays that year").
        compiled = {year: frozenset(map(date.fromisoformat, holidays.get(str(year), ()))) for year in years}
    return Policy.from_dict(document, compiled_holidays=compiled)


def load_compiled(path: Path) -> dict[str, Policy]:
    """Every policy of a compiled file, by agency id; ``CompiledPolicyError`` if it is unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CompiledPolicyError(f"{path.name} cannot be read ({exc}); run `make package` again") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise CompiledPolicyError(f"{path.name} is format {found!r}, not {FORMAT!r}; run `make package` again")
    first, last = data["holiday_years"]
    years = range(int(first), int(last) + 1)
    try:
        return {agency_id: _policy(agency_id, entry, years) for agency_id, entry in data["policies"].items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise CompiledPolicyError(f"{path.name} holds an unusable policy ({exc}); run `make package` again") from exc


class PolicyCache:
    """All agency policies of one source, read on first use and cached for the container's life.

    Subclasses say where from (``_read``): ``CompiledPolicyStore`` here, ``policy_loader.PolicyStore``
    for the run-time path. One bad policy refuses them all: a deployment must not run with some
    agencies silently missing.
    """

    def __init__(self) -> None:
        self._policies: dict[str, Policy] | None = None
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Policy]:
        raise NotImplementedError

    def _load(self) -> dict[str, Policy]:
        if self._policies is None:
            with self._lock:
                if self._policies is None:
                    self._policies = self._read()
        return self._policies

    def get(self, agency_id: str) -> Policy:
        """The policy of ``agency_id``; ``KeyError`` if none is defined."""
        policies = self._load()
        try:
            return policies[agency_id]
        except KeyError:
            raise KeyError(agency_id) from None

    def all(self) -> list[Policy]:
        """Every policy, sorted by agency id."""
        policies = self._load()
        return [policies[key] for key in sorted(policies)]

    def reload(self) -> None:
        """Forget the cache; the next call reads the source again."""
        with self._lock:
            self._policies = None


class CompiledPolicyStore(PolicyCache):
    """The deployed counterpart of ``policy_loader.PolicyStore``: same reads, from the compiled file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = Path(path)

    @property
    def directory(self) -> Path:
        return self._path.parent

    def _read(self) -> dict[str, Policy]:
        return load_compiled(self._path)
