"""CloudWatch metrics as embedded-metric-format log lines (no API call, no extra permission).

The deployment alarms on ``CMDM/InquiriesBreached`` (``infra/resources.yaml``): the clock sweep
calls ``record_breaches(n)`` after marking ``n`` inquiries breached. Lambda's log agent turns the
printed JSON into a metric; locally and in tests the line goes nowhere unless ``CMDM_STAGE=aws``.
The dimension ``service`` (``POWERTOOLS_SERVICE_NAME``, set per stage by the template) keeps dev
and prod apart and matches what aws-lambda-powertools' ``Metrics`` would write.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TextIO

NAMESPACE = "CMDM"
BREACHES = "InquiriesBreached"


def emf_record(metric: str, value: float, unit: str = "Count", now: float | None = None) -> dict[str, object]:
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "cmdm")
    return {
        "_aws": {
            "Timestamp": int((time.time() if now is None else now) * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE),
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": metric, "Unit": unit}],
                }
            ],
        },
        "service": service,
        metric: value,
    }


def put_metric(metric: str, value: float, unit: str = "Count", stream: TextIO | None = None) -> None:
    """Write one metric data point; a no-op outside the ``aws`` stage unless a stream is given."""
    if stream is None:
        if os.environ.get("CMDM_STAGE") != "aws":
            return
        stream = sys.stdout
    stream.write(json.dumps(emf_record(metric, value, unit), separators=(",", ":")) + "\n")
    stream.flush()


def record_breaches(count: int, stream: TextIO | None = None) -> None:
    """The clock sweep marked ``count`` inquiries breached (zero is written too: a steady metric)."""
    put_metric(BREACHES, float(count), stream=stream)
