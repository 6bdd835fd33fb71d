"""The live_connections table on moto (issue 23): its TTL, its keyed reads, its one-use tickets.

A publish reads sockets by agency (supervisors and admins, a sparse index) and by member, each one
Query and never a Scan; a ticket is stored as a digest and opens one socket once; what expired is
skipped before DynamoDB's TTL has removed it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.adapters import models
from chalicelib.domain.live import LiveConnection
from chalicelib.domain.model import Role
from tests.fault_helpers import DynamoTap

NOW = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def repository(aws: None):
    return bootstrap.container().live_connections


def socket(connection_id: str, staff: str, role: Role, agency: str = "calgary-cfn") -> LiveConnection:
    return LiveConnection(connection_id, agency, staff, role, NOW)


def test_the_table_expires_rows_by_ttl_on_expires_at(repository):
    table = models.LiveConnectionModel.Meta.table_name
    ttl = boto3.client("dynamodb", region_name="ca-central-1").describe_time_to_live(TableName=table)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_sockets_are_found_by_agency_and_by_member_with_one_query_each_and_no_scan(repository):
    for connection in (socket("Sup000000000001=", "sup-maria", Role.SUPERVISOR),
                       socket("Adm000000000001=", "admin-lee", Role.ADMIN),
                       socket("Wrk000000000001=", "amal", Role.WORKER),
                       socket("Wrk000000000002=", "amal", Role.WORKER),
                       socket("Wrk000000000003=", "jean", Role.WORKER),
                       socket("Hal000000000001=", "sup-h", Role.SUPERVISOR, "halifax-isans")):
        repository.add(connection, LATER)
    with DynamoTap() as tap:
        wide = repository.agency_wide("calgary-cfn", NOW)
        amal = repository.of_staff("calgary-cfn", "amal", NOW)
    assert sorted(c.connection_id for c in wide) == ["Adm000000000001=", "Sup000000000001="]
    assert sorted(c.connection_id for c in amal) == ["Wrk000000000001=", "Wrk000000000002="]
    assert [c.operation for c in tap.calls] == ["Query", "Query"]
    assert repository.of_staff("halifax-isans", "amal", NOW) == []  # another agency's key finds nothing


def test_a_socket_row_past_its_lifetime_is_still_found_for_the_gateway_to_judge(repository):
    # API Gateway's clock ends a socket (GoneException makes the publisher forget it), not the row's TTL.
    repository.add(socket("Old000000000001=", "amal", Role.WORKER), NOW - timedelta(seconds=1))
    assert [c.connection_id for c in repository.of_staff("calgary-cfn", "amal", NOW)] == ["Old000000000001="]


def test_a_removed_socket_is_gone_and_a_ticket_id_cannot_be_removed_as_a_socket(repository):
    repository.add(socket("Bye000000000001=", "amal", Role.WORKER), LATER)
    repository.remove("Bye000000000001=")
    assert repository.of_staff("calgary-cfn", "amal", NOW) == []


def test_a_ticket_is_kept_as_a_digest_and_opens_once(repository):
    repository.add_ticket("a-secret-ticket", "calgary-cfn", "amal", Role.WORKER, NOW + timedelta(seconds=60))
    with pytest.raises(models.LiveConnectionModel.DoesNotExist):
        models.LiveConnectionModel.get("a-secret-ticket")
    taken = repository.take_ticket("a-secret-ticket", NOW)
    assert (taken.agency_id, taken.staff_id, taken.role) == ("calgary-cfn", "amal", Role.WORKER)
    assert repository.take_ticket("a-secret-ticket", NOW) is None
    # tickets never show up as sockets
    assert repository.of_staff("calgary-cfn", "amal", NOW) == []


def test_an_expired_ticket_opens_nothing(repository):
    repository.add_ticket("late-ticket", "calgary-cfn", "amal", Role.WORKER, NOW + timedelta(seconds=60))
    assert repository.take_ticket("late-ticket", NOW + timedelta(seconds=61)) is None
