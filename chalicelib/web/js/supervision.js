// What the supervisor's and administrator's pages share (issue 15): the query part of the page's
// address ("#/audit?staff_id=amal"), the period form, links from API calls to console pages, the
// in-page navigation (its links from the role map) and CSV downloads (fetched through api.js).
// Nothing here decides a figure: every number comes from the API.

import { api, ApiError } from "./api.js";
import { field, formErrors, h } from "./dom.js";
import { t } from "./i18n.js";
import { supervisionNav } from "./roles.js";

// The query of the current page: "#/audit?type=x" -> {type: "x"}.
export function pageQuery() {
  const hash = location.hash.replace(/^#/, "");
  const at = hash.indexOf("?");
  return Object.fromEntries(new URLSearchParams(at < 0 ? "" : hash.slice(at + 1)));
}

export function pageHref(page, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = search.toString();
  return `#/${page}${text ? "?" + text : ""}`;
}

// An API link of the dashboard ({path, query}) as the console page that shows the same list.
export function consoleHref(link) {
  const page = link.path === "/inquiries" ? "inquiries" : "audit";
  return pageHref(page, link.query);
}

// The period form: two date fields and a button; calls onChange({from, to}) when submitted.
// A To before From is refused next to To, and so is any period the API refuses (refuse(err)):
// the form stays, with what was typed. Returns {form, refuse, fill}.
export function periodForm({ from, to, onChange, idPrefix = "period" }) {
  const start = h("input", { type: "date", id: `${idPrefix}-from`, name: "from", value: from || "", required: true });
  const end = h("input", { type: "date", id: `${idPrefix}-to`, name: "to", value: to || "", required: true });
  const form = h("form", { class: "period", "aria-label": t("sup.period"), novalidate: true },
    field(t("sup.from"), start),
    field(t("sup.to"), end),
    h("button", { type: "submit", class: "primary" }, t("sup.show")));
  const errors = formErrors(form, { from: start, to: end });
  // Both dates, To not before From; or neither (the API's default, this month). Says why if not.
  function check(emptyIsFine) {
    errors.clear();
    if (emptyIsFine && !start.value && !end.value) return true;
    if (!start.value) return errors.field(start, t("form.date_needed")), false;
    if (!end.value) return errors.field(end, t("form.date_needed")), false;
    if (end.value < start.value) return errors.field(end, t("form.end_before_start")), false;
    return true;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (check(false)) onChange({ from: start.value, to: end.value });
  });
  return {
    form,
    check: () => check(true),
    refuse: (err) => errors.api(err),
    fill(period) {
      if (!start.value) start.value = period.from || "";
      if (!end.value) end.value = period.to || "";
    },
  };
}

// A report for the period: the API's answer, or null when the API refused the period (a date
// that is not one, a To before From, too long a period), said next to the field in `period`.
export async function periodReport(period, call) {
  if (period.check && !period.check()) return null;  // the address asked for no period the API would take
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && ["from", "to"].includes(err.field)) {
      period.refuse(err);
      return null;
    }
    throw err;
  }
}

// Staff names by id (GET /staff, which supervisors and administrators may read).
export async function staffNames(signal) {
  const { staff } = await api.get("/staff", { signal });
  return Object.fromEntries(staff.map((s) => [s.staff_id, s.name || s.staff_id]));
}

// The in-page navigation between the supervision pages: the links the role map gives the
// signed-in role. `current` is the page's path without its "/" ("setup/staff").
export function subnav(current, me) {
  return h("nav", { class: "subnav", "aria-label": t("sup.pages") },
    h("ul", {}, supervisionNav(me.role).map((item) => h("li", {},
      h("a", { href: "#" + item.path, "aria-current": item.path === "/" + current ? "page" : null }, t(item.label))))));
}

function filename(headers, fallback) {
  const found = /filename="([^"]+)"/.exec(headers.get("Content-Disposition") || "");
  return found ? found[1] : fallback;
}

// GET a report as CSV (api.js: the token, the error shape, sign-out on 401) and hand it to the
// browser as a file download.
export async function downloadCsv(path, query, fallbackName) {
  const { text, headers } = await api.csv(path, { query });
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })),
    download: filename(headers, fallbackName), hidden: true });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}

// A tiny CSV reader for the server's own CSV (RFC 4180 quoting), to show Table 7 as a table.
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)} %`;
}

// This month to date in the agency's zone, as the server reckons it (its clock, not the browser's).
export async function thisMonth(signal) {
  const policy = await api.get("/policy", { signal });
  const today = policy.now.slice(0, 10);
  return { from: today.slice(0, 8) + "01", to: today };
}
