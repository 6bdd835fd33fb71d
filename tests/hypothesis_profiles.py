"""How hard the fuzz tests push: a stated number of examples in CI, many more on demand.

``make test`` runs each fuzz target with the ``ci`` profile (50 examples); ``make fuzz`` sets
``CMDM_FUZZ_PROFILE=fuzz`` (2,000 examples per target). The profiles are applied per test with
``@fuzz_settings()``, never loaded globally, so other modules' property tests keep their own
settings whatever runs first.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = {"ci": 50, "fuzz": 2000}

for _name, _count in EXAMPLES.items():
    settings.register_profile(
        f"cmdm-{_name}",
        max_examples=_count,
        deadline=None,  # moto's first call in a process is slow; timing is not what is tested
        # The moto world is per process; each example cleans up after itself.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large, HealthCheck.filter_too_much],
        print_blob=True,
    )


def profile_name() -> str:
    name = os.environ.get("CMDM_FUZZ_PROFILE", "ci")
    if name not in EXAMPLES:
        raise ValueError(f"CMDM_FUZZ_PROFILE must be one of {', '.join(EXAMPLES)}, not {name!r}")
    return name


def fuzz_settings(**overrides: object) -> settings:
    """The settings of the active profile, as a decorator: ``@fuzz_settings()``."""
    return settings(settings.get_profile(f"cmdm-{profile_name()}"), **overrides)  # type: ignore[arg-type]
