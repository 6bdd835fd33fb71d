"""Attachments from the composer in Chromium: a photo, a voice note (WebM remuxed to Ogg/Opus), a refusal."""

from __future__ import annotations

import re
import struct
import urllib.request
import zlib

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_conversation import open_conversation

pytestmark = pytest.mark.xdist_group("browser")



def png(width: int = 160, height: int = 100) -> bytes:
    """A real PNG (a blue page with grey lines, like a scanned form) so the thread has a picture to show."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"".join(bytes((90, 90, 90) if y % 12 == 6 and 10 < x < width - 10 else (220, 232, 250))
                                        for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png()


def ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_pages(data: bytes) -> list[tuple[int, int, list[bytes]]]:
    """(header type, granule, packets) of each page, every CRC checked."""
    pages, at = [], 0
    while at < len(data):
        assert data[at:at + 4] == b"OggS", at
        header_type = data[at + 5]
        granule, _serial, _seq, crc = struct.unpack_from("<qIII", data, at + 6)
        count = data[at + 26]
        lacing = data[at + 27:at + 27 + count]
        size = 27 + count + sum(lacing)
        page = bytearray(data[at:at + size])
        page[22:26] = b"\0\0\0\0"
        assert ogg_crc(bytes(page)) == crc, f"bad CRC on the page at {at}"
        packets, body, current = [], at + 27 + count, b""
        for lace in lacing:
            current += data[body:body + lace]
            body += lace
            if lace < 255:
                packets.append(current)
                current = b""
        pages.append((header_type, granule, packets))
        at += size
    return pages


def sent_media(server, phone: str) -> list[str]:
    return [url for m in server.outbox() if m["to"] == phone for url in (m.get("media_urls") or [])]


def test_a_worker_attaches_a_photo_and_it_is_sent_and_shown_in_the_thread(console, server, tmp_path):
    server.travel("open")
    client, page, conversation = open_conversation(console, server, "Rania Aziz")
    photo = tmp_path / "lease-page.png"
    photo.write_bytes(PNG)
    page.get_by_label("Attach a photo or document").set_input_files(str(photo))
    expect(page.get_by_text("Attached: lease-page.png.")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("This is the page to sign.")
    page.get_by_role("button", name="Send", exact=True).click()
    mine = conversation.get_by_role("listitem").filter(has_text="This is the page to sign.")
    expect(mine).to_contain_text("✓ sent")
    expect(mine.get_by_role("img")).to_be_visible()
    (link,) = sent_media(server, client["phone"])
    with urllib.request.urlopen(link, timeout=10) as response:  # what Twilio fetches
        assert response.read() == PNG and response.headers["Content-Type"] == "image/png"
    console.screenshot("conversation-attachment")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    mine.scroll_into_view_if_needed()
    console.screenshot("conversation-attachment-phone")


def test_a_recorded_voice_note_is_sent_as_ogg_opus(console, server):
    server.travel("open")
    client, page, _conversation = open_conversation(console, server, "Karim Saleh")
    page.get_by_role("button", name="Record a voice note").click()
    expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
    page.wait_for_timeout(1200)  # the fake microphone's tone for a second (the browser's clock, not the test's)
    page.get_by_role("button", name="Stop recording").click()
    expect(page.get_by_text("Attached: voice note.")).to_be_visible()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#notice")).to_contain_text(re.compile("sent", re.I))
    (link,) = sent_media(server, client["phone"])
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.headers["Content-Type"] == "audio/ogg"
        pages = ogg_pages(response.read())
    assert pages[0][0] == 0x02 and pages[0][2][0].startswith(b"OpusHead")  # first page: the Opus header
    assert pages[1][2][0].startswith(b"OpusTags")
    assert pages[-1][0] & 0x04  # end of stream
    audio = [p for _t, _g, packets in pages[2:] for p in packets]
    assert len(audio) >= 10  # 20 ms packets: about a second of sound
    assert pages[-1][1] >= 48_000 * 0.5  # the last granule: at least half a second at 48 kHz


def test_a_file_the_channel_cannot_carry_is_refused_with_the_apis_words(console, server, tmp_path):
    server.travel("open")
    client, page, conversation = open_conversation(console, server, "Lina Haddad")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ" + b"\0" * 100)
    page.get_by_label("Attach a photo or document").set_input_files(str(program))
    page.get_by_role("textbox", name="Message").fill("here")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("whatsapp cannot carry")
    assert sent_media(server, client["phone"]) == []
    console.errors.clear()  # Chromium logs the refused upload request (400): the refusal is the point


def test_a_photo_over_the_channels_limit_is_refused_with_the_apis_words(console, server, tmp_path):
    server.travel("open")
    client, page, _conversation = open_conversation(console, server, "Omar Nasser", language="en", channel="sms",
                                                    first="Can I send you my papers?")
    expect(page.get_by_role("button", name="Record a voice note")).to_be_hidden()  # MMS takes no voice notes
    scan = tmp_path / "scan.png"
    scan.write_bytes(PNG + b"\0" * (5 * 1024 * 1024 + 1 - len(PNG)))  # one byte over MMS's 5 MB
    page.get_by_label("Attach a photo or document").set_input_files(str(scan))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("sms takes at most 5 MB")
    assert sent_media(server, client["phone"]) == []
    console.errors.clear()  # Chromium logs the refused upload request (400): the refusal is the point
