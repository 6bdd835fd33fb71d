"""What ``make package`` leaves out of the zip, and what stops it leaving out too much (issue 24)."""

from __future__ import annotations

from pathlib import Path

from infra import trim

ROOT = Path(__file__).resolve().parents[2]


def _file(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _distribution(vendor: Path, name: str, version: str, files: list[str]) -> None:
    info = f"{name}-{version}.dist-info"
    for relative in files:
        _file(vendor / relative, "# code\n")
    record = [f"{f},sha256=x,7" for f in files] + [f"{info}/METADATA,,", f"{info}/RECORD,,"]
    _file(vendor / info / "METADATA", f"Name: {name}\nVersion: {version}\n")
    _file(vendor / info / "RECORD", "\n".join(record) + "\n")


def test_trimming_removes_what_is_never_imported_and_keeps_the_rest(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    _distribution(vendor, "aiohttp", "3.14.5", ["aiohttp/__init__.py", "aiohttp/client.py", "aiohttp/_http.so"])
    _distribution(vendor, "aws_lambda_powertools", "3.37.0", ["aws_lambda_powertools/__init__.py"])
    _distribution(vendor, "pynamodb", "6.1.0", ["pynamodb/__init__.py", "pynamodb/models.py"])
    _file(vendor / "phonenumbers" / "__init__.py")
    _file(vendor / "phonenumbers" / "__init__.pyi")
    _file(vendor / "phonenumbers" / "geodata" / "data0.py", "DATA = {}\n" * 1000)
    _file(vendor / "phonenumbers" / "data" / "region_CA.py")
    for service in ("dynamodb", "s3", "sqs", "secretsmanager", "ec2", "lambda"):
        _file(vendor / "botocore" / "data" / service / "2020-01-01" / "service-2.json.gz", "{}")
    _file(vendor / "botocore" / "data" / "endpoints.json", "{}")
    for domain in ("api", "chat", "content", "messaging"):
        _file(vendor / "twilio" / "rest" / domain / "__init__.py")
    _file(vendor / "twilio" / "rest" / "__init__.py")

    removed = trim.trim(vendor)

    assert not (vendor / "aiohttp").exists() and not (vendor / "aiohttp-3.14.5.dist-info").exists()
    assert not (vendor / "aws_lambda_powertools").exists()
    assert (vendor / "pynamodb" / "models.py").exists() and (vendor / "pynamodb-6.1.0.dist-info").exists()
    assert not (vendor / "phonenumbers" / "geodata").exists() and not (vendor / "phonenumbers" / "__init__.pyi").exists()
    assert (vendor / "phonenumbers" / "data" / "region_CA.py").exists()
    assert sorted(p.name for p in (vendor / "botocore" / "data").iterdir()) == [
        "dynamodb", "endpoints.json", "s3", "secretsmanager", "sqs"]
    assert sorted(p.name for p in (vendor / "twilio" / "rest").iterdir()) == ["__init__.py", "api"]
    assert removed["phonenumbers/geodata"] == len("DATA = {}\n" * 1000)
    assert removed["aiohttp"] > 0 and removed["botocore/data (other services)"] == 4


def test_code_that_needs_what_the_zip_leaves_out_stops_the_build(tmp_path: Path) -> None:
    source = _file(tmp_path / "chalicelib" / "adapters" / "alerts.py",
                   'from twilio.rest.content import Content\n'
                   'import boto3\n'
                   'SNS = LazyClient("sns", "ca-central-1", None)\n'
                   'S3 = boto3.client("s3")\n')
    problems = trim.unshipped_dependencies([source])
    assert problems == [
        "the code calls AWS service 'sns', whose botocore model infra/trim.py leaves out (add it to AWS_SERVICES)",
        "the code imports twilio.rest.content, which infra/trim.py leaves out (add it to TWILIO_REST_KEPT)",
    ]


def test_cmdms_own_code_needs_nothing_the_zip_leaves_out() -> None:
    sources = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
    assert {"s3", "sqs"} <= trim.services_named_in(sources) <= set(trim.AWS_SERVICES)  # DynamoDB: pynamodb
    assert trim.unshipped_dependencies(sources) == []
