"""Keep phone numbers and message bodies out of the logs (SPEC §5.7), whatever the log level.

Our own code logs ids and error types only. Some libraries print whole request and response
payloads when their loggers are at DEBUG (botocore and PynamoDB: every DynamoDB item, so client
numbers and bodies; Twilio's HTTP client at INFO: URLs and query parameters). Raising the root
logger to DEBUG while chasing a problem would then copy client data into CloudWatch. Their
loggers are pinned here to WARNING; a child logger without its own level inherits that, so no
payload line is ever created. Cheap and touches no AWS: ``app.py`` calls it on import.
"""

from __future__ import annotations

import logging

PAYLOAD_LOGGERS: tuple[str, ...] = ("botocore", "boto3", "s3transfer", "urllib3", "pynamodb", "twilio")


def quiet_payload_loggers(level: int = logging.WARNING) -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
