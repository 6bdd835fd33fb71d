"""Command line for operators and for local play (SPEC §4.1).

    python -m chalicelib.cli init-db            create tables (and the local media bucket)
    python -m chalicelib.cli seed               demo staff, numbers and consented clients
    python -m chalicelib.cli token STAFF_ID     a staff token for the local/test stages
    python -m chalicelib.cli phone --from +1... --to +1... [--whatsapp] "text"
                                                play the client's phone: a signed Twilio webhook
    python -m chalicelib.cli numbers register --agency X [--move] [--from-twilio] [--dry-run] [+1...]
                                                register Twilio numbers to an agency (its admin
                                                may then assign them with PUT /numbers/{number})
    python -m chalicelib.cli reindex-clients [--agency X]
                                                give files written before the Clients page its
                                                activity, state and search items (idempotent)
    python -m chalicelib.cli numbers list [--agency X]
                                                the registered numbers and who holds each
    python -m chalicelib.cli numbers configure [--agency X] [--public-url URL] [--dry-run]
                                                point the Twilio numbers at the deployment

``main(argv)`` is the same entry point, callable in-process (e.g. inside ``moto.mock_aws()``).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from . import bootstrap

DEMO_AGENCY = "calgary-cfn"
DEMO_STAFF = (
    ("admin-lee", "admin", "Lee Chen"),
    ("sup-maria", "supervisor", "Maria Santos"),
    ("amal", "worker", "Amal Haddad"),
    ("jean", "worker", "Jean Tremblay"),
)
# The workers' own phones, rung first when they call a client from their work number (SPEC §5.10).
DEMO_PHONES = {"amal": "+14035550111", "jean": "+14035550122"}
DEMO_NUMBERS = (
    ("+15873550101", "amal", ["sms", "whatsapp"]),
    ("+15873550102", "jean", ["sms", "whatsapp"]),
)
# Registered to the demo agency but held by nobody yet: the console's "assign a number" has one to give.
DEMO_SPARE_NUMBERS = ("+15873550109",)
# (phone, channel, language, name, case manager, consented channels)
DEMO_CLIENTS = (
    ("+15875550123", "whatsapp", "ar", "Fatima A.", "amal", ["whatsapp"]),
    ("+15875550124", "sms", "fr", "Joseph K.", "jean", ["sms"]),
    ("+15875550125", "sms", "en", "Nadia R.", "amal", []),
)


def _init_db(args: argparse.Namespace) -> int:
    from .adapters import models

    c = bootstrap.container()
    _ = c.uow  # configures the models for this stage
    created = models.create_tables()
    print(f"tables ready ({len(created)} created now, prefix {c.settings.table_prefix!r})")
    if not c.settings.is_aws:
        _ensure_bucket(c.settings)
    return 0


def _ensure_bucket(settings: object) -> None:
    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.s3_endpoint)  # type: ignore[attr-defined]
    bucket = settings.media_bucket  # type: ignore[attr-defined]
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": settings.region},  # type: ignore[attr-defined]
        )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    print(f"media bucket ready ({bucket})")


def _seed(args: argparse.Namespace) -> int:
    from .domain.model import Principal, Role
    from .services.admin import PutNumber, PutStaff
    from .services.clients import CreateClient, GiveConsent

    c = bootstrap.container()
    agency = args.agency
    c.policies.get(agency)  # fails loudly on an unknown or invalid policy
    admin = Principal(staff_id="admin-lee", agency_id=agency, roles=frozenset({Role.ADMIN}))
    for staff_id, role, name in DEMO_STAFF:
        phone = {"phone": DEMO_PHONES[staff_id]} if staff_id in DEMO_PHONES else {}
        c.admin.put_staff(admin, PutStaff.parse(staff_id, {"role": role, "name": name, **phone}))
    for number in (*(n for n, _, _ in DEMO_NUMBERS), *DEMO_SPARE_NUMBERS):
        c.number_registry.register(agency, number)  # the operator's step (numbers register)
    for number, staff_id, channels in DEMO_NUMBERS:
        c.admin.put_number(admin, PutNumber.parse(number, {"staff_id": staff_id, "channels": channels}))
    signed = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for phone, channel, language, name, manager, consented in DEMO_CLIENTS:
        from .domain.model import Channel

        existing = c.uow().clients.find(agency, Channel(channel), phone)
        if existing is None:
            existing = c.clients.create(
                admin,
                CreateClient.parse(
                    {"case_manager_id": manager, "phone": phone, "channel": channel, "language": language, "name": name}
                ),
            )
        if consented and not existing.consent.covers(Channel(channel)):
            c.clients.give_consent(
                admin,
                existing.client_id,
                GiveConsent.parse(
                    {"form_version": "CFN-CMDM-2026", "signed_at": signed, "channels": consented, "circle_of_care": []}
                ),
            )
        state = "consented" if consented else "no consent yet"
        print(f"  client {existing.client_id}  {name:<10} {channel:<8} {language}  ({state}, case manager {manager})")
    print(f"  spare number {', '.join(DEMO_SPARE_NUMBERS)}: registered to {agency}, held by nobody yet")
    from .demo_snippets import seed_snippets

    print(f"  snippets: {seed_snippets(c, admin)} added (English, French, Arabic; type / in a message)")
    print(f"seeded agency {agency}: {len(DEMO_STAFF)} staff, {len(DEMO_NUMBERS)} numbers, {len(DEMO_CLIENTS)} clients")
    return 0


def _reindex_clients(args: argparse.Namespace) -> int:
    c = bootstrap.container()
    agencies = [args.agency] if args.agency else [p.agency_id for p in c.policies.all()]
    for agency in agencies:
        print(f"{agency}: {c.caseload.reindex(agency)} client files indexed")
    return 0


def _token(args: argparse.Namespace) -> int:
    from .adapters.auth import mint_dev_token

    settings = bootstrap.container().settings
    if settings.is_aws or not settings.jwt_secret:
        print("tokens are minted only in the local/test stages with CMDM_DEV_JWT_SECRET set", file=sys.stderr)
        return 2
    role = args.role or dict((s, r) for s, r, _ in DEMO_STAFF).get(args.staff_id, "worker")
    print(mint_dev_token(settings.jwt_secret, args.staff_id, args.agency, role, ttl_seconds=args.hours * 3600))
    return 0


def build_twilio_form(sender: str, to: str, body: str, whatsapp: bool, sid: str | None = None) -> dict[str, str]:
    """The fields Twilio posts for an inbound message (a representative subset)."""
    prefix = "whatsapp:" if whatsapp else ""
    account = bootstrap.container().settings.twilio_account_sid or "AC" + "0" * 32
    sid = sid or "SM" + uuid.uuid4().hex
    form = {
        "ToCountry": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": prefix + to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account,
        "From": prefix + sender,
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form.update({"ProfileName": "Client", "WaId": sender.lstrip("+"), "MessageType": "text"})
    else:
        form.update({"FromCountry": "CA", "FromCity": "CALGARY", "FromState": "AB"})
    return form


OUTCOME_TEXT = {
    "filed": "filed in the client's file for the case manager",
    "duplicate": "already received (same MessageSid): nothing changed, nothing new sent",
    "refused": "NOT filed",
    "ignored": "NOT filed: this work number is not registered to an agency, or no worker holds it yet",
}


def _phone_screen(twiml: str, outcome: str | None = None, reason: str | None = None) -> str:
    """What happened to the message (the server's ``X-CMDM-Outcome``) and what the phone shows back."""
    import xml.etree.ElementTree as ET

    lines = []
    if outcome is not None:
        text = OUTCOME_TEXT.get(outcome, outcome)
        lines.append(f"message: {text}" + (f" ({reason.replace('_', ' ')})" if outcome == "refused" and reason else ""))
    try:
        replies = [el.text or "" for el in ET.fromstring(twiml).iter("Message")]
    except ET.ParseError:
        return "\n".join([*lines, twiml])
    lines += [f"reply on the phone: {text}" for text in replies] or ["(no automatic reply)"]
    return "\n".join(lines)


def default_server(env: dict[str, str] | None = None) -> str:
    """The server ``make run`` started: CMDM_PORT on loopback (the same variable ``make run`` reads)."""
    import os

    env = dict(os.environ) if env is None else env
    return f"http://127.0.0.1:{env.get('CMDM_PORT') or '8000'}"


def _phone(args: argparse.Namespace) -> int:
    from twilio.request_validator import RequestValidator

    settings = bootstrap.container().settings
    if not settings.twilio_auth_token:
        print("TWILIO_AUTH_TOKEN must be set to sign the simulated webhook", file=sys.stderr)
        return 2
    if args.call or args.voicemail:  # a call to the work number (SPEC §5.10)
        from .phone_calls import call

        return call(settings, args.server or default_server(), args.sender, args.to, args.voicemail)
    if not args.body:
        print("say what the client writes (or --call / --voicemail FILE)", file=sys.stderr)
        return 2
    path = "/webhooks/twilio/messages"
    server = (args.server or default_server()).rstrip("/")
    media = list(args.media or [])
    sid = args.sid or (("MM" if args.media_file else "SM") + uuid.uuid4().hex)
    for media_file in args.media_file or []:
        media.append(_leave_at_twilio(settings, sid, media_file))
    form = build_twilio_form(args.sender, args.to, " ".join(args.body), args.whatsapp, sid)
    for i, (url, content_type) in enumerate(media):
        form[f"MediaUrl{i}"], form[f"MediaContentType{i}"] = url, content_type
    form["NumMedia"] = str(len(media))
    # Twilio signs the URL it posts to; so does the simulator (a local server checks its own URL).
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(server + path, form)
    request = urllib.request.Request(
        server + path,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(f"HTTP {response.status}")
            outcome = response.headers.get("X-CMDM-Outcome")
            print(_phone_screen(response.read().decode(), outcome, response.headers.get("X-CMDM-Reason")))
    except urllib.error.HTTPError as err:
        print(f"HTTP {err.code}")
        print(f"message: NOT filed; the server refused the request: {err.read().decode()[:500]}")
        return 1
    except urllib.error.URLError as err:
        print(f"no server answered at {server} ({err.reason}); is `make run` running there "
              "(CMDM_PORT, or --server)?", file=sys.stderr)
        return 1
    return 0 if outcome in ("filed", "duplicate", None) else 3


def _leave_at_twilio(settings: object, message_sid: str, path: str) -> tuple[str, str]:
    """Put a local file where ``make run``'s Twilio stand-in serves it; its MediaUrl and type."""
    import mimetypes
    from pathlib import Path

    from .local_twilio import LOCAL_TWILIO_DIR, put_media

    source = Path(path)
    content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    media_sid = "ME" + uuid.uuid4().hex
    put_media(LOCAL_TWILIO_DIR, message_sid, media_sid, source.read_bytes(), content_type)
    account = getattr(settings, "twilio_account_sid", None) or "AC" + "0" * 32
    url = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{media_sid}"
    return url, content_type


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="CMDM operations")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="create every table (and the local media bucket), idempotently").set_defaults(
        func=_init_db
    )
    seed = sub.add_parser("seed", help="seed a demo agency from policies/")
    seed.add_argument("--agency", default=DEMO_AGENCY)
    seed.set_defaults(func=_seed)
    reindex = sub.add_parser("reindex-clients", help="index files written before the Clients page (GET /clients)")
    reindex.add_argument("--agency", help="one agency (default: every agency with a policy)")
    reindex.set_defaults(func=_reindex_clients)
    token = sub.add_parser("token", help="mint a local staff token")
    token.add_argument("staff_id")
    token.add_argument("--agency", default=DEMO_AGENCY)
    token.add_argument("--role", choices=["worker", "supervisor", "admin"])
    token.add_argument("--hours", type=int, default=24)
    token.set_defaults(func=_token)
    phone = sub.add_parser("phone", help="send a signed Twilio-style message as a client")
    phone.add_argument("--from", dest="sender", default=DEMO_CLIENTS[0][0])
    phone.add_argument("--to", default=DEMO_NUMBERS[0][0])
    phone.add_argument("--whatsapp", action="store_true", help="send as WhatsApp (whatsapp: prefix)")
    phone.add_argument("--sid", help="reuse a MessageSid (to see a replay ignored)")
    phone.add_argument("--server", help="the server's base URL (default: http://127.0.0.1:$CMDM_PORT, port 8000)")
    phone.add_argument("--media", nargs=2, action="append", metavar=("URL", "CONTENT_TYPE"),
                       help="attach a media URL, as Twilio does (repeatable)")
    phone.add_argument("--media-file", action="append", metavar="FILE",
                       help="attach a local photo or voice note through `make run`'s Twilio stand-in (repeatable)")
    phone.add_argument("--call", action="store_true", help="call the work number instead (the worker answers)")
    phone.add_argument("--voicemail", metavar="FILE", help="call, nobody answers, leave FILE as a voicemail")
    phone.add_argument("body", nargs="*")
    phone.set_defaults(func=_phone)
    numbers = sub.add_parser("numbers", help="Twilio work numbers of a deployment")
    numbers_sub = numbers.add_subparsers(dest="numbers_command", required=True)
    configure = numbers_sub.add_parser(
        "configure", help="point each registered number's webhooks at CMDM_PUBLIC_URL (chalicelib/numbers_setup.py)"
    )
    configure.add_argument("--agency", help="only this agency's numbers")
    configure.add_argument("--public-url", help="the deployment's public base URL (default: CMDM_PUBLIC_URL)")
    configure.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    configure.set_defaults(func=_numbers_configure)
    register = numbers_sub.add_parser(
        "register", help="register Twilio numbers to an agency: only its admin may then assign them"
    )
    register.add_argument("--agency", required=True, help="the agency the numbers belong to")
    register.add_argument("numbers", nargs="*", metavar="NUMBER", help="E.164 numbers, e.g. +15873550101")
    register.add_argument("--from-twilio", action="store_true",
                          help="also every IncomingPhoneNumber of the Twilio account (those of other agencies "
                               "are refused unless --move)")
    register.add_argument("--move", action="store_true",
                          help="take numbers registered to another agency (their worker there no longer holds them)")
    register.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    register.set_defaults(func=_numbers_register)
    listing = numbers_sub.add_parser("list", help="the registered numbers, their agency and who holds each")
    listing.add_argument("--agency", help="only this agency's numbers")
    listing.set_defaults(func=_numbers_list)
    return p


def _numbers_configure(args: argparse.Namespace) -> int:
    from .numbers_setup import run

    return run(args.agency, args.dry_run, public_url=args.public_url)


def _numbers_register(args: argparse.Namespace) -> int:
    from .numbers_setup import register

    return register(args.agency, args.numbers, move=args.move, from_twilio=args.from_twilio, dry_run=args.dry_run)


def _numbers_list(args: argparse.Namespace) -> int:
    from .numbers_setup import list_registrations

    return list_registrations(args.agency)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
