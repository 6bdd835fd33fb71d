// The notification centre (SPEC §4.4, §4.6): a list named `Notifications`, newest first, each item a
// link to its client's conversation (or, for a breach or an override, to the review), showing names,
// never ids, and the time in the agency's zone. Opening one marks it read; "Mark all read" marks
// them all. Data: GET /notifications; PUT /notifications/{id} {"read": true}; POST /notifications/read.

import { api, ApiError } from "../api.js";
import { clear, clientText, h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";
import { plural, redrawControl } from "../notifications.js";
import { canOpen } from "../roles.js";

const LIMIT = 100;

// Where a notification leads: the review of that day, the client's conversation, or the inbox.
function target(note, me) {
  if (note.to_review && canOpen(me.role, "reviews")) {
    const day = (note.at || "").slice(0, 10);
    return `/reviews?from=${day}&to=${day}`;
  }
  if (note.client_id && note.client_name) return `/clients/${encodeURIComponent(note.client_id)}`;
  return "/inbox";
}

// What it says, in the console's words: the type, and the names it is about.
function headline(note) {
  const client = note.client_name || (note.client_id ? t("notif.erased_client") : "");
  const staff = note.staff_name || note.staff_id || "";
  const key = "notif.type." + note.type;
  const text = t(key, { client, staff });
  return text === key ? t("notif.type.other", { client }) : text;
}

function item(note, ctx, open) {
  const id = note.id;
  const href = "#" + target(note, ctx.me);
  const link = h("a", { href, class: "notif-row" },
    h("span", { class: "notif-head" },
      note.read ? null : h("span", { class: "tag unread" }, t("notif.unread")),
      note.type === "crisis" ? h("span", { class: "tag crisis" }, t("crisis.word")) : null,
      clientText("span", headline(note), { class: "notif-text" })),
    h("time", { class: "meta", datetime: note.at }, localTime(note.at, ctx.me.timezone)));
  link.addEventListener("click", (event) => {
    event.preventDefault();
    open(note, href.slice(1));
  });
  return h("li", { class: note.read ? "read" : "unread", dataset: { id } }, link);
}

export async function render(view, ctx) {
  const summary = h("p", { class: "count", "aria-live": "polite" });
  const markAll = h("button", { type: "button" }, t("notif.mark_all"));
  const list = h("ul", { class: "notifications", "aria-label": t("notif.title") });
  view.append(h("h1", {}, t("notif.title")), h("p", { class: "notif-actions" }, markAll), summary, list);

  async function draw() {
    const data = await api.get("/notifications", { query: { limit: String(LIMIT) }, signal: ctx.signal });
    clear(list);
    for (const note of data.notifications) list.append(item(note, ctx, open));
    summary.textContent = data.notifications.length
      ? plural("notif.summary", data.unread) : t("notif.none");
    markAll.disabled = !data.unread;
    redrawControl(data);
  }

  // Opening one marks it read first (the count drops at once), then goes where it links.
  async function open(note, path) {
    try {
      if (!note.read) await api.put(`/notifications/${encodeURIComponent(note.id)}`, { read: true });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.notify(err.message, "error");
    }
    ctx.navigate(path);
  }

  markAll.addEventListener("click", async () => {
    try {
      await api.post("/notifications/read");
      ctx.notify(t("notif.all_read"));
      await draw();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.notify(err.message, "error");
    }
  });

  await draw();
  window.addEventListener("cmdm:changed", () => draw().catch(() => {}), { signal: ctx.signal });
}
