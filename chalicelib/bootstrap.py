"""Wires adapters into services, once per container and only when first needed.

Importing ``app.py`` must not touch AWS (SPEC §4.2), so nothing here runs at import time:
``container()`` builds everything on the first request and caches it for the Lambda
container's life. Tests call ``reset()`` after changing the environment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .config import Settings, load_settings


@dataclass
class Container:
    settings: Settings

    @cached_property
    def uow(self) -> Any:
        """A fresh unit of work per use (``adapters.unit_of_work``): its repositories, one per aggregate."""
        from .adapters import models
        from .adapters.unit_of_work import UnitOfWork

        models.configure(self.settings.table_prefix, self.settings.region, self.settings.dynamodb_endpoint)
        if self._live_configured:  # issue 23: each commit tells the live updates what it changed
            import functools

            return functools.partial(UnitOfWork, on_commit=self._tell_live)
        return UnitOfWork

    @property
    def _live_configured(self) -> bool:
        s = self.settings
        return bool(s.live_queue_url or (s.is_aws and s.live_queue) or s.ws_management_url)

    def _tell_live(self, changes: Any) -> None:
        # Looked up at each commit, not captured by ``uow``: a SnapStart copy keeps ``uow`` but
        # builds its own dispatch (queue client, credentials) after the restore.
        if self.live_dispatch is not None:
            self.live_dispatch.changed(changes)

    @cached_property
    def staff(self) -> Any:
        """The staff repository for reads (the access checks, the absence cache, the console)."""
        return self.uow().staff

    @cached_property
    def policies(self) -> Any:
        """A deployed package serves its compiled policies; ``local``/``test`` validate the files."""
        from .adapters.policy_bundle import CompiledPolicyStore, compiled_bundle

        compiled = compiled_bundle(self.settings.policy_dir)
        if compiled is not None:
            return CompiledPolicyStore(compiled)
        from .adapters.policy_loader import PolicyStore

        return PolicyStore(self.settings.policy_dir)

    @cached_property
    def verifier(self) -> Any:
        from .adapters.auth import CognitoClaimsVerifier, DevTokenVerifier

        if self.settings.is_aws:
            return CognitoClaimsVerifier()
        if not self.settings.jwt_secret:
            raise RuntimeError("CMDM_DEV_JWT_SECRET must be set outside the aws stage")
        return DevTokenVerifier(self.settings.jwt_secret)

    @cached_property
    def gateway(self) -> Any:
        """Outbound messages: Twilio's REST API, or the local outbox (SPEC §4.2 CMDM_OUTBOUND)."""
        from .adapters.twilio_gateway import OutboxGateway, TwilioGateway
        from .config import PROJECT_ROOT

        if self.settings.outbound == "twilio":
            sid, token = self.twilio_credentials
            return TwilioGateway(sid, token, api_base=self.settings.twilio_api_base)
        spool = PROJECT_ROOT / ".local" / "outbox.jsonl" if self.settings.stage == "local" else None
        return OutboxGateway(spool)

    @cached_property
    def twilio_credentials(self) -> tuple[str, str]:
        """(account SID, auth token); in the aws stage read once per container from Secrets Manager."""
        if self.settings.is_aws and self.settings.twilio_secret_id:
            import json

            import boto3

            secrets = boto3.client("secretsmanager", region_name=self.settings.region)
            value = json.loads(secrets.get_secret_value(SecretId=self.settings.twilio_secret_id)["SecretString"])
            sid, token = value.get("account_sid", ""), value.get("auth_token", "")
            if not sid.startswith("AC") or not token or token.startswith("REPLACE_WITH"):
                # The stack creates the secret with a placeholder; say what to do, not a Twilio 401.
                raise RuntimeError(
                    f"the Twilio secret {self.settings.twilio_secret_id} holds no real credentials yet: put "
                    '{"account_sid": "AC...", "auth_token": "..."} in it (README, "Deploying to AWS")'
                )
            return sid, token
        if not (self.settings.twilio_account_sid and self.settings.twilio_auth_token):
            raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
        return self.settings.twilio_account_sid, self.settings.twilio_auth_token

    @cached_property
    def admin(self) -> Any:
        from .services.admin import AdminService

        return AdminService(self.uow, on_staff_change=self.absences.forget, policies=self.policies)

    @cached_property
    def number_registry(self) -> Any:
        """Operators register Twilio numbers to agencies (``cli numbers register``)."""
        from .services.number_registry import NumberRegistry

        return NumberRegistry(self.uow, self.policies.get)

    @cached_property
    def authority(self) -> Any:
        """Access comes from the staff records and the agency's policy, not the token (SPEC §4.3)."""
        from .services.authority import Authority

        return Authority(self.absences.directory, self.staff, self.policies)

    @cached_property
    def clients(self) -> Any:
        from .services.clients import ClientService

        return ClientService(self.uow, covering_for=self.absences.covering_for, policies=self.policies)

    @cached_property
    def caseload(self) -> Any:
        """GET /clients: the caller's caseload, paged, filtered, searched (issue 22)."""
        from .services.caseload import CaseloadService

        return CaseloadService(self.uow, covering_for=self.absences.covering_for, policies=self.policies)


    # -- inbound messaging (Twilio webhooks) ----------------------------------------------------

    @cached_property
    def request_validator(self) -> Any:
        """Twilio's own signature check, with the account's auth token."""
        from twilio.request_validator import RequestValidator

        return RequestValidator(self.twilio_credentials[1])

    @cached_property
    def inbound(self) -> Any:
        from .services.inbound import AbsenceCovers, InboundService, NumberCache

        uow = self.uow  # configures the models first
        return InboundService(
            uow,
            NumberCache(uow().numbers.get),
            self.policies,
            rate_secret=self.twilio_credentials[1].encode(),
            cover_lookup=AbsenceCovers(self.absences.directory, self.policies),
            on_delivery_failed=self._delivery_failed,
            crisis=self._crisis,
            prefetch_staff=self.absences.prefetch,
        )

    def _crisis(self) -> Any:
        from .services.crisis import CrisisAlerts
        from .services.inbound_alerts import InboundAlerts

        return InboundAlerts(CrisisAlerts(self.uow, self.gateway))

    def _delivery_failed(self, *args: Any) -> Any:
        # Looked up at call time: tests swap the messaging service (and its gateway) after start-up.
        return self.messaging.undo_delivery(*args)

    @cached_property
    def media_bucket(self) -> Any:
        from .adapters.media import MediaBucket

        return MediaBucket(self.settings.media_bucket, self.settings.region, self.settings.s3_endpoint)

    @cached_property
    def media(self) -> Any:
        from .adapters.media import TwilioMedia
        from .services.media import MediaService

        sid, token = self.twilio_credentials
        twilio = TwilioMedia(sid, token, api_base=self.settings.twilio_api_base)
        return MediaService(self.uow, twilio, self.media_bucket, self.policies)


    @cached_property
    def absences(self) -> Any:
        from .services.absences import AbsenceService

        return AbsenceService(self.staff, self.policies, uow=self.uow)

    @cached_property
    def inbox(self) -> Any:
        from .services.inbox import InboxService

        # A fresh unit of work per read, as every other service gets one.
        return InboxService(lambda agency_id, staff_id: self.uow().clients.waiting(agency_id, staff_id),
                            self.absences, self.policies)

    @cached_property
    def console(self) -> Any:
        from .services.console import ConsoleService

        return ConsoleService(self.staff, self.policies, self.settings)

    @cached_property
    def messaging(self) -> Any:
        from .services.messaging import MessagingService

        return MessagingService(
            self.uow,
            self.policies,
            self.gateway,
            status_callback=self.settings.public_url + "/webhooks/twilio/status",
            covering_for=self.absences.covering_for,
            bucket=self.media_bucket,
        )

    @cached_property
    def calls(self) -> Any:
        """Calls from and to work numbers (SPEC §5.10)."""
        from .services.calls import CallService
        from .services.inbound import AbsenceCovers

        return CallService(self.uow, self.policies, self.call_gateway, public_url=self.settings.public_url,
                           covering_for=self.absences.covering_for,
                           cover_lookup=AbsenceCovers(self.absences.directory, self.policies))

    @cached_property
    def call_gateway(self) -> Any:
        """Twilio's REST API (or the local stand-in at its paths), else the local outbox."""
        from .adapters.twilio_calls import OutboxCalls, TwilioCalls
        from .adapters.twilio_gateway import TwilioGateway
        from .config import PROJECT_ROOT

        if self.settings.outbound == "twilio" or self.settings.twilio_api_base:
            sid, token = self.twilio_credentials
            return TwilioCalls(TwilioGateway(sid, token, api_base=self.settings.twilio_api_base).client)
        spool = PROJECT_ROOT / ".local" / "outbox.jsonl" if self.settings.stage == "local" else None
        return OutboxCalls(self.gateway.sent, spool)

    @cached_property
    def sweep(self) -> Any:
        from .services.sweep import SweepService

        return SweepService(self.uow, self.messaging, self.policies)


    def _queue(self, url: str | None, name: str | None, session: Any = None) -> Any:
        """The SQS queue a big job fans out through: by URL, or in AWS by the stack's queue name."""
        if not (url or (self.settings.is_aws and name)):
            return None  # local and test without a queue: the job does all the work itself
        from .adapters.queues import SqsQueue

        return SqsQueue(url, self.settings.region, queue_name=name, session=session)

    @cached_property
    def followups(self) -> Any:
        """Follow-ups, check-ins and surveys (issue 5); fans out through SQS when a queue is set."""
        from .services.followups import FollowupService

        fanout = self._queue(self.settings.followup_queue_url, self.settings.followup_queue)
        return FollowupService(
            self.uow,
            self.policies,
            self.gateway,
            status_callback=f"{self.settings.public_url}/webhooks/twilio/status",
            fanout=fanout,
        )

    @cached_property
    def conduct(self) -> Any:
        from .services.conduct import ConductService

        # Notices are filed with the change and sent like any outbound message (SPEC §5.5).
        return ConductService(self.uow, self.policies,
                              send_now=lambda ref, now: self.messaging.release(ref, now))

    @cached_property
    def reports(self) -> Any:
        from .services.reports import ReportService
        from .services.usage_rollup import UsageReports

        return ReportService(self.uow, self.policies, UsageReports(self.uow), self.compliance_days)

    @cached_property
    def compliance_days(self) -> Any:
        from .services.usage_rollup import ComplianceDays

        return ComplianceDays(self.uow)

    @cached_property
    def posts(self) -> Any:
        """Information posts (issue 16); fan out through SQS when a posts queue is set."""
        from .services.posts import PostService

        fanout = self._queue(self.settings.posts_queue_url, self.settings.posts_queue)
        return PostService(self.uow, self.policies, self.gateway,
                           status_callback=f"{self.settings.public_url}/webhooks/twilio/status",
                           fanout=fanout, per_second=self.settings.posts_per_second)

    @cached_property
    def referrals(self) -> Any:
        from .services.referrals import ReferralService

        return ReferralService(self.uow, covering_for=self.absences.covering_for)

    @cached_property
    def notes(self) -> Any:
        """Private case notes (issue 22); authors shown by name from the cached staff directory."""
        from .services.notes import NotesService

        return NotesService(self.uow, covering_for=self.absences.covering_for,
                            names=lambda agency_id: self.absences.directory(agency_id)[0])

    @cached_property
    def snippets(self) -> Any:
        """An agency's prepared answers (issue 22), filled in for a client on the server."""
        from .services.snippets import SnippetService

        return SnippetService(self.uow, self.policies, covering_for=self.absences.covering_for,
                              names=lambda agency_id: self.absences.directory(agency_id)[0])

    @cached_property
    def rollup(self) -> Any:
        from .services.usage_rollup import RollupService

        return RollupService(self.uow, self.policies, compliance=self.compliance_days)

    @cached_property
    def twilio_privacy(self) -> Any:
        """Twilio's side of privacy (media still there, bodies in its logs) wherever Twilio is
        reachable: the real one, or a stand-in (make run, tests); None for an outbox-only stage,
        which never reached Twilio."""
        from .adapters.media import TwilioMedia

        if self.settings.outbound == "twilio" or self.settings.twilio_api_base:
            sid, token = self.twilio_credentials
            return TwilioMedia(sid, token, api_base=self.settings.twilio_api_base)
        return None

    @cached_property
    def data_rights(self) -> Any:
        from .adapters.media import S3Media
        from .services.data_rights import DataRightsService

        media = S3Media(self.settings.media_bucket, self.settings.region, self.settings.s3_endpoint)
        return DataRightsService(self.uow, media, self.twilio_privacy, self.policies)

    @cached_property
    def twilio_cleanup(self) -> Any:
        """Refused messages cleared at Twilio: media deleted, bodies redacted (SPEC §5.3, §5.7)."""
        from .services.twilio_cleanup import TwilioCleanup

        return TwilioCleanup(self.uow, self.twilio_privacy)

    # -- crisis at any hour and the notification centre (issue 23, SPEC §5.9, §4.4) ---------------

    @cached_property
    def notification_centre(self) -> Any:
        from .services.notification_centre import NotificationCentre

        return NotificationCentre(self.uow, staff_names=lambda agency_id: self.absences.directory(agency_id)[0])

    @cached_property
    def crisis_marks(self) -> Any:
        from .services.crisis_marks import CrisisMarks

        return CrisisMarks(self.uow, covering_for=self.absences.covering_for, cover_of=self.absences.cover_of)

    @cached_property
    def emergency_contacts(self) -> Any:
        from .services.emergency_contacts import EmergencyContacts

        return EmergencyContacts(self.uow, self.policies, covering_for=self.absences.covering_for)

    @cached_property
    def supervision(self) -> Any:
        from .services.supervision import SupervisionService

        return SupervisionService(self.uow, self.policies, reports=self.reports)


    # -- live updates (issue 23): services/live.py ----------------------------------------------

    @cached_property
    def live_connections(self) -> Any:
        from .adapters import models
        from .adapters.live_repository import LiveConnectionRepository

        models.configure(self.settings.table_prefix, self.settings.region, self.settings.dynamodb_endpoint)
        return LiveConnectionRepository()

    @cached_property
    def live_sockets(self) -> Any:
        from .services.live import LiveSockets

        return LiveSockets(self.live_connections, self.settings.ws_url)

    @cached_property
    def live_publisher(self) -> Any:
        """Posts events to open sockets; None where no management API is configured."""
        if not self.settings.ws_management_url:
            return None
        from .adapters.live_push import ManagementApi
        from .services.live import LivePublisher

        return LivePublisher(self.live_connections, ManagementApi(self.settings.ws_management_url, self.settings.region),
                             file_of=lambda client_id: self.uow().clients.get(client_id),
                             directory=lambda agency_id: self.absences.directory(agency_id), policies=self.policies)

    @cached_property
    def live_queue(self) -> Any:
        """The SQS queue each commit's changes go to for ``live_worker`` (AWS); None where unset.

        Every webhook sends to it, so its client comes from the botocore session the DynamoDB
        connection has loaded already: a cold container neither imports boto3 nor loads botocore's
        endpoint data twice for it (``adapters/queues.py``)."""
        return self._queue(self.settings.live_queue_url, self.settings.live_queue, session=self._dynamodb_session)

    def _dynamodb_session(self) -> Any:
        from .adapters import models

        self.uow  # noqa: B018 - configures the models
        return models.transaction_connection().session

    @cached_property
    def live_dispatch(self) -> Any:
        """What each commit tells: an SQS queue for ``live_worker`` (AWS), or a background thread
        delivering at once (make run, tests); None where live updates are not configured."""
        queue = self.live_queue
        if queue is None and self.live_publisher is None:
            return None
        from .services.live import LiveDispatch

        return LiveDispatch(lambda changes: self.live_publisher.deliver(changes) if self.live_publisher else None,
                            queue_sender=queue)


_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = Container(load_settings())
        return _container


def reset() -> None:
    """Forget everything built so far (tests, or after the environment changed)."""
    global _container
    with _lock:
        _container = None


def forget_all_but(*names: str) -> None:
    """Forget what the container built except ``names``; each is built again on its next use.

    One SnapStart snapshot starts many environments: credentials, connections and what is built
    from them must be each environment's own (``chalicelib/snapstart.py``).
    """
    with _lock:
        if _container is not None:
            for name in [n for n in vars(_container) if n != "settings" and n not in names]:
                delattr(_container, name)
