// Usage for funders (issue 15): the usage report of a period, month by month, laid out as the
// DMSI toolkit's Table 7 with its labels (the API's own `layout=table7` CSV, shown as a table),
// and the same CSV as a download. The toolkit's labels are English: in another language each
// row shows its own label with the toolkit's beside it (issue 22), and the months by name.

import { api } from "../api.js";
import { h } from "../dom.js";
import { dayRange } from "../format.js";
import { has, language, locale, t } from "../i18n.js";
import { downloadCsv, pageHref, pageQuery, parseCsv, periodForm, periodReport, subnav, thisMonth } from "../supervision.js";

const RANGE = /^(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})$/;

// A column of the sheet: "2027-03-01 to 2027-03-31" as a period in words.
function columnName(cell, index, last) {
  const found = RANGE.exec(cell) || RANGE.exec(cell.replace(/^Total /, ""));
  if (!found) return cell;
  const range = dayRange(found[1], found[2]);
  return index === last ? t("usage.total", { period: range }) : range;
}

// A statistic's row heading: the toolkit's label, and this language's beside it.
function rowName(label, statistic) {
  const key = "table7." + statistic;
  if (language() === "en" || !has(key)) return h("th", { scope: "row", lang: "en" }, label);
  return h("th", { scope: "row" }, t(key), " ", h("span", { class: "toolkit", lang: "en" }, label));
}

export async function render(view, ctx) {
  const query = pageQuery();
  const period = periodForm({ from: query.from, to: query.to, onChange: (p) => ctx.navigate(pageHref("usage", p).slice(1)) });
  view.append(h("h1", {}, t("sup.usage")), subnav("usage", ctx.me), period.form);
  const chosen = query.from && query.to ? { from: query.from, to: query.to } : await thisMonth(ctx.signal);
  period.fill(chosen);
  const params = { ...chosen, period: "month", layout: "table7" };
  const answer = await periodReport(period, () => api.csv("/reports/usage", { query: params, signal: ctx.signal }));
  if (!answer) return;
  // The sheet: the periods' row, the toolkit's "Usage" row (layout only, left out here), the statistics.
  const [header, , ...rows] = parseCsv(answer.text).filter((r) => r.length > 1);
  const last = header.length - 1;
  const months = header.slice(2).map((cell, i) => columnName(cell, i + 2, last));
  const number = new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 });
  const table = h("table", { class: "table7", "aria-label": t("usage.table") },
    h("caption", {}, t("usage.caption")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("usage.period")), months.map((m) => h("th", { scope: "col" }, m)))),
    h("tbody", {}, rows.map((row) => h("tr", { dataset: { statistic: row[1] } }, rowName(row[0], row[1]),
      row.slice(2).map((c) => h("td", {}, c === "" ? "—" : number.format(Number(c))))))));
  const download = h("button", { type: "button", class: "primary" }, t("usage.download"));
  download.addEventListener("click", async () => {
    try {
      await downloadCsv("/reports/usage", params, "usage.csv");
    } catch (err) {
      ctx.notify(err.message, "error");
    }
  });
  view.append(
    h("p", {}, t("usage.intro")),
    h("div", { class: "scroll" }, table),
    h("p", {}, download));
}
