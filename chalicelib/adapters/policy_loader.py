"""Reading agency policy files from disk and refusing bad ones (SPEC §4.5).

Policies are code: one ``<agency_id>.json`` per agency, checked against ``policies/schema.json``
with ``jsonschema`` and then turned into a domain ``Policy``. Everything that can be wrong with a
file (unreadable, not JSON, fails the schema, agency_id not matching the file name, a time zone
or holiday region that does not exist, an interval that ends before it starts) becomes one
``PolicyError`` whose message names the file and the field, e.g.
``policies/x.json: hours.mon[0][1]: '25:00' does not match ...``.

The schema always comes from the project's own ``policies/`` folder, whatever folder the agency
files are read from (``$CMDM_POLICY_DIR`` for tests and local runs). A deployed Lambda package has
no ``policies/`` folder (Chalice ships only ``app.py``, ``chalicelib/`` and ``vendor/``):
``make package`` validates the files and copies them with the schema into
``chalicelib/policies_bundle/``, which is used when ``policies/`` is absent. There the service
normally reads the bundle's compiled form instead (``policy_bundle``: no ``jsonschema``, no
``holidays`` on a cold start); this module is the run-time path of ``local`` and ``test``, and
the validator ``make package`` compiles with.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from chalicelib.adapters.policy_bundle import (
    BUNDLE_DIR,
    FORMAT,
    PROJECT_POLICY_DIR,
    CompiledPolicyError,
    PolicyCache,
)
from chalicelib.config import PROJECT_ROOT, load_settings
from chalicelib.domain.policy import InvalidPolicy, Policy

__all__ = [
    "BUNDLE_DIR",
    "PROJECT_POLICY_DIR",
    "SCHEMA_PATH",
    "PolicyError",
    "PolicyStore",
    "default_policy_dir",
    "load_policy_file",
    "policy_from_data",
    "schema_path",
    "validate_policy_data",
]

SCHEMA_PATH: Path = PROJECT_POLICY_DIR / "schema.json"
SCHEMA_FILENAME = SCHEMA_PATH.name
MAX_FILE_BYTES = 1_000_000


class PolicyError(Exception):
    """A policy file or document that cannot be used; the message names the source and field."""

    def __init__(self, source: str, field: str | None, message: str) -> None:
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.field = field
        self.detail = message


def default_policy_dir() -> Path:
    """``$CMDM_POLICY_DIR`` when set, else the project's ``policies/`` folder (the bundle when deployed)."""
    configured = load_settings().policy_dir
    if configured is not None:
        return configured
    if not PROJECT_POLICY_DIR.is_dir() and BUNDLE_DIR.is_dir():
        return BUNDLE_DIR
    return PROJECT_POLICY_DIR


def schema_path() -> Path:
    """The project's schema; in a deployed package (no ``policies/`` folder) the bundled copy."""
    if not SCHEMA_PATH.exists() and (BUNDLE_DIR / SCHEMA_FILENAME).exists():
        return BUNDLE_DIR / SCHEMA_FILENAME
    return SCHEMA_PATH


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _field_path(parts: Iterable[Any]) -> str:
    """``["hours", "mon", 0, 1]`` -> ``hours.mon[0][1]``; the root is ``(root)``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(root)"


def _describe(error: ValidationError) -> tuple[str, str]:
    """The field path and a message a policy author can act on."""
    path = list(error.absolute_path)
    message = error.message
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required" and isinstance(error.validator_value, list):
        # Name the missing key itself: templates.after_hours.en, not templates.after_hours.
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        missing = [key for key in error.validator_value if key not in instance]
        if missing:
            path.append(missing[0])
            message = "is required"
    elif error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted((schema.get("properties") or {}).keys())
        extra = sorted(str(key) for key in error.instance if key not in allowed)
        if extra:
            path.append(extra[0])
            close = difflib.get_close_matches(extra[0], allowed, n=1)
            if close:
                message = f"is not an allowed key; did you mean {close[0]!r}?"
            else:
                message = "is not an allowed key; expected one of " + ", ".join(allowed)
    elif error.validator == "pattern" and isinstance(schema.get("description"), str):
        if "propertyNames" in list(error.absolute_schema_path) and isinstance(error.instance, str):
            path.append(error.instance)  # a bad key: name the key itself, not its parent
            message = f"the key does not match {schema['description']}"
        else:
            message = f"{_short_repr(error.instance)} does not match {schema['description']}"
    if len(message) > 400:
        message = message[:397] + "..."
    return _field_path(path), message


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_policy_data(data: Any, source: str = "<policy>") -> None:
    """Check a decoded policy document against the schema; ``PolicyError`` for the best error."""
    try:
        error = best_match(_validator().iter_errors(data))
    except (RecursionError, TypeError, ValueError) as exc:  # pathological documents
        raise PolicyError(source, None, f"cannot be validated: {exc}") from exc
    if error is not None:
        field, message = _describe(error)
        raise PolicyError(source, field, message)


def policy_from_data(data: Any, source: str = "<policy>", expected_id: str | None = None) -> Policy:
    """Validate a decoded policy document and build the ``Policy`` (``PolicyError`` if unusable).

    ``expected_id`` is the agency id the document must declare (the file stem for files).
    """
    validate_policy_data(data, source)
    if expected_id is not None and data["agency_id"] != expected_id:
        raise PolicyError(
            source,
            "agency_id",
            f"{data['agency_id']!r} does not match the file name; expected {expected_id!r}",
        )
    try:
        return Policy.from_dict(data)
    except InvalidPolicy as exc:
        raise PolicyError(source, exc.field, exc.detail) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise PolicyError(source, None, f"is not a usable policy: {exc}") from exc


def _display(path: Path) -> str:
    """The file as people know it: relative to the project when inside it, else as given."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except (ValueError, OSError):
        return str(path)


def load_policy_file(path: Path) -> Policy:
    """Read, validate and build one policy file; every failure is a ``PolicyError``."""
    path = Path(path)
    source = _display(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(source, None, f"cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise PolicyError(source, None, f"is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyError(source, None, f"is not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise PolicyError(source, None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise PolicyError(source, None, "invalid JSON: nested too deeply") from exc
    return policy_from_data(data, source, expected_id=path.stem)


def policy_files(directory: Path) -> list[Path]:
    """The agency policy files of a folder: ``*.json`` except ``schema.json``, sorted."""
    return sorted(
        p for p in Path(directory).iterdir() if p.is_file() and p.suffix == ".json" and p.name != SCHEMA_FILENAME
    )


class PolicyStore(PolicyCache):
    """All agency policies of one folder, validated at run time (``local``, ``test``).

    One bad file refuses the whole folder (``PolicyError``): a deployment must not run with some
    agencies silently missing. A deployed package serves ``policy_bundle.CompiledPolicyStore``.
    """

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self._directory = Path(directory) if directory is not None else None

    @property
    def directory(self) -> Path:
        return self._directory if self._directory is not None else default_policy_dir()

    def _read(self) -> dict[str, Policy]:
        directory = self.directory
        if not directory.is_dir():
            raise PolicyError(_display(directory), None, "is not a folder of policy files")
        loaded = {}
        for path in policy_files(directory):
            policy = load_policy_file(path)
            loaded[policy.agency_id] = policy
        return loaded


# --- package time (make package compiles what this module validates; policy_bundle reads it) ---


def compile_policies(source: Path, years: range) -> dict[str, Any]:
    """Validate every agency file of ``source`` and resolve its holidays for ``years``.

    Raises ``policy_loader.PolicyError`` for an invalid file, and ``CompiledPolicyError`` when an
    agency with a holiday country gets no holiday at all in a compiled year (the ``holidays``
    package has no data for that year: better to stop the build than to deploy open holidays).
    """
    from importlib import metadata

    if not years:
        raise CompiledPolicyError("no years to compile holidays for")
    compiled: dict[str, Any] = {}
    for path in policy_files(source):
        policy = load_policy_file(path)
        calendar = policy.calendar
        by_year: dict[str, list[str]] = {}
        if calendar.holiday_country is not None:
            for year in years:
                days = sorted(calendar.holiday_dates(year))
                if not days:
                    raise CompiledPolicyError(
                        f"{path.name}: the holidays package has no {calendar.holiday_country} holidays in {year}"
                    )
                by_year[str(year)] = [d.isoformat() for d in days]
        compiled[policy.agency_id] = {
            "file": path.name,
            "document": json.loads(path.read_text(encoding="utf-8")),
            "holidays": by_year,
        }
    return {
        "format": FORMAT,
        "holiday_years": [years[0], years[-1]],
        "holidays_version": metadata.version("holidays"),
        "policies": compiled,
    }
