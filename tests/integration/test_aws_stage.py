"""The ``aws`` stage: Twilio credentials from Secrets Manager and staff identity from Cognito (issue 7).

The staff API is driven the way Lambda drives it: an API Gateway proxy event whose
``requestContext.authorizer.claims`` are what the Cognito user pool authorizer puts there after
checking the ID token, handed to ``app.app(event, context)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.adapters.auth import CognitoClaimsVerifier, DevTokenVerifier, mint_dev_token
from chalicelib.config import load_settings
from chalicelib.domain.errors import Unauthenticated
from tests.conftest import TEST_ENV

ACCOUNT, TOKEN = "AC" + "3" * 32, "auth-token-from-secrets-manager"


def put_secret(name: str, value: dict[str, str]) -> str:
    client = boto3.client("secretsmanager", region_name="ca-central-1")
    return client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]


def aws_container(secret_id: str) -> bootstrap.Container:
    env = {**TEST_ENV, "CMDM_STAGE": "aws", "CMDM_OUTBOUND": "twilio", "CMDM_TWILIO_SECRET_ID": secret_id}
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "CMDM_DEV_JWT_SECRET"):
        env.pop(name)
    return bootstrap.Container(load_settings(env))


def test_twilio_credentials_are_read_from_the_secret_once_per_container(aws: None) -> None:
    arn = put_secret("cmdm/t1/twilio", {"account_sid": ACCOUNT, "auth_token": TOKEN})
    container = aws_container(arn)
    assert container.twilio_credentials == (ACCOUNT, TOKEN)
    boto3.client("secretsmanager", region_name="ca-central-1").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"account_sid": ACCOUNT, "auth_token": "rotated"})
    )
    assert container.twilio_credentials == (ACCOUNT, TOKEN)  # cached: no call per message
    assert aws_container(arn).twilio_credentials == (ACCOUNT, "rotated")  # a new container reads again
    assert container.gateway.client.username == ACCOUNT and container.gateway.client.password == TOKEN


def test_the_secrets_placeholder_is_refused_with_what_to_do(aws: None) -> None:
    arn = put_secret("cmdm/t2/twilio", {"account_sid": "REPLACE_WITH_TWILIO_ACCOUNT_SID",
                                        "auth_token": "REPLACE_WITH_TWILIO_AUTH_TOKEN"})
    with pytest.raises(RuntimeError, match="holds no real credentials yet"):
        _ = aws_container(arn).twilio_credentials


def test_aws_stage_ignores_environment_twilio_credentials_when_a_secret_is_named(aws: None) -> None:
    arn = put_secret("cmdm/t3/twilio", {"account_sid": ACCOUNT, "auth_token": TOKEN})
    env = {**TEST_ENV, "CMDM_STAGE": "aws", "CMDM_TWILIO_SECRET_ID": arn}  # TWILIO_* still set
    assert bootstrap.Container(load_settings(env)).twilio_credentials == (ACCOUNT, TOKEN)


# --- Cognito claims ----------------------------------------------------------------------------


def cognito_claims(staff_id: str, role: str, agency: str = "calgary-cfn") -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer hands them to Lambda: every value a string."""
    return {
        "sub": staff_id,
        "cognito:groups": role,
        "custom:agency_id": agency,
        "email": f"{staff_id}@agency.example.ca",
        "token_use": "id",
        "iss": "https://cognito-idp.ca-central-1.amazonaws.com/ca-central-1_Example",
        "exp": "Mon Nov 23 20:00:00 UTC 2026",
    }


@pytest.mark.parametrize("groups", ["supervisor", "[supervisor]", "supervisor,worker", ["supervisor", "worker"]])
def test_cognito_claims_give_the_same_principal_as_a_local_token(groups: Any) -> None:
    secret = "s" * 40
    local = DevTokenVerifier(secret).principal(
        {"Authorization": "Bearer " + mint_dev_token(secret, "sup-maria", "calgary-cfn", "supervisor")}, {}
    )
    claims = {**cognito_claims("sup-maria", "supervisor"), "cognito:groups": groups}
    cognito = CognitoClaimsVerifier().principal({}, {"authorizer": {"claims": claims}})
    assert cognito.staff_id == local.staff_id == "sup-maria"
    assert cognito.agency_id == local.agency_id == "calgary-cfn"
    assert local.roles <= cognito.roles


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"authorizer": None},
        {"authorizer": {"claims": {"sub": "amal", "cognito:groups": "worker"}}},  # no agency
        {"authorizer": {"claims": {"sub": "amal", "custom:agency_id": "calgary-cfn"}}},  # no group
        {"authorizer": {"claims": {"sub": "amal", "custom:agency_id": "calgary-cfn", "cognito:groups": "visitor"}}},
    ],
)
def test_missing_or_incomplete_cognito_claims_are_unauthenticated(context: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        CognitoClaimsVerifier().principal({"Authorization": "Bearer whatever"}, context)


@pytest.fixture
def aws_stage(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CMDM_STAGE", "aws")
    monkeypatch.delenv("CMDM_DEV_JWT_SECRET")  # a local token secret must not be needed, or used
    bootstrap.reset()
    yield
    bootstrap.reset()


def proxy_event(method: str, resource: str, path: str, params: dict[str, str], body: Any,
                claims: dict[str, str] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"resourcePath": resource, "httpMethod": method, "path": "/api" + path,
                               "stage": "api", "requestId": "req-1", "identity": {"sourceIp": "203.0.113.9"}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    headers = {"Content-Type": "application/json", "Authorization": "eyJ.cognito.id-token"}
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": params, "stageVariables": None,
        "requestContext": context, "body": json.dumps(body), "isBase64Encoded": False,
    }


def invoke(event: dict[str, Any]) -> tuple[int, Any]:
    from app import app

    result = app(event, None)
    return result["statusCode"], json.loads(result["body"])


def test_staff_api_in_the_aws_stage_acts_on_the_cognito_claims(aws_stage: None) -> None:
    found = ("PUT", "/staff/{staff_id}", "/staff/admin-lee", {"staff_id": "admin-lee"}, {"role": "admin", "name": "Lee"})
    status, body = invoke(proxy_event(*found, cognito_claims("admin-lee", "admin")))
    assert status == 201, body  # the agency's first record: its admin's own (SPEC §4.3)
    put = ("PUT", "/staff/{staff_id}", "/staff/jean", {"staff_id": "jean"}, {"role": "worker", "name": "Jean"})
    status, body = invoke(proxy_event(*put, cognito_claims("admin-lee", "admin")))
    assert status == 201, body
    assert body["staff_id"] == "jean" and body["role"] == "worker"
    status, body = invoke(proxy_event(*put, cognito_claims("amal", "worker")))
    assert status == 403, body
    status, body = invoke(proxy_event(*put, None))  # what a route without the authorizer would see
    assert status == 401 and body["error"]["code"]
