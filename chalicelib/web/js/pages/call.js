// Calls from the work number (SPEC §5.10): the conversation's `Call` button and how a call reads in
// the thread. Before calling, the panel says what will happen: the worker's own phone rings first,
// then the client, who sees only the work number; while the agency is closed (from GET
// /clients/{id}/compose, the server's business-time rules) a call needs a reason, in a labelled field.

import { api, ApiError } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

// "1:05" for 65 seconds.
function minutes(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// One call of the thread: which way, how it ended, how long (a voicemail is its media's player).
export function callSummary(msg) {
  const key = "call.status." + msg.status;
  const status = t(key) === key ? msg.status : t(key);
  const parts = [t(msg.direction === "inbound" ? "call.in" : "call.out"), status];
  if (msg.duration_seconds) parts.push(minutes(msg.duration_seconds));
  if ((msg.media || []).length) parts.push(t("call.voicemail"));
  return h("p", { class: "msg-call" }, parts.join(" · "));
}

// The panel: what will happen, the reason field while closed, the `Call` button.
export function callPanel(ctx, path, refresh) {
  const plan = h("p", { id: "call-plan", class: "plan", "aria-live": "polite" });
  const reason = h("input", { type: "text", id: "call-reason", maxlength: 500, "aria-required": "true" });
  const reasonRow = h("p", { class: "reason", hidden: true }, h("label", { for: "call-reason" }, t("call.reason")), reason);
  const button = h("button", { type: "button", "aria-describedby": "call-plan" }, t("call.button"));
  // Out of the page until there is something to say: the composer's alert stays the only one shown.
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const say = (text) => { error.textContent = text; error.hidden = !text; };
  const panel = h("section", { class: "call-panel card", "aria-labelledby": "call-title" },
    h("h2", { id: "call-title" }, t("call.title")), plan, reasonRow, h("p", { class: "actions" }, button), error);
  let preview = null;

  function show() {
    if (!preview) return;
    const closed = !preview.open_now;
    reasonRow.hidden = !closed || !preview.can_send;
    button.disabled = !preview.can_send;
    plan.textContent = !preview.can_send ? preview.refusal
      : closed ? t("call.plan_closed") + " " + t("call.plan") : t("call.plan");
  }

  button.addEventListener("click", async () => {
    say("");
    const body = {};
    if (preview && !preview.open_now) {
      if (!reason.value.trim()) {
        say(t("call.reason_needed"));
        reason.focus();
        return;
      }
      body.override_reason = reason.value.trim();
    }
    button.disabled = true;
    try {
      const { data } = await api.post(`${path}/calls`, body);
      ctx.notify(data.error_code ? t("call.failed") : t("call.placed"));
      reason.value = "";
      await refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      say(err.message);
    } finally {
      show();
    }
  });
  return { panel, setPreview: (next) => { preview = next; show(); } };
}
