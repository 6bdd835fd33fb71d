"""What another agency may learn (issue 11, item 12): nothing, not even through a cursor or an error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine

from tests.conftest import auth, new_client


def _halifax(http: Any) -> dict[str, str]:
    admin = auth("admin-h", "admin", "halifax-isans")
    assert http.call("PUT", "/staff/admin-h", admin, {"role": "admin", "name": "H"}).status_code in (200, 201)
    assert http.call("PUT", "/staff/w-h", admin, {"role": "worker", "name": "W"}).status_code in (200, 201)
    return admin


def test_the_audit_cursor_of_another_agencys_client_reveals_nothing(http: Any, agency: Any) -> None:
    # The events are written at a fixed instant inside the queried year, whatever the machine's date.
    with time_machine.travel(datetime(2026, 11, 17, 16, 0, tzinfo=UTC), tick=False):
        calgary_client = new_client(http, agency["amal"])  # created + consent: two events on its trail
        halifax = _halifax(http)
        own = http.call("GET", f"/audit?from=2026-01-01&to=2026-12-31&client_id={calgary_client['client_id']}&limit=1",
                        agency["supervisor"])
        assert own.status_code == 200 and len(own.json["events"]) == 1 and own.json["next"]  # the cursor works
        r = http.call("GET", f"/audit?from=2026-01-01&to=2026-12-31&client_id={calgary_client['client_id']}&limit=1",
                      halifax)
        assert r.status_code == 200, r.body
        assert r.json["events"] == [] and r.json["next"] is None
        assert calgary_client["client_id"] in r.body.decode()  # only the caller's own query is echoed
        assert own.json["next"].split("#")[-1] not in r.body.decode()


def test_a_number_of_another_agency_is_refused_without_saying_whose_it_is(http: Any, agency: Any) -> None:
    halifax = _halifax(http)
    taken = http.call("PUT", "/numbers/%2B15873550101", halifax, {"staff_id": "w-h", "channels": ["sms"]})
    nobodys = http.call("PUT", "/numbers/%2B15873550188", halifax, {"staff_id": "w-h", "channels": ["sms"]})
    # Another agency's number and a number nobody registered get the same answer, word for word.
    assert taken.status_code == nobodys.status_code == 404
    assert taken.json == nobodys.json
    error = taken.json["error"]
    assert error["code"] == "not_found"
    assert "another agency" not in error["message"] and "provisioned" not in error["message"]
    assert "calgary" not in taken.body.decode().lower()
    assert error["message"] == "no such number is registered to this agency"
    preview = http.call("GET", "/numbers/%2B15873550101/reassignment?staff_id=w-h&channels=sms", halifax)
    assert preview.status_code == 404 and preview.json == taken.json
