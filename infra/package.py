"""``make package``: the deployable template and Lambda zip of one stage, built offline.

Steps, each of which fails loudly:

1. check that ``infra/template.yaml`` and ``.chalice/policy-*.json`` match the models
   (``make template`` regenerates them);
2. validate every ``policies/*.json`` agency file against ``policies/schema.json`` and copy them,
   with the schema, into ``chalicelib/policies_bundle/`` (Chalice deploys only ``app.py``,
   ``chalicelib/`` and ``vendor/``; the loader falls back to the bundle when ``policies/`` is
   absent, as it is in Lambda);
3. ``chalice package --stage STAGE --merge-template infra/template.yaml OUT``. Importing ``app.py``
   there needs ``CMDM_COGNITO_POOL_ARN`` so the staff routes get the Cognito authorizer; the pool
   does not exist yet, so a placeholder ARN is used and replaced in step 4;
4. finish the template: the placeholder becomes ``!GetAtt StaffUserPool.Arn``, the ``Stage``
   parameter is pinned to this stage (its policy file names this stage's tables), SQS event
   sources on the follow-up queue reference the queue resource (so it exists first), and every
   Lambda function gets an errors alarm;
5. ``cfn-lint`` on ``infra/template.yaml`` and on the packaged template.

No AWS credentials or network access to AWS are needed (Chalice downloads the Lambda-platform
wheels of ``requirements.txt`` from the package index once and caches them under ``.chalice/``).

    python -m infra.package --stage prod [--out build/prod] [--no-lint]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from infra import generate

ROOT = generate.ROOT
BUNDLE_DIR = ROOT / "chalicelib" / "policies_bundle"
POLICY_DIR = ROOT / "policies"
MERGE_TEMPLATE = generate.TEMPLATE_PATH
COGNITO_PLACEHOLDER = "arn:aws:cognito-idp:ca-central-1:000000000000:userpool/ca-central-1_CMDMPackagingPlaceholder"
USER_POOL = "StaffUserPool"
FOLLOWUP_QUEUE = "FollowupQueue"
ALARM_TOPIC = "AlarmTopic"


class PackageError(Exception):
    """A step failed; the message says which and what to do."""


# --- 1. generated files are current -------------------------------------------------------------


def check_generated() -> None:
    stale = generate.stale_files()
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        raise PackageError(f"{names} out of date with the models: run `make template`")


# --- 2. policies into the package ---------------------------------------------------------------


def bundle_policies(source: Path = POLICY_DIR, bundle: Path = BUNDLE_DIR) -> list[str]:
    """Validate every agency policy, then copy them and the schema into the bundle folder."""
    from chalicelib.adapters.policy_loader import PolicyError, load_policy_file, policy_files

    files = policy_files(source)
    if not files:
        raise PackageError(f"no agency policy files in {source}")
    agencies = []
    for path in files:
        try:
            agencies.append(load_policy_file(path).agency_id)
        except PolicyError as err:
            raise PackageError(f"invalid agency policy, nothing packaged: {err}") from None
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    (bundle / "README.txt").write_text(
        "Built by `make package` from policies/ (validated); not committed. Lambda reads policies here.\n",
        encoding="utf-8",
    )
    for path in [*files, source / "schema.json"]:
        shutil.copy2(path, bundle / path.name)
    return agencies


# --- 3. chalice package ------------------------------------------------------------------------------


def packaging_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment ``chalice package`` imports ``app.py`` under: the stage's own variables
    come from ``.chalice/config.json``; nothing from a developer's shell or the test suite leaks in."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(("CMDM_", "AWS_"))}
    env.update(
        CMDM_COGNITO_POOL_ARN=COGNITO_PLACEHOLDER,
        AWS_DEFAULT_REGION="ca-central-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_chalice_package(stage: str, out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())",
        "--project-dir",
        str(ROOT),
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(MERGE_TEMPLATE),
        str(out),
    ]
    result = subprocess.run(command, cwd=ROOT, env=packaging_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    template = out / "sam.yaml"
    if not template.exists():
        raise PackageError(f"chalice package wrote no {template}")
    return template


# --- 4. finishing the template ---------------------------------------------------------------------


def _replace(value: Any, old: str, new: Any) -> tuple[Any, int]:
    if value == old:
        return new, 1
    if isinstance(value, dict):
        count = 0
        out = {}
        for k, v in value.items():
            out[k], n = _replace(v, old, new)
            count += n
        return out, count
    if isinstance(value, list):
        items = [_replace(v, old, new) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0


def _function_names(template: dict[str, Any]) -> list[str]:
    return [k for k, v in template["Resources"].items() if v.get("Type") == "AWS::Serverless::Function"]


def _fix_log_group_names(resources: dict[str, Any]) -> None:
    """Chalice names the API handler's log group after ``${ApiHandler}``, but the function is
    ``APIHandler``: point every ``/aws/lambda/${X}`` at the function whose name matches X."""
    functions = {k.lower(): k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function"}
    for resource in resources.values():
        if resource.get("Type") != "AWS::Logs::LogGroup":
            continue
        name = resource["Properties"].get("LogGroupName")
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        if isinstance(sub, str) and sub.startswith("/aws/lambda/${") and sub.endswith("}"):
            target = sub[len("/aws/lambda/${") : -1]
            if target not in resources and target.lower() in functions:
                resource["Properties"]["LogGroupName"] = {"Fn::Sub": f"/aws/lambda/${{{functions[target.lower()]}}}"}


def finish_template(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """Everything ``--merge-template`` cannot express (see the module docstring, step 4)."""
    template, replaced = _replace(template, COGNITO_PLACEHOLDER, {"Fn::GetAtt": [USER_POOL, "Arn"]})
    if not replaced:
        raise PackageError("the staff routes carry no Cognito authorizer (was CMDM_COGNITO_POOL_ARN read at import?)")
    template["Parameters"]["Stage"]["Default"] = stage
    template.setdefault("Rules", {})["StageMatchesPackage"] = {
        "Assertions": [
            {
                "Assert": {"Fn::Equals": [{"Ref": "Stage"}, stage]},
                "AssertDescription": f"this package was built for stage {stage} (its IAM policy names {stage}'s tables)",
            }
        ]
    }
    queue_name = generate.followup_queue_name(stage)
    resources = template["Resources"]
    _fix_log_group_names(resources)
    for name in _function_names(template):
        for event in (resources[name]["Properties"].get("Events") or {}).values():
            props = event.get("Properties", {})
            queue = props.get("Queue")
            if event.get("Type") == "SQS" and isinstance(queue, dict) and str(queue.get("Fn::Sub", "")).endswith(
                f":{queue_name}"
            ):
                props["Queue"] = {"Fn::GetAtt": [FOLLOWUP_QUEUE, "Arn"]}
        resources[f"{name}ErrorsAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": {"Fn::Sub": f"cmdm-${{Stage}}-{name}-errors"},
                "AlarmDescription": f"The {name} Lambda function failed (an exception or a timeout).",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": name}}],
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": ALARM_TOPIC}],
            },
        }
    return template


# --- 5. cfn-lint --------------------------------------------------------------------------------------


def cfn_lint(*paths: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())",
        "--regions",
        "ca-central-1",
        "--",
        *map(str, paths),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"cfn-lint found problems:\n{result.stdout}{result.stderr}")


# --- all of it ------------------------------------------------------------------------------------------


def package(stage: str, out: Path, lint: bool = True) -> dict[str, Any]:
    """Build ``out/sam.yaml`` and ``out/deployment.zip``; returns a summary for people and tests."""
    if stage not in generate.STAGES:
        raise PackageError(f"unknown stage {stage!r}; one of {', '.join(generate.STAGES)}")
    started = time.monotonic()
    check_generated()
    agencies = bundle_policies()
    template_path = run_chalice_package(stage, out)
    template = generate.load_yaml(template_path.read_text(encoding="utf-8"))
    template = finish_template(template, stage)
    template_path.write_text(generate.dump_yaml(template), encoding="utf-8")
    if lint:
        cfn_lint(MERGE_TEMPLATE, template_path)
    zip_path = out / "deployment.zip"
    summary = {
        "stage": stage,
        "template": str(template_path),
        "zip": str(zip_path),
        "zip_bytes": zip_path.stat().st_size,
        "agencies": agencies,
        "functions": _function_names(template),
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "package.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description="package one stage offline")
    parser.add_argument("--stage", default="prod", choices=generate.STAGES)
    parser.add_argument("--out", type=Path, help="output folder (default build/<stage>)")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    args = parser.parse_args(argv)
    out = (args.out or ROOT / "build" / args.stage).resolve()
    try:
        summary = package(args.stage, out, lint=not args.no_lint)
    except PackageError as err:
        print(f"make package: {err}", file=sys.stderr)
        return 1
    size_mb = summary["zip_bytes"] / 1_000_000
    print(f"packaged stage {summary['stage']} in {summary['seconds']} s")
    print(f"  template  {summary['template']}  (cfn-lint {'skipped' if args.no_lint else 'clean'})")
    print(f"  code      {summary['zip']}  ({size_mb:.1f} MB)")
    print(f"  functions {', '.join(summary['functions'])}")
    print(f"  policies  {', '.join(summary['agencies'])} (bundled into chalicelib/policies_bundle/)")
    print(f"next: make deploy STAGE={summary['stage']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
