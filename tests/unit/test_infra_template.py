"""The CloudFormation merged into ``chalice package`` matches the PynamoDB models exactly (issue 7).

The expectations are rebuilt here from the models' attributes and index classes (not from
``Model._get_schema``, which the generator uses), so the two derivations check each other, and an
index or table someone adds to ``models.py`` is expected in the template at once.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pynamodb.attributes import TTLAttribute
from pynamodb.indexes import GlobalSecondaryIndex, LocalSecondaryIndex

from chalicelib.adapters import metrics, models
from infra import generate


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return generate.build_template()


def key_schema(attributes: dict[str, Any]) -> list[dict[str, str]]:
    hash_keys = [a.attr_name for a in attributes.values() if a.is_hash_key]
    range_keys = [a.attr_name for a in attributes.values() if a.is_range_key]
    assert len(hash_keys) == 1 and len(range_keys) <= 1
    return [{"AttributeName": hash_keys[0], "KeyType": "HASH"}] + [
        {"AttributeName": r, "KeyType": "RANGE"} for r in range_keys
    ]


def expected_table(model: Any) -> dict[str, Any]:
    attributes = model.get_attributes()
    keys = key_schema(attributes)
    definitions = {k["AttributeName"]: attributes[k["AttributeName"]].attr_type for k in keys}
    gsis, lsis = {}, {}
    for index in model._indexes.values():
        index_keys = key_schema(index.Meta.attributes)
        for k in index_keys:
            definitions[k["AttributeName"]] = index.Meta.attributes[k["AttributeName"]].attr_type
        projection = {"ProjectionType": index.Meta.projection.projection_type}
        if getattr(index.Meta.projection, "non_key_attributes", None):
            projection["NonKeyAttributes"] = sorted(index.Meta.projection.non_key_attributes)
        target = gsis if isinstance(index, GlobalSecondaryIndex) else lsis
        assert isinstance(index, GlobalSecondaryIndex | LocalSecondaryIndex)
        target[index.Meta.index_name] = {"KeySchema": index_keys, "Projection": projection}
    ttl = [a.attr_name for a in attributes.values() if isinstance(a, TTLAttribute)]
    return {"keys": keys, "definitions": definitions, "gsis": gsis, "lsis": lsis, "ttl": ttl}


def by_name(indexes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["IndexName"]: {"KeySchema": i["KeySchema"], "Projection": i["Projection"]} for i in indexes}


def tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::DynamoDB::Table"
    }


@pytest.mark.parametrize("model", models.ALL_MODELS, ids=lambda m: m.Meta.base_name)
def test_each_model_is_a_table_with_the_same_keys_attributes_and_indexes(template: dict[str, Any], model: Any) -> None:
    resource = template["Resources"][generate.table_logical_id(model.Meta.base_name)]
    props = resource["Properties"]
    want = expected_table(model)
    assert props["TableName"] == {"Fn::Sub": f"cmdm-${{Stage}}-{model.Meta.base_name}"}
    assert props["KeySchema"] == want["keys"]
    # Exactly the key attributes of the table and its indexes: CloudFormation refuses others.
    assert {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]} == want["definitions"]
    assert len(props["AttributeDefinitions"]) == len(want["definitions"])
    assert by_name(props.get("GlobalSecondaryIndexes", [])) == want["gsis"]
    assert by_name(props.get("LocalSecondaryIndexes", [])) == want["lsis"]
    if want["ttl"]:
        assert props["TimeToLiveSpecification"] == {"AttributeName": want["ttl"][0], "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


def test_template_has_no_table_the_models_do_not_define(template: dict[str, Any]) -> None:
    assert set(tables(template)) == {generate.table_logical_id(m.Meta.base_name) for m in models.ALL_MODELS}


def test_claims_expire_by_ttl_on_expires_at(template: dict[str, Any]) -> None:
    props = template["Resources"][generate.table_logical_id(models.ClaimModel.Meta.base_name)]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_table_is_on_demand_recoverable_encrypted_and_retained(template: dict[str, Any]) -> None:
    for name, table in tables(template).items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert "ProvisionedThroughput" not in json.dumps(props), name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"] == {"SSEEnabled": True}, name
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain", name


def test_media_bucket_is_private_encrypted_and_expires_old_versions(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["MediaBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(r.get("NoncurrentVersionExpiration") for r in rules)
    policy = template["Resources"]["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)


def resolve(value: Any, parameters: dict[str, str]) -> Any:
    """Evaluate the few intrinsic functions the bucket's CORS rule uses, as CloudFormation would."""
    if isinstance(value, list):
        return [resolve(v, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return parameters[value["Ref"]]
    if set(value) == {"Fn::Join"}:
        glue, parts = value["Fn::Join"]
        return glue.join(resolve(parts, parameters))
    if set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return resolve(items, parameters)[index]
    if set(value) == {"Fn::Split"}:
        glue, text = value["Fn::Split"]
        return resolve(text, parameters).split(glue)
    return {k: resolve(v, parameters) for k, v in value.items()}


def test_media_bucket_lets_only_the_console_origin_post_uploads(template: dict[str, Any]) -> None:
    condition, with_url, without_url = template["Resources"]["MediaBucket"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicUrl"}, ""]}]}
    assert without_url == {"Ref": "AWS::NoValue"}  # no console origin known yet: no cross-origin access at all
    (rule,) = resolve(with_url, {"PublicUrl": "https://abc123.execute-api.ca-central-1.amazonaws.com/api"})["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://abc123.execute-api.ca-central-1.amazonaws.com"]
    assert rule["AllowedMethods"] == ["POST"]
    (custom,) = resolve(with_url, {"PublicUrl": "https://cmdm.example.org"})["CorsRules"]
    assert custom["AllowedOrigins"] == ["https://cmdm.example.org"]


def test_user_pool_has_the_three_groups_and_the_agency_attribute(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    pool = resources["StaffUserPool"]["Properties"]
    agency = [a for a in pool["Schema"] if a["Name"] == "agency_id"]
    assert agency and agency[0]["AttributeDataType"] == "String" and agency[0]["Mutable"] is False
    groups = {r["Properties"]["GroupName"] for r in resources.values() if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    assert groups == {"worker", "supervisor", "admin"}
    client = resources["StaffAppClient"]["Properties"]
    assert "custom:agency_id" in client["ReadAttributes"]  # so the ID token carries the claim
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_twilio_secret_and_follow_up_queue_with_dead_letters(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["TwilioSecret"]["Properties"]["Name"] == {"Fn::Sub": "cmdm/${Stage}/twilio"}
    queue = resources["FollowupQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "cmdm-${Stage}-followups"}
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FollowupDeadLetterQueue", "Arn"]}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["CMDM_FOLLOWUP_QUEUE_URL"] == {"Ref": "FollowupQueue"}  # Ref of a queue is its URL
    assert env["CMDM_TWILIO_SECRET_ID"] == {"Ref": "TwilioSecret"}
    assert env["CMDM_MEDIA_BUCKET"] == {"Ref": "MediaBucket"}


def test_alarms_watch_api_errors_dead_letters_and_clock_breaches(template: dict[str, Any]) -> None:
    alarms = {
        (r["Properties"]["Namespace"], r["Properties"]["MetricName"]): r["Properties"]
        for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert ("AWS/ApiGateway", "5XXError") in alarms
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in alarms
    breaches = alarms[(metrics.NAMESPACE, metrics.BREACHES)]
    # The custom metric's dimension is the one metrics.py writes, or the alarm would never fire.
    record = metrics.emf_record(metrics.BREACHES, 1)
    assert [d["Name"] for d in breaches["Dimensions"]] == record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]

