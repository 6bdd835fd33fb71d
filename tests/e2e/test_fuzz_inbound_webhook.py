"""Fuzzing Twilio's webhooks through HTTP (issue 8, SPEC §6): never a 500, nothing half-written.

Every request here carries a *valid* Twilio signature over whatever form it sends, so it gets past
the signature check and into the parser and the service: malformed and missing fields, invalid
numbers, huge bodies, odd Unicode (RTL marks, emoji, combining characters, NUL), and raw bodies
with invalid percent-encodings or bytes that are not UTF-8. For every request:

- the status is 200 (TwiML), 400 / 413 (JSON error naming the problem) or 403 (signature);
- a 4xx wrote nothing at all;
- a 200 wrote at most one transaction, and what it filed is whole: every message filed in the
  example is in the file exactly once with its ``MESSAGE_FILED`` event, under an existing inquiry.

Examples per target: 50 under ``make test`` (profile ``ci``), 2,000 under ``make fuzz``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import event, given
from hypothesis import strategies as st

from tests.conftest import new_client
from tests.fault_helpers import DynamoTap
from tests.hypothesis_profiles import fuzz_settings
from tests.twilio_helpers import signature, sms_form, status_form, whatsapp_form

EDMONTON = ZoneInfo("America/Edmonton")
MESSAGES = "/webhooks/twilio/messages"
STATUS = "/webhooks/twilio/status"
AMAL_NUMBER = "+15873550101"
FATIMA = "+15875550123"
INSTANTS = ["2026-11-23T10:00", "2026-11-27T18:00"]  # in hours; Friday evening (automatic reply)


pytestmark = pytest.mark.usefixtures("per_item_transaction_rollback")


ODD = [
    "\u200f", "\u202e", "\u2066", "\u0000", "\u0007", "\u0301", "e\u0301\u0301\u0301", "\ufeff", "\U0001f600",
    "\U0001f469\u200d\U0001f467", "\u0645\u0631\u062d\u0628\u0627", "\u00a0", "\r\n", "\t", "STOP", "START",
    "HELP", "whatsapp:", "+", "%", "%2", "%ZZ", "%C3%28", "&", "=", "\u0661\u0662",
]
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=6)), max_size=10).map("".join)
numbers = st.one_of(
    st.sampled_from([FATIMA, AMAL_NUMBER, "+15873550102", "+15875550199", "+1587555", "+999", "", "abc",
                     "15875550123", "+1 (587) 555-0123", FATIMA + "\u200f", "+" + "9" * 30]),
    st.from_regex(r"\+1587[0-9]{7}", fullmatch=True),
    odd_text,
)
field_values = st.one_of(odd_text, numbers, st.text(max_size=30), st.integers(-3, 15).map(str),
                         st.sampled_from(["a" * 8001, "\U0001f600" * 3000, "x" * 70000]))


CLIENT = "+15870000000"  # stands for the example's own consented client, replaced when sending


@st.composite
def inbound_forms(draw: st.DrawFn) -> dict[str, str]:
    sender = draw(st.sampled_from([CLIENT, "+15875550199"]))
    make = draw(st.sampled_from([sms_form, whatsapp_form]))
    form = make(sender, AMAL_NUMBER, draw(st.one_of(odd_text, st.just("rent question"))))
    keys = sorted(set(form) | {"OptOutType", "NumMedia", "MediaUrl0", "MediaContentType0"})
    for key in draw(st.lists(st.sampled_from(keys), max_size=5, unique=True)):
        if draw(st.booleans()):
            form.pop(key, None)
        else:
            form[key] = draw(field_values)
    for _ in range(draw(st.integers(0, 2))):
        form[draw(odd_text)] = draw(odd_text)
    return form


def encode_form(form: dict[str, str]) -> bytes:
    # Lone surrogates cannot be UTF-8: surrogatepass yields exactly the invalid bytes an attacker can send.
    return "&".join(f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
                    for k, v in form.items()).encode("ascii")


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([
        b"Body=%ZZ&From=%2", b"Body=%C3%28", b"Body=%ED%A0%80", b"Body=\xff\xfe", b"Body=caf\xe9",
        b"Body=a%00b", b"&&&===&", b"=", b"MessageSid", b"%" * 100, b"Body=" + b"a" * 70000,
        b"a=1&" * 600, b"Body=\xe2\x80\x8f%E2%80%AE",
    ]),
)


def sign_raw(path: str, raw: bytes) -> str:
    """Sign what the webhook will parse, when it can parse it (else any signature: it fails earlier)."""
    try:
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=500))
    except (UnicodeDecodeError, ValueError):
        return "unparseable"
    return signature(path, form)


def post_raw(api: Any, path: str, raw: bytes) -> tuple[Any, DynamoTap]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign_raw(path, raw)}
    with DynamoTap() as tap:
        response = api.http.post(path, headers=headers, body=raw)
    return response, tap


def check(response: Any, tap: DynamoTap, what: str) -> None:
    status = response.status_code
    body = response.body.decode("utf-8", "replace") if isinstance(response.body, bytes) else response.body
    assert status in (200, 400, 403, 413), (what, status, body[:300])
    event(f"{what}: {status}" + (" filed" if tap.by_operation()["TransactWriteItems"] else ""))
    if status == 200:
        assert body.startswith("<?xml") and "<Response" in body, (what, body[:300])
        assert tap.by_operation()["TransactWriteItems"] <= 1
        assert tap.by_operation()["Scan"] == 0
        return
    error = json.loads(body)["error"]
    assert error["code"] and error["message"], (what, error)
    if status == 400:
        assert error["field"], (what, error)
    written = [(c.operation, c.tables) for c in tap.successful_writes]
    assert not written, (what, status, "a refused request wrote", written)


def assert_nothing_half_written(client_id: str) -> None:
    """Every stored message of the file has exactly one MESSAGE_FILED event and an existing inquiry."""
    from chalicelib.adapters import models as m

    filed: dict[str, int] = {}
    for item in m.AuditModel.by_client.query(client_id):
        if item.type == "message.filed":
            mid = item.details.attribute_values.get("message_id") if item.details else None
            filed[mid] = filed.get(mid, 0) + 1
    stored = list(m.MessageModel.query(client_id))
    sids = [i.twilio_sid for i in stored if i.twilio_sid]
    assert len(sids) == len(set(sids)), "a MessageSid was filed twice"
    for item in stored:
        assert filed.get(item.message_id) == 1, (item.message_id, filed.get(item.message_id))
        if item.inquiry_id is not None:
            assert m.InquiryModel.get(item.inquiry_id).client_id == client_id


_phones = itertools.count(1)


@pytest.fixture
def fresh_client(http: Any, agency: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """A new consented file per example, so the exactly-once check reads one example's writes only."""

    def make() -> dict[str, Any]:
        with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=EDMONTON), tick=False):
            return new_client(http, agency["amal"], phone=f"+1403{6000000 + next(_phones):07d}", channel="sms")

    return make


def with_sender(form: dict[str, str], phone: str) -> dict[str, str]:
    return {k: (v.replace(CLIENT, phone) if isinstance(v, str) else v) for k, v in form.items()}


def at(text: str) -> Any:
    return time_machine.travel(datetime.fromisoformat(text).replace(tzinfo=EDMONTON), tick=False)


@fuzz_settings()
@given(form=inbound_forms(), when=st.sampled_from(INSTANTS), twice=st.booleans())
def test_fuzzed_signed_inbound_forms_never_fail_or_half_write(api: Any, fresh_client: Any, form: dict[str, str],
                                                              when: str, twice: bool) -> None:
    client = fresh_client()
    raw = encode_form(with_sender(form, client["phone"]))
    with at(when):
        response, tap = post_raw(api, MESSAGES, raw)
        check(response, tap, "inbound form")
        if twice:  # Twilio's retry of the same delivery changes nothing
            again, tap2 = post_raw(api, MESSAGES, raw)
            check(again, tap2, "inbound form again")
            assert again.status_code == response.status_code
            if tap.successful_writes:
                assert not tap2.successful_writes, "the retry wrote again"
    assert_nothing_half_written(client["client_id"])


@fuzz_settings()
@given(raw=raw_bodies)
def test_fuzzed_raw_webhook_bodies_never_fail_or_write(api: Any, agency: Any, raw: bytes) -> None:
    with at(INSTANTS[0]):
        for path in (MESSAGES, STATUS):
            response, tap = post_raw(api, path, raw)
            check(response, tap, f"raw body to {path}")


@fuzz_settings()
@given(sid=st.one_of(st.just("SM" + "a" * 32), odd_text), status=st.one_of(
    st.sampled_from(["delivered", "failed", "read", "undelivered"]), odd_text),
    error=st.one_of(st.none(), st.sampled_from(["21610", "30003"]), odd_text))
def test_fuzzed_status_callbacks_never_fail(api: Any, agency: Any, sid: str, status: str, error: str | None) -> None:
    form = status_form(sid, status, error)
    with at(INSTANTS[0]):
        response, tap = post_raw(api, STATUS, encode_form(form))
    check(response, tap, "status callback")


@fuzz_settings(max_examples=10)
@given(form=inbound_forms())
def test_unsigned_or_mis_signed_fuzzed_forms_are_403_and_write_nothing(api: Any, agency: Any,
                                                                       form: dict[str, str]) -> None:
    raw = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}).encode("ascii")
    for sig in ("", "bm90IGEgc2lnbmF0dXJl", signature(MESSAGES, {**form, "Body": "x"}, "another-token")):
        with DynamoTap() as tap:
            response = api.http.post(MESSAGES, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                         "X-Twilio-Signature": sig}, body=raw)
        assert response.status_code in (400, 403, 413), response.status_code
        assert not tap.successful_writes
