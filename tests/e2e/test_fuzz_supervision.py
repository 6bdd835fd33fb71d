"""Fuzzing the supervision endpoints' query strings and path ids: never a 500, always a JSON error.

Every parameter starts valid and may be dropped, repeated or swapped for odd text (huge, RTL,
NUL, surrogates as %-escapes, dates that are almost dates). Examples: 50 under ``make test``,
2,000 under ``make fuzz``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from tests.e2e.test_fuzz_staff_api import odd_text
from tests.hypothesis_profiles import fuzz_settings

ALMOST_DATES = ["2026-02-29", "2026-13-01", "2026-1-1", "2026-01-01T00:00", "０２０２６-01-01", "9999-12-31",
                "0001-01-01", "2026-01-01\u0000", " 2026-01-01", "2026-W01", "-2026-01-01", ""]
VALID = {"from": "2026-03-01", "to": "2026-03-31", "staff_id": "amal", "client_id": "cl_x", "limit": "10",
         "after": "2026-03-02T17:00:00.000000Z#ev_1", "period": "month"}

value = st.one_of(st.sampled_from(ALMOST_DATES), odd_text, st.text(min_size=200, max_size=3000),
                  st.integers(-10**6, 10**6).map(str))
params = st.fixed_dictionaries({}, optional={k: st.one_of(st.just(v), value) for k, v in VALID.items()})


def assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.body
    if response.status_code >= 400:
        error = json.loads(response.body)["error"]
        assert error["code"] and error["message"]
        if response.status_code == 400:
            assert error["field"] in (*VALID, "body")


@fuzz_settings()
@given(path=st.sampled_from(["/audit", "/reports/compliance", "/reports/usage"]), query=params,
       csv=st.booleans())
def test_report_queries_never_fail_with_a_500(http, agency, path, query, csv):
    url = path + "?" + "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in query.items())
    headers = dict(agency["supervisor"])
    if csv:
        headers["Accept"] = "text/csv"
    assert_clean(http.client.http.get(url, headers=headers))


@fuzz_settings()
@given(client_id=odd_text, method=st.sampled_from(["GET", "DELETE"]))
def test_odd_client_ids_for_export_and_erasure_are_404s_or_400s(http, agency, client_id, method):
    encoded = quote(client_id, safe="", errors="surrogatepass") or "x"
    path = f"/clients/{encoded}/export" if method == "GET" else f"/clients/{encoded}"
    response = http.call(method, path, agency["admin"])
    assert_clean(response)
    assert response.status_code in (400, 404)
