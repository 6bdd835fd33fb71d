"""What a worker may attach, by channel, and what the bytes of an upload must look like (issue 14, item 4)."""

from __future__ import annotations

import struct

import pytest

from chalicelib.domain import attachments as a
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Channel

MB = 1024 * 1024


@pytest.mark.parametrize(("channel", "content_type", "largest"), [
    (Channel.WHATSAPP, "image/jpeg", 5 * MB),  # Twilio: WhatsApp images 5 MB
    (Channel.WHATSAPP, "image/png", 5 * MB),
    (Channel.WHATSAPP, "audio/ogg", 16 * MB),  # a WhatsApp message: 16 MB
    (Channel.WHATSAPP, "application/pdf", 16 * MB),
    (Channel.SMS, "image/jpeg", 5 * MB),  # MMS: 5 MB for the whole message
    (Channel.SMS, "application/pdf", 5 * MB),
])
def test_each_channel_takes_a_file_up_to_its_limit_and_not_a_byte_more(channel, content_type, largest):
    assert a.check(channel, content_type, largest) == content_type
    with pytest.raises(InvalidInput) as refused:
        a.check(channel, content_type, largest + 1)
    assert refused.value.field == "size" and f"at most {largest // MB} MB" in refused.value.message


def test_the_content_type_is_compared_without_parameters_or_case():
    assert a.check(Channel.WHATSAPP, "Audio/OGG; codecs=opus", 1000) == "audio/ogg"


@pytest.mark.parametrize(("channel", "content_type"), [
    (Channel.SMS, "audio/ogg"),  # MMS carries no voice notes
    (Channel.SMS, "video/mp4"),
    (Channel.WHATSAPP, "image/gif"),  # WhatsApp shows no GIF files through Twilio
    (Channel.WHATSAPP, "application/x-msdownload"),
    (Channel.WHATSAPP, "text/html"),
    (Channel.WHATSAPP, ""),
])
def test_a_type_the_channel_does_not_carry_is_refused_naming_what_it_takes(channel, content_type):
    with pytest.raises(InvalidInput) as refused:
        a.check(channel, content_type, 100)
    assert refused.value.field == "content_type"
    assert "image/jpeg" in refused.value.message and channel.value in refused.value.message


@pytest.mark.parametrize("size", [0, -1, True, 1.5, "100"])
def test_a_size_that_is_not_a_positive_whole_number_of_bytes_is_refused(size):
    with pytest.raises(InvalidInput) as refused:
        a.check(Channel.WHATSAPP, "image/png", size)
    assert refused.value.field == "size"


def test_an_upload_key_belongs_to_one_file_of_one_agency():
    key = a.upload_key("calgary-cfn", "cl_1", "up_" + "a" * 32)
    assert key == "calgary-cfn/cl_1/uploads/up_" + "a" * 32
    assert a.upload_id_of("calgary-cfn", "cl_1", key) == "up_" + "a" * 32
    for other in (a.upload_key("calgary-cfn", "cl_2", "up_" + "a" * 32), a.upload_key("other", "cl_1", "up_" + "a" * 32),
                  "calgary-cfn/cl_1/uploads/up_" + "a" * 31, "calgary-cfn/cl_1/uploads/../cl_2/x", None, 12):
        with pytest.raises(InvalidInput):
            a.upload_id_of("calgary-cfn", "cl_1", other)


def ogg_page(packet: bytes, header_type: int = 2) -> bytes:
    return b"OggS" + bytes([0, header_type]) + struct.pack("<qIIIB", 0, 7, 0, 0, 1) + bytes([len(packet)]) + packet


OPUS_HEAD = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)


def test_a_voice_note_must_open_with_an_ogg_page_carrying_opus_head():
    assert a.is_ogg_opus(ogg_page(OPUS_HEAD))
    assert not a.is_ogg_opus(ogg_page(b"\x01vorbis" + b"\0" * 23))  # Ogg, but Vorbis
    assert not a.is_ogg_opus(bytes.fromhex("1a45dfa3") + b"\0" * 60)  # WebM (Chromium's recording)
    assert not a.is_ogg_opus(b"OggS")


@pytest.mark.parametrize(("content_type", "head"), [
    ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
    ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("image/gif", b"GIF89a\x01\x00"),
    ("application/pdf", b"%PDF-1.4\n"),
    ("audio/ogg", ogg_page(OPUS_HEAD)),
    ("audio/mpeg", b"ID3\x04\x00"),
    ("audio/mpeg", b"\xff\xfb\x90\x00"),
    ("audio/aac", b"\xff\xf1\x50\x80"),
    ("audio/amr", b"#!AMR\n<"),
    ("video/mp4", b"\x00\x00\x00\x18ftypmp42"),
])
def test_each_allowed_type_is_recognised_by_its_first_bytes(content_type, head):
    assert a.matches_content(content_type, head)
    others = {kind for kind in a.SIGNATURES if kind != content_type and not (
        {kind, content_type} == {"audio/mpeg", "audio/aac"})}  # both are MPEG audio frames
    assert not any(a.matches_content(other, head) for other in others)


def test_every_type_a_channel_takes_has_a_signature_and_a_renamed_program_matches_none():
    assert {kind for allowed in a.ALLOWED.values() for kind in allowed} <= set(a.SIGNATURES)
    assert not any(a.matches_content(kind, b"MZ\x90\x00" + b"\0" * 60) for kind in a.SIGNATURES)
    assert not a.matches_content("text/html", b"<html>")
