"""Least privilege: each stage's IAM policy covers exactly what the code touches (issue 7).

The tables come from the PynamoDB models at test time, so a model added later must appear in the
policies (``make template`` regenerates them) or these tests fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters import models
from infra import generate

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
STAGES = ("dev", "prod")
DATA_RESOURCE = {
    "dynamodb": r"table/cmdm-{stage}-[a-z_]+(/index/\*)?",
    "s3": r"cmdm-{stage}-media-123456789012(/\*)?",
    "secretsmanager": r"secret:cmdm/{stage}/twilio-\?{{6}}",
    "sqs": r"cmdm-{stage}-(followups|posts|live)",
    # issue 23: only this stack's own WebSocket API (its id resolved by CloudFormation), only posting
    "execute-api": r"abc123def4/api/POST/@connections/\*",
}
EXAMPLE_WEBSOCKET_API = "abc123def4"
DATA_SERVICES = tuple(DATA_RESOURCE)
# Variables the template supplies per stage (SAM Globals); a function-level value would win.
CLOUDFORMATION_VARIABLES = ("CMDM_TWILIO_SECRET_ID", "CMDM_COGNITO_POOL_ARN", "CMDM_PUBLIC_URL", "CMDM_MEDIA_BUCKET",
                            "CMDM_FOLLOWUP_QUEUE_URL", "CMDM_POSTS_QUEUE_URL", "CMDM_WS_URL", "CMDM_WS_MANAGEMENT_URL",
                            "CMDM_LIVE_QUEUE_URL")
LAMBDA_RESERVED = ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def policy(stage: str) -> dict[str, Any]:
    name = CONFIG["stages"][stage]["iam_policy_file"]
    return json.loads((ROOT / ".chalice" / name).read_text())


def resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    items = value if isinstance(value, list) else [value]
    return [i["Fn::Sub"] if isinstance(i, dict) else i for i in items]


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


def allowed(stage: str, action: str) -> list[str]:
    """Every resource pattern on which ``action`` is allowed."""
    out = []
    for statement in policy(stage)["Statement"]:
        assert statement["Effect"] == "Allow"
        if action in actions(statement):
            out.extend(resources(statement))
    return out


def resolve(pattern: str) -> str:
    """A ``Fn::Sub`` ARN with example pseudo-parameter values, so it can be split on colons."""
    for name, value in (("Partition", "aws"), ("Region", "ca-central-1"), ("AccountId", "123456789012"),
                        ("StackName", "cmdm-prod")):
        pattern = pattern.replace(f"${{AWS::{name}}}", value)
    pattern = pattern.replace("${WebsocketAPI}", EXAMPLE_WEBSOCKET_API)  # the packaged WebSocket API's id
    assert "${" not in pattern, pattern
    return pattern


def arn(service: str, resource: str) -> str:
    return f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_config_is_deployable(stage: str) -> None:
    config = CONFIG["stages"][stage]
    env = config["environment_variables"]
    assert config["autogen_policy"] is False
    assert config["iam_policy_file"] == f"policy-{stage}.json"
    assert config.get("api_gateway_endpoint_type") == "REGIONAL"  # TLS ends in Canada, not at an edge
    assert env["CMDM_STAGE"] == "aws"
    assert env["CMDM_TABLE_PREFIX"] == generate.table_prefix(stage)
    assert env["CMDM_FOLLOWUP_QUEUE"] == generate.followup_queue_name(stage)
    assert env["CMDM_LIVE_QUEUE"] == generate.live_queue_name(stage)
    assert env["CMDM_OUTBOUND"] == "twilio"
    for name in CLOUDFORMATION_VARIABLES:
        assert name not in env, f"{name} comes from the template; a config.json value would override it"
    for name in LAMBDA_RESERVED:
        assert name not in env and name not in CONFIG.get("environment_variables", {}), f"{name} is reserved by Lambda"


@pytest.mark.parametrize("stage", STAGES)
def test_policy_names_every_model_table_and_its_indexes(stage: str) -> None:
    prefix = CONFIG["stages"][stage]["environment_variables"]["CMDM_TABLE_PREFIX"]
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                   "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"):
        granted = set(allowed(stage, action))
        for model in models.ALL_MODELS:
            table = f"{prefix}{model.Meta.base_name}"
            assert arn("dynamodb", f"table/{table}") in granted, (action, table)
            if model._indexes:
                assert arn("dynamodb", f"table/{table}/index/*") in granted, (action, table)
    # ...and nothing else: every DynamoDB resource is one of this stage's model tables.
    known = {f"{prefix}{m.Meta.base_name}" for m in models.ALL_MODELS}
    for resource in allowed(stage, "dynamodb:GetItem"):
        match = re.fullmatch(re.escape(arn("dynamodb", "table/")) + r"([^/]+)(/index/\*)?", resource)
        assert match and match.group(1) in known, resource


@pytest.mark.parametrize("stage", STAGES)
def test_policy_scans_nothing_and_has_no_wildcard_data_resources(stage: str) -> None:
    for statement in policy(stage)["Statement"]:
        assert not [a for a in actions(statement) if a.endswith("*")], statement["Sid"]
        assert "dynamodb:Scan" not in actions(statement)
        for resource in map(resolve, resources(statement)):
            assert resource != "*"
            service = resource.split(":")[2]
            assert service in (*DATA_SERVICES, "logs"), resource
            if service in DATA_SERVICES:
                # The only wildcards: a table's indexes, a bucket's objects, the secret's suffix.
                assert re.fullmatch(DATA_RESOURCE[service].format(stage=stage), resource.split(":", 5)[5]), resource


@pytest.mark.parametrize("stage", STAGES)
def test_policy_names_the_bucket_secret_queue_and_own_logs(stage: str) -> None:
    bucket = generate.media_bucket_pattern(stage)
    assert allowed(stage, "s3:PutObject") == [f"arn:${{AWS::Partition}}:s3:::{bucket}/*"]
    assert allowed(stage, "s3:GetObject") == [f"arn:${{AWS::Partition}}:s3:::{bucket}/*"]
    assert allowed(stage, "s3:ListBucket") == [f"arn:${{AWS::Partition}}:s3:::{bucket}"]
    assert allowed(stage, "secretsmanager:GetSecretValue") == [arn("secretsmanager", f"secret:cmdm/{stage}/twilio-??????")]
    queues = sorted([arn("sqs", f"cmdm-{stage}-followups"), arn("sqs", f"cmdm-{stage}-posts"),
                     arn("sqs", f"cmdm-{stage}-live")])
    for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert sorted(allowed(stage, action)) == queues
    logs = allowed(stage, "logs:PutLogEvents")
    assert logs and all(r.startswith(arn("logs", "log-group:/aws/lambda/${AWS::StackName}-")) for r in logs)
    assert not allowed(stage, "logs:CreateLogGroup")  # the stack creates log groups with a retention


@pytest.mark.parametrize("stage", STAGES)
def test_live_updates_may_post_to_their_own_websocket_connections_and_nothing_else(stage: str) -> None:
    granted = allowed(stage, "execute-api:ManageConnections")
    assert granted == [arn("execute-api", "${WebsocketAPI}/api/POST/@connections/*")]
    assert not allowed(stage, "execute-api:Invoke")
    for statement in policy(stage)["Statement"]:
        if "execute-api:ManageConnections" in actions(statement):
            assert actions(statement) == ["execute-api:ManageConnections"], statement["Sid"]


def test_policies_are_the_generated_ones() -> None:
    for stage in STAGES:
        path = ROOT / ".chalice" / f"policy-{stage}.json"
        assert path.read_text() == generate.render_policy(stage), f"{path.name} is stale: run `make template`"


def test_stages_differ_only_by_name() -> None:
    dev = json.dumps(policy("dev")).replace("cmdm-dev-", "cmdm-prod-").replace("cmdm/dev/", "cmdm/prod/")
    assert json.loads(dev) == policy("prod")
