"""Runtime settings, read once from the environment (SPEC §4.2).

Everything that differs between a laptop, the test suite and an AWS stage lives here, so the
rest of the code never reads ``os.environ`` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STAGES = ("local", "test", "aws")
# Well-known values for the laptop stage only, so `make run` and the phone simulator in another
# terminal agree without any set-up. Never used in the test or aws stages.
LOCAL_DEFAULTS = {
    "CMDM_DEV_JWT_SECRET": "local-development-secret-change-me-0123456789",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "local-twilio-auth-token",
    "CMDM_POLICY_DIR": str(PROJECT_ROOT / "policies"),
}


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    dynamodb_endpoint: str | None
    region: str
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_secret_id: str | None
    public_url: str
    outbound: str
    jwt_secret: str | None
    media_bucket: str
    policy_dir: Path | None
    s3_endpoint: str | None
    twilio_api_base: str | None
    # Follow-up fan-out (issue 5): with a queue URL, run_followups sends batches of due clients to
    # SQS; without one (local, test) it handles them inline through the same code.
    followup_queue_url: str | None = None
    followup_queue: str | None = None
    # Information posts (issue 16): the same arrangement, on their own queue.
    posts_queue_url: str | None = None
    posts_queue: str | None = None
    posts_per_second: int = 10
    # Live updates (issue 23): the WebSocket URL browsers open, the management API the service
    # posts events to (API Gateway's, or make run's stand-in), and the queue that carries changes
    # to ``live_worker`` (unset: a background thread delivers them).
    ws_url: str | None = None
    ws_management_url: str | None = None
    live_queue_url: str | None = None
    live_queue: str | None = None

    @property
    def is_aws(self) -> bool:
        return self.stage == "aws"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    stage = env.get("CMDM_STAGE", "local")
    if stage not in STAGES:
        raise ValueError(f"CMDM_STAGE must be one of {', '.join(STAGES)}, not {stage!r}")
    if stage == "local":
        env = {**LOCAL_DEFAULTS, **env}
    policy_dir = env.get("CMDM_POLICY_DIR")
    endpoint = env.get("DYNAMODB_ENDPOINT") or None
    return Settings(
        stage=stage,
        table_prefix=env.get("CMDM_TABLE_PREFIX", f"cmdm-{stage}-"),
        dynamodb_endpoint=endpoint,
        region=env.get("AWS_DEFAULT_REGION", "ca-central-1"),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_secret_id=env.get("CMDM_TWILIO_SECRET_ID") or None,
        public_url=env.get("CMDM_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        outbound=env.get("CMDM_OUTBOUND", "outbox"),
        jwt_secret=env.get("CMDM_DEV_JWT_SECRET") or None,
        media_bucket=env.get("CMDM_MEDIA_BUCKET", f"cmdm-{stage}-media"),
        policy_dir=Path(policy_dir) if policy_dir else None,
        # S3 shares the embedded endpoint locally (moto's server serves both).
        s3_endpoint=env.get("S3_ENDPOINT") or endpoint,
        # Only for tests and the local stand-in: where the twilio client sends REST calls.
        twilio_api_base=env.get("CMDM_TWILIO_API_BASE") or None,
        followup_queue_url=env.get("CMDM_FOLLOWUP_QUEUE_URL") or None,
        followup_queue=env.get("CMDM_FOLLOWUP_QUEUE") or None,
        posts_queue_url=env.get("CMDM_POSTS_QUEUE_URL") or None,
        posts_queue=env.get("CMDM_POSTS_QUEUE") or None,
        posts_per_second=_positive_int(env.get("CMDM_POSTS_PER_SECOND"), 10),
        ws_url=env.get("CMDM_WS_URL") or None,
        ws_management_url=env.get("CMDM_WS_MANAGEMENT_URL") or None,
        live_queue_url=env.get("CMDM_LIVE_QUEUE_URL") or None,
        live_queue=env.get("CMDM_LIVE_QUEUE") or None,
    )


def _positive_int(text: str | None, default: int) -> int:
    if text is None or not text.strip():
        return default
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("CMDM_POSTS_PER_SECOND must be a whole number of at least 1")
    return int(text)
