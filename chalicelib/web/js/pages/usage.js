// Usage for funders (issue 15): the usage report of a period, month by month, laid out as the
// DMSI toolkit's Table 7 with its labels (the API's own `layout=table7` CSV, shown as a table),
// and the same CSV as a download.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { downloadCsv, pageHref, pageQuery, parseCsv, periodForm, subnav, thisMonth } from "../supervision.js";

export async function render(view, ctx) {
  const query = pageQuery();
  view.append(h("h1", {}, t("sup.usage")), subnav("usage", ctx.me));
  const period = query.from && query.to ? { from: query.from, to: query.to } : await thisMonth(ctx.signal);
  const params = { ...period, period: "month", layout: "table7" };
  const { text } = await api.csv("/reports/usage", { query: params, signal: ctx.signal });
  const [header, ...rows] = parseCsv(text).filter((r) => r.length > 1);
  const table = h("table", { class: "table7", "aria-label": t("usage.table") },
    h("caption", {}, t("usage.caption")),
    h("thead", {}, h("tr", {}, header.map((cell) => h("th", { scope: "col" }, cell)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, h("th", { scope: "row" }, row[0]), row.slice(1).map((c) => h("td", {}, c))))));
  const download = h("button", { type: "button", class: "primary" }, t("usage.download"));
  download.addEventListener("click", async () => {
    try {
      await downloadCsv("/reports/usage", params, "usage.csv");
    } catch (err) {
      ctx.notify(err.message, "error");
    }
  });
  view.append(
    periodForm({ ...period,
      onChange: (p) => ctx.navigate(pageHref("usage", p).slice(1)) }),
    h("p", {}, t("usage.intro")),
    h("div", { class: "scroll" }, table),
    h("p", {}, download));
}
