"""``make deploy STAGE=prod``: package the stage and deploy it to the operator's AWS account.

This is what ``aws cloudformation package`` + ``aws cloudformation deploy`` do, written with boto3
(already in ``.venv``) so an agency's IT person needs no other tool:

1. check that AWS credentials exist and work (a clear message and exit code 2 if not) and that
   the region is in Canada;
2. ``make package`` for the stage (``infra/package.py``);
3. upload ``deployment.zip`` and the template to an artifact bucket
   (``cmdm-artifacts-<account>-<region>``, created private and encrypted if missing) and point
   every function's ``CodeUri`` at the uploaded zip;
4. create or update the stack ``cmdm-<stage>`` through a change set
   (``CAPABILITY_IAM``, ``CAPABILITY_AUTO_EXPAND`` for the SAM transform);
5. Twilio signs webhooks with the public URL, which is only known once the API exists: when no
   ``--public-url`` is given, a second pass sets ``PublicUrl`` to the stack's ``EndpointURL``
   (with ``--snapstart`` that pass publishes new versions, whose snapshots carry the URL);
6. print the outputs and what to do next (Twilio secret, staff users, ``numbers configure``).

    python -m infra.deploy --stage prod [--public-url https://...] [--alarm-email it@agency.ca]
                           [--snapstart all|api [--release TEXT]] [--runtime-python PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from infra import generate, snapstart

ROOT = generate.ROOT
ALLOWED_REGIONS = ("ca-central-1", "ca-west-1")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

NO_CREDENTIALS = """\
make deploy: no AWS credentials found, so nothing was deployed.

Deploying needs an AWS account and credentials allowed to create CloudFormation stacks, IAM roles,
Lambda functions, API Gateway, DynamoDB, S3, SQS, Secrets Manager, Cognito, SNS and CloudWatch:
  - `aws configure` (or `aws configure sso` then `export AWS_PROFILE=<profile>`), or
  - export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... (and AWS_SESSION_TOKEN=...)
then run `make deploy STAGE={stage}` again. `make package STAGE={stage}` builds everything offline.
"""


class DeployError(Exception):
    """Deployment cannot go on; the message says why and what to do."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def stack_name(stage: str) -> str:
    return f"cmdm-{stage}"


def artifact_bucket_name(account: str, region: str) -> str:
    return f"cmdm-artifacts-{account}-{region}"


def session_with_credentials(region: str, stage: str) -> tuple[Any, str]:
    """A boto3 session whose credentials work, and the account id; ``DeployError`` (code 2) if none."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if region not in ALLOWED_REGIONS:
        raise DeployError(f"make deploy: region {region!r} is outside Canada; use one of {', '.join(ALLOWED_REGIONS)}", 2)
    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise DeployError(NO_CREDENTIALS.format(stage=stage), 2)
    try:
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as err:
        raise DeployError(
            f"make deploy: AWS rejected the credentials ({err}); refresh them (aws sso login, new keys) and retry",
            2,
        ) from None
    return session, identity["Account"]


def code_key(zip_path: Path, stage: str) -> str:
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    return f"cmdm/{stage}/{digest}.zip"


def point_code_at(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """What ``aws cloudformation package`` does: every local ``CodeUri`` becomes the uploaded zip."""
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return template


def ensure_artifact_bucket(s3: Any, bucket: str, region: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError:
        pass
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )


def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise


def _outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def _parameters(stack: dict[str, Any] | None) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters", [])}


def deploy_stack(cfn: Any, name: str, template_url: str, parameters: dict[str, str]) -> dict[str, Any]:
    """Create or update the stack through a change set and wait for it; returns the stack."""
    existing = _stack(cfn, name)
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {name} failed to create earlier (ROLLBACK_COMPLETE); delete it "
            f"(aws cloudformation delete-stack --stack-name {name}) and deploy again. Tables and the bucket are retained."
        )
    change_type = "UPDATE" if existing else "CREATE"
    change_set = f"{name}-{os.urandom(4).hex()}"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_type,
        TemplateURL=template_url,
        Capabilities=CAPABILITIES,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Tags=[{"Key": "app", "Value": "cmdm"}],
    )
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120}
        )
    except Exception:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            print(f"  {name}: no changes")
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return _stack(cfn, name) or {}
        raise DeployError(f"change set for {name} failed: {reason}") from None
    print(f"  {name}: executing {change_type.lower()} (this takes a few minutes)")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if change_type == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
    except Exception:
        raise DeployError(
            f"stack {name} did not finish ({waiter}); see the Events tab of the stack in the CloudFormation console"
        ) from None
    return _stack(cfn, name) or {}


NEXT_STEPS = """\
Deployed stack {stack} in {region}.
  API (Twilio and staff):  {url}
  Twilio secret:           {secret}
  Staff user pool:         {pool}  (app client {client})
  Media bucket:            {bucket}

Next (README, "Deploying to AWS"):
  1. Put the real Twilio credentials in the secret:
       aws secretsmanager put-secret-value --region {region} --secret-id {secret} \\
         --secret-string '{{"account_sid": "AC...", "auth_token": "..."}}'
  2. Create staff users in {pool} with custom:agency_id and a group (worker, supervisor, admin).
  3. Register each agency's Twilio numbers to it, then staff and assignments through the API:
       CMDM_STAGE=aws CMDM_TABLE_PREFIX=cmdm-{stage}- AWS_DEFAULT_REGION={region} \\
       .venv/bin/python -m chalicelib.cli numbers register --agency <agency> +1...
     then PUT /staff/<sub> and PUT /numbers/<number> (only numbers registered to the admin's agency).
  4. Point the Twilio numbers at the service:
       CMDM_STAGE=aws CMDM_TABLE_PREFIX=cmdm-{stage}- CMDM_TWILIO_SECRET_ID={secret} \\
       CMDM_PUBLIC_URL={url} AWS_DEFAULT_REGION={region} \\
       .venv/bin/python -m chalicelib.cli numbers configure
"""


def deploy(args: argparse.Namespace) -> int:
    from infra import package as packaging

    session, account = session_with_credentials(args.region, args.stage)
    out = (args.build or ROOT / "build" / args.stage).resolve()
    if args.release and not args.snapstart and not args.skip_package:
        raise DeployError("make deploy: RELEASE publishes new versions, which only a SNAPSTART deployment has")
    if not args.skip_package:
        try:
            summary = packaging.package(args.stage, out, online=args.online, runtime_python=args.runtime_python,
                                        snapstart_on=args.snapstart)
        except packaging.PackageError as err:
            raise DeployError(f"make package: {err}") from None
        print(f"packaged {args.stage} in {summary['seconds']} s")
    template_path, zip_path = out / "sam.yaml", out / "deployment.zip"
    if not template_path.exists() or not zip_path.exists():
        raise DeployError(f"{out} has no sam.yaml and deployment.zip: run `make package STAGE={args.stage}`")

    s3 = session.client("s3")
    bucket = args.artifact_bucket or artifact_bucket_name(account, args.region)
    ensure_artifact_bucket(s3, bucket, args.region)
    key = code_key(zip_path, args.stage)
    print(f"uploading the code to s3://{bucket}/{key}")
    s3.upload_file(str(zip_path), bucket, key)
    template = point_code_at(generate.load_yaml(template_path.read_text(encoding="utf-8")), bucket, key)
    body = json.dumps(template, indent=1).encode()
    template_key = f"cmdm/{args.stage}/{hashlib.sha256(body).hexdigest()}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    template_url = f"https://{bucket}.s3.{args.region}.amazonaws.com/{template_key}"

    cfn = session.client("cloudformation")
    name = args.stack_name or stack_name(args.stage)
    previous = _stack(cfn, name)
    public_url = args.public_url or _parameters(previous).get("PublicUrl", "")
    parameters = {
        "Stage": args.stage,
        "PublicUrl": public_url.rstrip("/"),
        "AlarmEmail": args.alarm_email if args.alarm_email is not None else _parameters(previous).get("AlarmEmail", ""),
    }
    if args.release and snapstart.RELEASE_PARAMETER not in template.get("Parameters", {}):
        raise DeployError(f"make deploy: {template_path} was not packaged with SNAPSTART, so RELEASE means nothing")
    if snapstart.RELEASE_PARAMETER in template.get("Parameters", {}):  # a SnapStart package
        parameters[snapstart.RELEASE_PARAMETER] = args.release or _parameters(previous).get(snapstart.RELEASE_PARAMETER, "")
    stack = deploy_stack(cfn, name, template_url, parameters)
    endpoint = _outputs(stack).get("EndpointURL", "").rstrip("/")
    if not parameters["PublicUrl"] and endpoint:
        print(f"second pass: setting PublicUrl to {endpoint} (Twilio signs requests with it)")
        parameters["PublicUrl"] = endpoint
        stack = deploy_stack(cfn, name, template_url, parameters)
    outputs = _outputs(stack)
    print(
        NEXT_STEPS.format(
            stack=name,
            region=args.region,
            stage=args.stage,
            url=parameters["PublicUrl"],
            secret=outputs.get("TwilioSecretArn", "?"),
            pool=outputs.get("StaffUserPoolId", "?"),
            client=outputs.get("StaffAppClientId", "?"),
            bucket=outputs.get("MediaBucketName", "?"),
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description="deploy one stage to AWS")
    parser.add_argument("--stage", default="prod", choices=generate.STAGES)
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                        or "ca-central-1")
    parser.add_argument("--public-url", help="custom domain base URL; default: the API's own URL")
    parser.add_argument("--alarm-email", help="e-mail address for alarms (kept from the last deploy if omitted)")
    parser.add_argument("--stack-name", help="default cmdm-<stage>")
    parser.add_argument("--artifact-bucket", help="default cmdm-artifacts-<account>-<region>")
    parser.add_argument("--build", type=Path, help="package folder (default build/<stage>)")
    parser.add_argument("--skip-package", action="store_true", help="deploy what build/<stage> holds")
    parser.add_argument("--online", action="store_true", help="fetch the Lambda runtime's wheels again (make package ONLINE=1)")
    parser.add_argument("--runtime-python", help="the CPython 3.13 that compiles the bytecode (make RUNTIME_PYTHON=...)")
    parser.add_argument("--snapstart", choices=snapstart.CHOICES,
                        help="publish versions behind the alias 'live' with SnapStart on every function or the API only")
    parser.add_argument("--release", help="with --snapstart: any new text publishes new versions (fresh snapshots)")
    args = parser.parse_args(argv)
    try:
        return deploy(args)
    except DeployError as err:
        print(str(err).rstrip(), file=sys.stderr)
        return err.code


if __name__ == "__main__":
    sys.exit(main())
