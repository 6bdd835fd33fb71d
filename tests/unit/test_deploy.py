"""``make deploy`` pieces that need no AWS account (issue 7)."""

from __future__ import annotations

import pytest

from infra import deploy


def test_deploy_refuses_a_region_outside_canada_before_calling_aws(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["--stage", "prod", "--region", "us-east-1"]) == 2
    assert "outside Canada" in capsys.readouterr().err


def test_every_function_runs_the_uploaded_zip() -> None:
    template = {"Resources": {
        "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        "SweepClocks": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        "MediaBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }}
    deploy.point_code_at(template, "cmdm-artifacts-1-ca-central-1", "cmdm/prod/abc.zip")
    for name in ("APIHandler", "SweepClocks"):
        assert template["Resources"][name]["Properties"]["CodeUri"] == {
            "Bucket": "cmdm-artifacts-1-ca-central-1", "Key": "cmdm/prod/abc.zip"}
    assert template["Resources"]["MediaBucket"]["Properties"] == {}
