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


# --- the zip's time-zone rules (SPEC §5.11) ------------------------------------------------------


def _zip_with_tzdata(path, version: str, release: str):  # type: ignore[no-untyped-def]
    import zipfile

    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("tzdata/__init__.py", f'IANA_VERSION = "{release}"\n__version__ = "{version}"\n')
        zipped.writestr("app.py", "")
    return path


def test_package_refuses_a_zip_whose_zone_rules_are_older_than_the_pin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from infra import package

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("holidays==0.108\ntzdata==2026.6  # pinned\n")
    with pytest.raises(package.PackageError, match="older than the pin"):
        package.check_zone_rules(_zip_with_tzdata(tmp_path / "old.zip", "2025.2", "2025b"), requirements)
    assert package.check_zone_rules(_zip_with_tzdata(tmp_path / "same.zip", "2026.6", "2026f"), requirements) == \
        "2026f (tzdata 2026.6)"
    assert package.check_zone_rules(_zip_with_tzdata(tmp_path / "newer.zip", "2027.1", "2027a"), requirements) == \
        "2027a (tzdata 2027.1)"


def test_package_refuses_a_zip_without_zone_rules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    from infra import package

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tzdata==2026.6\n")
    with zipfile.ZipFile(tmp_path / "bare.zip", "w") as zipped:
        zipped.writestr("app.py", "")
    with pytest.raises(package.PackageError, match="no tzdata"):
        package.check_zone_rules(tmp_path / "bare.zip", requirements)
