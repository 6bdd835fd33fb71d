// One client's conversation (SPEC §4.6): the messages in a region named `Conversation`, a
// textbox named `Message` and a button named `Send`. Before sending, the composer says what will
// happen, from GET /clients/{id}/compose (the server's business-time rules, never the browser's):
// sent now, or `Scheduled` with the local send time; the emergency override demands a reason.
// Held messages show `Scheduled` and their send time, with Cancel for their author. New client
// messages appear within 5 s (polled) without a reload.

import { api, ApiError, uploadFile } from "../api.js";
import { webmToOgg } from "../ogg.js";
import { clear, clientText, h } from "../dom.js";
import { channelName, languageName, localTime } from "../format.js";
import { t } from "../i18n.js";
import { can } from "../roles.js";

export const POLL_MS = 5_000;
const AUTOMATIC = new Set(["auto_reply", "followup", "checkin", "survey", "post", "notice", "intake"]);

function statusLine(msg, me) {
  if (msg.direction === "inbound") return t("status.received");
  if (msg.status === "held") return t("status.scheduled", { time: localTime(msg.send_at, me.timezone) });
  const key = "status." + msg.status;
  let text = t(key) === key ? msg.status : t(key);
  if (msg.error_code) {
    const reason = t("twilio." + msg.error_code);
    text += " — " + (reason === "twilio." + msg.error_code ? t("twilio.other", { code: msg.error_code }) : reason);
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

function bubble(msg, ctx, client, onCancel) {
  const kind = msg.direction === "inbound" ? "in" : AUTOMATIC.has(msg.kind) ? "auto" : "out";
  const who = kind === "in" ? client.name : kind === "auto" ? t("kind." + msg.kind) : t("msg.staff_named", { id: msg.staff_id || "" });
  const status = statusLine(msg, ctx.me);
  const cls = ["msg", `msg-${kind}`, msg.status === "held" ? "held" : null,
    ["failed", "undelivered"].includes(msg.status) ? "failed" : null].filter(Boolean).join(" ");
  const item = h("li", { class: cls, dataset: { id: msg.id, status: msg.status } },
    h("p", { class: "msg-who" }, who, " · ", h("time", { datetime: msg.at }, localTime(msg.at, ctx.me.timezone))),
    msg.body ? clientText("p", msg.body, { class: "msg-body", lang: kind === "in" ? client.language : null }) : null,
    msg.location ? h("p", {}, t("msg.location", { where: msg.location.label || msg.location.address || `${msg.location.latitude}, ${msg.location.longitude}` })) : null,
    (msg.media || []).map((m) => media(m, msg)),
    h("p", { class: "msg-status" }, status));
  if (msg.status === "held" && msg.staff_id === ctx.me.staff_id) {
    item.append(h("button", { type: "button", class: "danger", onclick: () => onCancel(msg) },
      t("compose.cancel_held", { time: localTime(msg.send_at, ctx.me.timezone) })));
  }
  return item;
}

export async function render(view, ctx) {
  const clientId = ctx.params.clientId;
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const client = await api.get(path, { signal: ctx.signal });
  const header = h("header", { class: "conv-head" },
    h("p", {}, h("a", { href: "#/inbox" }, "← " + t("nav.inbox"))),
    clientText("h1", client.name, { lang: client.language }),
    h("p", { class: "meta" }, [channelName(client.channel), languageName(client.language), client.status !== "active" ? t("file.status." + client.status) : null].filter(Boolean).join(" · "),
      " · ", h("a", { href: `#${path}/file` }, t("conv.file"))));
  const thread = h("ol", { class: "thread" });
  const region = h("section", { class: "conversation", "aria-label": t("conv.region") }, thread);
  view.append(header, region);

  // --- composer --------------------------------------------------------------------------------
  const error = h("p", { class: "error", role: "alert" });
  const plan = h("p", { class: "plan", id: "compose-plan", "aria-live": "polite" });
  const textbox = h("textarea", { id: "compose-body", rows: 3, maxlength: 1600, "aria-describedby": "compose-plan" });
  const overrideBox = h("input", { type: "checkbox", id: "compose-override" });
  const reason = h("input", { type: "text", id: "compose-reason", maxlength: 500, "aria-required": "true" });
  const reasonRow = h("p", { class: "reason", hidden: true }, h("label", { for: "compose-reason" }, t("compose.reason")), reason);
  const overrideRow = h("p", { class: "override", hidden: true }, overrideBox, " ", h("label", { for: "compose-override" }, t("compose.override")));
  const send = h("button", { type: "submit", class: "primary" }, t("compose.send"));
  // Attachments: one file (photo, document) or a voice note recorded here. What the channel and the
  // agency's policy allow comes from GET /clients/{id}/compose (`attachments`), never from here.
  const fileInput = h("input", { type: "file", id: "compose-file" });
  const attached = h("p", { class: "attached", "aria-live": "polite" });
  const record = h("button", { type: "button", hidden: true }, t("compose.record"));
  let attachment = null;  // { blob, type, name }
  function showAttachment() {
    clear(attached);
    if (!attachment) return;
    attached.append(t("compose.attached", { name: attachment.name }), " ",
      h("button", { type: "button", class: "link", onclick: () => { attachment = null; fileInput.value = ""; showAttachment(); } },
        t("compose.remove")));
  }
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    attachment = file ? { blob: file, type: file.type || "application/octet-stream", name: file.name } : null;
    showAttachment();
  });
  let recorder = null;
  record.addEventListener("click", async () => {
    if (recorder) { recorder.stop(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks = [];
      recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
      recorder.addEventListener("dataavailable", (e) => chunks.push(e.data));
      recorder.addEventListener("stop", async () => {
        stream.getTracks().forEach((track) => track.stop());
        recorder = null;
        record.textContent = t("compose.record");
        const webm = new Uint8Array(await new Blob(chunks).arrayBuffer());
        try {
          attachment = { blob: new Blob([webmToOgg(webm)], { type: "audio/ogg" }), type: "audio/ogg", name: t("compose.voice_note") };
        } catch (err) {
          error.textContent = t("compose.record_failed");
        }
        showAttachment();
      });
      recorder.start();
      record.textContent = t("compose.stop_recording");
    } catch {
      error.textContent = t("compose.no_microphone");
    }
  });
  const holding = h("button", { type: "button" }, t("compose.holding"));
  const form = h("form", { class: "composer", "aria-labelledby": "compose-title", novalidate: true },
    h("h2", { id: "compose-title", class: "visually-hidden" }, t("compose.title")),
    h("label", { for: "compose-body" }, t("compose.message")), textbox, plan, overrideRow, reasonRow,
    h("p", { class: "attach" }, h("label", { for: "compose-file" }, t("compose.attach")), fileInput, record), attached,
    h("p", { class: "actions" }, send, holding), error);
  let preview = null;

  const writes = can(ctx.me.role, "write_messages");
  if (!writes) {
    view.append(h("p", { class: "meta" }, t("compose.read_only")));
  } else {
    view.append(form);
  }

  function showPlan() {
    if (!preview) return;
    const closed = !preview.open_now;
    overrideRow.hidden = !closed || !preview.can_send;
    reasonRow.hidden = overrideRow.hidden || !overrideBox.checked;
    let text;
    if (!preview.can_send) text = preview.refusal;
    else if (closed && overrideBox.checked) text = t("compose.plan_override");
    else if (closed) text = t("compose.plan_held", { time: preview.send_at_text });
    else text = t("compose.plan_now");
    if (preview.can_send && preview.template) text += " " + t("compose.plan_template");
    plan.textContent = text;
    send.disabled = holding.disabled = !preview.can_send;
    const allowed = preview.attachments || { types: [], voice_notes: false };
    fileInput.accept = allowed.types.map((x) => x.content_type).join(",");
    record.hidden = !allowed.voice_notes || !window.MediaRecorder || !preview.can_send;
  }
  overrideBox.addEventListener("change", () => { showPlan(); if (overrideBox.checked) reason.focus(); });

  async function post(body, extra = {}) {
    error.textContent = "";
    const payload = { ...extra };
    if (body) payload.body = body;
    if (!preview.open_now && overrideBox.checked) {
      if (!reason.value.trim()) {
        error.textContent = t("compose.reason_needed");
        reason.focus();
        return false;
      }
      payload.override_reason = reason.value.trim();
    }
    try {
      if (attachment && !extra.holding) {
        const { data: form } = await api.post(`${path}/uploads`, { content_type: attachment.type, size: attachment.blob.size });
        await uploadFile(form, attachment.blob);
        payload.media = [{ key: form.key }];
      }
      // One key per message written: a retry after a network error can never send it twice.
      const { data } = await api.post(`${path}/messages`, payload, { headers: { "Idempotency-Key": sendKey } });
      sendKey = newKey();
      attachment = null;
      fileInput.value = "";
      showAttachment();
      ctx.notify(data.status === "held" ? t("compose.done_held", { time: localTime(data.send_at, ctx.me.timezone) })
        : data.status === "failed" ? t("compose.done_failed") : t("compose.done_sent"), data.status === "failed" ? "error" : "info");
      overrideBox.checked = false;
      reason.value = "";
      await refresh();
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error.textContent = err.message;  // the API's own words
      return false;
    }
  }

  const newKey = () => "console-" + crypto.randomUUID();
  let sendKey = newKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!textbox.value.trim() && !attachment) {
      error.textContent = t("compose.empty");
      textbox.focus();
      return;
    }
    send.disabled = true;
    if (await post(textbox.value)) textbox.value = "";
    send.disabled = false;
    showPlan();
  });
  holding.addEventListener("click", () => post(preview.holding_reply.body, { holding: true }));

  async function cancelHeld(msg) {
    try {
      await api.del(`${path}/messages/${encodeURIComponent(msg.id)}`);
      ctx.notify(t("compose.cancelled"));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.notify(err.message, "error");
    }
    await refresh();
  }

  // --- thread and polling -----------------------------------------------------------------------
  let signature = "";
  async function refresh() {
    const [messages, compose] = await Promise.all([
      api.get(`${path}/messages`, { signal: ctx.signal }),
      !writes ? null : api.get(`${path}/compose`, { signal: ctx.signal, query: { lang: document.documentElement.lang } }),
    ]);
    if (compose) { preview = compose; showPlan(); }
    const next = JSON.stringify(messages.messages.map((m) => [m.id, m.status, m.error_code, (m.media || []).map((x) => x.url ? 1 : 0)]));
    if (next === signature) return;
    signature = next;
    const atBottom = region.scrollHeight - region.scrollTop - region.clientHeight < 40;
    clear(thread);
    for (const msg of messages.messages) thread.append(bubble(msg, ctx, client, cancelHeld));
    if (atBottom || !thread.dataset.drawn) region.scrollTop = region.scrollHeight;
    thread.dataset.drawn = "1";
  }

  await refresh();
  let timer;
  const poll = async () => {
    try {
      await refresh();
    } catch (err) {
      if (err.name === "AbortError") return;
      ctx.notify(err.message, "error");
    }
    if (!ctx.signal.aborted) timer = setTimeout(poll, POLL_MS);
  };
  timer = setTimeout(poll, POLL_MS);
  ctx.signal.addEventListener("abort", () => clearTimeout(timer));
}
