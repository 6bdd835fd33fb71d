// WebM/Opus (what Chromium's MediaRecorder records) to Ogg/Opus (what WhatsApp plays as a voice
// note), without re-encoding: the Opus packets are copied out of the WebM blocks into Ogg pages.
//
// WebM is EBML: elements of (id, size, data). A live recording has Segment and Cluster of unknown
// size, so master elements are entered rather than skipped. The track's CodecPrivate is the
// OpusHead; each SimpleBlock (or Block) holds one Opus packet after a 4-byte block header.
// Ogg (RFC 3533, RFC 7845): a page of OpusHead, a page of OpusTags, then the audio packets; each
// page's granule position is the count of 48 kHz samples up to its last packet; CRC-32 with the
// polynomial 0x04c11db7 over the page with its CRC field zeroed.

const MASTERS = new Set([0x18538067, 0x1f43b675, 0x1654ae6b, 0xae, 0xa0]);  // Segment Cluster Tracks TrackEntry BlockGroup
const CODEC_PRIVATE = 0x63a2;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;

function vint(bytes, at, keepMarker) {
  const first = bytes[at];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length += 1;
  if (length > 8) throw new Error("not a WebM file");
  let value = keepMarker ? first : first & (0xff >> length);
  let unknown = value === (0xff >> length);
  for (let i = 1; i < length; i += 1) {
    value = value * 256 + bytes[at + i];
    if (bytes[at + i] !== 0xff) unknown = false;
  }
  return { value, length, unknown: !keepMarker && unknown };
}

export function opusPackets(bytes) {
  let head = null;
  const packets = [];
  let at = 0;
  while (at < bytes.length) {
    const id = vint(bytes, at, true);
    const size = vint(bytes, at + id.length, false);
    const start = at + id.length + size.length;
    if (MASTERS.has(id.value)) { at = start; continue; }  // enter: its children follow
    const end = size.unknown ? bytes.length : Math.min(start + size.value, bytes.length);
    if (id.value === CODEC_PRIVATE) head = bytes.slice(start, end);
    if (id.value === SIMPLE_BLOCK || id.value === BLOCK) {
      const track = vint(bytes, start, false);
      packets.push(bytes.slice(start + track.length + 3, end));  // timecode (2) and flags (1)
    }
    at = end;
  }
  return { head, packets };
}

export function samplesOf(packet) {
  const toc = packet[0];
  const config = toc >> 3;
  let tenths;  // frame duration in tenths of a millisecond
  if (config < 12) tenths = [100, 200, 400, 600][config % 4];
  else if (config < 16) tenths = [100, 200][config % 2];
  else tenths = [25, 50, 100, 200][config % 4];
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : (packet[1] & 0x3f);
  return (frames * tenths * 48) / 10;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i += 1) {
    let r = i << 24;
    for (let j = 0; j < 8; j += 1) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

function crc(bytes) {
  let c = 0;
  for (const b of bytes) c = ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ b) & 0xff]) >>> 0;
  return c;
}

function page(packets, granule, sequence, flags) {
  const lacing = [];
  for (const p of packets) {
    let left = p.length;
    while (left >= 255) { lacing.push(255); left -= 255; }
    lacing.push(left);
  }
  const bodyLength = packets.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53, 0, flags]);  // "OggS", version 0, header type
  view.setBigInt64(6, BigInt(granule), true);
  view.setUint32(14, 1, true);  // stream serial number
  view.setUint32(18, sequence, true);
  out[26] = lacing.length;
  out.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const p of packets) { out.set(p, at); at += p.length; }
  view.setUint32(22, crc(out), true);
  return out;
}

function opusHead(channels = 1) {
  const head = new Uint8Array(19);
  head.set(new TextEncoder().encode("OpusHead"));
  const view = new DataView(head.buffer);
  head[8] = 1;
  head[9] = channels;
  view.setUint16(10, 312, true);  // pre-skip
  view.setUint32(12, 48000, true);
  return head;
}

function opusTags() {
  const vendor = new TextEncoder().encode("CMDM console");
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  tags.set(new TextEncoder().encode("OpusTags"));
  new DataView(tags.buffer).setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  return tags;  // no user comments
}

// Bytes of a WebM/Opus recording -> bytes of an Ogg/Opus file.
export function webmToOgg(webm) {
  const { head, packets } = opusPackets(webm);
  if (!packets.length) throw new Error("the recording has no sound");
  const idHeader = head && head.length >= 19 && new TextDecoder().decode(head.slice(0, 8)) === "OpusHead" ? head : opusHead();
  const pages = [page([idHeader], 0, 0, 0x02), page([opusTags()], 0, 1, 0)];
  let granule = 0;
  let group = [];
  let segments = 0;
  for (let i = 0; i < packets.length; i += 1) {
    const need = Math.floor(packets[i].length / 255) + 1;
    if (group.length && segments + need > 255) {
      pages.push(page(group, granule, pages.length, 0));
      group = [];
      segments = 0;
    }
    group.push(packets[i]);
    segments += need;
    granule += samplesOf(packets[i]);
  }
  pages.push(page(group, granule, pages.length, 0x04));  // end of stream
  const total = pages.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pages) { out.set(p, at); at += p.length; }
  return out;
}
