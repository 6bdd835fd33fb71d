"""The console's WebM/Opus -> Ogg/Opus remuxer (chalicelib/web/js/ogg.js), run in Chromium, checked in Python.

The voice-note test records Chromium's own WebM; this one feeds the module a WebM written here with
what a recording may hold and a short one does not: a stereo OpusHead in CodecPrivate, a Segment and
Cluster of unknown size, a Block inside a BlockGroup, packets of 255 bytes and more (lacing across
segments), every Opus frame duration and frame-count code, and enough packets to fill several pages.
"""

from __future__ import annotations

import base64
import struct

import pytest

from tests.browser.test_sending_media import ogg_pages

pytestmark = pytest.mark.xdist_group("browser")

UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"  # an EBML size of "unknown" (a live recording)


def size(n: int) -> bytes:
    return bytes([0x10]) + n.to_bytes(3, "big") if n < 2**21 else bytes([0x08]) + n.to_bytes(4, "big")


def element(element_id: int, data: bytes) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size(len(data)) + data


OPUS_HEAD = b"OpusHead" + bytes([1, 2]) + struct.pack("<HIhB", 3840, 48000, 0, 0)  # stereo, its own pre-skip


def packet(config: int, code: int, frames: int, length: int) -> bytes:
    toc = bytes([(config << 3) | code])
    body = (bytes([frames]) if code == 3 else b"") + bytes((i * 7 + config) % 251 for i in range(length))
    return toc + body


# (config, frame-count code, frames for code 3, bytes) -> 48 kHz samples
CASES = [
    ((31, 0, 0, 60), 960),  # CELT 20 ms
    ((16, 0, 0, 20), 120),  # CELT 2.5 ms
    ((3, 0, 0, 100), 2880),  # SILK 60 ms
    ((2, 1, 0, 300), 3840),  # SILK 40 ms, two frames: a packet longer than 255 bytes
    ((13, 2, 0, 254), 1920),  # hybrid 20 ms, two frames of different sizes
    ((30, 3, 3, 700), 1440),  # CELT 10 ms, three frames (code 3): 702 bytes, three lacing values
    ((25, 3, 5, 40), 1200),  # CELT 5 ms, five frames (code 3)
    ((31, 0, 0, 254), 960),  # exactly 255 bytes with the TOC: lacing 255 then 0
]


def synthetic_webm() -> tuple[bytes, list[bytes], list[int]]:
    packets, samples = [], []
    for i in range(900):  # more than 255 lacing values: several Ogg pages
        (config, code, frames, length), count = CASES[i % len(CASES)]
        packets.append(packet(config, code, frames, length))
        samples.append(count)
    blocks = b""
    for i, p in enumerate(packets):
        header = b"\x81" + struct.pack(">h", i % 1000) + b"\x80"  # track 1, timecode, keyframe
        if i % 50 == 7:
            blocks += element(0xA0, element(0xA1, header[:3] + b"\x00" + p))  # BlockGroup > Block
        else:
            blocks += element(0xA3, header + p)  # SimpleBlock
    ebml = element(0x1A45DFA3, element(0x4282, b"webm"))
    track = element(0xAE, element(0xD7, b"\x01") + element(0x86, b"A_OPUS") + element(0x63A2, OPUS_HEAD))
    cluster = b"\x1f\x43\xb6\x75" + UNKNOWN + element(0xE7, b"\x00") + blocks
    segment = b"\x18\x53\x80\x67" + UNKNOWN + element(0x1654AE6B, track) + element(0xEC, b"\0" * 30) + cluster
    return ebml + segment, packets, samples


REMUX = """async (b64) => {
  const { webmToOgg } = await import(new URL("js/ogg.js", document.baseURI).href);
  const webm = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  let text = "";
  for (const b of webmToOgg(webm)) text += String.fromCharCode(b);
  return btoa(text);
}"""


def test_the_remuxer_copies_every_opus_packet_into_valid_ogg_pages_with_exact_granules(console, server):
    webm, packets, samples = synthetic_webm()
    console.page.goto(server.console())
    ogg = base64.b64decode(console.page.evaluate(REMUX, base64.b64encode(webm).decode()))

    pages = ogg_pages(ogg)  # every page's CRC checked
    sequences = [struct.unpack_from("<I", ogg, at + 18)[0] for at in _page_offsets(ogg)]
    assert sequences == list(range(len(pages)))
    assert {struct.unpack_from("<I", ogg, at + 14)[0] for at in _page_offsets(ogg)} == {1}  # one stream
    assert pages[0] == (0x02, 0, [OPUS_HEAD])  # beginning of stream: the recording's own OpusHead
    assert pages[1][0] == 0 and pages[1][2][0].startswith(b"OpusTags")
    assert [t & 0x04 for t, _g, _p in pages] == [0] * (len(pages) - 1) + [0x04]  # end of stream, last page only
    audio = [p for _t, _g, ps in pages[2:] for p in ps]
    assert audio == packets  # nothing lost, nothing re-encoded, in order
    assert len(pages) > 4  # 900 packets do not fit one page's 255 lacing values
    through = 0
    for _t, granule, ps in pages[2:]:
        through += len(ps)
        assert granule == sum(samples[:through])  # 48 kHz samples up to the page's last packet
    assert through == len(packets) and pages[-1][1] == sum(samples)


def _page_offsets(ogg: bytes) -> list[int]:
    offsets, at = [], 0
    while at < len(ogg):
        offsets.append(at)
        count = ogg[at + 26]
        at += 27 + count + sum(ogg[at + 27:at + 27 + count])
    return offsets
