"""The load test's moto fix (bench/load_stack.py) keeps transactions all-or-nothing.

The load test replaces moto's table-wide rollback copies with per-item ones; if that fix let a
cancelled transaction leave half its writes behind, the load test's "filed once" check would prove
nothing. Here a transaction whose last item fails must leave every earlier item as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from bench.load_stack import cheap_transaction_rollback


@pytest.fixture
def cheap_rollback(aws):
    undo = cheap_transaction_rollback()
    yield
    undo()


def test_cancelled_transaction_leaves_nothing_behind_with_the_load_test_fix(cheap_rollback):
    from chalicelib import bootstrap
    from chalicelib.adapters import models as m

    _ = bootstrap.container().uow
    now = datetime(2026, 11, 23, 17, tzinfo=UTC)
    later = now + timedelta(days=1)
    m.ClaimModel(claim_key="taken", created_at=now, expires_at=later).save()
    m.ClaimModel(claim_key="kept", created_at=now, expires_at=later).save()
    with pytest.raises(TransactWriteError):
        with TransactWrite(connection=m.transaction_connection()) as tx:
            tx.save(m.ClaimModel(claim_key="new", created_at=now, expires_at=later))
            tx.update(m.ClaimModel(claim_key="kept"), actions=[m.ClaimModel.expires_at.set(now)])
            tx.save(m.ClaimModel(claim_key="taken", created_at=now, expires_at=later),
                    condition=m.ClaimModel.claim_key.does_not_exist())
    assert sum(1 for _ in m.ClaimModel.query("new")) == 0
    assert m.ClaimModel.get("kept").expires_at == later
    with TransactWrite(connection=m.transaction_connection()) as tx:
        tx.save(m.ClaimModel(claim_key="new", created_at=now, expires_at=later))
    assert sum(1 for _ in m.ClaimModel.query("new")) == 1
