"""``PUT /staff/{staff_id}`` as a command: what it says changes, what it leaves out is kept (issue 20, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Role, Staff
from chalicelib.services.admin import PutStaff

AT = datetime(2026, 2, 10, 17, tzinfo=UTC)
STORED = Staff("calgary-cfn", "jean", Role.SUPERVISOR, "Jean", datetime(2026, 1, 5, tzinfo=UTC), active=False,
               phone="+14035550142", version=7)


def applied(body: dict, existing: Staff | None = STORED) -> Staff:
    command = PutStaff.parse("jean", body)
    return command.applied_to(existing, "calgary-cfn", command.phone, AT)


def test_an_edit_without_active_keeps_a_deactivated_member_deactivated() -> None:
    assert applied({"role": "supervisor", "name": "Jean T."}).active is False


def test_a_name_only_edit_keeps_role_active_phone_created_at_and_the_version_read() -> None:
    after = applied({"name": "Jean T."})
    assert after == Staff("calgary-cfn", "jean", Role.SUPERVISOR, "Jean T.", STORED.created_at, active=False,
                          phone="+14035550142", version=7)


def test_each_field_given_replaces_only_itself() -> None:
    assert applied({"role": "worker"}).role is Role.WORKER
    assert applied({"active": True}).active is True
    assert applied({"phone": "+15875550177"}).phone == "+15875550177"
    assert applied({"phone": None}).phone is None
    assert applied({}) == STORED


def test_a_new_member_needs_role_and_name_and_is_active_unless_told() -> None:
    with pytest.raises(InvalidInput) as missing:
        applied({"name": "Samir"}, existing=None)
    assert missing.value.field == "role"
    with pytest.raises(InvalidInput) as missing:
        applied({"role": "worker"}, existing=None)
    assert missing.value.field == "name"
    new = applied({"role": "worker", "name": "Samir"}, existing=None)
    assert (new.active, new.phone, new.created_at, new.version) == (True, None, AT, 0)


@pytest.mark.parametrize(("body", "field"), [
    ({"active": None}, "active"), ({"role": None}, "role"), ({"name": ""}, "name"), ({"phone": "+1403"}, "phone"),
    ({"phone": ["+14035550142"]}, "phone"), ({"phone": "x" * 31}, "phone"),
])
def test_a_field_given_but_invalid_is_refused_by_name(body: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        PutStaff.parse("jean", body)
    assert refused.value.field == field


def test_a_phone_in_national_format_waits_for_the_agencys_country() -> None:
    assert PutStaff.parse("jean", {"phone": " (403) 555-0142 "}).phone == "(403) 555-0142"
    assert PutStaff.parse("jean", {"phone": "+1 403 555 0142"}).phone == "+14035550142"
