"""Fuzzing the pure parsers (issue 8): Twilio's forms and the agency policy loader.

- ``InboundForm.parse`` / ``StatusForm.parse`` get Twilio-shaped forms with fields dropped, swapped
  for odd Unicode (RTL marks, combining characters, emoji, NUL, lone surrogates), huge or numeric
  junk: each either parses into a consistent value or raises ``InvalidInput`` naming a field.
- ``policy_from_data`` gets random mutations of every valid policy in ``policies/`` (keys dropped,
  values replaced by random JSON, lists emptied, strings bent): each either loads or raises
  ``PolicyError`` naming the field. ``load_policy_file`` gets mutated bytes: ``PolicyError`` only.

Examples: 200 per target under ``make test``, 10,000 under ``make fuzz`` (tests/hypothesis_profiles.py).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.adapters.policy_loader import PolicyError, load_policy_file, policy_files, policy_from_data
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Channel
from chalicelib.services.inbound import MAX_BODY, MAX_MEDIA, InboundForm, StatusForm
from tests.hypothesis_profiles import fuzz_settings
from tests.twilio_helpers import new_sid, sms_form, status_form, whatsapp_form

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILES = policy_files(ROOT / "policies")

ODD = [
    "\u200f", "\u202e", "\u2066", "\u0000", "\u0301", "e\u0301\u0301", "\ufeff", "\U0001f600",
    "\U0001f469\u200d\U0001f467", "\u0645\u0631\u062d\u0628\u0627", "\u00a0", "\r\n", "\ud800", "\udfff",
    "whatsapp:", "WhatsApp:", "+", "+1", "%00", "%ZZ", "&", "=", "\u0661\u0662\u0663",  # Arabic-Indic digits
]
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=6)), max_size=10).map("".join)
numberish = st.one_of(
    st.sampled_from(["+15875550123", "+15873550101", "whatsapp:+15875550123", "+1587555012", "+999", "",
                     "15875550123", "+1 (587) 555-0123", "+15875550123\u200f", "whatsapp:", "+" + "9" * 40]),
    st.from_regex(r"\+[0-9]{1,16}", fullmatch=True),
    odd_text,
)
values = st.one_of(odd_text, numberish, st.text(max_size=40),
                   st.integers(-5, 20).map(str), st.sampled_from(["a" * (MAX_BODY + 1), "\U0001f600" * 5000]))


@st.composite
def twilio_forms(draw: st.DrawFn) -> dict[str, str]:
    base = draw(st.sampled_from([
        sms_form("+15875550123", "+15873550101", "hello"),
        whatsapp_form("+15875550123", "+15873550101", "hello"),
        sms_form("+15875550123", "+15873550101", "photo", NumMedia="2", MediaUrl0="https://api.twilio.com/m/0",
                 MediaContentType0="image/jpeg", MediaUrl1="https://api.twilio.com/m/1"),
    ]))
    form = dict(base)
    keys = sorted(set(form) | {"OptOutType", "MediaUrl0", "NumMedia", "SmsMessageSid"})
    for key in draw(st.lists(st.sampled_from(keys), max_size=6, unique=True)):
        if draw(st.booleans()):
            form.pop(key, None)
        else:
            form[key] = draw(values)
    return form


@fuzz_settings(fast=True)
@given(form=twilio_forms())
def test_inbound_form_parses_or_names_the_bad_field(form: dict[str, str]) -> None:
    try:
        parsed = InboundForm.parse(form)
    except InvalidInput as err:
        assert err.field and isinstance(err.message, str) and err.message
        return
    # What parses is usable as is: E.164 numbers, one channel, a bounded body of real text.
    assert parsed.sender.startswith("+") and parsed.sender[1:].isdigit()
    assert parsed.to.startswith("+") and parsed.to[1:].isdigit()
    assert parsed.channel in (Channel.SMS, Channel.WHATSAPP)
    assert len(parsed.body) <= MAX_BODY and "\x00" not in parsed.body
    parsed.body.encode("utf-8")  # no lone surrogates: it can be stored and sent
    assert len(parsed.media) <= MAX_MEDIA


@fuzz_settings(fast=True)
@given(sid=st.one_of(st.just(new_sid()), odd_text), status=st.one_of(st.sampled_from(["delivered", "failed"]), odd_text),
       error=st.one_of(st.none(), st.just("21610"), odd_text), drop=st.lists(st.sampled_from(
           ["MessageSid", "SmsSid", "MessageStatus", "SmsStatus"]), unique=True))
def test_status_form_parses_or_names_the_bad_field(sid: str, status: str, error: str | None, drop: list[str]) -> None:
    form = status_form(sid, status, error)
    for key in drop:
        form.pop(key)
    try:
        parsed = StatusForm.parse(form)
    except InvalidInput as err:
        assert err.field in ("MessageSid", "MessageStatus", "ErrorCode")
        return
    assert parsed.error_code is None or parsed.error_code.isdigit()


# -- policies --------------------------------------------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
                      odd_text, st.sampled_from(["PT0S", "P0D", "PT24H", "25:00", "09:00", "Mars/Olympus",
                                                 "ZZ", "2026-02-30", "", "{next_open", "{nope}"]))
json_any = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


@st.composite
def mutated_policies(draw: st.DrawFn) -> tuple[str, Any]:
    path = draw(st.sampled_from(POLICY_FILES))
    data = json.loads(path.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(_paths(data)))
        if not target:
            if draw(st.integers(0, 9)) == 0:
                data = draw(json_any)
            continue
        parent = data
        try:
            for part in target[:-1]:
                parent = parent[part]
            key = target[-1]
            action = draw(st.integers(0, 3))
            if action == 0 and isinstance(parent, dict):
                parent.pop(key, None)
            elif action == 1 and isinstance(parent[key], list):
                parent[key] = []
            elif action == 2 and isinstance(parent[key], str):
                parent[key] = parent[key] + draw(odd_text)
            else:
                parent[key] = draw(json_any)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return path.stem, copy.deepcopy(data)


@fuzz_settings(fast=True)
@given(case=mutated_policies())
def test_mutated_policy_loads_or_raises_policy_error_naming_the_field(case: tuple[str, Any]) -> None:
    agency_id, data = case
    try:
        policy = policy_from_data(data, f"policies/{agency_id}.json", expected_id=agency_id)
    except PolicyError as err:
        assert str(err).startswith(f"policies/{agency_id}.json: ")
        assert err.field, f"no field named: {err}"
        return
    assert policy.agency_id == agency_id


@fuzz_settings(fast=True)
@given(cut=st.integers(0, 4000), junk=st.binary(max_size=12), which=st.integers(0, len(POLICY_FILES) - 1))
def test_damaged_policy_file_raises_policy_error_only(tmp_path_factory: Any, cut: int, junk: bytes, which: int) -> None:
    source = POLICY_FILES[which]
    raw = source.read_bytes()
    damaged = raw[:cut] + junk + raw[cut + len(junk):]
    target = tmp_path_factory.mktemp("policies") / source.name
    target.write_bytes(damaged)
    try:
        policy = load_policy_file(target)
    except PolicyError as err:
        assert str(err).startswith(str(target))
        return
    assert policy.agency_id == source.stem
