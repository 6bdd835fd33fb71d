"""CMDM's code below ``app.py``: domain rules, use cases, adapters and the console.

Importing the package first pins the time-zone rules to the ``tzdata`` package (SPEC §5.11), so
that no zone anywhere in the process is read from the machine's older copy.
"""

from .domain.zones import use_pinned_rules

use_pinned_rules()
