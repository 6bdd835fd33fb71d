// Audit search (issue 15): the audit trail by period, staff member, client or event type, a page
// at a time (the API's cursor), and the same selection as a CSV download.

import { api } from "../api.js";
import { field, h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";
import { downloadCsv, pageHref, pageQuery, subnav, thisMonth } from "../supervision.js";

const PAGE = 50;
const FIELDS = [["from", "date"], ["to", "date"], ["staff_id", "text"], ["client_id", "text"], ["type", "text"]];

function summary(details) {
  return Object.entries(details || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
}

export async function render(view, ctx) {
  const query = pageQuery();
  view.append(h("h1", {}, t("sup.audit")), subnav("audit", ctx.me));
  const inputs = {};
  const form = h("form", { class: "search", "aria-label": t("audit.search") },
    FIELDS.map(([name, type]) => {
      inputs[name] = h("input", { type, id: `audit-${name}`, name, value: query[name] || "" });
      return field(t("audit.f_" + name), inputs[name]);
    }),
    h("button", { type: "submit", class: "primary" }, t("audit.find")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    ctx.navigate(pageHref("audit", { ...next, holding: query.holding }).slice(1));
  });
  const period = query.from && query.to ? { from: query.from, to: query.to } : await thisMonth(ctx.signal);
  const params = { ...period, staff_id: query.staff_id, client_id: query.client_id,
    type: query.type, holding: query.holding };
  const data = await api.get("/audit", { query: { ...params, limit: PAGE, after: query.after }, signal: ctx.signal });
  if (!inputs.from.value) inputs.from.value = data.from;
  if (!inputs.to.value) inputs.to.value = data.to;
  const zone = ctx.me.timezone;
  const table = h("table", { class: "audit", "aria-label": t("audit.events") },
    h("thead", {}, h("tr", {}, ["at", "type", "actor", "staff", "client", "details"].map((c) => h("th", { scope: "col" }, t("audit.c_" + c))))),
    h("tbody", {}, data.events.map((e) => h("tr", {},
      h("td", {}, localTime(e.at, zone)), h("td", {}, e.type), h("td", {}, e.actor), h("td", {}, e.staff_id || ""),
      h("td", {}, e.client_id ? h("a", { href: `#/clients/${encodeURIComponent(e.client_id)}` }, e.client_id) : ""),
      h("td", { dir: "auto", class: "details" }, summary(e.details))))));
  const download = h("button", { type: "button" }, t("audit.download"));
  download.addEventListener("click", async () => {
    try {
      await downloadCsv("/audit", { ...params, from: data.from, to: data.to, limit: 5000 }, "audit.csv");
    } catch (err) {
      ctx.notify(err.message, "error");
    }
  });
  view.append(form,
    h("p", { class: "count" }, t("audit.count", { n: data.events.length, from: data.from, to: data.to })),
    h("div", { class: "scroll" }, table),
    h("p", { class: "pager" },
      query.after ? h("a", { href: pageHref("audit", { ...params }) }, t("audit.first")) : null, " ",
      data.next ? h("a", { href: pageHref("audit", { ...params, from: data.from, to: data.to, after: data.next }) }, t("audit.next")) : null,
      " ", download));
}
