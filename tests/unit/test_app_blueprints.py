"""app.py is the blueprints of chalicelib/api/ put together: the jobs' Lambda handlers stay app.<name>."""

from __future__ import annotations

import importlib

import app
from chalicelib.api import jobs, live


def test_every_jobs_lambda_handler_is_a_name_app_py_exports() -> None:
    sources = {e.name: e.handler_string for e in app.app.event_sources}
    assert set(sources) == set(jobs.HANDLERS) | set(live.HANDLERS)
    for name, handler in sources.items():
        module, function = handler.rsplit(".", 1)
        assert (module, function) == ("app", name)
        assert getattr(importlib.import_module(module), function) is app.app.handler_map[name]


def test_the_jobs_run_in_process_by_the_same_names_as_before() -> None:
    assert list(app.JOBS) == ["copy_media", "clear_refused_at_twilio", "sweep_clocks", "run_followups",
                              "erase_expired", "roll_up_reports", "send_posts"]
    assert app.run_job is jobs.run_job and app.JOBS is jobs.JOBS
