"""The caseload reads of both stores, fakes and DynamoDB on moto, answer alike (issue 22): order by
last activity, states, search terms, paging and cursors, the move to another worker, erasure.
The same contract as ``test_repository_contract.py``, whose ``store`` fixture runs each test twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.caseload import FileState
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Channel, Consent, ConsentState
from tests.integration.test_repository_contract import AGENCY, NOW, OTHER_AGENCY, a_file, change, store  # noqa: F401

GIVEN = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}), recorded_at=NOW)


def ids(page: Any) -> list[str]:
    return [c.client_id for c in page.items]


def every_page(read: Any, limit: int) -> list[str]:
    found, after = [], None
    while True:
        page = read(after, limit)
        found += ids(page)
        if page.next is None:
            return found
        after = page.next


def test_files_are_listed_most_recent_activity_first_and_by_state(store):  # noqa: F811
    a_file(store, "cl_a", phone="+15875550101", consent=GIVEN)
    a_file(store, "cl_b", phone="+15875550102", last_inbound_at=NOW + timedelta(hours=2), consent=GIVEN)
    a_file(store, "cl_c", phone="+15875550103", last_outbound_at=NOW + timedelta(hours=1))
    a_file(store, "cl_x", phone="+15875550104", agency=OTHER_AGENCY)
    clients = store.uow().clients
    assert ids(clients.caseload(AGENCY, ["amal"], None, None, 10)) == ["cl_b", "cl_c", "cl_a"]
    assert ids(clients.caseload(AGENCY, None, None, None, 10)) == ["cl_b", "cl_c", "cl_a"]
    assert ids(clients.caseload(AGENCY, ["jean"], None, None, 10)) == []
    assert ids(clients.caseload(AGENCY, None, frozenset({FileState.NO_CONSENT}), None, 10)) == ["cl_c"]
    assert ids(clients.caseload(AGENCY, ["amal"], frozenset({FileState.REACHABLE, FileState.NO_CONSENT}), None, 10)) \
        == ["cl_b", "cl_c", "cl_a"]
    assert every_page(lambda after, n: clients.caseload(AGENCY, ["amal"], None, after, n), 1) == ["cl_b", "cl_c", "cl_a"]


def test_a_file_is_found_by_the_start_of_a_name_word_or_the_end_of_its_number(store):  # noqa: F811
    a_file(store, "cl_a", phone="+15873550103")
    clients = store.uow().clients
    for term in ("n:f", "n:fatima", "p:0103", "p:15873550103"):
        assert ids(clients.search(AGENCY, ["amal"], term, None, 10)) == ["cl_a"], term
        assert ids(clients.search(AGENCY, None, term, None, 10)) == ["cl_a"], term
    for term in ("n:atima", "p:01", "p:5873550104"):
        assert ids(clients.search(AGENCY, None, term, None, 10)) == [], term
    assert ids(clients.search(OTHER_AGENCY, None, "n:fatima", None, 10)) == []
    assert ids(clients.search(AGENCY, ["jean"], "n:fatima", None, 10)) == []


def test_the_search_follows_the_file_to_its_new_case_manager_and_erasure_ends_it(store):  # noqa: F811
    fatima = a_file(store, "cl_a", phone="+15873550103")
    moved = change(store, "cl_a", {"case_manager_id": "jean"})
    clients = store.uow().clients
    assert ids(clients.search(AGENCY, ["jean"], "p:0103", None, 10)) == ["cl_a"]
    assert ids(clients.search(AGENCY, ["amal"], "p:0103", None, 10)) == []
    assert ids(clients.caseload(AGENCY, ["jean"], None, None, 10)) == ["cl_a"]
    assert fatima.case_manager_id == "amal" and moved.case_manager_id == "jean"
    with store.uow() as uow:
        uow.clients.forget_search(moved)
        uow.clients.update(moved, {"erased_at": NOW, "name": None, "phone": None})
        uow.commit()
    clients = store.uow().clients
    assert ids(clients.search(AGENCY, None, "p:0103", None, 10)) == []
    assert ids(clients.search(AGENCY, ["jean"], "n:fatima", None, 10)) == []
    assert ids(clients.caseload(AGENCY, None, None, None, 10)) == []


def test_a_cursor_serves_only_the_list_it_came_from(store):  # noqa: F811
    for i in range(3):
        a_file(store, f"cl_{i}", phone=f"+1587555010{i}")
    clients = store.uow().clients
    first = clients.caseload(AGENCY, ["amal"], None, None, 1)
    assert first.next is not None
    assert len(clients.caseload(AGENCY, ["amal"], None, first.next, 1).items) == 1
    for other in ((AGENCY, ["jean"], None), (AGENCY, None, None), (OTHER_AGENCY, ["amal"], None),
                  (AGENCY, ["amal"], frozenset({FileState.NO_CONSENT}))):
        with pytest.raises(InvalidInput):
            clients.caseload(*other, first.next, 1)
    with pytest.raises(InvalidInput):
        clients.search(AGENCY, ["amal"], "n:fatima", first.next, 1)
    with pytest.raises(InvalidInput):
        clients.caseload(AGENCY, ["amal"], None, "garbage", 1)
