"""What ``make package`` leaves out of the Lambda zip: code the service never imports (issue 24).

Every file in the zip costs twice now that the zip carries bytecode (the source and its ``.pyc``),
and a bigger zip is slower to fetch onto a new Lambda host. What is left out is named here with the
reason, and the build proves each claim: ``infra/bytecode.py``'s probe imports ``app``, every
``chalicelib`` module, every vendored top-level module, builds a botocore
client for each kept AWS service and makes every Twilio REST call the adapters make, all under
Lambda's Python from the trimmed, read-only zip. An import of something left out fails the build.

- whole distributions: Twilio's *async* HTTP client (``twilio.http.async_http_client``) is the
  only user of aiohttp and its helpers; CMDM sends through the synchronous client (requests).
  ``aws-lambda-powertools`` is in requirements.txt but imported nowhere
  (``chalicelib/adapters/metrics.py`` writes the embedded-metric lines itself);
- parts of distributions: phonenumbers' geocoder, carrier and time-zone data (CMDM only parses
  and formats numbers); the type stubs (``.pyi``) that no interpreter imports; botocore's models
  of every AWS service but the ones CMDM calls; every Twilio REST domain but ``api`` (messages,
  their media, calls and phone numbers all live under ``twilio.rest.api``).

When code starts using something left out (another AWS service, another Twilio API such as
``client.content``), the build says so: a boto3/botocore client for a service named in the code
but not in ``AWS_SERVICES`` stops it (``services_named_in``), and so does an import of a left-out
module anywhere in the probe. A Twilio REST call the probe does not make is the one blind spot:
add its domain to ``TWILIO_REST_KEPT`` (and a call to the probe) with the code that uses it.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

#: Distributions not shipped at all (canonical names), with why.
LEFT_OUT_DISTRIBUTIONS: dict[str, str] = {
    "aiohttp": "Twilio's async HTTP client only; CMDM uses the synchronous one",
    "aiohttp-retry": "Twilio's async HTTP client only",
    "aiohappyeyeballs": "aiohttp only",
    "aiosignal": "aiohttp only",
    "frozenlist": "aiohttp only",
    "multidict": "aiohttp and yarl only",
    "propcache": "yarl only",
    "yarl": "aiohttp only",
    "aws-lambda-powertools": "imported nowhere (metrics.py writes embedded-metric lines itself)",
}

#: Files and folders inside shipped distributions that nothing imports or reads, with why.
LEFT_OUT_PATHS: dict[str, str] = {
    "phonenumbers/geodata": "geocoder data (place names); CMDM parses and formats numbers only",
    "phonenumbers/geocoder.py": "geocoder",
    "phonenumbers/carrierdata": "carrier names",
    "phonenumbers/carrier.py": "carrier names",
    "phonenumbers/tzdata": "time zones of number prefixes",
    "phonenumbers/timezone.py": "time zones of number prefixes",
}

#: AWS services CMDM's code calls (pynamodb: dynamodb; media: s3; fan-out and live updates' queue:
#: sqs; the Twilio secret: secretsmanager; pushing to open consoles: apigatewaymanagementapi).
#: botocore's models of the other ~440 services stay out of the zip.
AWS_SERVICES = ("apigatewaymanagementapi", "dynamodb", "s3", "secretsmanager", "sqs")

#: Twilio REST domains the adapters use: ``client.messages`` and
#: ``client.api.v2010.accounts(...).messages(...)`` (send, media delete, redaction), and
#: ``client.incoming_phone_numbers`` (``numbers configure``) are all ``twilio.rest.api``.
TWILIO_REST_KEPT = ("api",)

# boto3.client("x") / LazyClient("x") / session.client("x") / create_client("x") with a literal name.
_CLIENT_CALL = re.compile(r"""(?:\bclient|LazyClient|create_client)\(\s*["']([a-z0-9-]+)["']""")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _remove(path: Path) -> int:
    """Delete a file or folder; returns the bytes removed."""
    if path.is_dir():
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        shutil.rmtree(path)
        return size
    if path.exists():
        size = path.stat().st_size
        path.unlink()
        return size
    return 0


def _remove_distribution(vendor: Path, dist_info: Path) -> int:
    removed = 0
    record = dist_info / "RECORD"
    folders: set[Path] = set()
    if record.exists():
        for line in record.read_text(encoding="utf-8").splitlines():
            relative = line.rsplit(",", 2)[0]
            if not relative:
                continue
            target = (vendor / relative).resolve()
            if vendor.resolve() in target.parents and target.is_file():
                removed += _remove(target)
                folders.add(target.parent)
    removed += _remove(dist_info)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):  # now-empty package folders
        while folder != vendor.resolve() and folder.exists() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return removed


def trim(vendor: Path) -> dict[str, int]:
    """Remove from ``vendor`` what this module leaves out; returns the bytes removed per entry."""
    removed: dict[str, int] = {}
    for dist_info in sorted(vendor.glob("*.dist-info")):
        name = _canonical(dist_info.name[: -len(".dist-info")].rsplit("-", 1)[0])
        if name in LEFT_OUT_DISTRIBUTIONS:
            removed[name] = _remove_distribution(vendor, dist_info)
    for relative in LEFT_OUT_PATHS:
        removed[relative] = _remove(vendor / relative)
    removed["*.pyi"] = sum(_remove(p) for p in list(vendor.rglob("*.pyi")))
    data = vendor / "botocore" / "data"
    removed["botocore/data (other services)"] = sum(
        _remove(p) for p in sorted(data.iterdir()) if p.is_dir() and p.name not in AWS_SERVICES
    ) if data.is_dir() else 0
    rest = vendor / "twilio" / "rest"
    removed["twilio/rest (other domains)"] = sum(
        _remove(p) for p in sorted(rest.iterdir())
        if p.is_dir() and p.name not in TWILIO_REST_KEPT and p.name != "__pycache__"
    ) if rest.is_dir() else 0
    return removed


def services_named_in(sources: Iterable[Path]) -> set[str]:
    """AWS services the code names in a client call (``boto3.client("s3")``, ``LazyClient("sqs", ...)``)."""
    found: set[str] = set()
    for path in sources:
        found.update(_CLIENT_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def twilio_rest_modules_named_in(sources: Iterable[Path]) -> set[str]:
    """Twilio REST domains the code imports by name (``from twilio.rest.content import ...``)."""
    found: set[str] = set()
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                parts = name.split(".")
                if parts[:2] == ["twilio", "rest"] and len(parts) > 2:
                    found.add(parts[2])
    return found


def unshipped_dependencies(sources: Iterable[Path]) -> list[str]:
    """What the code needs that the trimmed zip lacks: AWS services and Twilio REST domains, as sentences."""
    sources = list(sources)
    problems = [f"the code calls AWS service {s!r}, whose botocore model infra/trim.py leaves out "
                "(add it to AWS_SERVICES)" for s in sorted(services_named_in(sources) - set(AWS_SERVICES))]
    problems += [f"the code imports twilio.rest.{d}, which infra/trim.py leaves out (add it to TWILIO_REST_KEPT)"
                 for d in sorted(twilio_rest_modules_named_in(sources) - set(TWILIO_REST_KEPT))]
    return problems
