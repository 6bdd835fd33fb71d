"""The agency's Twilio numbers: registered to it, listed, pointed at this deployment.

``cli numbers register --agency A NUMBER...`` (``register``) registers numbers to an agency: only
then may that agency's admin assign them to workers (``PUT /numbers/{number}``), and a number
registered to one agency is refused to every other (``--move`` moves it deliberately).
``--from-twilio`` registers every IncomingPhoneNumber of the Twilio account not yet registered.
``cli numbers list [--agency A]`` (``list_registrations``) shows the registrations and who holds each.

``cli numbers configure`` (``run``): every work number assigned with ``PUT /numbers/{number}``
lives in the numbers table. For each one that carries SMS, this finds the Twilio ``IncomingPhoneNumber`` with that phone number through
the official ``twilio`` REST client and sets

- ``sms_url`` (POST) to ``CMDM_PUBLIC_URL`` + ``/webhooks/twilio/messages``: inbound messages;
- ``voice_url`` (POST) to ``CMDM_PUBLIC_URL`` + ``/webhooks/twilio/voice``: calls to the number (SPEC §5.10);
- ``status_callback`` (POST) to ``CMDM_PUBLIC_URL`` + ``/webhooks/twilio/voice/status``. On a number
  this is Twilio's *voice* status callback (a call's status and duration); message delivery
  statuses arrive through the per-message ``StatusCallback`` the service sets when it sends.

WhatsApp senders are not IncomingPhoneNumbers: their inbound URL is set on the sender (Twilio
console, Messaging > Senders > WhatsApp senders, or the Senders API), so for WhatsApp numbers
this prints what to enter there. The numbers are read per agency (one Query of the numbers
table's ``by_agency`` index each).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MESSAGES_PATH = "/webhooks/twilio/messages"
STATUS_PATH = "/webhooks/twilio/status"
VOICE_PATH = "/webhooks/twilio/voice"
VOICE_STATUS_PATH = "/webhooks/twilio/voice/status"


@dataclass(frozen=True)
class WorkNumber:
    number: str
    agency_id: str
    staff_id: str
    channels: frozenset[str]


@dataclass
class NumberResult:
    number: str
    status: str  # configured | unchanged | would-configure | missing | failed | whatsapp-only
    sid: str | None = None
    detail: str = ""


@dataclass
class Report:
    results: list[NumberResult] = field(default_factory=list)
    whatsapp: list[WorkNumber] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results or self.whatsapp) and all(
            r.status not in ("missing", "failed") for r in self.results
        )


def webhook_urls(public_url: str) -> tuple[str, str]:
    base = public_url.rstrip("/")
    return base + MESSAGES_PATH, base + STATUS_PATH


def _agencies(agency: str | None) -> list[str]:
    from . import bootstrap

    return [agency] if agency else [p.agency_id for p in bootstrap.container().policies.all()]


def work_numbers(agency: str | None = None) -> list[WorkNumber]:
    """Every assigned work number (of one agency, or of every agency with a policy), sorted."""
    from . import bootstrap

    registry = bootstrap.container().number_registry
    numbers = [
        WorkNumber(r.number, r.agency_id, r.holder.staff_id, frozenset(c.value for c in r.holder.channels))
        for agency_id in _agencies(agency)
        for r in registry.registered(agency_id)
        if r.holder is not None
    ]
    return sorted(numbers, key=lambda n: (n.agency_id, n.number))


def configure_numbers(client: Any, numbers: list[WorkNumber], public_url: str, dry_run: bool = False) -> Report:
    """Set the webhooks of each SMS number on Twilio; ``client`` is a ``twilio.rest.Client``."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    sms_url, _message_status_url = webhook_urls(public_url)
    voice_url = public_url.rstrip("/") + VOICE_PATH
    call_status_url = public_url.rstrip("/") + VOICE_STATUS_PATH
    report = Report()
    for work in numbers:
        if "whatsapp" in work.channels:
            report.whatsapp.append(work)
        if "sms" not in work.channels:
            report.results.append(NumberResult(work.number, "whatsapp-only", detail="configure the WhatsApp sender"))
            continue
        try:
            found = [
                p for p in client.incoming_phone_numbers.list(phone_number=work.number, limit=20)
                if p.phone_number == work.number
            ]
            if not found:
                report.results.append(
                    NumberResult(work.number, "missing", detail="not an IncomingPhoneNumber of this Twilio account")
                )
                continue
            current = found[0]
            if (
                current.sms_url == sms_url
                and current.sms_fallback_url == sms_url
                and (current.sms_method or "POST").upper() == "POST"
                and current.voice_url == voice_url
                and (current.voice_method or "POST").upper() == "POST"
                and current.status_callback == call_status_url
            ):
                report.results.append(NumberResult(work.number, "unchanged", current.sid))
                continue
            if dry_run:
                report.results.append(
                    NumberResult(work.number, "would-configure", current.sid, f"sms_url now {current.sms_url or '-'}")
                )
                continue
            client.incoming_phone_numbers(current.sid).update(
                sms_url=sms_url,
                sms_method="POST",
                # The same webhook as the fallback: if the first try fails (a 5xx after a DynamoDB
                # throttle, a timeout), Twilio tries once more, and the MessageSid claim keeps it single.
                sms_fallback_url=sms_url,
                sms_fallback_method="POST",
                voice_url=voice_url,
                voice_method="POST",
                status_callback=call_status_url,
                status_callback_method="POST",
            )
            report.results.append(NumberResult(work.number, "configured", current.sid))
        except TwilioRestException as err:
            report.results.append(NumberResult(work.number, "failed", detail=f"Twilio answered {err.status} ({err.code})"))
        except TwilioException as err:
            report.results.append(NumberResult(work.number, "failed", detail=type(err).__name__))
    return report


WHATSAPP_STEPS = """\
WhatsApp senders are configured on the sender, not on the number. For each number below, open the
Twilio console > Messaging > Senders > WhatsApp senders > the sender > "Messaging endpoint
configuration" (or use the Senders API) and set:
  Webhook URL for incoming messages:  {sms_url}   (HTTP POST)
  Status callback URL:                {status_url}   (HTTP POST)
"""


def print_report(report: Report, public_url: str, echo: Callable[[str], None] = print) -> None:
    sms_url, status_url = webhook_urls(public_url)
    for r in report.results:
        extra = f"  {r.sid}" if r.sid else ""
        detail = f"  ({r.detail})" if r.detail else ""
        echo(f"  {r.number:<16} {r.status}{extra}{detail}")
    if report.whatsapp:
        echo("")
        echo(WHATSAPP_STEPS.format(sms_url=sms_url, status_url=status_url).rstrip())
        for w in report.whatsapp:
            echo(f"  whatsapp:{w.number}  (agency {w.agency_id}, worker {w.staff_id})")


def run(agency: str | None, dry_run: bool, echo: Callable[[str], None] = print, public_url: str | None = None) -> int:
    """The ``numbers configure`` command; returns the exit code.

    ``public_url`` (``--public-url``) wins over ``CMDM_PUBLIC_URL``. It must be the URL the
    service checks signatures against, so the deployed functions' ``CMDM_PUBLIC_URL`` (the stack's
    ``PublicUrl`` parameter) must be the same.
    """
    from . import bootstrap
    from .adapters.twilio_gateway import TwilioGateway

    settings = bootstrap.container().settings
    base = (public_url or settings.public_url).rstrip("/")
    if not base.startswith("https://"):
        echo(
            f"the public URL is {base!r}; Twilio needs the deployment's public https URL (--public-url or "
            "CMDM_PUBLIC_URL: the stack output EndpointURL without the trailing slash, or your custom domain)"
        )
        return 2
    numbers = work_numbers(agency)
    if not numbers:
        where = f" for agency {agency}" if agency else ""
        echo(f"no work numbers assigned{where}: register them first (numbers register --agency AGENCY NUMBER), "
             "then the agency's admin assigns them (PUT /numbers/{number})")
        return 1
    sid, token = bootstrap.container().twilio_credentials
    client = TwilioGateway(sid, token, api_base=settings.twilio_api_base).client
    echo(f"{'checking' if dry_run else 'configuring'} {len(numbers)} work number(s) for {base}")
    report = configure_numbers(client, numbers, base, dry_run=dry_run)
    print_report(report, base, echo)
    return 0 if report.ok else 1


# --- registration ------------------------------------------------------------------------------

MOVE_HINT = "refused: registered to agency {agency}; --move moves it here (its worker there no longer holds it)"


def twilio_numbers(client: Any) -> list[str]:
    """The phone numbers of the Twilio account's IncomingPhoneNumbers, sorted."""
    return sorted({p.phone_number for p in client.incoming_phone_numbers.list() if p.phone_number})


def _twilio_client() -> Any:
    from . import bootstrap
    from .adapters.twilio_gateway import TwilioGateway

    container = bootstrap.container()
    sid, token = container.twilio_credentials
    return TwilioGateway(sid, token, api_base=container.settings.twilio_api_base).client


def register(agency: str, numbers: list[str], *, move: bool = False, from_twilio: bool = False,
             dry_run: bool = False, echo: Callable[[str], None] = print, client: Any = None) -> int:
    """The ``numbers register`` command; returns the exit code (1 when a number was refused)."""
    from . import bootstrap
    from .domain.errors import InvalidInput
    from .services.number_registry import RegisteredElsewhere

    registry = bootstrap.container().number_registry
    wanted = list(numbers)
    if from_twilio:
        from twilio.base.exceptions import TwilioException

        try:
            found = twilio_numbers(client if client is not None else _twilio_client())
        except TwilioException as err:
            echo(f"could not list the Twilio account's numbers ({type(err).__name__})")
            return 1
        echo(f"the Twilio account has {len(found)} number(s)")
        wanted += [n for n in found if n not in wanted]
    if not wanted:
        echo("no numbers to register: name them, or pass --from-twilio")
        return 2
    refused = 0
    echo(f"{'checking' if dry_run else 'registering'} {len(wanted)} number(s) for agency {agency}")
    for number in wanted:
        try:
            done = registry.register(agency, number, move=move, dry_run=dry_run)
        except RegisteredElsewhere as err:
            refused += 1
            echo(f"  {number:<16} {MOVE_HINT.format(agency=err.agency_id)}")
            continue
        except InvalidInput as err:
            if err.field == "agency":
                echo(err.message)
                return 2
            refused += 1
            echo(f"  {number:<16} refused: {err.message}")
            continue
        detail = ""
        if done.from_agency:
            held = f"; {done.released_staff} there no longer holds it" if done.released_staff else ""
            detail = f"  (from agency {done.from_agency}{held})"
        echo(f"  {done.number:<16} {done.outcome}{detail}")
    return 1 if refused else 0


def list_registrations(agency: str | None, echo: Callable[[str], None] = print) -> int:
    """The ``numbers list`` command: each registered number, its agency and who holds it."""
    from . import bootstrap

    registry = bootstrap.container().number_registry
    rows = [r for agency_id in _agencies(agency) for r in registry.registered(agency_id)]
    if not rows:
        where = f" to agency {agency}" if agency else ""
        echo(f"no numbers registered{where}")
        return 0
    echo(f"  {'number':<16} {'agency':<20} {'worker':<16} channels")
    for r in rows:
        holder = r.holder.staff_id if r.holder else "-"
        channels = ",".join(sorted(c.value for c in r.holder.channels)) if r.holder else "(unassigned)"
        echo(f"  {r.number:<16} {r.agency_id:<20} {holder:<16} {channels}")
    return 0
