"""Bytecode for Lambda's own Python in the zip, and the probe that proves the zip runs (issue 24).

Lambda unpacks the zip into a read-only ``/var/task``. A module with no ``.pyc`` there that the
runtime accepts is compiled from source by every cold container, every time, and the result is
thrown away (the folder is read-only): measured, that made a cold container's first webhook 4.8x
the floor handler's. So ``make package`` compiles everything the zip holds with CPython
``LAMBDA_PYTHON`` itself (the cache tag, ``cpython-313``, and the magic number are that
interpreter's, so only its bytecode is read), and checks the result.

**Invalidation mode: unchecked-hash.** A ``timestamp`` ``.pyc`` is used only while the ``.py``
beside it has the same size and modification time as when it was compiled. A zip stores times
in two-second steps, in local time without a zone, and nothing documents which times Lambda's
extraction gives ``/var/task``; one second or one zone off and every module is silently compiled
again, the slow path this step exists to remove. A ``checked-hash`` ``.pyc`` avoids the times but
makes every import read and hash its source. ``unchecked-hash`` is what the folder allows: the
source and its bytecode are compiled together here, and ``/var/task`` can never change, so the
runtime loads the ``.pyc`` without looking at the source. (A developer's edit cannot go stale
here: the zip is rebuilt from the sources by every ``make package``.) The zip's entries get a fixed
time, so the same sources give the same zip, byte for byte.

The probe runs the finished zip the way Lambda does: unpacked, read-only, under CPython
``LAMBDA_PYTHON`` alone (``-S``: nothing from this machine's site-packages), with
``PYTHONDONTWRITEBYTECODE=1``. It imports ``app``, wires the container as a cold start does,
imports every ``chalicelib`` module and every vendored top-level module,
builds a botocore client for each AWS service the zip keeps, makes each Twilio REST call the
adapters make (against a closed loopback port), and records every module the interpreter had to
compile from source: there must be none.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: The fixed time of every zip entry (the zip format's epoch): the same sources give the same zip.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
#: Flags word of a hash-based .pyc that the runtime does not check against its source (PEP 552).
UNCHECKED_HASH = 0b01


class BytecodeError(Exception):
    """The zip's bytecode is missing, foreign or not used; the message lists what."""


def runtime_facts(interpreter: str) -> dict[str, str]:
    """Version, magic number (hex) and cache tag of ``interpreter``, asked of it."""
    code = ("import importlib.util, json, platform, sys; print(json.dumps({'version': platform.python_version(), "
            "'magic': importlib.util.MAGIC_NUMBER.hex(), 'cache_tag': sys.implementation.cache_tag}))")
    result = subprocess.run([interpreter, "-S", "-c", code], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise BytecodeError(f"{interpreter} did not run: {result.stderr[-500:]}")
    return dict(json.loads(result.stdout))


def compile_tree(task: Path, interpreter: str) -> None:
    """Compile every ``.py`` under ``task`` with ``interpreter``, unchecked-hash, paths as in /var/task."""
    result = subprocess.run(
        [interpreter, "-S", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(task), "-p", "/var/task", str(task)],
        capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        raise BytecodeError(f"{interpreter} could not compile the package:\n{(result.stdout + result.stderr)[-3000:]}")


def _files(task: Path) -> Iterator[Path]:
    for path in sorted(task.rglob("*")):
        if path.is_file():
            yield path


def write_zip(task: Path, zip_path: Path) -> None:
    """``task`` as a zip with sorted entries, a fixed time and world-readable files (as Lambda needs)."""
    tmp = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in _files(task):
            info = zipfile.ZipInfo(path.relative_to(task).as_posix(), date_time=ZIP_EPOCH)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(info, path.read_bytes())
    tmp.replace(zip_path)


def cache_path(source: str, cache_tag: str) -> str:
    """``a/b.py`` -> ``a/__pycache__/b.<cache_tag>.pyc`` (zip member names)."""
    folder, _, name = source.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{name[:-3]}.{cache_tag}.pyc"


def bytecode_problems(zip_path: Path, magic: bytes, cache_tag: str) -> list[str]:
    """What is wrong with the zip's bytecode: every ``.py`` needs its ``.pyc`` for ``cache_tag``,
    with ``magic`` and unchecked-hash flags. An empty list means every module can load without
    compiling."""
    problems: list[str] = []
    with zipfile.ZipFile(zip_path) as zipped:
        names = set(zipped.namelist())
        for name in sorted(n for n in names if n.endswith(".py")):
            pyc = cache_path(name, cache_tag)
            if pyc not in names:
                problems.append(f"{name}: no {pyc}")
                continue
            with zipped.open(pyc) as fh:
                header = fh.read(8)
            if header[:4] != magic:
                problems.append(f"{pyc}: magic number {header[:4].hex()}, not {magic.hex()}")
            elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
                problems.append(f"{pyc}: not an unchecked-hash .pyc (flags {int.from_bytes(header[4:8], 'little')})")
    return problems


def zip_figures(zip_path: Path) -> dict[str, int]:
    with zipfile.ZipFile(zip_path) as zipped:
        infos = zipped.infolist()
    return {"zip_bytes": zip_path.stat().st_size, "files": len(infos),
            "unzipped_bytes": sum(i.file_size for i in infos),
            "py": sum(i.filename.endswith(".py") for i in infos),
            "pyc": sum(i.filename.endswith(".pyc") for i in infos)}


def extract_read_only(zip_path: Path, target: Path) -> Path:
    """Unpack ``zip_path`` into ``target`` and make it read-only, like Lambda's /var/task."""
    with zipfile.ZipFile(zip_path) as zipped:
        zipped.extractall(target)
    make_read_only(target)
    return target


def make_read_only(target: Path) -> None:
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    target.chmod(0o555)


def make_writable(target: Path) -> None:
    """Undo ``make_read_only`` (so a temporary folder can be removed)."""
    target.chmod(0o755)
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts)):
        path.chmod(0o755 if path.is_dir() else 0o644)


PROBE = r"""
import importlib, importlib.machinery, importlib.util, json, os, pkgutil, platform, sys

task, vendored, services = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
compiled = []  # every module the interpreter had to compile from source: the slow path
_to_code = importlib.machinery.SourceFileLoader.source_to_code


def _spy(self, data, path, *args, **kwargs):
    compiled.append(path)
    return _to_code(self, data, path, *args, **kwargs)


importlib.machinery.SourceFileLoader.source_to_code = _spy

import app
import chalicelib
from chalicelib import bootstrap

c = bootstrap.container()
wired = [type(c.policies).__name__, c.uow.__name__, type(c.verifier).__name__]
for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(info.name)
for name in vendored:
    importlib.import_module(name)

import botocore.session

session = botocore.session.get_session()
for service in services:
    session.create_client(service, region_name="ca-central-1", aws_access_key_id="probe", aws_secret_access_key="probe")

# Every Twilio REST call the adapters make, against a port where nothing listens: each must fail
# as "unreachable" (the adapters' own errors), never as an ImportError of a left-out module.
from chalicelib.adapters.media import MediaUnavailable, TwilioMedia
from chalicelib.adapters.twilio_gateway import OutboundMessage, TransientSendError, TwilioGateway
from chalicelib.domain.model import Channel

closed = "http://127.0.0.1:9"
account = "AC" + "0" * 32
gateway = TwilioGateway(account, "probe-token", api_base=closed, timeout=2)
media = TwilioMedia(account, "probe-token", api_base=closed, timeout=2)
twilio_calls = []
for label, call, expected in (
    ("send sms", lambda: gateway.send(OutboundMessage("+15873550101", "+15875550123", Channel.SMS, body="probe",
                                                      media_urls=("https://example.test/m",),
                                                      status_callback="https://example.test/s")), TransientSendError),
    ("send whatsapp template", lambda: gateway.send(OutboundMessage("+15873550101", "+15875550123", Channel.WHATSAPP,
                                                                    content_sid="HX" + "0" * 32,
                                                                    content_variables={"1": "x"})), TransientSendError),
    ("delete media", lambda: media.delete("MM" + "0" * 32, "ME" + "0" * 32), MediaUnavailable),
    ("redact body", lambda: media.redact("SM" + "0" * 32), MediaUnavailable),
):
    try:
        call()
    except expected:
        twilio_calls.append(label)

inside = os.path.realpath(task) + os.sep
loaded = sorted({os.path.realpath(m.__file__) for m in list(sys.modules.values())
                 if getattr(m, "__file__", None) and os.path.realpath(m.__file__).startswith(inside)})
stale = []
for path in loaded:
    cached = importlib.util.cache_from_source(path) if path.endswith(".py") else None
    if cached and os.path.exists(cached):  # a missing one is in compiled_from_source already
        with open(path, "rb") as fh:
            source = fh.read()
        with open(cached, "rb") as fh:
            header = fh.read(16)
        if header[8:16] != importlib.util.source_hash(source):
            stale.append(path)
print(json.dumps({
    "python": platform.python_version(),
    "magic": importlib.util.MAGIC_NUMBER.hex(),
    "modules_loaded": len(loaded),
    "compiled_from_source": [p for p in compiled if os.path.realpath(p).startswith(inside)],
    "stale": stale,
    "wired": wired,
    "vendored": vendored,
    "services": services,
    "twilio_calls": twilio_calls,
    "twilio_rest": sorted({m.split(".")[2] for m in sys.modules if m.startswith("twilio.rest.")}),
    "app_routes": len(app.app.routes),
}))
"""


def probe(zip_path: Path, interpreter: str, services: tuple[str, ...], env: dict[str, str]) -> dict[str, Any]:
    """Run ``PROBE`` in the unpacked, read-only zip under ``interpreter``; raises ``BytecodeError``
    if anything imported had to be compiled, or a call failed."""
    from importlib import metadata

    with tempfile.TemporaryDirectory(prefix="cmdm-var-task-") as tmp:
        task = extract_read_only(zip_path, Path(tmp) / "task")
        try:
            vendored: set[str] = set()
            for dist in metadata.distributions(path=[str(task)]):
                top = dist.read_text("top_level.txt")
                names = top.split() if top else [str(f).split("/")[0] for f in dist.files or []
                                                  if str(f).endswith("__init__.py")]
                vendored.update(n for n in names if n.isidentifier() and not n.startswith("_"))
            run_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(task), "PYTHONDONTWRITEBYTECODE": "1",
                       "AWS_EC2_METADATA_DISABLED": "true", **env}
            result = subprocess.run([interpreter, "-S", "-c", PROBE, str(task), ",".join(sorted(vendored)),
                                     ",".join(services)],
                                    cwd=task, env=run_env, capture_output=True, text=True, timeout=300)
        finally:
            make_writable(Path(tmp) / "task")
    if result.returncode != 0:
        raise BytecodeError(f"the zip does not run under {interpreter}:\n{result.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    problems = [f"compiled from source at import (its .pyc was missing or refused): {p}"
                for p in report["compiled_from_source"]]
    problems += [f"its .pyc was compiled from another source: {p}" for p in report["stale"]]
    if len(report["twilio_calls"]) != 4:
        problems.append(f"only these Twilio REST calls ran as expected: {report['twilio_calls']}")
    if problems:
        raise BytecodeError("\n".join(problems[:40]))
    return report
