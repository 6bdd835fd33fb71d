"""Point the agency's Twilio numbers at this deployment (``cli numbers configure``).

Every work number registered with ``PUT /numbers/{number}`` lives in the numbers table. For each
one that carries SMS, this finds the Twilio ``IncomingPhoneNumber`` with that phone number through
the official ``twilio`` REST client and sets

- ``sms_url`` (POST) to ``CMDM_PUBLIC_URL`` + ``/webhooks/twilio/messages``: inbound messages;
- ``status_callback`` (POST) to ``CMDM_PUBLIC_URL`` + ``/webhooks/twilio/status``. On a number this
  is Twilio's *voice* status callback; message delivery statuses arrive through the per-message
  ``StatusCallback`` the service sets when it sends.

WhatsApp senders are not IncomingPhoneNumbers: their inbound URL is set on the sender (Twilio
console, Messaging > Senders > WhatsApp senders, or the Senders API), so for WhatsApp numbers
this prints what to enter there. Reading the numbers is an operator-time Scan of a table with one
item per work number; no request path does this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MESSAGES_PATH = "/webhooks/twilio/messages"
STATUS_PATH = "/webhooks/twilio/status"


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


def work_numbers(agency: str | None = None) -> list[WorkNumber]:
    """Every registered work number (of one agency, or of every agency with a policy), sorted.

    Keyed reads only: the agency's staff (Query), then each worker's numbers (Query on by_staff).
    """
    from . import bootstrap

    container = bootstrap.container()
    store = container.uow()
    agencies = [agency] if agency else [p.agency_id for p in container.policies.all()]
    numbers = []
    for agency_id in agencies:
        for staff in store.staff.list(agency_id):
            for n in store.numbers.of(agency_id, staff.staff_id):
                numbers.append(WorkNumber(n.number, n.agency_id, n.staff_id, frozenset(c.value for c in n.channels)))
    return sorted(numbers, key=lambda n: (n.agency_id, n.number))


def configure_numbers(client: Any, numbers: list[WorkNumber], public_url: str, dry_run: bool = False) -> Report:
    """Set the webhooks of each SMS number on Twilio; ``client`` is a ``twilio.rest.Client``."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    sms_url, status_url = webhook_urls(public_url)
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
                and current.status_callback == status_url
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
                status_callback=status_url,
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
        echo(f"no work numbers registered{where}: register them first with PUT /numbers/{{number}}")
        return 1
    sid, token = bootstrap.container().twilio_credentials
    client = TwilioGateway(sid, token, api_base=settings.twilio_api_base).client
    echo(f"{'checking' if dry_run else 'configuring'} {len(numbers)} work number(s) for {base}")
    report = configure_numbers(client, numbers, base, dry_run=dry_run)
    print_report(report, base, echo)
    return 0 if report.ok else 1
