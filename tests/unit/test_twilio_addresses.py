"""Phone numbers in Twilio's signed webhooks (``From``/``To``): E.164 as sent, taken without phonenumbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.validation import e164, twilio_address
from tests.conftest import ROOT


@pytest.mark.parametrize("number", ["+15875550123", "+447911123456", "+33612345678", "+9647701234567"])
def test_an_e164_address_from_twilio_is_the_same_number_phonenumbers_would_give(number: str):
    assert twilio_address(number, "From") == number == e164(number, "From")


@pytest.mark.parametrize("number", ["15875550123", "+0123456789", "+1 (587) 555-0123", "+1587", "+" + "9" * 16, ""])
def test_an_address_of_another_shape_is_read_or_refused_as_e164_reads_it(number: str):
    try:
        expected = e164(number, "From")
    except InvalidInput as err:
        with pytest.raises(InvalidInput) as caught:
            twilio_address(number, "From")
        assert (caught.value.field, caught.value.message) == (err.field, err.message)
    else:
        assert twilio_address(number, "From") == expected


def test_parsing_a_twilio_webhook_does_not_import_phonenumbers():
    code = ("import sys; from chalicelib.services.inbound import InboundForm; "
            "InboundForm.parse({'MessageSid': 'SM' + 'a' * 32, 'From': 'whatsapp:+15875550123', "
            "'To': 'whatsapp:+15873550101', 'Body': 'hi', 'NumMedia': '0'}); "
            "print('phonenumbers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
