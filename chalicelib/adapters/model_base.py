"""What every PynamoDB model shares: the base class, index metadata and the one shared connection.

Below ``models.py`` (the tables and their access patterns) and ``casework_models.py`` (notes and
snippets), so both define tables on the same base without importing each other.
"""

from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection
from pynamodb.models import Model

#: Where the tables are (``models.configure`` sets it for the stage); the shared connection's endpoint.
CONNECTION_SETTINGS: dict[str, Any] = {"region": "ca-central-1", "host": None}
_transaction_connections: dict[tuple[str, str | None], Connection] = {}


class TableModel(Model):
    class Meta:
        table_name = ""
        region = "ca-central-1"
        billing_mode = "PAY_PER_REQUEST"

    @classmethod
    def _get_connection(cls) -> Any:
        """The model's table connection, talking through the one shared ``Connection``.

        PynamoDB gives every model its own ``Connection``, hence its own botocore session and
        client: a cold container paid for one per table touched (~100 ms each, measured by
        ``make bench``). Sharing ``transaction_connection()`` builds one client per container.
        """
        table = super()._get_connection()
        shared = transaction_connection()
        if table.connection is not shared:
            meta = table.connection.get_meta_table(table.table_name)
            shared._tables[meta.table_name] = meta  # the same schema; replacing it is harmless
            table.connection = shared
        return table


def index_meta(name: str, projection: Any | None = None) -> type:
    return type("Meta", (), {"index_name": name, "projection": projection or AllProjection()})


def transaction_connection() -> Connection:
    """A connection for ``TransactWrite`` that talks to the same endpoint as the models.

    Cached: a new Connection means a new botocore client, which costs ~100 ms to build.
    """
    key = (CONNECTION_SETTINGS["region"], CONNECTION_SETTINGS["host"])
    if key not in _transaction_connections:
        _transaction_connections[key] = Connection(region=key[0], host=key[1])
    return _transaction_connections[key]
