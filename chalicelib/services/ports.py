"""The interfaces services are written against.

Services receive their collaborators from ``bootstrap``; for type checking they are described
by the DynamoDB adapter's public methods, but nothing here imports storage at run time, so a
test can hand a service any object with the same methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..adapters.store import DynamoStore as Store
else:
    Store = Any

__all__ = ["Store"]
