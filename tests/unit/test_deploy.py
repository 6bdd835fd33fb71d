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


def test_finishing_wires_the_follow_up_queue_names_the_api_and_alarms_every_function() -> None:
    from infra import package

    queue_arn = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:cmdm-prod-followups"}
    template = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {
            "RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {
                "info": {"title": "cmdm"},
                "securityDefinitions": {"cmdm-staff": {"x-amazon-apigateway-authorizer": {
                    "providerARNs": [package.COGNITO_PLACEHOLDER]}}}}}},
            "FollowupWorker": {"Type": "AWS::Serverless::Function", "Properties": {
                "Events": {"q": {"Type": "SQS", "Properties": {"Queue": queue_arn, "BatchSize": 1}}}}},
            "SweepClocks": {"Type": "AWS::Serverless::Function", "Properties": {
                "Events": {"s": {"Type": "Schedule", "Properties": {"Schedule": "rate(2 minutes)"}}}}},
        },
    }
    done = package.finish_template(template, "prod")
    resources = done["Resources"]
    api = resources["RestAPI"]["Properties"]["DefinitionBody"]
    assert api["info"]["title"] == "cmdm-prod"
    assert api["securityDefinitions"]["cmdm-staff"]["x-amazon-apigateway-authorizer"]["providerARNs"] == [
        {"Fn::GetAtt": ["StaffUserPool", "Arn"]}]
    assert resources["FollowupWorker"]["Properties"]["Events"]["q"]["Properties"]["Queue"] == {
        "Fn::GetAtt": ["FollowupQueue", "Arn"]}  # the stack's queue, created before the mapping
    assert {"FollowupWorkerErrorsAlarm", "SweepClocksErrorsAlarm"} <= set(resources)
    assert done["Parameters"]["Stage"]["Default"] == "prod"
