"""How hard the fuzz tests push: a stated number of examples in CI, many more on demand.

Two profiles, picked with ``HYPOTHESIS_PROFILE`` (default ``ci``):

- ``ci`` (``make test``): 50 examples per fuzz target through HTTP, 200 per pure-parser target;
  the whole fuzz set stays well under a minute on one core.
- ``fuzz`` (``make fuzz``): 2,000 examples per target (10,000 for pure parsers).

The fuzz targets take their settings from ``@fuzz_settings()`` (or ``@fuzz_settings(fast=True)``
for targets that touch no storage), so other property tests keep their own settings whatever
profile is active. ``tests/conftest.py`` also loads the chosen profile as hypothesis's default.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = {"ci": 50, "fuzz": 2000}
FAST_FACTOR = {"ci": 4, "fuzz": 5}  # pure targets (no moto, no HTTP) are ~100x cheaper per example
ENV = "HYPOTHESIS_PROFILE"

_COMMON = {
    "deadline": None,  # moto's first call in a process is slow; timing is not what is tested
    # Fixtures are per test: the examples of one test share one moto world and clean up themselves.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "print_blob": True,
}

for _name, _count in EXAMPLES.items():
    settings.register_profile(_name, max_examples=_count, **_COMMON)  # type: ignore[arg-type]


def profile_name() -> str:
    name = os.environ.get(ENV) or os.environ.get("CMDM_FUZZ_PROFILE") or "ci"
    if name not in EXAMPLES:
        raise ValueError(f"{ENV} must be one of {', '.join(EXAMPLES)}, not {name!r}")
    return name


def load_from_environment() -> None:
    """Make the chosen profile hypothesis's default (only when ``HYPOTHESIS_PROFILE`` is set)."""
    if os.environ.get(ENV):
        settings.load_profile(profile_name())


def fuzz_settings(*, fast: bool = False, **overrides: object) -> settings:
    """The settings of the active profile, as a decorator: ``@fuzz_settings()``."""
    name = profile_name()
    if fast:
        overrides.setdefault("max_examples", EXAMPLES[name] * FAST_FACTOR[name])
    return settings(settings.get_profile(name), **overrides)  # type: ignore[arg-type]
