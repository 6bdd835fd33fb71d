"""Input at the edges (issue 11, items 8, 10 and 11): a clear 400 or a quiet 200, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import new_client
from tests.storage_dump import every_stored_text


def _assert_error_shape(r: Any, status: int) -> None:
    assert r.status_code == status, r.body
    assert set(r.json) == {"error"} and {"code", "message"} <= set(r.json["error"]), r.body


@pytest.mark.parametrize("signed_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                       "0001-01-01T00:00:00+00:00"])
def test_a_consent_signed_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                          signed_at: str) -> None:
    client = new_client(http, agency["amal"], consent=False)
    before = every_stored_text()
    r = http.call("PUT", f"/clients/{client['client_id']}/consent", agency["amal"], {
        "form_version": "CFN-2026", "signed_at": signed_at, "channels": ["whatsapp"],
        "circle_of_care": ["settlement team"]})
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "signed_at"
    assert every_stored_text() == before


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-05"), ("9999-12-27", "9999-12-31")])
def test_an_absence_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                    start: str, end: str) -> None:
    before = every_stored_text()
    r = http.call("PUT", "/staff/amal/absences/far-away", agency["amal"],
                  {"start": start, "end": end, "cover_id": "jean"})
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "start"
    assert every_stored_text() == before


@pytest.mark.parametrize("path", ["/reports/compliance", "/reports/usage", "/audit"])
@pytest.mark.parametrize("period", ["from=9999-12-01&to=9999-12-31", "from=0001-01-01&to=0001-01-31"])
def test_a_report_period_at_the_edge_of_the_calendar_is_refused_with_400(http: Any, agency: Any,
                                                                         path: str, period: str) -> None:
    r = http.call("GET", f"{path}?{period}", agency["supervisor"])
    _assert_error_shape(r, 400)


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A3", "%EF%BC%95", "1e3", "-1", "%20"])
def test_a_followups_limit_that_is_not_ascii_digits_is_refused_with_400(http: Any, agency: Any,
                                                                        limit: str) -> None:
    r = http.call("GET", f"/followups?limit={limit}", agency["amal"])
    _assert_error_shape(r, 400)
    assert r.json["error"]["field"] == "limit"
