"""Calls from and to work numbers (SPEC §5.10): the staff's ``POST /clients/{id}/calls`` and Twilio's
voice webhooks, each signature-checked like the message webhooks and answered in TwiML.

- ``/webhooks/twilio/voice``: a call to a work number (the number's voice URL);
- ``/webhooks/twilio/voice/dial``: the ``<Dial>`` ended (answered, or voicemail);
- ``/webhooks/twilio/voice/status``: Twilio's call status callback;
- ``/webhooks/twilio/voice/recording``: a voicemail's recording status callback.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.edge import created, endpoint, json_body, zone
from chalicelib.api.webhooks import FORM, twilio_form

voice = Blueprint(__name__)


def voice_twiml(answer: Any) -> Response:
    """``domain.calls.VoiceAnswer`` as Twilio's voice TwiML."""
    from twilio.twiml.voice_response import VoiceResponse

    from chalicelib.domain.calls import VOICEMAIL_SECONDS, say_voice

    container = bootstrap.container()
    base = container.settings.public_url
    response = VoiceResponse()
    for said in answer.said:
        language, speaker = say_voice(said.language)
        response.say(said.text, language=language, voice=speaker)
    if answer.ring is not None:
        dial = response.dial(caller_id=answer.ring.caller_id, timeout=answer.ring.timeout,
                             action=base + "/webhooks/twilio/voice/dial", method="POST")
        dial.number(answer.ring.phone)
    elif answer.record:
        response.record(max_length=VOICEMAIL_SECONDS, play_beep=True, timeout=5,
                        recording_status_callback=base + "/webhooks/twilio/voice/recording",
                        recording_status_callback_method="POST",
                        recording_status_callback_event="completed")
        response.hangup()
    else:
        response.hangup()
    return Response(body=str(response), status_code=200,
                    headers={"Content-Type": "text/xml", "X-CMDM-Outcome": answer.outcome})


def connect_twiml(work_number: str, client_phone: str) -> str:
    """What an outgoing call does once the worker answers: connect the client, showing the work number."""
    from twilio.twiml.voice_response import VoiceResponse

    base = bootstrap.container().settings.public_url
    response = VoiceResponse()
    dial = response.dial(caller_id=work_number, action=base + "/webhooks/twilio/voice/dial", method="POST")
    dial.number(client_phone)
    return str(response)


@endpoint(voice, "/clients/{client_id}/calls", ["POST"])
def post_call(who: Any, client_id: str) -> Any:
    from chalicelib.services.calls import PlaceCall
    from chalicelib.views import call_view

    command = PlaceCall.parse(json_body())
    outcome = bootstrap.container().calls.place(who, client_id, command, connect_twiml)
    return created(call_view(outcome, zone(outcome.message.agency_id)))


@endpoint(voice, "/webhooks/twilio/voice", ["POST"], staff=False, content_types=FORM)
def twilio_voice() -> Any:
    from chalicelib.services.calls import CallForm

    form = CallForm.parse(twilio_form("/webhooks/twilio/voice"))
    return voice_twiml(bootstrap.container().calls.incoming(form))


@endpoint(voice, "/webhooks/twilio/voice/dial", ["POST"], staff=False, content_types=FORM)
def twilio_voice_dial() -> Any:
    from chalicelib.services.calls import CallProgress

    form = CallProgress.parse(twilio_form("/webhooks/twilio/voice/dial"), dial=True)
    return voice_twiml(bootstrap.container().calls.dial_result(form))


@endpoint(voice, "/webhooks/twilio/voice/status", ["POST"], staff=False, content_types=FORM)
def twilio_voice_status() -> Any:
    from chalicelib.domain.calls import VoiceAnswer
    from chalicelib.services.calls import CallProgress

    form = CallProgress.parse(twilio_form("/webhooks/twilio/voice/status"))
    bootstrap.container().calls.progress(form)
    return voice_twiml(VoiceAnswer(outcome="status"))


@endpoint(voice, "/webhooks/twilio/voice/recording", ["POST"], staff=False, content_types=FORM)
def twilio_voice_recording() -> Any:
    from chalicelib.domain.calls import VoiceAnswer
    from chalicelib.services.calls import RecordingForm

    form = RecordingForm.parse(twilio_form("/webhooks/twilio/voice/recording"))
    filed = bootstrap.container().calls.voicemail(form)
    return voice_twiml(VoiceAnswer(outcome="filed" if filed else "ignored"))
