"""``make package`` builds a deployable, linted template and a self-contained zip offline (issues 7, 24).

Lambda's wheels are fetched once into build/lambda-wheels (the only step that may need the
package index); the package is then built once per test process with pip pointed at a closed
port, so a download attempt would fail the build. The zip carries bytecode compiled by the
runtime's own Python (CPython 3.13, which the build requires); it is unpacked read-only and run by
that Python seeing only the zip's contents (``-S``: no .venv), in the ``aws`` stage, the way
Lambda runs it, and nothing it imports may be compiled from source.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters import models
from chalicelib.adapters.policy_loader import policy_files
from infra import bytecode, generate, package, snapstart, trim

# One worker builds the package once for the whole module (the build compiles ~1,500 modules).
pytestmark = pytest.mark.xdist_group("package")

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"
# First path segments of the staff API (SPEC §4.4); /webhooks/ is Twilio's.
STAFF_API = {"staff", "numbers", "clients", "inquiries", "followups", "notifications", "reports", "audit"}
POOL_ARN = "arn:aws:cognito-idp:ca-central-1:123456789012:userpool/ca-central-1_Example"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("package") / STAGE
    # The one step that may use the package index: Lambda's wheels, once, into build/lambda-wheels.
    package.fetch_wheels(ROOT / "requirements.txt")
    with pytest.MonkeyPatch.context() as mp:
        # No package index reachable: the build must not need one.
        mp.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        mp.setenv("PIP_NO_INDEX", "1")
        summary = package.package(STAGE, out, lint=True)
    template = generate.load_yaml(Path(summary["template"]).read_text(encoding="utf-8"))
    yield {"summary": summary, "out": out, "template": template}


@pytest.fixture(scope="module")
def lambda_view(built: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """What the deployed function sees: the zip alone, CMDM_STAGE=aws, no policies/ folder."""
    task = bytecode.extract_read_only(Path(built["summary"]["zip"]), tmp_path_factory.mktemp("lambda") / "var-task")
    probe = """
import importlib.machinery, json, os, sys
compiled = []  # modules the interpreter had to compile from source: none, the zip carries their bytecode
_to_code = importlib.machinery.SourceFileLoader.source_to_code
def _spy(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = _spy
import app
from chalicelib import bootstrap
import pynamodb, twilio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo
from chalicelib.domain import zones
c = bootstrap.container()
routes = {p: {m: (e.authorizer.name if e.authorizer else None) for m, e in ms.items()} for p, ms in app.app.routes.items()}
print(json.dumps({
    "policy_dir": str(c.policies.directory),
    "agencies": [p.agency_id for p in c.policies.all()],
    "policy_store": type(c.policies).__name__,
    "slow_imports": sorted(m for m in ("jsonschema", "holidays") if m in sys.modules),
    "verifier": type(c.verifier).__name__,
    "routes": routes,
    "libraries": [pynamodb.__file__, twilio.__file__],
    "zone_rules": zones.rules_version(),
    "calgary_monday": datetime(2026, 12, 7, 15, 30, tzinfo=timezone.utc).astimezone(ZoneInfo("America/Edmonton")).isoformat(),
    "compiled_from_source": compiled,
    "from_zip": sorted(m.__name__ for m in list(sys.modules.values())
                       if (getattr(m, "__file__", None) or "").startswith(os.environ["PYTHONPATH"])),
}))
"""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(task),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CMDM_STAGE": "aws",
        "CMDM_TABLE_PREFIX": f"cmdm-{STAGE}-",
        "CMDM_COGNITO_POOL_ARN": POOL_ARN,
        "CMDM_TWILIO_SECRET_ID": f"cmdm/{STAGE}/twilio",
        "AWS_DEFAULT_REGION": "ca-central-1",
    }
    interpreter = package.require_runtime_interpreter()  # the build needed it too
    result = subprocess.run([interpreter, "-S", "-c", probe], cwd=task, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    yield {"task": task, **json.loads(result.stdout.strip().splitlines()[-1])}
    bytecode.make_writable(task)


def test_package_writes_a_linted_template_and_a_zip(built: dict[str, Any]) -> None:
    summary = built["summary"]
    assert summary["linted"] is True  # cfn-lint ran on sam.yaml (merge template included), and passed
    assert Path(summary["template"]).name == "sam.yaml"
    assert 1_000_000 < summary["zip_bytes"] < 50_000_000  # under Lambda's direct-upload limit too
    assert "APIHandler" in summary["functions"]
    assert {"pynamodb==6.1.0", "twilio==9.13.0"} <= set(summary["vendored"])
    assert not (built["out"] / "staging" / "requirements.txt").exists()  # so Chalice ran no pip download


def test_gateway_responses_reach_the_api_chalice_defines(built: dict[str, Any]) -> None:
    """API Gateway's own refusals use the error shape; they name Chalice's RestAPI, found once merged."""
    resources = built["template"]["Resources"]
    responses = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"]
    assert len(responses) == 6
    for response in responses:
        target = response["Properties"]["RestApiId"]["Ref"]
        assert resources[target]["Type"] == "AWS::Serverless::Api"


def test_packaged_template_has_every_model_table_and_is_pinned_to_its_stage(built: dict[str, Any]) -> None:
    template = built["template"]
    resources = template["Resources"]
    for model in models.ALL_MODELS:
        table = resources[generate.table_logical_id(model.Meta.base_name)]
        assert table["Properties"] == generate.table_resource(model)["Properties"]
    assert template["Parameters"]["Stage"]["Default"] == STAGE
    apis = [r for r in resources.values() if r["Type"] == "AWS::Serverless::Api"]
    assert apis and all(r["Properties"]["DefinitionBody"]["info"]["title"] == f"cmdm-{STAGE}" for r in apis)
    assert resources["Api5xxAlarm"]["Properties"]["Dimensions"] == [{"Name": "ApiName", "Value": {"Fn::Sub": "cmdm-${Stage}"}}]
    assert template["Rules"]["StageMatchesPackage"]["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "Stage"}, STAGE]}


def test_staff_routes_use_the_stacks_user_pool_and_functions_have_error_alarms(built: dict[str, Any]) -> None:
    template = built["template"]
    text = json.dumps(template)
    assert package.COGNITO_PLACEHOLDER not in text
    assert '"providerARNs": [{"Fn::GetAtt": ["StaffUserPool", "Arn"]}]' in text
    for name in built["summary"]["functions"]:
        alarm = template["Resources"][f"{name}ErrorsAlarm"]["Properties"]
        assert alarm["MetricName"] == "Errors" and alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
        env = template["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert env["CMDM_STAGE"] == "aws" and env["CMDM_TABLE_PREFIX"] == f"cmdm-{STAGE}-"
        role = template["Resources"][name]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        assert statements == generate.build_policy(STAGE)["Statement"]  # the hand-checked policy, not an autogen one


def test_zip_carries_the_validated_policies_and_the_schema(built: dict[str, Any]) -> None:
    with zipfile.ZipFile(built["summary"]["zip"]) as zipped:
        names = set(zipped.namelist())
        for path in [*policy_files(ROOT / "policies"), ROOT / "policies" / "schema.json"]:
            member = f"chalicelib/policies_bundle/{path.name}"
            assert member in names
            assert zipped.read(member) == path.read_bytes()
        compiled = json.loads(zipped.read("chalicelib/policies_bundle/policies.compiled.json"))
    assert sorted(compiled["policies"]) == sorted(p.stem for p in policy_files(ROOT / "policies"))
    first, last = built["summary"]["holiday_years"]
    assert compiled["holiday_years"] == [first, last] and last - first == 13
    assert all(len(entry["holidays"]) == 14 for entry in compiled["policies"].values())
    assert sorted(built["summary"]["agencies"]) == sorted(p.stem for p in policy_files(ROOT / "policies"))
    # No build litter: the only bytecode is the runtime's own (a .venv's 3.11 .pyc would be dead weight).
    assert all(n.endswith(".cpython-313.pyc") for n in names if "__pycache__" in n or n.endswith(".pyc"))
    assert not any(n.startswith(("tests/", "infra/", "policies/", ".chalice/")) for n in names)


def test_the_deployed_code_reads_the_bundled_policies_in_the_aws_stage(lambda_view: dict[str, Any]) -> None:
    task = lambda_view["task"]
    assert Path(lambda_view["policy_dir"]) == task / "chalicelib" / "policies_bundle"
    assert sorted(lambda_view["agencies"]) == sorted(p.stem for p in policy_files(ROOT / "policies"))
    # The compiled form: loading every policy imported neither jsonschema nor holidays.
    assert lambda_view["policy_store"] == "CompiledPolicyStore"
    assert lambda_view["slow_imports"] == []
    assert all(lib.startswith(str(task)) for lib in lambda_view["libraries"])  # nothing from .venv


def test_the_deployed_staff_api_is_behind_the_cognito_authorizer(lambda_view: dict[str, Any]) -> None:
    assert lambda_view["verifier"] == "CognitoClaimsVerifier"
    routes = lambda_view["routes"]
    staff = {p: ms for p, ms in routes.items() if p.split("/")[1] in STAFF_API}
    assert {"/staff/{staff_id}", "/clients"} <= set(staff), routes
    for path, methods in staff.items():
        for method, authorizer in methods.items():
            assert authorizer == "cmdm-staff", (method, path)
    for path, methods in routes.items():
        if path.startswith("/webhooks/"):  # Twilio signs these; it carries no Cognito token
            assert set(methods.values()) == {None}, path


def test_an_invalid_agency_policy_stops_the_build(tmp_path: Path) -> None:
    source = tmp_path / "policies"
    source.mkdir()
    data = json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8"))
    data["hours"]["mon"] = [["09:00", "25:00"]]
    (source / "calgary-cfn.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(package.PackageError, match=r"calgary-cfn.json: hours.mon\[0\]\[1\]"):
        package.bundle_policies(source, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()


def test_cfn_lint_really_runs(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
        "    Properties:\n      BillingMode: PAY_PER_REQUEST\n",
        encoding="utf-8",
    )
    with pytest.raises(package.PackageError, match="KeySchema"):
        package.cfn_lint(broken)


@pytest.mark.parametrize(
    ("tag", "runs"),
    [
        ("py3-none-any", True),
        ("py2.py3-none-any", True),
        ("cp313-cp313-manylinux2014_x86_64", True),
        ("cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64", True),
        ("cp38-abi3-manylinux_2_17_x86_64", True),
        ("cp313-cp313-manylinux_2_34_x86_64", True),  # Amazon Linux 2023's glibc
        ("cp313-cp313-manylinux_2_39_x86_64", False),  # newer glibc than Amazon Linux 2023
        ("cp311-cp311-manylinux2014_x86_64", False),  # the runtime this project left (deprecated 2027-06-30)
        ("cp313-cp313-macosx_11_0_arm64", False),
        ("cp313-cp313-linux_x86_64", False),  # built on this machine, for this machine
        ("cp313-cp313-manylinux2014_aarch64", False),
    ],
)
def test_only_wheels_built_for_lambda_are_vendored(tag: str, runs: bool) -> None:
    assert package.tag_runs_on_lambda(tag) is runs


def test_the_zip_carries_the_staff_console_and_its_pages_need_no_token(built: dict[str, Any],
                                                                       lambda_view: dict[str, Any]) -> None:
    web = ROOT / "chalicelib" / "web"
    with zipfile.ZipFile(built["summary"]["zip"]) as zipped:
        names = set(zipped.namelist())
        for path in web.rglob("*"):
            if path.is_file():
                member = "chalicelib/web/" + path.relative_to(web).as_posix()
                assert member in names
    routes = lambda_view["routes"]
    assert set(routes["/console/{name}"].values()) == {None}  # the sign-in page must load signed out
    assert set(routes["/me"].values()) == {"cmdm-staff"}


# -- issue 11, item 18: a runtime that is still supported when the guide is followed -----------------


def test_every_function_runs_on_the_packaged_runtime(built: dict[str, Any]) -> None:
    resources = built["template"]["Resources"]
    runtimes = {name: resources[name]["Properties"].get("Runtime") for name in built["summary"]["functions"]}
    globals_runtime = built["template"].get("Globals", {}).get("Function", {}).get("Runtime")
    assert set(runtimes.values()) | ({globals_runtime} - {None}) == {package.LAMBDA_RUNTIME}
    assert package.LAMBDA_PYTHON >= (3, 12)


def test_the_zip_imports_under_the_runtimes_own_python(built: dict[str, Any], lambda_view: dict[str, Any]) -> None:
    checked = built["summary"]["imports_checked_with"]
    assert checked is not None and checked.startswith("{}.{}.".format(*package.LAMBDA_PYTHON))
    # Compiled wheels in the zip were built for that ABI (their C extensions loaded in the probe).
    with zipfile.ZipFile(built["summary"]["zip"]) as zipped:
        extensions = [n for n in zipped.namelist() if n.endswith(".so")]
    tag = "cpython-{}{}-x86_64-linux-gnu.so".format(*package.LAMBDA_PYTHON)
    assert extensions and all(n.endswith(tag) or ".abi3." in n or "cpython" not in n for n in extensions)


def test_the_zip_reads_its_own_pinned_zone_rules_not_the_runtimes(built: dict[str, Any],
                                                                  lambda_view: dict[str, Any]) -> None:
    # The runtime's Python here reads the machine's 2025 copy by default; the zip must not.
    assert built["summary"]["zone_rules"] == f"{lambda_view['zone_rules']} (tzdata {package.pinned_version(ROOT / 'requirements.txt', 'tzdata')})"
    assert lambda_view["calgary_monday"] == "2026-12-07T09:30:00-06:00"


def test_the_runtime_support_dates_are_cfn_lints_own(built: dict[str, Any]) -> None:
    import cfnlint

    lifecycle = json.loads((Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs"
                            / "LmbdRuntimeLifecycle.json").read_text(encoding="utf-8"))[package.LAMBDA_RUNTIME]
    assert lifecycle["deprecated"] == package.RUNTIME_DEPRECATED
    assert lifecycle["create-block"] == package.RUNTIME_CREATE_BLOCKED
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert package.LAMBDA_RUNTIME in readme and package.RUNTIME_DEPRECATED in readme


def test_the_packaged_template_lints_clean_with_the_clock_in_2028(built: dict[str, Any]) -> None:
    """cfn-lint's runtime rules read today's date; in 2028 they must still find nothing (none silenced)."""
    import time_machine
    from cfnlint.api import lint_file

    with time_machine.travel("2028-03-01T12:00:00Z", tick=False):
        matches = lint_file(Path(built["summary"]["template"]), {"regions": ["ca-central-1"]})
    assert [str(m) for m in matches] == []


# -- issue 24: bytecode for the runtime, a smaller zip, SnapStart -------------------------------------


def _runtime_magic() -> tuple[bytes, str]:
    facts = bytecode.runtime_facts(package.require_runtime_interpreter())
    return bytes.fromhex(facts["magic"]), facts["cache_tag"]


def test_every_module_in_the_zip_carries_bytecode_the_runtimes_python_reads(built: dict[str, Any]) -> None:
    magic, cache_tag = _runtime_magic()
    assert cache_tag == "cpython-{}{}".format(*package.LAMBDA_PYTHON)
    zip_path = Path(built["summary"]["zip"])
    assert bytecode.bytecode_problems(zip_path, magic, cache_tag) == []
    summary = built["summary"]
    assert summary["py"] == summary["pyc"] > 1000
    assert summary["bytecode"] == {"python": summary["imports_checked_with"], "magic": magic.hex(),
                                   "cache_tag": cache_tag, "invalidation": "unchecked-hash"}
    with zipfile.ZipFile(zip_path) as zipped:  # the handler and the first webhook's path, byte by byte
        for module in ("app.py", "chalicelib/services/inbound.py", "pynamodb/connection/base.py", "chalice/app.py"):
            header = zipped.read(bytecode.cache_path(module, cache_tag))[:16]
            assert header[:4] == magic and int.from_bytes(header[4:8], "little") == bytecode.UNCHECKED_HASH


def test_the_zip_runs_read_only_under_the_runtimes_python_without_compiling_a_module(
        built: dict[str, Any], lambda_view: dict[str, Any]) -> None:
    # Every module the deployed code path loaded from the zip came from its .pyc: none was compiled.
    assert {"app", "chalicelib.bootstrap", "chalicelib.adapters.policy_bundle", "pynamodb", "twilio", "tzdata"} <= \
        set(lambda_view["from_zip"])
    assert lambda_view["compiled_from_source"] == []
    assert built["summary"]["modules_probed"] > 400  # the build's probe: app, chalicelib, every vendored module


def test_the_zip_leaves_out_what_the_service_never_imports(built: dict[str, Any], lambda_view: dict[str, Any]) -> None:
    with zipfile.ZipFile(built["summary"]["zip"]) as zipped:
        names = zipped.namelist()
    tops = {n.split("/")[0] for n in names}
    for gone in ("aiohttp", "aiohttp_retry", "aiohappyeyeballs", "aiosignal", "frozenlist", "multidict", "propcache",
                 "yarl", "aws_lambda_powertools"):
        assert gone not in tops and not any(t.startswith(gone + "-") for t in tops), gone
    assert not any(n.startswith(("phonenumbers/geodata/", "phonenumbers/carrierdata/")) or n.endswith(".pyi")
                   for n in names)
    assert {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 3} == \
        set(trim.AWS_SERVICES)
    assert {n.split("/")[2] for n in names if n.startswith("twilio/rest/") and n.count("/") > 2} - {"__pycache__"} == \
        set(trim.TWILIO_REST_KEPT)
    # ... and what is left runs: the deployed code path imported pynamodb and twilio from the zip.
    assert all(lib.startswith(str(lambda_view["task"])) for lib in lambda_view["libraries"])
    summary = built["summary"]
    assert summary["zip_bytes"] < 30_000_000 and summary["files"] < 6_000  # 40.0 MB, 7,322 files before
    assert summary["left_out_bytes"] > 50_000_000


def test_the_zip_is_the_same_byte_for_byte_from_the_same_tree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("X = 1\n", encoding="utf-8")
    (tree / "app.py").write_text("import pkg.mod\n", encoding="utf-8")
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    bytecode.write_zip(tree, first)
    os.utime(tree / "app.py", (1_000_000_000, 1_000_000_000))  # a different file time changes nothing
    bytecode.write_zip(tree, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zipped:
        assert [i.filename for i in zipped.infolist()] == ["app.py", "pkg/mod.py"]
        assert all((i.external_attr >> 16) & 0o444 == 0o444 for i in zipped.infolist())  # Lambda reads them


def test_a_zip_without_usable_bytecode_is_refused_module_by_module(tmp_path: Path) -> None:
    magic, cache_tag = _runtime_magic()
    interpreter = package.require_runtime_interpreter()
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    for name in ("good", "missing", "foreign", "timestamped"):
        (tree / "pkg" / f"{name}.py").write_text(f"NAME = {name!r}\n", encoding="utf-8")
    bytecode.compile_tree(tree, interpreter)
    pycache = tree / "pkg" / "__pycache__"
    (pycache / f"missing.{cache_tag}.pyc").unlink()
    foreign = pycache / f"foreign.{cache_tag}.pyc"
    foreign.write_bytes(importlib.util.MAGIC_NUMBER + foreign.read_bytes()[4:])  # this .venv's Python, not 3.13
    subprocess.run([interpreter, "-m", "compileall", "-q", "-f", "--invalidation-mode", "timestamp",
                    str(tree / "pkg" / "timestamped.py")], check=True)
    zip_path = tmp_path / "deployment.zip"
    bytecode.write_zip(tree, zip_path)
    problems = "\n".join(bytecode.bytecode_problems(zip_path, magic, cache_tag))
    assert "pkg/missing.py: no pkg/__pycache__/missing" in problems
    assert f"foreign.{cache_tag}.pyc: magic number {importlib.util.MAGIC_NUMBER.hex()}" in problems
    assert "timestamped.cpython-313.pyc: not an unchecked-hash .pyc" in problems
    assert "good" not in problems


def test_a_module_the_build_cannot_compile_leaves_no_zip_behind(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "app.py").write_text("def broken(:\n", encoding="utf-8")
    zip_path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(zip_path, "w") as zipped:
        zipped.write(tree / "app.py", "app.py")
    with pytest.raises(package.PackageError, match="no zip written"):
        package.ship_bytecode(zip_path, package.require_runtime_interpreter())
    assert not zip_path.exists()


def test_the_probe_catches_a_module_compiled_at_import(built: dict[str, Any], tmp_path: Path) -> None:
    """Delete one module's .pyc from a copy of the zip: the probe names that module, and nothing else."""
    _, cache_tag = _runtime_magic()
    victim = bytecode.cache_path("chalicelib/domain/inbound.py", cache_tag)
    copy = tmp_path / "deployment.zip"
    with zipfile.ZipFile(built["summary"]["zip"]) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != victim:
                out.writestr(info, source.read(info.filename))
    env = {"CMDM_STAGE": "aws", "CMDM_COGNITO_POOL_ARN": POOL_ARN, "AWS_DEFAULT_REGION": "ca-central-1"}
    with pytest.raises(bytecode.BytecodeError) as caught:
        bytecode.probe(copy, package.require_runtime_interpreter(), trim.AWS_SERVICES, env)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 and lines[0].endswith("/chalicelib/domain/inbound.py"), lines


def test_without_the_runtimes_python_make_package_stops_and_says_how_to_get_one(tmp_path: Path) -> None:
    out = tmp_path / "prod"
    for named in ("/nonexistent/python3.13", sys.executable):  # absent, and a Python that is not 3.13
        result = subprocess.run([sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out),
                                 "--runtime-python", named], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1
        assert f"{named} is not a CPython 3.13, so nothing was packaged" in result.stderr
        assert "pyenv install 3.13" in result.stderr and "RUNTIME_PYTHON=" in result.stderr
        assert not out.exists()


def test_a_machine_without_python_3_13_anywhere_is_told_where_it_was_looked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.13 on PATH
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pyenv
    monkeypatch.setattr(package, "_python_version", lambda candidate: None)  # nor /usr/bin, /usr/local/bin
    assert package.runtime_interpreter() is None
    with pytest.raises(package.PackageError) as caught:
        package.package("prod", tmp_path / "prod")
    message = str(caught.value)
    assert message.startswith("no CPython 3.13 on this machine, so nothing was packaged")
    assert "~/.pyenv/versions/3.13*" in message and "pyenv install 3.13" in message
    assert not (tmp_path / "prod").exists()  # refused before building anything


@pytest.mark.parametrize("on", snapstart.CHOICES)
def test_snapstart_publishes_versions_behind_an_alias_the_api_schedules_and_queues_call(
        built: dict[str, Any], tmp_path: Path, on: str) -> None:
    template = copy.deepcopy(built["template"])
    functions = built["summary"]["functions"]
    done = snapstart.publish_with_snapstart(template, functions, on)
    path = tmp_path / "sam.yaml"
    path.write_text(generate.dump_yaml(done), encoding="utf-8")
    package.cfn_lint(path)  # the whole template, SnapStart included, lints clean (no rule silenced)
    resources = done["Resources"]
    for name in functions:
        props = resources[name]["Properties"]
        assert props["AutoPublishAlias"] == snapstart.ALIAS and props["AutoPublishAliasAllProperties"] is True
        expected = {"ApplyOn": "PublishedVersions"} if on == "all" or name == "APIHandler" else None
        assert props.get("SnapStart") == expected, name
        for event in (props.get("Events") or {}).values():
            assert event["Type"] in ("Schedule", "SQS")  # SAM points these at the alias of a function that has one
    integrations = [op["x-amazon-apigateway-integration"]["uri"]
                    for api in resources.values() if api["Type"] == "AWS::Serverless::Api"
                    for methods in api["Properties"]["DefinitionBody"]["paths"].values()
                    for op in methods.values() if isinstance(op, dict) and "x-amazon-apigateway-integration" in op]
    assert integrations and all(uri["Fn::Sub"][1] == {snapstart.ALIAS_VARIABLE: {"Ref": "APIHandler.Alias"}}
                                and "APIHandler.Arn" not in json.dumps(uri) for uri in integrations)
    assert resources["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "APIHandler.Alias"}
    assert done["Parameters"][snapstart.RELEASE_PARAMETER]["Default"] == ""
    assert "APIHandler.Arn" not in json.dumps({k: v for k, v in resources.items() if v["Type"] != "AWS::Logs::LogGroup"})


def test_snapstart_is_refused_unless_all_or_api(tmp_path: Path) -> None:
    with pytest.raises(package.PackageError, match="snapstart must be one of all, api"):
        package.package("prod", tmp_path / "prod", snapstart_on="yes")


def test_every_function_knows_the_live_queue_by_its_url(built: dict[str, Any]) -> None:
    # The webhook's commit queues its live update: with the URL at hand, no request asks SQS for it first.
    resources = built["template"]["Resources"]
    for name in built["summary"]["functions"]:
        env = resources[name]["Properties"]["Environment"]["Variables"]
        assert env["CMDM_LIVE_QUEUE_URL"] == {"Ref": "LiveQueue"}, name
    assert resources["LiveQueue"]["Type"] == "AWS::SQS::Queue"
