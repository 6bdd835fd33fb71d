// The inquiries behind a dashboard figure (issue 15): GET /inquiries with the period and the
// filters the figure's link carries (worker, on time, breached, answered). Opened from its
// address alone, it shows this month (the API's default period). Clients and workers by name.

import { api } from "../api.js";
import { h } from "../dom.js";
import { localTime } from "../format.js";
import { has, list, t } from "../i18n.js";
import { pageHref, pageQuery, periodForm, periodReport, subnav, thisMonth } from "../supervision.js";

export async function render(view, ctx) {
  const query = pageQuery();
  const period = periodForm({ from: query.from, to: query.to,
    onChange: (p) => ctx.navigate(pageHref("inquiries", { ...query, ...p }).slice(1)) });
  view.append(h("h1", {}, t("inq.title")), subnav("compliance", ctx.me), period.form);
  const chosen = query.from && query.to ? { from: query.from, to: query.to } : await thisMonth(ctx.signal);
  period.fill(chosen);
  const data = await periodReport(period, () => api.get("/inquiries", { query: { ...query, ...chosen }, signal: ctx.signal }));
  if (!data) return;
  const zone = ctx.me.timezone;
  const worker = query.staff_id && (data.inquiries.find((i) => i.staff_id === query.staff_id)?.staff_name || query.staff_id);
  const filters = [worker && t("inq.of", { who: worker }), query.on_time === "true" && t("dash.on_time"),
    query.breached === "true" && t("dash.breached"), query.status && has("status." + query.status) && t("status." + query.status)]
    .filter(Boolean);
  view.append(
    h("p", { class: "count" }, t("inq.count", { n: data.inquiries.length, from: chosen.from, to: chosen.to }),
      filters.length ? ` (${list(filters)})` : ""),
    h("div", { class: "scroll" }, h("table", { class: "audit", "aria-label": t("inq.title") },
      h("thead", {}, h("tr", {}, ["client", "worker", "opened", "due", "state", "answered"].map((c) => h("th", { scope: "col" }, t("inq.c_" + c))))),
      h("tbody", {}, data.inquiries.map((i) => h("tr", {},
        h("td", {}, h("a", { href: `#/clients/${encodeURIComponent(i.client_id)}`, dir: "auto" }, i.client_name || t("audit.unnamed_file"))),
        h("td", {}, i.staff_name || i.staff_id), h("td", {}, localTime(i.opened_at, zone)), h("td", {}, localTime(i.due_at, zone)),
        h("td", {}, (has("status." + i.status) ? t("status." + i.status) : i.status.replace(/_/g, " "))
          + (i.answered_late ? ` (${t("inq.late")})` : "")),
        h("td", {}, localTime(i.answered_at, zone))))))));
}
