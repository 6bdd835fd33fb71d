"""What a staff message written now would do (issue 4): ``GET /clients/{id}/compose``, with its
outcome in one word (``next_send``, issue 22): sent now, held, the approved template, or refused.

The console's composer shows it before the worker presses Send, from the same rules as
``sending.py``, so the browser never re-implements business time or WhatsApp's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import attachments
from ..domain.clock import utcnow
from ..domain.errors import Conflict
from ..domain.i18n import format_next_open
from ..domain.messages import MessageStatus
from ..domain.model import Channel, Client, Principal
from ..domain.outbound import WHATSAPP_WINDOW, plan_send
from .outgoing import Outgoing


@dataclass(frozen=True)
class ComposePreview:
    """What a staff message written now would do (``MessagingService.compose``)."""

    client: Client
    now: datetime
    open_now: bool
    send_at: datetime
    send_at_text: str
    refusal: str | None
    template: str | None
    window_refusal: str | None
    window_closes_at: datetime | None
    holding_reply: str
    holding_language: str
    attachment_types: tuple[tuple[str, int], ...] = ()  # (content type, largest size) the channel takes
    voice_notes: bool = False  # a voice note may be recorded and sent (policy, and a channel that plays them)
    refusal_code: str | None = None  # ``refusal`` as a word: domain.model.Refusal, or whatsapp_window_closed


class Composer(Outgoing):
    # -- GET /clients/{id}/compose: what sending would do now (the console's composer) ------------

    def compose(self, principal: Principal, client_id: str, language: str = "en") -> ComposePreview:
        """What ``send`` would do if called now, from the same rules, changing nothing.

        The console shows it before the worker presses Send ("sent now", or held and sent at the
        next opening, or WhatsApp's approved template instead of the text), so the browser never
        re-implements business time. ``language`` is the console's, for the written send time.
        """
        client = self._writable_client(principal, client_id)
        policy = self._policies.get(client.agency_id)
        now = utcnow()
        refusal = client.messaging_refusal()
        refusal_code = code.value if (code := client.messaging_refusal_code()) is not None else None
        plan = plan_send(now, policy.calendar, None)
        template, window_refusal = None, None
        if refusal is None:
            try:
                template = self._template_for(client, policy, plan.send_at)
            except Conflict as err:
                window_refusal, refusal_code = err.message, err.code
        manager = self._uow().staff.get(client.agency_id, client.case_manager_id)
        holding = policy.render("holding_reply", client.language, case_manager=manager.name if manager else "",
                                agency_name=policy.name, client_name=client.name or "")
        window_closes = None
        if client.channel is Channel.WHATSAPP and client.last_inbound_at is not None:
            window_closes = client.last_inbound_at + WHATSAPP_WINDOW
        return ComposePreview(
            client=client, now=now, open_now=plan.send_now, send_at=plan.send_at,
            send_at_text=format_next_open(plan.send_at, policy.timezone, language, now=now),
            refusal=f"cannot message this client: {refusal}" if refusal else None,
            template=template, window_refusal=window_refusal, window_closes_at=window_closes,
            holding_reply=holding, holding_language=policy.template_language("holding_reply", client.language),
            attachment_types=tuple((kind, size) for kind, size in sorted(attachments.ALLOWED[client.channel].items())
                                   if policy.voice_notes or not kind.startswith("audio/")),
            voice_notes=policy.voice_notes and "audio/ogg" in attachments.ALLOWED[client.channel],
            refusal_code=refusal_code,
        )


def next_send(preview: ComposePreview, zone: Any) -> dict[str, Any]:
    """What pressing Send now does, in one word (issue 22): ``now``; ``held`` until ``send_at`` (the
    next opening); ``template``: WhatsApp's 24-hour window is closed, the approved template goes
    instead; ``refused``, with the ``reason`` (``domain.model.Refusal``, or ``whatsapp_window_closed``
    when the agency has no template). Held outside the window, ``template`` names what goes then."""
    from ..views import iso

    if preview.refusal is not None or preview.window_refusal is not None:
        return {"outcome": "refused", "reason": preview.refusal_code}
    if not preview.open_now:
        return {"outcome": "held", "send_at": iso(preview.send_at, zone), "send_at_text": preview.send_at_text,
                "template": preview.template}
    if preview.template is not None:
        return {"outcome": "template", "template": preview.template, "reason": "whatsapp_window_closed"}
    return {"outcome": "now"}


def compose_view(preview: ComposePreview, zone: Any) -> dict[str, Any]:
    from ..views import iso

    closed = not preview.open_now
    return {
        "client_id": preview.client.client_id,
        "now": iso(preview.now, zone),
        "can_send": preview.refusal is None and preview.window_refusal is None,
        "refusal": preview.refusal or preview.window_refusal,
        "open_now": preview.open_now,
        # Without an override: sent now inside business hours, else held until send_at.
        "outcome": "sent" if preview.open_now else MessageStatus.HELD.value,
        "send_at": iso(preview.send_at, zone),
        "send_at_text": preview.send_at_text,
        "override_possible": closed,
        "channel": preview.client.channel.value,
        "whatsapp_window_closes_at": iso(preview.window_closes_at, zone),
        "template": preview.template,
        "holding_reply": {"body": preview.holding_reply, "language": preview.holding_language},
        # What may be attached on this channel under this policy (POST /clients/{id}/uploads checks it again).
        "attachments": {"types": [{"content_type": kind, "max_size": size} for kind, size in preview.attachment_types],
                        "voice_notes": preview.voice_notes},
        "next_send": next_send(preview, zone),
    }
