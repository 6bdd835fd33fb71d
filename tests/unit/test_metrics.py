"""Clock-breach metric as an embedded-metric-format log line, the one the breach alarm watches (issue 7)."""

from __future__ import annotations

import io
import json

import pytest

from chalicelib.adapters import metrics


def test_breaches_are_written_as_an_emf_line_with_the_stage_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "cmdm-prod")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "CMDM")
    stream = io.StringIO()
    metrics.record_breaches(3, stream=stream)
    record = json.loads(stream.getvalue())
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "CMDM"
    assert directive["Metrics"] == [{"Name": "InquiriesBreached", "Unit": "Count"}]
    assert directive["Dimensions"] == [["service"]]
    assert record["service"] == "cmdm-prod" and record["InquiriesBreached"] == 3.0
    assert isinstance(record["_aws"]["Timestamp"], int)


def test_nothing_is_printed_outside_the_aws_stage(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.record_breaches(1)  # the test stage
    assert capsys.readouterr().out == ""


def test_in_the_aws_stage_the_line_goes_to_stdout_for_lambdas_log_agent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMDM_STAGE", "aws")
    metrics.record_breaches(0)  # zero too: a steady metric, so the alarm sees data
    assert json.loads(capsys.readouterr().out)["InquiriesBreached"] == 0.0
