// The Inbox (SPEC §4.6): a list named `Inbox`, one item per client waiting for an answer,
// soonest due first, each item named with the client's name. Data: GET /inbox, whose clocks the
// server computed. Fetched again when the server pushes a change of a file's messages or inbox
// state (live.js), or every 60 s while the push channel is down; keyboard focus stays in place.

import { api } from "../api.js";
import { clear, clientText, h } from "../dom.js";
import { channelName, clockText, languageName, localTime } from "../format.js";
import { t } from "../i18n.js";
import { follow } from "../live.js";
import { hasCaseload } from "../roles.js";
import { rememberWorklist } from "../shortcuts.js";
import { refreshCounts } from "../notifications.js";

const INBOX_CHANGES = new Set(["inbox", "messages", "file"]);

function item(entry, me) {
  const id = entry.client_id;
  const details = [channelName(entry.channel), languageName(entry.language)];
  if (entry.covering) details.push(t("inbox.covering", { name: entry.case_manager_name }));
  else if (!hasCaseload(me.role)) details.push(entry.case_manager_name);  // not one's own caseload
  if (entry.opted_out) details.push(t("inbox.opted_out"));
  // A client in crisis is listed first (the API's order) and says so (SPEC §4.6, §5.9).
  const crisis = entry.crisis ? h("span", { class: "tag crisis", id: `in-crisis-${id}` }, t("crisis.word")) : null;
  const named = [crisis ? `in-crisis-${id}` : null, `in-name-${id}`, `in-clock-${id}`].filter(Boolean).join(" ");
  return h("li", { class: [entry.overdue ? "overdue" : null, crisis ? "crisis" : null].filter(Boolean).join(" ") || null,
    "aria-labelledby": named, dataset: { clientId: id } },
    h("a", { href: `#/clients/${encodeURIComponent(id)}`, class: "inbox-row", dataset: { clientId: id } },
      h("span", { class: "inbox-head" },
        h("span", {}, crisis, crisis ? " " : null,
          clientText("span", entry.name, { class: "name", id: `in-name-${id}`, lang: entry.language })),
        h("span", { class: "clock", id: `in-clock-${id}` }, clockText(entry))),
      h("span", { class: "meta" }, details.join(" · ")),
      entry.last_message === null || entry.last_message === undefined
        ? null
        : clientText("span", entry.last_message || t("inbox.media_only"), { class: "preview", lang: entry.language }),
      h("span", { class: "due" }, t("inbox.due", { time: localTime(entry.due_at, me.timezone) }))));
}

export async function render(view, ctx) {
  const count = h("p", { class: "count", "aria-live": "polite" });
  // data-worklist: `j`/`k` move between its items, and between the conversations opened from it.
  const list = h("ul", { class: "inbox", "aria-label": t("nav.inbox"), dataset: { worklist: "inbox" } });
  view.append(h("h1", {}, t("nav.inbox")), count, list);

  async function refresh() {
    const data = await api.get("/inbox", { signal: ctx.signal });
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.closest("li")?.dataset.clientId : null;
    clear(list);
    for (const entry of data.items) list.append(item(entry, ctx.me));
    rememberWorklist(data.items.map((entry) => entry.client_id));
    count.textContent = data.items.length ? t("inbox.count", { n: data.items.length }) : t("inbox.empty");
    if (focused) list.querySelector(`li[data-client-id="${CSS.escape(focused)}"] a`)?.focus();
    refreshCounts();  // the Notifications control follows what the inbox shows
  }

  await refresh();
  follow(ctx, {
    matters: (event) => event.type === "client_changed" && (event.what || []).some((w) => INBOX_CHANGES.has(w)),
    refresh,
  });
}
