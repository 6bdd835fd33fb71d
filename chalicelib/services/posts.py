"""Information posts (SPEC §5.8): ``POST /posts``, ``GET /posts/{id}`` and the fan-out that sends them.

``create`` picks the recipients (``domain.posts.exclusion``), writes one delivery row each and the
post, audits it (``post.created``) and, when the agency is open, dispatches at once; a post
written while closed waits for the next opening. ``dispatch`` (also the ``send_posts`` job, every
minute, for posts on the sparse ``posts_due`` index) hands the waiting recipients out in batches:
to the posts queue (``@app.on_sqs_message`` runs ``process_batch``) or, where no queue is
configured, inline through the same code. At most ``posts_per_second`` × 60 recipients are handed
out per minute, each batch delayed so they spread over the minute, and every send first takes a
slot in the agency's per-second bucket: a batch that finds the bucket full, the agency closed or
Twilio answering 429 stops there and leaves the rest waiting for the next dispatch.

Exactly once per recipient: a copy is sent only by whoever moved its row from waiting to
``sending`` (a conditional write), so a duplicate queue delivery, a re-dispatch or a concurrent
worker finds it taken or final and does nothing. A 429/5xx puts it back as ``queued`` with a
backoff; a copy left ``sending`` past its lease is reported failed rather than risk a second send.
Each delivered copy is filed in the recipient's file as a message of kind ``post`` and audited
(``message.filed`` with the ``post_id``), in the same transaction that counts it on the post.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.twilio_gateway import OutboundMessage, PermanentSendError, TransientSendError
from ..domain import posts as rules
from ..domain import validation as v
from ..domain.audit import AuditEvent, AuditType, new_id
from ..domain.clock import utcnow
from ..domain.errors import Forbidden, InvalidInput, NotFound
from ..domain.i18n import normalise_language
from ..domain.messages import Direction, Message, MessageKind, MessageStatus
from ..domain.model import Client, Principal, Role
from ..domain.outbound import NoApprovedTemplate, automatic_template
from ..domain.posts import Delivery, DeliveryStatus, Post

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.posts")

BATCH_SIZE = 10
DISPATCH_WINDOW = timedelta(minutes=1)  # the send_posts job's interval
MAX_QUEUE_DELAY = 900  # SQS's longest DelaySeconds


@dataclass(frozen=True)
class CreatePost:
    body: str
    languages: frozenset[str]

    @classmethod
    def parse(cls, payload: Any) -> CreatePost:
        data = v.require_object(payload)
        audience = data.get("audience")
        if audience is None:
            audience = {}
        if not isinstance(audience, dict):
            raise InvalidInput("audience", "must be an object, e.g. {\"languages\": [\"ar\", \"fr\"]}")
        unknown = set(audience) - {"languages"}
        if unknown:
            raise InvalidInput("audience", f"unknown key {sorted(unknown)[0]!r}; only 'languages' is known")
        raw = audience.get("languages")
        languages: set[str] = set()
        if raw is not None:
            if not isinstance(raw, list) or not raw or len(raw) > 50:
                raise InvalidInput("audience.languages", "must be a list of 1 to 50 BCP 47 tags")
            for tag in raw:
                if not isinstance(tag, str):
                    raise InvalidInput("audience.languages", "must list BCP 47 tags such as 'ar' or 'fr'")
                try:
                    languages.add(normalise_language(tag))
                except ValueError:
                    raise InvalidInput("audience.languages", f"{tag[:20]!r} is not a BCP 47 tag") from None
        return cls(body=v.text(data, "body", max_len=rules.MAX_BODY) or "", languages=frozenset(languages))


class PostService:
    def __init__(self, uow: Callable[[], UnitOfWork], policies: Any, gateway: Any, *, status_callback: str | None = None,
                 fanout: Any = None, per_second: int = 10) -> None:
        self._uow = uow  # a fresh adapters.unit_of_work.UnitOfWork per use
        self._policies = policies
        self._gateway = gateway
        self._status_callback = status_callback
        self._fanout = fanout
        self._per_second = per_second

    # -- POST /posts, GET /posts/{id} ---------------------------------------------------------

    def create(self, principal: Principal, command: CreatePost) -> Post:
        if principal.is_admin():
            scope, candidates = "agency", list(self._uow().clients.of_agency(principal.agency_id))
        elif Role.WORKER in principal.roles:
            scope, candidates = "caseload", list(self._uow().clients.of_case_manager(principal.agency_id, principal.staff_id))
        else:
            raise Forbidden("posts are written by workers (to their caseload) or admins (to the agency)")
        policy = self._policies.get(principal.agency_id)
        now = utcnow()
        recipients = sorted(c.client_id for c in candidates if rules.exclusion(c, command.languages) is None)
        send_at = now if policy.calendar.is_open(now) else policy.calendar.next_opening(now)
        post_id = new_id("post")
        post = Post(
            post_id=post_id, agency_id=principal.agency_id, author_id=principal.staff_id, scope=scope,
            body=command.body, languages=tuple(sorted(command.languages)), created_at=now, send_at=send_at,
            recipients=len(recipients), due_at=send_at if recipients else None,
        )
        event = AuditEvent(
            agency_id=principal.agency_id, type=AuditType.POST_CREATED, at=now, actor=principal.staff_id,
            staff_id=principal.staff_id,
            details={"post_id": post_id, "scope": scope, "recipients": len(recipients),
                     "excluded": len(candidates) - len(recipients), "languages": sorted(command.languages),
                     "send_at": send_at},
        )
        with self._uow() as uow:
            uow.posts.add(post, recipients)
            uow.audit.add([event])
            uow.commit()
        if recipients and send_at <= now:
            self.dispatch(post_id, now)
        return self._uow().posts.get(post_id) or post

    def get(self, principal: Principal, post_id: str) -> Post:
        post = self._uow().posts.get(post_id) if v.is_identifier(post_id) else None
        if post is None or post.agency_id != principal.agency_id:
            raise NotFound("no such post")
        if not (principal.sees_whole_agency() or post.author_id == principal.staff_id):
            raise Forbidden("a worker sees the progress of their own posts")
        return post

    # -- fan-out --------------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """The ``send_posts`` job: dispatch every post that is due, for agencies that are open."""
        now = now or utcnow()
        summary: Counter[str] = Counter()
        for policy in self._policies.all():
            if not policy.calendar.is_open(now):
                continue
            for post_id in self._uow().posts.due(policy.agency_id, now):
                try:
                    summary.update(self.dispatch(post_id, now))
                except Exception as err:  # one post must not stop the others; no content logged
                    log.error("dispatching a post failed: %s", type(err).__name__)
                    summary["errors"] += 1
        return dict(summary)

    def dispatch(self, post_id: str, now: datetime) -> dict[str, int]:
        """Hand out the post's waiting recipients (up to a minute's sending) and say when to look again."""
        post = self._uow().posts.get(post_id)
        if post is None:
            return {"missing": 1}
        policy = self._policies.get(post.agency_id)
        if not policy.calendar.is_open(now):
            self._uow().posts.set_due(post_id, post.agency_id, policy.calendar.next_opening(now))
            return {"closed": 1}
        deliveries = self._uow().posts.deliveries(post_id)
        ready = [d.client_id for d in deliveries if d.status.waiting and (d.retry_at is None or d.retry_at <= now)]
        later = [d.retry_at for d in deliveries if d.status.waiting and d.retry_at is not None and d.retry_at > now]
        in_flight = [d for d in deliveries if d.status is DeliveryStatus.SENDING]
        capacity = self._per_second * int(DISPATCH_WINDOW.total_seconds())
        handed = ready[:capacity]
        if handed or later or in_flight or len(ready) > capacity:
            # Look again after this minute's sending (or when a retry or a lease is due).
            next_look = now + DISPATCH_WINDOW
            if not handed and later:
                next_look = min(later)
            self._uow().posts.set_due(post_id, post.agency_id, next_look)
        else:
            self._uow().posts.set_due(post_id, post.agency_id, None)  # every copy is final
        batches = [handed[i:i + BATCH_SIZE] for i in range(0, len(handed), BATCH_SIZE)]
        summary: Counter[str] = Counter(handed=len(handed))
        if self._fanout is not None:
            spacing = BATCH_SIZE / self._per_second
            self._fanout.send([{"post_id": post_id, "client_ids": batch} for batch in batches],
                              delays=[min(MAX_QUEUE_DELAY, int(i * spacing)) for i in range(len(batches))])
        else:
            for batch in batches:
                outcome = self.process(post_id, batch, now)
                summary.update(outcome)
                if outcome.get("stopped"):
                    break
        return dict(summary)

    def process_batch(self, body: Any) -> dict[str, int]:
        """The SQS handler's entry: ``{"post_id", "client_ids": [...]}``; a malformed body is dropped."""
        if not isinstance(body, dict) or not v.is_identifier(body.get("post_id")):
            return {"malformed": 1}
        ids = [c for c in body.get("client_ids") or [] if isinstance(c, str) and v.is_identifier(c)]
        return self.process(body["post_id"], ids)

    def process(self, post_id: str, client_ids: Sequence[str], now: datetime | None = None) -> dict[str, int]:
        """Send one batch of copies; stops (``stopped``) when closed, rate-limited or turned away."""
        now = now or utcnow()
        post = self._uow().posts.get(post_id)
        if post is None:
            return {"missing": len(client_ids)}
        policy = self._policies.get(post.agency_id)
        counts: Counter[str] = Counter()
        numbers: dict[tuple[str, Any], str | None] = {}
        for client_id in client_ids:
            try:
                outcome = self._one(post, policy, client_id, now, numbers)
            except Exception as err:  # the copy stays waiting for the next dispatch; no content logged
                log.error("a post copy failed: %s", type(err).__name__)
                outcome = "error"
            counts[outcome] += 1
            if outcome in ("closed", "rate_limited", "retry"):
                counts["stopped"] = 1
                break
        return dict(counts)

    def _one(self, post: Post, policy: Any, client_id: str, now: datetime,
             numbers: dict[tuple[str, Any], str | None]) -> str:
        d = self._uow().posts.delivery(post.post_id, client_id)
        if d is None or d.status.final:
            return "duplicate"
        if d.status is DeliveryStatus.SENDING:
            if d.lease_until is not None and d.lease_until > now:
                return "busy"
            self._finish(d, DeliveryStatus.FAILED, "delivery_unknown")  # never risk a second copy
            return "failed"
        if d.retry_at is not None and d.retry_at > now:
            return "not_yet"
        if not policy.calendar.is_open(now):
            return "closed"
        client = self._uow().clients.get(client_id)
        reason = "erased" if client is None else rules.exclusion(client)
        if reason is not None or client is None:
            return "skipped" if self._finish(d, DeliveryStatus.SKIPPED, reason) else "duplicate"
        try:  # the rule every automatic message follows (SPEC §5.5)
            template = automatic_template(rules.POST_TEMPLATE, client.channel, client.last_inbound_at, now,
                                          policy.whatsapp_templates)
        except NoApprovedTemplate as closed:
            self._finish(d, DeliveryStatus.SKIPPED, closed.code)
            return "skipped"
        from_number = self._number(client, numbers)
        if from_number is None:
            self._finish(d, DeliveryStatus.FAILED, "no_work_number")
            return "failed"
        if not self._uow().claims.take_post_slot(post.agency_id, now, self._per_second):
            return "rate_limited"
        claimed = self._uow().posts.claim(d, now + rules.SEND_LEASE)
        if claimed is None:
            return "busy"
        return self._send(post, policy, client, claimed, from_number, template, now)

    def _send(self, post: Post, policy: Any, client: Client, d: Delivery, from_number: str,
              template: str | None, now: datetime) -> str:
        variables: dict[str, str] = {}
        if template:
            manager = self._uow().staff.get(client.agency_id, client.case_manager_id)
            variables = policy.whatsapp_variables(template, client_name=client.name or "",
                                                  case_manager=manager.name if manager else "", post=post.body or "")
        outbound = OutboundMessage(
            from_number=from_number, to=client.phone, channel=client.channel,
            body=None if template else post.body,
            content_sid=policy.whatsapp_templates[template].content_sid if template else None,
            content_variables=variables, status_callback=self._status_callback,
        )
        try:
            result = self._gateway.send(outbound)
        except TransientSendError as err:
            self._uow().posts.requeue(d, now + rules.retry_delay(d.attempts), err.code)
            return "retry"
        except PermanentSendError as err:
            self._finish(d, DeliveryStatus.FAILED, err.code or "refused")
            return "failed"
        message_id = new_id("msg")
        message = Message(
            client_id=client.client_id, message_id=message_id,
            agency_id=client.agency_id, direction=Direction.OUTBOUND, kind=MessageKind.POST, body=post.body, at=now,
            status=MessageStatus.accepted(result.status), channel=client.channel, staff_id=client.case_manager_id,
            from_number=from_number, twilio_sid=result.sid, template=template, sent_at=now, attempts=d.attempts,
        )
        event = AuditEvent(
            agency_id=client.agency_id, type=AuditType.MESSAGE_FILED, at=now, actor="system",
            client_id=client.client_id, staff_id=client.case_manager_id,
            details={"direction": "outbound", "kind": "post", "post_id": post.post_id, "message_id": message_id,
                     "channel": client.channel.value, "template": template},
        )
        if not self._finish(d, DeliveryStatus.SENT, None, message=message, events=[event]):
            log.warning("a post copy was sent after its lease ran out")
        return "sent"

    def _finish(self, d: Delivery, status: DeliveryStatus, reason: str | None = None,
                message: Message | None = None, events: Sequence[AuditEvent] = ()) -> bool:
        """A copy's final status, counted on the post, once (False when it was final already).

        A delivered copy is filed in the recipient's messages with its audit event in the same unit.
        """
        with self._uow() as uow:
            uow.posts.finish(d, status, reason, message=message)
            if message is not None:
                uow.messages.add(message)
            uow.audit.add(events)
            return uow.commit_unless_changed()

    def _number(self, client: Client, cache: dict[tuple[str, Any], str | None]) -> str | None:
        key = (client.case_manager_id, client.channel)
        if key not in cache:
            numbers = sorted(n.number for n in self._uow().numbers.of(client.agency_id, client.case_manager_id)
                             if client.channel in n.channels)
            cache[key] = numbers[0] if numbers else None
        return cache[key]


def post_view(post: Post, zone: Any) -> dict[str, Any]:
    from ..views import iso

    recipients, sent = int(post.recipients or 0), int(post.sent or 0)
    failed, skipped = int(post.failed or 0), int(post.skipped or 0)
    pending = max(0, recipients - sent - failed - skipped)
    return {
        "post_id": post.post_id,
        "author_id": post.author_id,
        "scope": post.scope,
        "audience": {"languages": list(post.languages or [])},
        "created_at": iso(post.created_at, zone),
        "send_at": iso(post.send_at, zone),
        "recipients": recipients,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "pending": pending,
        "status": "done" if pending == 0 else ("waiting" if sent + failed + skipped == 0 else "sending"),
    }
