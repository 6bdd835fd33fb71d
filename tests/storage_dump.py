"""Everything CMDM stored, as one text: the tests that prove a body or number is nowhere use it."""

from __future__ import annotations

import json

import boto3


def every_stored_text() -> str:
    """Every item of every table, and every object key and body in every bucket (test-only scans)."""
    from chalicelib.adapters import models as m

    dynamo = boto3.client("dynamodb", region_name="ca-central-1")
    parts = []
    for model in m.ALL_MODELS:
        for page in dynamo.get_paginator("scan").paginate(TableName=model.Meta.table_name):
            parts.extend(json.dumps(item, ensure_ascii=False) for item in page["Items"])
    s3 = boto3.resource("s3", region_name="ca-central-1")
    for bucket in s3.buckets.all():
        for obj in bucket.objects.all():
            parts.append(obj.key)
            parts.append(obj.get()["Body"].read().decode("utf-8", "replace"))
    return "\n".join(parts)
