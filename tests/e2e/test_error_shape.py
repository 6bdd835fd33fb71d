"""Every error in the documented shape, and no answer that echoes a token (issue 11, item 9).

Chalice answers some requests itself (unknown paths, a method a path lacks, a body of the wrong
content type) before any view runs; those answers are rewritten, and in AWS the gateway responses
of infra/resources.yaml do the same for what API Gateway refuses on its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, token


def _shape(r: Any) -> dict[str, Any]:
    assert r.headers.get("Content-Type", r.headers.get("content-type", "")).startswith("application/json"), r.headers
    body = json.loads(r.body)
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), r.body
    assert all(isinstance(body["error"][k], str) and body["error"][k] for k in ("code", "message"))
    return body["error"]


UNKNOWN = ["/", "/nope", "/clients/x/y/z", "/staff/amal/absences/a1/extra", "/webhooks/twilio",
           "/" + "/".join("deep" for _ in range(12))]


@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_an_unknown_route_answers_404_in_the_documented_shape_without_the_token(
    api: Any, aws: Any, path: str, method: str
) -> None:
    bearer = token("amal")
    r = api.http.request(method, path, headers={"Authorization": f"Bearer {bearer}",
                                                "Content-Type": "application/json"}, body=b"{}")
    assert r.status_code == 404, r.body
    assert _shape(r)["code"] == "no_such_route"
    text = r.body.decode()
    assert bearer not in text and bearer.split(".")[1] not in text and "Credential" not in text


def test_an_unknown_route_without_a_token_answers_the_same_404(api: Any, aws: Any) -> None:
    r = api.http.get("/nope")
    assert r.status_code == 404 and _shape(r)["code"] == "no_such_route"


def test_a_method_a_path_lacks_answers_405_in_the_documented_shape(api: Any, http: Any, agency: Any) -> None:
    r = api.http.request("PATCH", "/clients", headers=agency["amal"], body=b"{}")
    assert r.status_code == 405, r.body
    assert _shape(r)["code"] == "method_not_allowed"
    assert agency["amal"]["Authorization"].split()[1] not in r.body.decode()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_a_post_that_is_not_json_answers_415_in_the_documented_shape_and_writes_nothing(
    api: Any, http: Any, agency: Any, content_type: str
) -> None:
    from tests.storage_dump import every_stored_text

    before = every_stored_text()
    headers = {**agency["amal"], "Content-Type": content_type}
    r = api.http.post("/clients", headers=headers, body=b"case_manager_id=amal")
    assert r.status_code == 415, r.body
    error = _shape(r)
    assert error["code"] == "unsupported_media_type" and content_type not in error["message"]
    assert every_stored_text() == before


def test_a_webhook_posted_as_json_answers_415_in_the_documented_shape(api: Any, aws: Any) -> None:
    r = api.http.post("/webhooks/twilio/messages", headers={"Content-Type": "application/json"}, body=b"{}")
    assert r.status_code == 415 and _shape(r)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic YWRtaW46cGFzcw==", "Bearer"])
def test_a_bad_authorization_header_is_never_echoed(api: Any, aws: Any, header: str) -> None:
    r = api.http.get("/clients", headers={"Authorization": header})
    assert r.status_code == 401
    _shape(r)
    assert header.split()[-1] not in r.body.decode()


def test_the_deployed_api_gateway_answers_its_own_errors_in_the_documented_shape() -> None:
    """API Gateway refuses unknown paths (and, with a token, quotes it) before any Lambda runs."""

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix} {getattr(node, 'value', '')}")
    resources = yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=_Loader)["Resources"]
    responses = {r["Properties"]["ResponseType"]: r["Properties"] for r in resources.values()
                 if r["Type"] == "AWS::ApiGateway::GatewayResponse"}
    assert {"MISSING_AUTHENTICATION_TOKEN", "INCOMPLETE_SIGNATURE", "UNAUTHORIZED", "ACCESS_DENIED",
            "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["INCOMPLETE_SIGNATURE"]["StatusCode"] == "404"
    for kind, props in responses.items():
        assert props["RestApiId"] == "!Ref RestAPI"
        template = props["ResponseTemplates"]["application/json"]
        assert "$" not in template, kind  # fixed text: no $context.error.message, no request value
        body = json.loads(template)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, kind
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'", kind
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'", kind
