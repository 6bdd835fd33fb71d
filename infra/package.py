"""``make package``: the deployable template and Lambda zip of one stage, built offline.

Nothing here needs AWS credentials or the network. ``chalice package`` on the project folder
would run ``pip download`` for every line of ``requirements.txt`` (it fetches Lambda-platform
wheels from the package index), so instead this builds a *staging copy* of the project under
``build/<stage>/project/`` and runs ``chalice package`` on that:

1. render the merge template (``infra/resources.yaml`` + one table per PynamoDB model) and this
   stage's least-privilege IAM policy from the models (``infra/generate.py``), so an index or a
   table added to ``chalicelib/adapters/models.py`` is deployed without editing YAML;
2. copy ``app.py``, ``chalicelib/`` and ``.chalice/config.json`` (with the rendered policies);
3. validate every ``policies/*.json`` agency file against ``policies/schema.json``, compile them
   (the validated documents with their holidays resolved from three years back to ten ahead)
   into the staging ``chalicelib/policies_bundle/policies.compiled.json``, and copy the files with
   the schema beside it (Chalice deploys only ``app.py``, ``chalicelib/`` and ``vendor/``; in
   Lambda there is no ``policies/`` folder and the service reads the compiled file, importing
   neither jsonschema nor holidays: ``chalicelib/adapters/policy_bundle.py``). An invalid file
   stops the build;
4. ``vendor/``: the runtime dependencies (the closure of ``requirements.txt``, at the versions the
   .venv tested) installed from wheels built for Lambda's runtime (``LAMBDA_RUNTIME``: CPython 3.13,
   manylinux x86_64), fetched with ``pip download --python-version 3.13 --platform
   manylinux2014_x86_64 --only-binary=:all:`` into ``build/lambda-wheels/`` on the first build (the
   one step that needs the package index; later builds run offline). The staging copy has no
   ``requirements.txt``, so Chalice downloads nothing and zips ``vendor/`` as it is. What the
   service never imports is left out (``infra/trim.py``: Twilio's async client and aiohttp, unused
   data and AWS service models);
5. ``chalice package --stage STAGE --merge-template build/template.yaml OUT``. Importing
   ``app.py`` there needs ``CMDM_COGNITO_POOL_ARN`` so the staff routes get the Cognito
   authorizer; the pool does not exist yet, so a placeholder ARN is used and replaced in step 6;
6. finish the template: the placeholder becomes ``!GetAtt StaffUserPool.Arn``, the ``Stage``
   parameter is pinned to this stage (its policy names this stage's tables), every function's
   ``Runtime`` is ``LAMBDA_RUNTIME`` (Chalice would name the Python that ran it), SQS event sources on
   the follow-up queue reference the queue resource (so it exists first), and every Lambda
   function gets an errors alarm; with ``--snapstart``, every function publishes versions behind the
   alias ``live`` that the API, the schedules and the queues call, with SnapStart on
   (``infra/snapstart.py``);
7. ``cfn-lint`` on the packaged template, which holds every resource of the merge template. The
   merge template alone is a fragment: its gateway responses name Chalice's ``RestAPI``, which only
   the packaged template defines, so linting it alone reports references that do resolve once merged;
8. bytecode (``infra/bytecode.py``): Chalice's zip is unpacked, compiled with CPython
   ``LAMBDA_PYTHON`` (unchecked-hash ``.pyc``, the runtime's magic number) and zipped again; every
   ``.py`` must have its ``.pyc``, and the finished zip is run unpacked and read-only under that
   Python: ``app``, every ``chalicelib`` module, every vendored module (so a wheel for the
   wrong ABI stops the build), the AWS clients and the Twilio calls, none of them compiled from
   source. Without a CPython ``LAMBDA_PYTHON`` on the machine the build stops before anything
   else and says how to get one: a zip without bytecode is never written.

    python -m infra.package --stage prod [--out build/prod] [--no-lint] [--online]
                            [--runtime-python PATH] [--snapstart all|api]
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from infra import bytecode, generate, snapstart, trim

ROOT = generate.ROOT
POLICY_DIR = ROOT / "policies"
BUNDLE_NAME = "policies_bundle"
COGNITO_PLACEHOLDER = "arn:aws:cognito-idp:ca-central-1:000000000000:userpool/ca-central-1_CMDMPackagingPlaceholder"
USER_POOL = "StaffUserPool"
FOLLOWUP_QUEUE = "FollowupQueue"
POSTS_QUEUE = "PostsQueue"
LIVE_QUEUE = "LiveQueue"
ALARM_TOPIC = "AlarmTopic"
# Lambda's python3.13 runtime: Amazon Linux 2023 (glibc 2.34), x86_64 (Chalice's default architecture).
# AWS deprecates it on 2029-06-30 and blocks creating functions with it from 2029-07-31 (the dates
# cfn-lint checks, rule E2531/E2533: tests/integration/test_package.py compares them). The wheels are
# fetched for that Python and platform with pip, whatever Python runs the build.
LAMBDA_PYTHON = (3, 13)
LAMBDA_RUNTIME = f"python{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}"
RUNTIME_DEPRECATED = "2029-06-30"
RUNTIME_CREATE_BLOCKED = "2029-07-31"
LAMBDA_GLIBC = (2, 34)
LAMBDA_MACHINE = "x86_64"
PIP_PLATFORM = "manylinux2014_x86_64"
WHEEL_CACHE = ROOT / "build" / "lambda-wheels" / f"cp{LAMBDA_PYTHON[0]}{LAMBDA_PYTHON[1]}"
LAMBDA_MARKERS = {
    "python_version": f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}",
    "python_full_version": f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": LAMBDA_MACHINE,
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
# The Lambda runtime needs none of these, and Chalice adds its own small runtime (chalice/app.py).
NOT_SHIPPED = {"chalice", "pip", "setuptools", "wheel"}


class PackageError(Exception):
    """A step failed; the message says which and what to do."""


# --- 2. the staging project -----------------------------------------------------------------------


def _ignore_build_litter(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", BUNDLE_NAME) or n.endswith((".pyc", ".pyo"))}


def stage_project(stage: str, project: Path, source: Path = ROOT) -> Path:
    """A copy of what Chalice deploys, with freshly rendered policies; returns the merge template."""
    if project.exists():
        shutil.rmtree(project)
    (project / ".chalice").mkdir(parents=True)
    shutil.copy2(source / "app.py", project / "app.py")
    shutil.copytree(source / "chalicelib", project / "chalicelib", ignore=_ignore_build_litter)
    shutil.copy2(source / ".chalice" / "config.json", project / ".chalice" / "config.json")
    for path, text in generate.render_policies().items():
        (project / ".chalice" / path.name).write_text(text, encoding="utf-8")
    template = project.parent / "merge-template.yaml"
    template.write_text(generate.render_template(), encoding="utf-8")
    return template


# --- 3. policies into the package ---------------------------------------------------------------


def bundle_policies(source: Path, bundle: Path, today: date | None = None) -> list[str]:
    """Validate every agency policy, compile it, and copy the files and the schema into the bundle.

    The compiled file (``policy_bundle``) is what the deployed service reads: each validated
    document with its holidays resolved for ``policy_bundle.holiday_years(today)``. The copies
    of the files and the schema stay beside it for people reading the zip, and for the run-time
    loader should the compiled file be removed.
    """
    from chalicelib.adapters.policy_bundle import (
        COMPILED_FILENAME,
        CompiledPolicyError,
        holiday_years,
    )
    from chalicelib.adapters.policy_loader import SCHEMA_PATH, PolicyError, compile_policies, policy_files

    files = policy_files(source)
    if not files:
        raise PackageError(f"no agency policy files in {source}")
    years = holiday_years(today or date.today())
    try:
        compiled = compile_policies(source, years)
    except PolicyError as err:
        raise PackageError(f"invalid agency policy, nothing packaged: {err}") from None
    except CompiledPolicyError as err:
        raise PackageError(f"cannot compile the agency policies, nothing packaged: {err}") from None
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    (bundle / "README.txt").write_text(
        "Built by `make package` from policies/ (validated against policies/schema.json); not committed.\n"
        f"The deployed service reads {COMPILED_FILENAME}: the validated policies with their holidays for "
        f"{years[0]}-{years[-1]} (chalicelib/adapters/policy_bundle.py).\n",
        encoding="utf-8",
    )
    (bundle / COMPILED_FILENAME).write_text(json.dumps(compiled, sort_keys=True) + "\n", encoding="utf-8")
    for path in [*files, SCHEMA_PATH]:
        shutil.copy2(path, bundle / path.name)
    return sorted(compiled["policies"])


# --- 4. vendor/: runtime dependencies from the installed .venv -------------------------------------


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions(requirements: Path) -> list[Any]:
    """The installed distributions ``requirements`` needs in Lambda (markers evaluated for Lambda)."""
    from packaging.requirements import Requirement

    # (requirement, the extra of the parent that asked for it; "" for none)
    queue: list[tuple[Any, str]] = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            queue.append((Requirement(line), ""))
    found: dict[str, Any] = {}
    expanded: set[tuple[str, str]] = set()
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}):
            continue
        key = _canonical(requirement.name)
        if key in NOT_SHIPPED:
            continue
        if key not in found:
            try:
                found[key] = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                raise PackageError(
                    f"{requirement.name} (needed by requirements.txt) is not installed in .venv: run `make test` "
                    "once to install it, or package with --online"
                ) from None
        dist = found[key]
        if dist.version not in requirement.specifier:
            raise PackageError(f"{requirement.name} {dist.version} is installed but {requirement} is required")
        for wanted_extra in ("", *sorted(requirement.extras)):
            if (key, wanted_extra) not in expanded:
                expanded.add((key, wanted_extra))
                queue.extend((Requirement(child), wanted_extra) for child in dist.requires or [])
    return sorted(found.values(), key=lambda d: _canonical(d.metadata["Name"]))


def _glibc(platform: str) -> tuple[int, int] | None:
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    for prefix, version in legacy.items():
        if platform == f"{prefix}_{LAMBDA_MACHINE}":
            return version
    match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{LAMBDA_MACHINE}", platform)
    return (int(match.group(1)), int(match.group(2))) if match else None


def tag_runs_on_lambda(tag: str) -> bool:
    """Whether a wheel tag (``cp311-cp311-manylinux2014_x86_64``, ``py3-none-any``) suits Lambda."""
    pythons, abis, platforms = tag.split("-")
    major, minor = LAMBDA_PYTHON
    python_ok = any(
        p in (f"py{major}", f"cp{major}{minor}", f"py{major}{minor}")
        or (abis == "abi3" and re.fullmatch(r"cp3\d+", p) and int(p[3:]) <= minor)
        for p in pythons.split(".")
    )
    abi_ok = any(a in ("none", "abi3", f"cp{major}{minor}") for a in abis.split("."))
    platform_ok = any(
        p == "any" or ((glibc := _glibc(p)) is not None and glibc <= LAMBDA_GLIBC) for p in platforms.split(".")
    )
    return python_ok and abi_ok and platform_ok


def check_lambda_compatible(dist: Any) -> None:
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    files = [str(f) for f in dist.files or []]
    compiled = any(f.endswith((".so", ".pyd", ".dylib")) for f in files)
    if tags and any(tag_runs_on_lambda(t) for t in tags):
        return
    if not tags and not compiled:
        return  # installed from a source distribution, but pure Python
    name = f"{dist.metadata['Name']} {dist.version}"
    raise PackageError(
        f"{name} in .venv was built for {', '.join(tags) or 'this machine'}, not for Lambda "
        f"(CPython {LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}, manylinux x86_64, glibc <= 2.26): "
        "package with --online so Chalice fetches Lambda wheels with pip"
    )


def _pip_target_args() -> list[str]:
    major, minor = LAMBDA_PYTHON
    return ["--python-version", f"{major}.{minor}", "--platform", PIP_PLATFORM, "--implementation", "cp",
            "--abi", f"cp{major}{minor}", "--only-binary=:all:"]


def _constraints(requirements: Path, folder: Path) -> Path:
    """The versions the test suite ran with (the .venv's runtime closure), so the zip ships the same."""
    pins = [f"{dist.metadata['Name']}=={dist.version}" for dist in runtime_distributions(requirements)]
    path = folder / "constraints.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path


def _pip(*args: str, offline: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if offline:
        env.update(PIP_NO_INDEX="1", PIP_INDEX_URL="http://127.0.0.1:9/simple")
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"],
                          env=env, capture_output=True, text=True)


def fetch_wheels(requirements: Path, cache: Path = WHEEL_CACHE, refresh: bool = False) -> Path:
    """Lambda's wheels (CPython LAMBDA_PYTHON, manylinux x86_64) for ``requirements``, in ``cache``.

    Downloaded once with pip from the package index (``--python-version``, ``--platform``,
    ``--only-binary=:all:``); later builds find everything in the cache and need no network.
    """
    cache.mkdir(parents=True, exist_ok=True)
    constraints = _constraints(requirements, cache.parent)
    common = ["download", "-r", str(requirements), "-c", str(constraints), "--dest", str(cache), *_pip_target_args()]
    if not refresh and _pip(*common, "--no-index", "--find-links", str(cache), offline=True).returncode == 0:
        return cache
    result = _pip(*common, offline=False)
    if result.returncode != 0:
        raise PackageError(
            f"pip could not fetch {LAMBDA_RUNTIME} wheels for requirements.txt (is the package index reachable? "
            f"the first build needs it, later ones use {cache}):\n{result.stderr[-2000:]}"
        )
    return cache


def vendor_dependencies(requirements: Path, vendor: Path, cache: Path = WHEEL_CACHE) -> list[str]:
    """Install the Lambda wheels of ``requirements`` from the cache into ``vendor`` (no network)."""
    vendor.mkdir(parents=True, exist_ok=True)
    constraints = _constraints(requirements, cache.parent)
    result = _pip("install", "-r", str(requirements), "-c", str(constraints), "--no-index", "--find-links", str(cache),
                  "--target", str(vendor), "--no-compile", *_pip_target_args(), offline=True)
    if result.returncode != 0:
        raise PackageError(f"installing the {LAMBDA_RUNTIME} wheels into vendor/ failed:\n{result.stderr[-2000:]}")
    shutil.rmtree(vendor / "bin", ignore_errors=True)  # console scripts: Lambda runs none
    names = []
    for dist in sorted(metadata.distributions(path=[str(vendor)]), key=lambda d: _canonical(d.metadata["Name"])):
        check_lambda_compatible(dist)
        names.append(f"{dist.metadata['Name']}=={dist.version}")
    return names


# --- 4b. the runtime's own Python: required, it compiles the zip's bytecode ------------------------

RUNTIME_PYTHON_MISSING = """no CPython {version} on this machine, so nothing was packaged.
The zip must carry bytecode compiled by Lambda's own Python ({runtime}): without it every cold
Lambda container compiles every module it imports, on every start (its first webhook then takes
about 4x as long). Looked for python{version} on PATH, in /usr/bin and /usr/local/bin, and under
~/.pyenv/versions/{version}*. Get one, then run make package again:
  pyenv install {version}                      (pyenv: https://github.com/pyenv/pyenv)
  uv python install {version}                  (then RUNTIME_PYTHON=$(uv python find {version}))
  sudo apt-get install python{version}          (Debian/Ubuntu, where the release packages it)
or name it: make package RUNTIME_PYTHON=/path/to/python{version}"""


def _python_version(candidate: str) -> str | None:
    try:
        probe = subprocess.run([candidate, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return probe.stdout.strip() if probe.returncode == 0 else None


def runtime_interpreter(preferred: str | None = None) -> str | None:
    """A CPython LAMBDA_PYTHON: ``preferred`` (``RUNTIME_PYTHON``) if given, else PATH, pyenv, the
    usual prefixes; None if there is none."""
    import glob

    wanted = f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}"
    name = f"python{wanted}"
    candidates = [preferred] if preferred else [
        shutil.which(name), f"/usr/bin/{name}", f"/usr/local/bin/{name}",
        *sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / f"{wanted}*" / "bin" / name)))]
    for candidate in candidates:
        if candidate and Path(candidate).exists() and _python_version(candidate) == wanted:
            return str(Path(candidate).resolve()) if preferred else candidate
    return None


def require_runtime_interpreter(preferred: str | None = None) -> str:
    """The CPython LAMBDA_PYTHON that compiles the zip's bytecode, or a ``PackageError`` saying how to get one."""
    found = runtime_interpreter(preferred)
    if found is not None:
        return found
    version = f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}"
    message = RUNTIME_PYTHON_MISSING.format(version=version, runtime=LAMBDA_RUNTIME)
    if preferred:
        message = f"{preferred} is not a CPython {version}, so nothing was packaged.\n" + message.split("\n", 1)[1]
    raise PackageError(message)


def ship_bytecode(zip_path: Path, interpreter: str) -> dict[str, Any]:
    """Rewrite Chalice's ``zip_path`` with the runtime's bytecode beside every module, and check it.

    On any failure the zip is deleted: ``make deploy`` can never pick up a zip without bytecode.
    """
    import tempfile
    import zipfile

    try:
        facts = bytecode.runtime_facts(interpreter)
        with tempfile.TemporaryDirectory(prefix="cmdm-bytecode-") as tmp:
            task = Path(tmp) / "task"
            with zipfile.ZipFile(zip_path) as zipped:
                zipped.extractall(task)
            for litter in [*task.rglob("__pycache__"), *task.rglob("*.pyc")]:  # only the runtime's own
                if litter.is_dir():
                    shutil.rmtree(litter)
                elif litter.exists():
                    litter.unlink()
            bytecode.compile_tree(task, interpreter)
            bytecode.write_zip(task, zip_path)
        problems = bytecode.bytecode_problems(zip_path, bytes.fromhex(facts["magic"]), facts["cache_tag"])
        if problems:
            raise bytecode.BytecodeError(f"{len(problems)} modules without usable bytecode:\n" + "\n".join(problems[:40]))
    except bytecode.BytecodeError as err:
        zip_path.unlink(missing_ok=True)
        raise PackageError(f"no zip written: {err}") from None
    return facts


def run_probe(zip_path: Path, interpreter: str) -> dict[str, Any]:
    """``infra/bytecode.py``'s probe on the finished zip, in the ``aws`` stage; deletes the zip if it fails."""
    env = {"CMDM_STAGE": "aws", "CMDM_COGNITO_POOL_ARN": COGNITO_PLACEHOLDER, "AWS_DEFAULT_REGION": "ca-central-1"}
    try:
        return bytecode.probe(zip_path, interpreter, trim.AWS_SERVICES, env)
    except bytecode.BytecodeError as err:
        zip_path.unlink(missing_ok=True)
        raise PackageError(f"the zip failed its probe under {LAMBDA_RUNTIME} ({interpreter}), so it was deleted:\n{err}") from None


# --- 4c. the zip's time-zone rules are the pinned ones or newer (SPEC §5.11) ----------------------------


def pinned_version(requirements: Path, name: str) -> str:
    """The version ``requirements`` pins ``name`` to (``name==X``)."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement and _canonical(requirement.split("==", 1)[0]) == _canonical(name):
            return requirement.split("==", 1)[1].strip()
    raise PackageError(f"{requirements.name} does not pin {name} (name==version)")


def zone_rules_in_zip(zip_path: Path) -> tuple[str, str]:
    """``(package version, IANA release)`` of the tzdata package the zip carries, e.g. ``("2026.6", "2026f")``."""
    import re
    import zipfile

    with zipfile.ZipFile(zip_path) as zipped:
        names = [n for n in zipped.namelist() if n == "tzdata/__init__.py" or n.endswith("/tzdata/__init__.py")]
        if not names:
            raise PackageError("the zip carries no tzdata package: the Lambda would read its image's own zone rules")
        source = zipped.read(min(names, key=len)).decode("utf-8")
    found = {key: re.search(rf'^{key}\s*=\s*"([^"]+)"', source, re.MULTILINE) for key in ("__version__", "IANA_VERSION")}
    if not all(found.values()):
        raise PackageError("the zip's tzdata/__init__.py names no __version__ or IANA_VERSION")
    return found["__version__"].group(1), found["IANA_VERSION"].group(1)  # type: ignore[union-attr]


def _numeric_version(text: str) -> tuple[int, ...]:
    """``"2026.6"`` as ``(2026, 6)``: tzdata's versions are YEAR.RELEASE, compared as numbers."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def check_zone_rules(zip_path: Path, requirements: Path) -> str:
    """Refuse a zip whose time-zone rules are older than the pin; returns e.g. ``"2026f (tzdata 2026.6)"``."""
    pin = pinned_version(requirements, "tzdata")
    shipped, release = zone_rules_in_zip(zip_path)
    if _numeric_version(shipped) < _numeric_version(pin):
        raise PackageError(f"the zip's time-zone rules are tzdata {shipped} ({release}), older than the pin "
                           f"tzdata=={pin} in {requirements.name}: rebuild the wheel cache with ONLINE=1")
    return f"{release} (tzdata {shipped})"


# --- 5. chalice package ------------------------------------------------------------------------------


def packaging_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment ``chalice package`` imports ``app.py`` under: the stage's own variables
    come from ``.chalice/config.json``; nothing from a developer's shell or the test suite leaks in."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith(("CMDM_", "AWS_"))}
    env.update(
        CMDM_COGNITO_POOL_ARN=COGNITO_PLACEHOLDER,
        AWS_DEFAULT_REGION="ca-central-1",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONDONTWRITEBYTECODE="1",  # no .venv bytecode in the staged chalicelib/ (step 8 compiles for Lambda)
    )
    return env


def run_chalice_package(stage: str, project: Path, merge_template: Path, out: Path) -> Path:
    command = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.argv[0] = 'chalice'; sys.exit(main())",
        "--project-dir",
        str(project),
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(merge_template),
        str(out),
    ]
    result = subprocess.run(command, cwd=project, env=packaging_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    template = out / "sam.yaml"
    if not template.exists():
        raise PackageError(f"chalice package wrote no {template}")
    return template


# --- 6. finishing the template ---------------------------------------------------------------------


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
    # Chalice names the runtime after the Python that ran it; the zip is built for LAMBDA_RUNTIME.
    function_globals = template.get("Globals", {}).get("Function", {})
    if "Runtime" in function_globals:
        function_globals["Runtime"] = LAMBDA_RUNTIME
    for resource in template["Resources"].values():
        if resource.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            resource.setdefault("Properties", {})["Runtime"] = LAMBDA_RUNTIME
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
    queues = {generate.followup_queue_name(stage): FOLLOWUP_QUEUE, generate.posts_queue_name(stage): POSTS_QUEUE}
    resources = template["Resources"]
    _fix_log_group_names(resources)
    for resource in resources.values():
        # The API's name is its OpenAPI title; the 5xx alarm finds the API by it (ApiName).
        if resource.get("Type") == "AWS::Serverless::Api" and "DefinitionBody" in resource["Properties"]:
            resource["Properties"]["DefinitionBody"].setdefault("info", {})["title"] = f"{generate.APP_NAME}-{stage}"
    for name in _function_names(template):
        for event in (resources[name]["Properties"].get("Events") or {}).values():
            props = event.get("Properties", {})
            queue = props.get("Queue")
            if event.get("Type") == "SQS" and isinstance(queue, dict):
                for queue_name, logical_id in queues.items():
                    if str(queue.get("Fn::Sub", "")).endswith(f":{queue_name}"):
                        props["Queue"] = {"Fn::GetAtt": [logical_id, "Arn"]}
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


def wire_live_updates(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """Issue 23: the WebSocket API Chalice packaged must be there (the functions' environment and the
    policy name it), and ``live_worker`` reads the stack's own live queue (so it exists first)."""
    resources = template["Resources"]
    for required in ("WebsocketAPI", "WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect", LIVE_QUEUE):
        if required not in resources:
            raise PackageError(f"the packaged template has no {required} (live updates, issue 23)")
    name = generate.live_queue_name(stage)
    for function in _function_names(template):
        # The queue's URL (a Ref of an SQS queue), so that no request asks SQS for it by name first.
        env = resources[function]["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
        env["CMDM_LIVE_QUEUE_URL"] = {"Ref": LIVE_QUEUE}
        for event in (resources[function]["Properties"].get("Events") or {}).values():
            props = event.get("Properties", {})
            queue = props.get("Queue")
            if event.get("Type") == "SQS" and isinstance(queue, dict) and str(queue.get("Fn::Sub", "")).endswith(f":{name}"):
                props["Queue"] = {"Fn::GetAtt": [LIVE_QUEUE, "Arn"]}
    return template


# --- 7. cfn-lint --------------------------------------------------------------------------------------


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


def package(stage: str, out: Path, lint: bool = True, online: bool = False, source: Path = ROOT,
            runtime_python: str | None = None, snapstart_on: str | None = None) -> dict[str, Any]:
    """Build ``out/sam.yaml`` and ``out/deployment.zip``; returns a summary for people and tests.

    ``out/staging/`` keeps the project copy Chalice packaged (the zip's sources, before bytecode).
    ``snapstart_on`` (``"all"``, ``"api"`` or None) publishes versions behind an alias with SnapStart.
    """
    if stage not in generate.STAGES:
        raise PackageError(f"unknown stage {stage!r}; one of {', '.join(generate.STAGES)}")
    if snapstart_on not in (None, *snapstart.CHOICES):
        raise PackageError(f"snapstart must be one of {', '.join(snapstart.CHOICES)}, not {snapstart_on!r}")
    started = time.monotonic()
    interpreter = require_runtime_interpreter(runtime_python)  # first: nothing is built without it
    if out.exists():
        shutil.rmtree(out)
    project = out / "staging"
    merge_template = stage_project(stage, project, source)
    from chalicelib.adapters.policy_bundle import COMPILED_FILENAME

    bundle = project / "chalicelib" / BUNDLE_NAME
    agencies = bundle_policies(source / "policies", bundle)
    compiled = json.loads((bundle / COMPILED_FILENAME).read_text(encoding="utf-8"))
    cache = fetch_wheels(source / "requirements.txt", refresh=online)
    vendored = vendor_dependencies(source / "requirements.txt", project / "vendor", cache)
    trimmed = trim.trim(project / "vendor")
    vendored = [v for v in vendored if _canonical(v.split("==")[0]) not in trim.LEFT_OUT_DISTRIBUTIONS]
    missing = trim.unshipped_dependencies([project / "app.py", *(project / "chalicelib").rglob("*.py")])
    if missing:
        raise PackageError("the code needs what the zip leaves out:\n  " + "\n  ".join(missing))
    template_path = run_chalice_package(stage, project, merge_template, out)
    template = generate.load_yaml(template_path.read_text(encoding="utf-8"))
    template = finish_template(template, stage)
    template = wire_live_updates(template, stage)
    if snapstart_on:
        template = snapstart.publish_with_snapstart(template, _function_names(template), snapstart_on)
    template_path.write_text(generate.dump_yaml(template), encoding="utf-8")
    if lint:
        cfn_lint(template_path)
    zip_path = out / "deployment.zip"
    facts = ship_bytecode(zip_path, interpreter)
    zone_rules = check_zone_rules(zip_path, source / "requirements.txt")
    probed = run_probe(zip_path, interpreter)
    summary = {
        "stage": stage,
        "template": str(template_path),
        "zip": str(zip_path),
        **bytecode.zip_figures(zip_path),
        "agencies": agencies,
        "holiday_years": compiled["holiday_years"],
        "zone_rules": zone_rules,
        "functions": _function_names(template),
        "vendored": vendored,
        "left_out_bytes": sum(trimmed.values()),
        "runtime": LAMBDA_RUNTIME,
        "runtime_deprecated": RUNTIME_DEPRECATED,
        "runtime_python": interpreter,
        "bytecode": {"python": facts["version"], "magic": facts["magic"], "cache_tag": facts["cache_tag"],
                     "invalidation": "unchecked-hash"},
        "imports_checked_with": probed["python"],
        "modules_probed": probed["modules_loaded"],
        "snapstart": snapstart_on,
        "linted": lint,
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "package.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description="package one stage offline")
    parser.add_argument("--stage", default="prod", choices=generate.STAGES)
    parser.add_argument("--out", type=Path, help="output folder (default build/<stage>)")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    parser.add_argument("--online", action="store_true",
                        help=f"fetch the {LAMBDA_RUNTIME} wheels again even if build/lambda-wheels has them")
    parser.add_argument("--runtime-python", help=f"the CPython {LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} that compiles "
                        "the bytecode (default: found on PATH or under pyenv)")
    parser.add_argument("--snapstart", choices=snapstart.CHOICES,
                        help="publish versions behind an alias, with SnapStart on all functions or the API only")
    args = parser.parse_args(argv)
    out = (args.out or ROOT / "build" / args.stage).resolve()
    try:
        summary = package(args.stage, out, lint=not args.no_lint, online=args.online,
                          runtime_python=args.runtime_python, snapstart_on=args.snapstart)
    except PackageError as err:
        print(f"make package: {err}", file=sys.stderr)
        return 1
    size_mb = summary["zip_bytes"] / 1_000_000
    deps = f"{len(summary['vendored'])} packages, {LAMBDA_RUNTIME} wheels for {PIP_PLATFORM}"
    code = summary["bytecode"]
    print(f"packaged stage {summary['stage']} in {summary['seconds']} s")
    print(f"  template  {summary['template']}  (cfn-lint {'clean' if summary['linted'] else 'skipped'}"
          f"{'; SnapStart: ' + summary['snapstart'] if summary['snapstart'] else ''})")
    print(f"  code      {summary['zip']}  ({size_mb:.1f} MB, {summary['files']:,} files; dependencies: {deps}; "
          f"{summary['left_out_bytes'] / 1e6:.1f} MB never imported left out)")
    print(f"  bytecode  {summary['pyc']:,} .pyc for {summary['py']:,} .py, compiled by CPython {code['python']} "
          f"({summary['runtime_python']}), magic {code['magic']}, {code['invalidation']}")
    print(f"  functions {', '.join(summary['functions'])}")
    print(f"  runtime   {LAMBDA_RUNTIME} (AWS deprecates it on {RUNTIME_DEPRECATED}); the zip ran read-only under "
          f"CPython {summary['imports_checked_with']}: {summary['modules_probed']:,} modules, none compiled at import")
    first, last = summary["holiday_years"]
    print(
        f"  policies  {', '.join(summary['agencies'])} (validated and compiled with their holidays for "
        f"{first}-{last}, in chalicelib/{BUNDLE_NAME}/ of the zip)"
    )
    print(f"  zones     IANA time-zone rules {summary['zone_rules']}, pinned in requirements.txt")
    print(f"next: make deploy STAGE={summary['stage']}{' SNAPSTART=' + summary['snapstart'] if summary['snapstart'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
