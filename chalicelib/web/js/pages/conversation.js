// One client's conversation (SPEC §4.6): the messages in a region named `Conversation`, a
// textbox named `Message` and a button named `Send`. Before sending, the composer says what will
// happen, from GET /clients/{id}/compose (the server's business-time rules, never the browser's):
// sent now, or `Scheduled` with the local send time; the emergency override demands a reason.
// Held messages show `Scheduled` and their send time, with Cancel for their author. New client
// messages and delivery reports appear without a reload: fetched again when the server pushes a
// change of this file (live.js), or every 60 s while the push channel is down. Issue 22: focus
// moves to the client's name on opening; the thread opens at its newest message, and stays there
// while photos load; what is typed in `Message` is kept as a draft (drafts.js) until the API
// accepts it; Ctrl+Enter (Cmd+Enter) sends.

import { api, ApiError, uploadFile } from "../api.js";
import { webmToOgg } from "../ogg.js";
import { clear, clientText, h } from "../dom.js";
import { clearDraft, loadDraft, saveDraft } from "../drafts.js";
import { channelName, languageName, localTime } from "../format.js";
import { has, t } from "../i18n.js";
import { follow } from "../live.js";
import { can, mayWriteTo } from "../roles.js";
import { worklistOrigin } from "../shortcuts.js";
import { attachSnippetPicker } from "../snippet_picker.js";
import { crisisBanner, crisisTag, crisisToggle } from "../crisis.js";
import { notesRegion } from "./notes.js";
import { callPanel, callSummary } from "./call.js";

const AUTOMATIC = new Set(["auto_reply", "followup", "checkin", "survey", "post", "notice", "intake"]);

// --- the header -----------------------------------------------------------------------------------

// The way back: to the list the conversation was opened from (the Clients page keeps its search).
function backLink(clientId) {
  const from = worklistOrigin(clientId);
  return h("a", { href: `#${from}` }, "← " + t(from.startsWith("/clients") ? "nav.clients" : "nav.inbox"));
}

function renderHeader(client, path) {
  const meta = [channelName(client.channel), languageName(client.language),
    client.status !== "active" ? t("file.status." + client.status) : null].filter(Boolean).join(" · ");
  return h("header", { class: "conv-head" },
    h("p", {}, backLink(client.client_id)),
    clientText("h1", client.name, { lang: client.language, tabindex: "-1", id: "conv-title" }),
    h("p", { class: "meta" }, meta, " · ", h("a", { href: `#${path}/file` }, t("conv.file"))));
}

// --- the messages ---------------------------------------------------------------------------------

function statusLine(msg, me) {
  if (msg.direction === "inbound") return t("status.received");
  if (msg.status === "held") return t("status.scheduled", { time: localTime(msg.send_at, me.timezone) });
  const key = "status." + msg.status;
  let text = has(key) ? t(key) : msg.status;
  if (msg.error_code) {
    const reason = "twilio." + msg.error_code;
    text += " — " + (has(reason) ? t(reason) : t("twilio.other", { code: msg.error_code }));
  }
  return text;
}

function media(item, msg) {
  if (!item.url) return h("p", { class: "media-wait" }, t("media.pending"));
  if (item.content_type.startsWith("image/")) {
    return h("a", { href: item.url, target: "_blank", rel: "noopener" },
      h("img", { src: item.url, alt: t("media.image_from", { who: msg.direction === "inbound" ? t("msg.client") : t("msg.staff") }), loading: "lazy" }));
  }
  if (item.content_type.startsWith("audio/")) return h("audio", { controls: true, src: item.url, "aria-label": t("media.voice") });
  if (item.content_type.startsWith("video/")) return h("video", { controls: true, src: item.url, "aria-label": t("media.video") });
  return h("a", { href: item.url, download: "", rel: "noopener" }, t("media.download", { type: item.content_type }));
}

function place(spot) {
  return t("msg.location", { where: spot.label || spot.address || `${spot.latitude}, ${spot.longitude}` });
}

function kindName(kind) {
  return has("kind." + kind) ? t("kind." + kind) : t("kind.other");
}

// One message of the list: who and when, the text, a place, attachments, its status; a held
// message of the signed-in author has its Cancel button.
function messageItem(msg, ctx, client, onCancel, onCrisis) {
  const kind = msg.direction === "inbound" ? "in" : AUTOMATIC.has(msg.kind) ? "auto" : "out";
  const who = kind === "in" ? client.name : kind === "auto" ? kindName(msg.kind) : msg.staff_name || t("msg.staff_unnamed");
  const cls = ["msg", `msg-${kind}`, msg.status === "held" ? "held" : null,
    ["failed", "undelivered"].includes(msg.status) ? "failed" : null].filter(Boolean).join(" ");
  const item = h("li", { class: cls, dataset: { id: msg.id, status: msg.status } },
    h("p", { class: "msg-who" }, who, " · ", h("time", { datetime: msg.at }, localTime(msg.at, ctx.me.timezone)), " ", crisisTag(msg)),
    msg.body ? clientText("p", msg.body, { class: "msg-body", lang: kind === "in" ? client.language : null }) : null,
    msg.location ? h("p", {}, place(msg.location)) : null,
    msg.kind === "call" ? callSummary(msg) : null,
    (msg.media || []).map((m) => media(m, msg)),
    msg.kind === "call" ? null : h("p", { class: "msg-status" }, statusLine(msg, ctx.me), " ", onCrisis ? onCrisis(msg) : null));
  if (msg.status === "held" && msg.staff_id === ctx.me.staff_id) {
    item.append(h("button", { type: "button", class: "danger", onclick: () => onCancel(msg) },
      t("compose.cancel_held", { time: localTime(msg.send_at, ctx.me.timezone) })));
  }
  return item;
}

// The region named `Conversation` and its list. draw() redraws only when a message came, went or
// changed. The thread opens at its newest message and stays pinned there (photos and players
// that load later grow it: each load scrolls again) until the reader scrolls up, whose place is
// then kept.
function renderThread(ctx, client, onCancel, onCrisis) {
  const thread = h("ol", { class: "thread" });
  const region = h("section", { class: "conversation", "aria-label": t("conv.region"), tabindex: "0" }, thread);
  let signature = "";
  let pinned = true;
  const toBottom = () => { if (pinned) region.scrollTop = region.scrollHeight; };
  region.addEventListener("scroll", () => {
    pinned = region.scrollHeight - region.scrollTop - region.clientHeight < 40;
  }, { passive: true });
  function draw(messages) {
    const next = JSON.stringify(messages.map((m) => [m.id, m.status, m.error_code, m.crisis, (m.media || []).map((x) => x.url ? 1 : 0)]));
    if (next === signature) return;
    signature = next;
    clear(thread);
    for (const msg of messages) thread.append(messageItem(msg, ctx, client, onCancel, onCrisis));
    for (const el of thread.querySelectorAll("img, audio, video")) {
      el.addEventListener(el.tagName === "IMG" ? "load" : "loadedmetadata", toBottom, { once: true });
    }
    toBottom();
  }
  return { region, draw, toBottom };
}

async function cancelHeld(ctx, path, msg) {
  try {
    await api.del(`${path}/messages/${encodeURIComponent(msg.id)}`);
    ctx.notify(t("compose.cancelled"));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    ctx.notify(err.message, "error");
  }
}

// --- the composer ---------------------------------------------------------------------------------

// A control's words, of which a phone shows only the first (`short`): the rest stays in its
// accessible name, so the name always contains what is seen.
function words(key) {
  const full = t(key), short = t(key + "_short");
  if (!full.startsWith(short)) return full;
  // One inline box: a flex button would drop the space that starts the hidden rest.
  return h("span", {}, short, h("span", { class: "narrow-hide" }, full.slice(short.length)));
}

// The emergency override: a checkbox, and the reason it then demands.
function overrideControls() {
  const box = h("input", { type: "checkbox", id: "compose-override" });
  const reason = h("input", { type: "text", id: "compose-reason", maxlength: 500, "aria-required": "true",
    "aria-describedby": "compose-reason-why" });
  const why = h("p", { class: "error field-error", role: "alert", id: "compose-reason-why", hidden: true });
  reason.addEventListener("input", () => { why.hidden = true; reason.removeAttribute("aria-invalid"); });
  return {
    box, reason,
    // Why the reason is needed, next to it (the message is kept as typed).
    refuse(text) {
      why.textContent = text;
      why.hidden = false;
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
    },
    boxRow: h("p", { class: "override", hidden: true }, box, " ", h("label", { for: "compose-override" }, t("compose.override"))),
    reasonRow: h("div", { class: "reason", hidden: true }, h("label", { for: "compose-reason" }, t("compose.reason")), reason, why),
  };
}

// Attachments: one file (photo, document) or a voice note recorded here. What the channel and the
// agency's policy allow comes from GET /clients/{id}/compose (`attachments`), never from here.
function attachmentControls(showError) {
  // The file field keeps its keyboard focus and name; its label is what shows, as a button.
  const input = h("input", { type: "file", id: "compose-file", class: "file-input" });
  const record = h("button", { type: "button", hidden: true }, words("compose.record"));
  const picker = {
    current: null,  // { blob, type, name }
    row: h("span", { class: "attach" }, input, h("label", { for: "compose-file", class: "file-label" }, words("compose.attach")), record),
    attached: h("p", { class: "attached", "aria-live": "polite" }),
    show() {
      clear(picker.attached);
      if (!picker.current) return;
      picker.attached.append(t("compose.attached", { name: picker.current.name }), " ",
        h("button", { type: "button", class: "link", onclick: () => picker.remove() }, t("compose.remove")));
    },
    remove() {
      picker.current = null;
      input.value = "";
      picker.show();
    },
    allow(allowed, canSend) {
      input.accept = allowed.types.map((x) => x.content_type).join(",");
      record.hidden = !allowed.voice_notes || !window.MediaRecorder || !canSend;
    },
  };
  input.addEventListener("change", () => {
    const file = input.files[0];
    picker.current = file ? { blob: file, type: file.type || "application/octet-stream", name: file.name } : null;
    picker.show();
  });
  record.addEventListener("click", voiceRecorder(record, picker, showError));
  return picker;
}

// The record button's click: start recording from the microphone, or stop and attach the note.
function voiceRecorder(button, picker, showError) {
  let recorder = null;
  return async () => {
    if (recorder) { recorder.stop(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks = [];
      recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
      recorder.addEventListener("dataavailable", (e) => chunks.push(e.data));
      recorder.addEventListener("stop", async () => {
        stream.getTracks().forEach((track) => track.stop());
        recorder = null;
        clear(button).append(words("compose.record"));
        await attachRecording(chunks, picker, showError);
      });
      recorder.start();
      button.textContent = t("compose.stop_recording");
    } catch {
      showError(t("compose.no_microphone"));
    }
  };
}

// Chromium records WebM/Opus; WhatsApp plays Ogg/Opus: the packets are copied over (ogg.js).
async function attachRecording(chunks, picker, showError) {
  const webm = new Uint8Array(await new Blob(chunks).arrayBuffer());
  try {
    picker.current = { blob: new Blob([webmToOgg(webm)], { type: "audio/ogg" }), type: "audio/ogg", name: t("compose.voice_note") };
  } catch {
    showError(t("compose.record_failed"));
  }
  picker.show();
}

// What Send will do, in words, from the server's preview (GET /clients/{id}/compose, its
// `next_send`): sent now, held until the opening, the approved template, or refused and why.
function planText(preview, override) {
  const next = preview.next_send;
  if (next.outcome === "refused") {
    const key = "compose.refused." + next.reason;
    return t(key) === key ? preview.refusal : t(key);
  }
  let text;
  if (next.outcome === "held") text = override ? t("compose.plan_override") : t("compose.plan_held", { time: next.send_at_text });
  else text = t("compose.plan_now");
  if (preview.template) text += " " + t("compose.plan_template");
  return text;
}

const newKey = () => "console-" + crypto.randomUUID();

// Sends one message (or the holding reply) for the composer `c`: the override's reason when the
// agency is closed and the box is ticked, the attachment uploaded first. One Idempotency-Key per
// message written: a retry after a network error can never send it twice. True when sent.
async function postMessage(c, body, extra = {}) {
  c.showError("");
  const payload = { ...extra };
  if (body) payload.body = body;
  if (!c.preview.open_now && c.override.box.checked) {
    if (!c.override.reason.value.trim()) {
      c.override.refuse(t("compose.reason_needed"));
      return false;
    }
    payload.override_reason = c.override.reason.value.trim();
  }
  try {
    if (c.attachments.current && !extra.holding) payload.media = [await upload(c.path, c.attachments.current)];
    const { data } = await api.post(`${c.path}/messages`, payload, { headers: { "Idempotency-Key": c.sendKey } });
    c.sendKey = newKey();
    afterSent(c, data);
    await c.refresh();
    return true;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "idempotency_key_reused") {
      // The earlier attempt with this key went through (its answer was lost) and the text has
      // changed since: that message is in the thread now; this text takes a new key.
      c.sendKey = newKey();
      c.showError(t("compose.earlier_filed"));
      await c.refresh();
      return false;
    }
    c.showError(err.message);  // the API's own words
    return false;
  }
}

// The attachment straight to the media bucket (a presigned POST the API gives): its media entry.
async function upload(path, attachment) {
  const { data: form } = await api.post(`${path}/uploads`, { content_type: attachment.type, size: attachment.blob.size });
  await uploadFile(form, attachment.blob);
  return { key: form.key };
}

function afterSent(c, data) {
  c.attachments.remove();
  c.ctx.notify(data.status === "held" ? t("compose.done_held", { time: localTime(data.send_at, c.ctx.me.timezone) })
    : data.status === "failed" ? t("compose.done_failed") : t("compose.done_sent"), data.status === "failed" ? "error" : "info");
  c.override.box.checked = false;
  c.override.reason.value = "";
}

// The form with the textbox named `Message` and the button named `Send`, the plan, the override,
// attachments and the holding reply. setPreview() takes each new GET /clients/{id}/compose.
function renderComposer(ctx, path, clientId, refresh) {
  const error = h("p", { class: "error", role: "alert", id: "compose-error", hidden: true });
  const c = { ctx, path, refresh, preview: null, sendKey: newKey(), override: overrideControls(),
    showError: (text) => { error.textContent = text; error.hidden = !text; } };
  c.attachments = attachmentControls(c.showError);
  const plan = h("p", { class: "plan", id: "compose-plan", "aria-live": "polite" });
  const textbox = h("textarea", { id: "compose-body", rows: 3, maxlength: 1600, "aria-describedby": "compose-plan compose-error",
    "aria-keyshortcuts": "Control+Enter Meta+Enter" });
  textbox.value = loadDraft(ctx.me, clientId);
  textbox.addEventListener("input", () => saveDraft(ctx.me, clientId, textbox.value));
  textbox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey) {
      event.preventDefault();
      if (!send.disabled) form.requestSubmit(send);
    }
  });
  // Disabled until the server's preview says what sending would do (showPlan enables them).
  const send = h("button", { type: "submit", class: "primary", disabled: true }, t("compose.send"));
  const holding = h("button", { type: "button", disabled: true }, words("compose.holding"));
  const form = h("form", { class: "composer", "aria-labelledby": "compose-title", novalidate: true },
    h("h2", { id: "compose-title", class: "visually-hidden" }, t("compose.title")),
    h("label", { for: "compose-body" }, t("compose.message")), textbox, error, plan, c.override.boxRow, c.override.reasonRow,
    c.attachments.attached, h("div", { class: "actions" }, send, holding, c.attachments.row));

  function showPlan() {
    if (!c.preview) return;
    c.override.boxRow.hidden = c.preview.open_now || !c.preview.can_send;
    c.override.reasonRow.hidden = c.override.boxRow.hidden || !c.override.box.checked;
    plan.textContent = planText(c.preview, c.override.box.checked);
    send.disabled = holding.disabled = !c.preview.can_send;
    c.attachments.allow(c.preview.attachments || { types: [], voice_notes: false }, c.preview.can_send);
  }
  c.override.box.addEventListener("change", () => { showPlan(); if (c.override.box.checked) c.override.reason.focus(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!c.preview || send.disabled) return;
    if (!textbox.value.trim() && !c.attachments.current) {
      c.showError(t("compose.empty"));
      textbox.focus();
      return;
    }
    send.disabled = true;
    if (await postMessage(c, textbox.value)) {
      textbox.value = "";
      clearDraft(ctx.me, clientId);  // accepted by the API: a refused message stays a draft
    }
    send.disabled = false;
    showPlan();
  });
  holding.addEventListener("click", () => postMessage(c, c.preview.holding_reply.body, { holding: true }));
  return { form, textbox, setPreview: (preview) => { c.preview = preview; showPlan(); } };
}

// --- the page -------------------------------------------------------------------------------------

export async function render(view, ctx) {
  const path = `/clients/${encodeURIComponent(ctx.params.clientId)}`;
  const client = await api.get(path, { signal: ctx.signal });
  const thread = renderThread(ctx, client, async (msg) => { await cancelHeld(ctx, path, msg); await refresh(); },
    (msg) => crisisToggle(msg, ctx, path, () => refresh()));
  const banner = crisisBanner(ctx.me);  // SPEC §5.9: the emergency line and contact, while in crisis
  // Who may write is the role map's (roles.js): a supervisor reads the conversation.
  const composer = mayWriteTo(ctx.me, client) ? renderComposer(ctx, path, ctx.params.clientId, refresh) : null;
  const calls = composer ? callPanel(ctx, path, refresh) : null;
  view.classList.add("conv-page");
  const header = renderHeader(client, path);
  // The thread and the composer fill the window; the call panel and the notes go beside them.
  view.append(
    h("div", { class: "conv-main" }, header, banner.el, thread.region, composer ? composer.form
      : h("p", { class: "meta" }, t(can(ctx.me.role, "write_messages") ? "compose.not_theirs" : "compose.read_only"))),
    h("div", { class: "conv-side" }, calls ? calls.panel : "", notesRegion(ctx, path)));
  if (composer) attachSnippetPicker(composer.form.querySelector("textarea"), path, ctx.signal);

  async function refresh() {
    const [messages, compose] = await Promise.all([
      api.get(`${path}/messages`, { signal: ctx.signal }),
      composer ? api.get(`${path}/compose`, { signal: ctx.signal, query: { lang: document.documentElement.lang } }) : null,
    ]);
    if (compose) composer.setPreview(compose);
    if (compose && calls) calls.setPreview(compose);
    thread.draw(messages.messages);
    banner.update(messages.crisis);
  }

  // Keyboard and screen-reader users start at the client's name (before the messages come, so
  // a click into Message meanwhile keeps its focus).
  header.querySelector("h1").focus({ preventScroll: true });
  await refresh();
  thread.toBottom();
  follow(ctx, {
    matters: (event) => event.type === "client_changed" && event.client_id === ctx.params.clientId,
    refresh,
  });
}
