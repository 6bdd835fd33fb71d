// The Compliance page (issue 15, SPEC §4.6): for a period (default: this month), the table named
// `Compliance by worker`, one row per worker, and three charts drawn from the same answer of
// GET /reports/dashboard: on-time rate per worker, breaches per week, and client messages by
// hour of the week against the opening hours. Every figure links to the list behind it.

import { api } from "../api.js";
import { h } from "../dom.js";
import { locale, t } from "../i18n.js";
import { consoleHref, pageHref, pageQuery, percent, periodForm, periodReport, subnav } from "../supervision.js";

const COLUMNS = [
  ["inquiries", "dash.inquiries"],
  ["answered_on_time", "dash.on_time"],
  ["on_time_rate", "dash.on_time_rate"],
  ["breached", "dash.breached"],
  ["first_response_p50_business_minutes", "dash.p50"],
  ["first_response_p90_business_minutes", "dash.p90"],
  ["held_after_hours", "dash.held"],
  ["overrides", "dash.overrides"],
  ["auto_replies", "dash.auto_replies"],
  ["holding_replies", "dash.holding"],
  ["opted_out", "dash.opted_out"],
];

function value(row, key) {
  if (key === "overrides") return row.overrides.length;
  if (key === "on_time_rate") return percent(row.on_time_rate);
  const v = row[key];
  return v === null || v === undefined ? "—" : v;
}

function cell(row, key) {
  const text = String(value(row, key));
  const link = row.links && row.links[key === "on_time_rate" ? "answered_on_time" : key];
  if (!link || text === "—") return h("td", {}, text);
  return h("td", {}, h("a", { href: consoleHref(link), "aria-label": `${text}: ${t("dash.list_of", { what: t(labelOf(key)), who: row.name || t("dash.all") })}` }, text));
}

function labelOf(key) {
  return COLUMNS.find(([k]) => k === key)[1];
}

function table(body) {
  return h("div", { class: "scroll" },
    h("table", { class: "figures", id: "compliance-table" },
      h("caption", {}, t("dash.caption")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("dash.worker")),
        COLUMNS.map(([, label]) => h("th", { scope: "col" }, t(label))))),
      h("tbody", {}, body.workers.map((w) => h("tr", { dataset: { staffId: w.staff_id } },
        h("th", { scope: "row" }, w.name), COLUMNS.map(([key]) => cell(w, key)))))));
}

function totals(body) {
  const x = body.totals;
  return h("p", { class: "totals" }, t("dash.totals", {
    inquiries: t("n.inquiries", { n: x.inquiries }), on_time: t("n.answered_on_time", { n: x.answered_on_time }),
    rate: percent(x.on_time_rate), breached: t("n.breached", { n: x.breached }),
    overrides: t("n.overrides", { n: x.overrides.length }), held: t("n.held_after_hours", { n: x.held_after_hours }),
  }));
}

// Sizes go through the CSSOM: the console's Content-Security-Policy refuses inline style attributes.
function sized(cls, property, pct) {
  const el = h("span", { class: cls });
  el.style[property] = `${pct}%`;
  return el;
}

function onTimeChart(body) {
  return h("figure", { class: "chart" },
    h("figcaption", {}, t("dash.chart_on_time")),
    h("ul", { class: "bars" }, body.workers.map((w) => {
      const pct = w.on_time_rate === null ? 0 : Math.round(w.on_time_rate * 100);
      return h("li", {},
        h("span", { class: "bar-label" }, w.name),
        h("span", { class: "bar-track", "aria-hidden": "true" }, sized("bar", "width", pct)),
        h("a", { class: "bar-value", href: consoleHref(w.links.answered_on_time) },
          w.on_time_rate === null ? t("dash.no_inquiries") : t("dash.rate_of", { rate: percent(w.on_time_rate), on_time: w.answered_on_time, n: w.inquiries })));
    })));
}

function weeksChart(body) {
  const max = Math.max(1, ...body.breaches_by_week.map((w) => w.breaches));
  const fmt = new Intl.DateTimeFormat(locale(), { month: "short", day: "numeric", timeZone: "UTC" });
  return h("figure", { class: "chart" },
    h("figcaption", {}, t("dash.chart_breaches")),
    h("ol", { class: "columns" }, body.breaches_by_week.map((w) => {
      const label = t("dash.week_of", { from: fmt.format(new Date(w.from + "T00:00:00Z")), to: fmt.format(new Date(w.to + "T00:00:00Z")) });
      return h("li", {},
        h("a", { href: consoleHref(w.link), "aria-label": t("dash.breaches_in", { n: w.breaches, week: label }) },
          h("span", { class: "col-value" }, String(w.breaches)),
          h("span", { class: "col-track", "aria-hidden": "true" },
            sized("col", "height", Math.round((w.breaches / max) * 100))),
          h("span", { class: "col-label" }, label)));
    })));
}

function weekdayNames() {
  const fmt = new Intl.DateTimeFormat(locale(), { weekday: "short", timeZone: "UTC" });
  return [0, 1, 2, 3, 4, 5, 6].map((i) => fmt.format(new Date(Date.UTC(2024, 0, 1 + i))));  // 1 Jan 2024 was a Monday
}

function pressureChart(body) {
  const p = body.after_hours;
  const max = Math.max(1, ...p.cells.map((c) => c.messages));
  const days = weekdayNames();
  const level = (n) => (n === 0 ? 0 : Math.min(4, 1 + Math.floor((n / max) * 3.999)));
  const head = h("tr", {}, h("th", { scope: "col" }, h("span", { class: "sr" }, t("dash.day"))),
    [...Array(24).keys()].map((hour) => h("th", { scope: "col" }, String(hour))));
  const rows = days.map((name, d) => h("tr", {}, h("th", { scope: "row" }, name),
    p.cells.filter((c) => c.weekday === d).map((c) => h("td", {
      class: `l${level(c.messages)}${c.open_minutes ? " open" : ""}`,
      title: t("dash.cell", { day: name, hour: c.hour, n: c.messages, closed: c.after_hours }),
    }, c.messages ? String(c.messages) : ""))));
  const grid = h("table", { class: "heat", "aria-label": t("dash.chart_pressure") }, h("thead", {}, head), h("tbody", {}, rows));
  const legend = h("p", { class: "legend" }, h("span", { class: "key open" }), " ", t("dash.legend_open"), " · ",
    h("span", { class: "key l4" }), " ", t("dash.legend_busy"));
  return h("figure", { class: "chart" },
    h("figcaption", {}, t("dash.chart_pressure")),
    h("p", {}, h("a", { href: consoleHref(p.link) }, t("dash.pressure_summary", { n: p.messages, closed: p.after_hours }))),
    h("div", { class: "scroll" }, grid),
    legend);
}

export async function render(view, ctx) {
  const query = pageQuery();
  const period = periodForm({ from: query.from, to: query.to, onChange: (p) => ctx.navigate(pageHref("compliance", p).slice(1)) });
  view.append(h("h1", {}, t("nav.compliance")), subnav("compliance", ctx.me), period.form);
  const body = await periodReport(period, () =>
    api.get("/reports/dashboard", { query: { from: query.from, to: query.to }, signal: ctx.signal }));
  if (!body) return;
  period.fill(body);
  view.append(
    h("p", { class: "period-shown" }, t("dash.period", { from: body.from, to: body.to, zone: body.timezone })),
    table(body),
    totals(body),
    h("div", { class: "charts" }, onTimeChart(body), weeksChart(body), pressureChart(body)),
  );
}
