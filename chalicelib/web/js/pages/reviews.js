// Overrides and breaches to review (issue 15): every override with its reason, who, when and the
// message sent; every breach with its file. A supervisor (or an administrator) marks each one
// reviewed, once, with an optional note; the API records it in the audit trail.

import { api, ApiError } from "../api.js";
import { clear, clientText, formErrors, h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";
import { pageHref, pageQuery, periodForm, periodReport, subnav } from "../supervision.js";
import { refreshCounts } from "../notifications.js";

function item(entry, ctx, refresh) {
  const zone = ctx.me.timezone;
  const who = entry.staff_name || entry.staff_id;
  const title = entry.kind === "override"
    ? t("rev.override_by", { who, when: localTime(entry.at, zone) })
    : t("rev.breach_of", { who, when: localTime(entry.at, zone) });
  const file = entry.client_id
    ? h("a", { href: `#/clients/${encodeURIComponent(entry.client_id)}` }, entry.client_name || t("rev.the_file"))
    : null;
  const details = entry.kind === "override"
    ? [h("dt", {}, t("rev.reason")), clientText("dd", entry.reason),
       h("dt", {}, t("rev.message")), clientText("dd", entry.message ?? t("rev.erased"))]
    : [h("dt", {}, t("rev.due")), h("dd", {}, localTime(entry.due_at, zone)),
       h("dt", {}, t("rev.state")), h("dd", {}, entry.inquiry_status ? t("status." + entry.inquiry_status) : "—")];
  const li = h("li", { class: `review ${entry.kind}${entry.reviewed ? " done" : ""}`, "aria-labelledby": `rv-${entry.event_id}` },
    h("h2", { id: `rv-${entry.event_id}` }, title),
    h("dl", {}, h("dt", {}, t("rev.client")), h("dd", {}, file), ...details));
  if (entry.reviewed) {
    li.append(h("p", { class: "reviewed" }, t("rev.reviewed_by", { who: entry.reviewed_by_name || entry.reviewed_by,
      when: localTime(entry.reviewed_at, zone) })));
    return li;
  }
  const note = h("input", { type: "text", id: `note-${entry.event_id}`, maxlength: "500" });
  const form = h("form", { class: "inline" },
    h("label", { for: note.id }, t("rev.note")), note,
    h("button", { type: "submit", class: "primary" }, t("rev.mark")));
  const errors = formErrors(form, { note });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    try {
      await api.put(`/reviews/${encodeURIComponent(entry.id)}`, note.value.trim() ? { note: note.value.trim() } : {});
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.api(err);  // the note stays as typed
      return;
    }
    ctx.notify(t("rev.done"));
    refreshCounts();  // a review done settles its notification: the Reviews badge goes down
    await refresh();
  });
  li.append(form);
  return li;
}

export async function render(view, ctx) {
  const query = pageQuery();
  const show = query.show === "all" ? "all" : "open";
  view.append(h("h1", {}, t("sup.reviews")), subnav("reviews", ctx.me));
  const summary = h("p", { class: "count", "aria-live": "polite" });
  const list = h("ul", { class: "reviews", "aria-label": t("sup.reviews") });
  const filter = h("p", { class: "filters" },
    h("a", { href: pageHref("reviews", { ...query, show: "open" }), "aria-current": show === "open" ? "page" : null }, t("rev.to_review")), " · ",
    h("a", { href: pageHref("reviews", { ...query, show: "all" }), "aria-current": show === "all" ? "page" : null }, t("rev.all")));
  let chosen = { from: query.from, to: query.to };
  const period = periodForm({ from: query.from, to: query.to,
    onChange: (p) => ctx.navigate(pageHref("reviews", { ...p, show }).slice(1)) });
  view.append(period.form);

  async function refresh() {
    const data = await periodReport(period, () => api.get("/reviews", {
      query: { ...chosen, reviewed: show === "open" ? "false" : undefined }, signal: ctx.signal }));
    if (!data) return null;
    chosen = { from: data.from, to: data.to };
    period.fill(chosen);
    clear(list);
    for (const entry of data.items) list.append(item(entry, ctx, refresh));
    summary.textContent = data.items.length
      ? t("rev.count", { n: data.unreviewed, total: data.items.length, from: data.from, to: data.to })
      : t("rev.none", { from: data.from, to: data.to });
    return data;
  }

  if (await refresh()) view.append(filter, summary, list);
}
