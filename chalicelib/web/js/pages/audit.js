// Audit search (issue 15): the audit trail by period, staff member, client or event type, a page
// at a time (the API's cursor), and the same selection as a CSV download. Issue 22: every event
// type in words, people by name (the API's `staff_names` and `client_names`), the search form
// kept, with the reason next to its field, when the API refuses it.

import { api } from "../api.js";
import { field, formErrors, h } from "../dom.js";
import { languageName, localTime } from "../format.js";
import { has, list, t } from "../i18n.js";
import { downloadCsv, pageHref, pageQuery, periodReport, staffNames, subnav, thisMonth } from "../supervision.js";

const PAGE = 50;
// The event types a supervisor looks for, in the order of the menu (audit.js of the API has more).
const TYPES = ["boundary.override", "inquiry.breached", "inquiry.escalated", "inquiry.opened", "inquiry.answered",
  "inquiry.holding_reply", "inquiry.reopened", "inquiry.crisis_alerted", "staff_message.sent", "staff_message.held",
  "staff_message.released", "staff_message.cancelled", "staff_message.failed", "auto_reply.sent", "intake_reply.sent",
  "message.filed", "message.refused", "consent.given", "consent.withdrawn", "client.opted_out", "client.opted_in",
  "client.created", "client.status_changed", "client.warned", "client.exported", "client.erased", "followup.sent",
  "followup.skipped", "notice.sent", "survey.scored", "referral.recorded", "post.created", "review.recorded",
  "staff.updated", "staff.absence_recorded", "number.assigned", "number.reassigned", "number.registered",
  "number.released", "media.stored", "media.failed"];
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

// An event type in words; one the console does not know yet is written out from its name.
export function eventName(type) {
  const key = "event." + type;
  return has(key) ? t(key) : type.replace(/[._]/g, " ");
}

function actorName(actor, staff) {
  if (["system", "client", "operator"].includes(actor)) return t("audit.actor_" + actor);
  return staff[actor] || actor || "";
}

// A detail's value in words: yes/no, instants in the agency's time, people by name, roles,
// statuses, channels and languages in the page's language.
function detailValue(key, value, zone, staff) {
  if (value === true) return t("file.yes");
  if (value === false) return t("file.no");
  if (Array.isArray(value)) return list(value.map((v) => detailValue(key, v, zone, staff)));
  if (value && typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  if (ISO_INSTANT.test(text)) return localTime(text, zone);
  if (staff[text]) return staff[text];
  const word = { role: "role.", status: "file.status.", previous: "file.status.", channel: "channel.", channels: "channel.",
    kind: "kind.", template: "tpl." }[key];
  if (word && has(word + text)) return t(word + text);
  if (key === "language" || key === "languages") return languageName(text);
  return text;
}

// The event's details, each in words; nothing empty, and no internal ids (the row links the file).
function summary(details, zone, staff) {
  return Object.entries(details || {})
    .filter(([k, v]) => v !== null && v !== undefined && v !== "" && !(k.endsWith("_id") && k !== "cover_id"))
    .map(([k, v]) => t("audit.detail", { name: has("audit.d_" + k) ? t("audit.d_" + k) : k.replace(/_/g, " "),
      value: detailValue(k, v, zone, staff) }))
    .join(" · ");
}

function typeSelect(current) {
  const select = h("select", { id: "audit-type", name: "type" }, h("option", { value: "" }, t("audit.all_types")));
  const known = new Set(TYPES);
  if (current && !known.has(current)) {
    select.append(h("option", { value: current }, list(current.split(",").map(eventName))));
  }
  for (const type of TYPES) select.append(h("option", { value: type }, eventName(type)));
  select.value = current || "";
  return select;
}

export async function render(view, ctx) {
  const query = pageQuery();
  view.append(h("h1", {}, t("sup.audit")), subnav("audit", ctx.me));
  const staff = await staffNames(ctx.signal);
  const inputs = {
    from: h("input", { type: "date", id: "audit-from", name: "from", value: query.from || "" }),
    to: h("input", { type: "date", id: "audit-to", name: "to", value: query.to || "" }),
    staff_id: h("select", { id: "audit-staff_id", name: "staff_id" }, h("option", { value: "" }, t("audit.everyone")),
      Object.entries(staff).sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h("option", { value: id }, name))),
    client_id: h("input", { type: "text", id: "audit-client_id", name: "client_id", value: query.client_id || "", autocomplete: "off" }),
    type: typeSelect(query.type),
  };
  inputs.staff_id.value = query.staff_id || "";
  const form = h("form", { class: "search", role: "search", "aria-label": t("audit.search"), novalidate: true },
    Object.entries(inputs).map(([name, control]) => field(t("audit.f_" + name), control)),
    h("button", { type: "submit", class: "primary" }, t("audit.find")));
  const errors = formErrors(form, inputs);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.clear();
    if (inputs.from.value && inputs.to.value && inputs.to.value < inputs.from.value) {
      errors.field(inputs.to, t("form.end_before_start"));
      return;
    }
    const next = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    ctx.navigate(pageHref("audit", { ...next, holding: query.holding }).slice(1));
  });
  view.append(form);
  if (query.from && query.to && query.to < query.from) {  // as typed in the address: said, not asked
    errors.field(inputs.to, t("form.end_before_start"));
    return;
  }
  const period = query.from && query.to ? { from: query.from, to: query.to } : await thisMonth(ctx.signal);
  const params = { ...period, staff_id: query.staff_id, client_id: query.client_id,
    type: query.type, holding: query.holding };
  const data = await periodReport({ refuse: (err) => errors.api(err) },
    () => api.get("/audit", { query: { ...params, limit: PAGE, after: query.after }, signal: ctx.signal }));
  if (!data) return;
  if (!inputs.from.value) inputs.from.value = data.from;
  if (!inputs.to.value) inputs.to.value = data.to;
  const zone = ctx.me.timezone;
  const people = { ...staff, ...(data.staff_names || {}) };
  const clients = data.client_names || {};
  const table = h("table", { class: "audit", "aria-label": t("audit.events") },
    h("thead", {}, h("tr", {}, ["at", "type", "actor", "staff", "client", "details"].map((c) => h("th", { scope: "col" }, t("audit.c_" + c))))),
    h("tbody", {}, data.events.map((e) => h("tr", { dataset: { type: e.type } },
      h("td", {}, localTime(e.at, zone)), h("td", {}, eventName(e.type)), h("td", {}, actorName(e.actor, people)),
      h("td", {}, e.staff_id ? people[e.staff_id] || e.staff_id : ""),
      h("td", {}, e.client_id ? h("a", { href: `#/clients/${encodeURIComponent(e.client_id)}`, dir: "auto" },
        clients[e.client_id] || t("audit.unnamed_file")) : ""),
      h("td", { dir: "auto", class: "details" }, summary(e.details, zone, people))))));
  const download = h("button", { type: "button" }, t("audit.download"));
  download.addEventListener("click", async () => {
    try {
      await downloadCsv("/audit", { ...params, from: data.from, to: data.to, limit: 5000 }, "audit.csv");
    } catch (err) {
      ctx.notify(err.message, "error");
    }
  });
  view.append(
    h("p", { class: "count" }, t("audit.count", { n: data.events.length, from: data.from, to: data.to })),
    h("div", { class: "scroll" }, table),
    h("p", { class: "pager" },
      query.after ? h("a", { href: pageHref("audit", { ...params }) }, t("audit.first")) : null, " ",
      data.next ? h("a", { href: pageHref("audit", { ...params, from: data.from, to: data.to, after: data.next }) }, t("audit.next")) : null,
      " ", download));
}
