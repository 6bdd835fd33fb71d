// The inquiries behind a dashboard figure (issue 15): GET /inquiries with the period and the
// filters the figure's link carries (worker, on time, breached, answered).

import { api } from "../api.js";
import { h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";
import { pageQuery, subnav } from "../supervision.js";

export async function render(view, ctx) {
  const query = pageQuery();
  view.append(h("h1", {}, t("inq.title")), subnav("compliance", ctx.me));
  const data = await api.get("/inquiries", { query, signal: ctx.signal });
  const zone = ctx.me.timezone;
  const filters = [query.staff_id && t("inq.of", { who: query.staff_id }), query.on_time === "true" && t("dash.on_time"),
    query.breached === "true" && t("dash.breached"), query.status && t("status." + query.status)].filter(Boolean);
  view.append(
    h("p", { class: "count" }, t("inq.count", { n: data.inquiries.length, from: query.from, to: query.to }),
      filters.length ? ` (${filters.join(", ")})` : ""),
    h("div", { class: "scroll" }, h("table", { class: "audit", "aria-label": t("inq.title") },
      h("thead", {}, h("tr", {}, ["client", "worker", "opened", "due", "state", "answered"].map((c) => h("th", { scope: "col" }, t("inq.c_" + c))))),
      h("tbody", {}, data.inquiries.map((i) => h("tr", {},
        h("td", {}, h("a", { href: `#/clients/${encodeURIComponent(i.client_id)}` }, i.client_id)),
        h("td", {}, i.staff_id), h("td", {}, localTime(i.opened_at, zone)), h("td", {}, localTime(i.due_at, zone)),
        h("td", {}, t("status." + i.status) + (i.answered_late ? ` (${t("inq.late")})` : "")),
        h("td", {}, localTime(i.answered_at, zone))))))));
}
