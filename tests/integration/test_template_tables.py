"""The deployed tables equal the ones ``init-db`` creates from the models (moto) (issue 7)."""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib.adapters import models
from infra import generate


def by_name(indexes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # The order of projected attributes means nothing to DynamoDB; the template writes them sorted.
    def projection(p: dict[str, Any]) -> dict[str, Any]:
        return {**p, "NonKeyAttributes": sorted(p["NonKeyAttributes"])} if "NonKeyAttributes" in p else p

    return {i["IndexName"]: {"KeySchema": i["KeySchema"], "Projection": projection(i["Projection"])} for i in indexes}


def test_template_tables_match_what_init_db_creates(aws: None) -> None:
    """The same tables two ways: CloudFormation's (deploy) and PynamoDB's create_table (init-db, moto)."""
    template = generate.build_template()
    dynamo = boto3.client("dynamodb", region_name="ca-central-1")
    for model in models.ALL_MODELS:
        props = template["Resources"][generate.table_logical_id(model.Meta.base_name)]["Properties"]
        live = dynamo.describe_table(TableName=model.Meta.table_name)["Table"]
        assert live["KeySchema"] == props["KeySchema"], model.Meta.base_name
        assert sorted(live["AttributeDefinitions"], key=lambda d: d["AttributeName"]) == props["AttributeDefinitions"]
        live_gsis = by_name(live.get("GlobalSecondaryIndexes", []))
        assert live_gsis == by_name(props.get("GlobalSecondaryIndexes", [])), model.Meta.base_name
        ttl = dynamo.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in props:
            assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
