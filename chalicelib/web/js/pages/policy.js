// Set-up: the agency policy, read-only (issue 15). Hours, holidays and closures, the response
// target, and every template in every language as a client would receive it right now: the
// server renders them with the same next-opening text its after-hours reply uses, and fills the
// names a template needs with examples. Durations and codes are written for a person (issue 22).

import { api } from "../api.js";
import { clientText, h } from "../dom.js";
import { calendarDay, languageName, localTime, policyDuration } from "../format.js";
import { has, list, locale, t } from "../i18n.js";
import { subnav } from "../supervision.js";

function regionName(country, subdivision) {
  if (!country) return t("pol.no_holidays");
  let name = country;
  try {
    name = new Intl.DisplayNames([locale()], { type: "region" }).of(country) || country;
  } catch {
    // an unknown code stays as written
  }
  return subdivision ? `${name} (${subdivision})` : name;
}

function templateName(name) {
  return has("tpl." + name) ? t("tpl." + name) : name.replace(/_/g, " ");
}

export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.policy")), subnav("setup/policy", ctx.me));
  const p = await api.get("/policy", { signal: ctx.signal });
  const days = Object.entries(p.hours).map(([day, spans]) => h("li", {},
    h("strong", {}, t("day." + day)), " ", spans.length ? list(spans.map((s) => s.join("–"))) : t("pol.closed")));
  const clock = p.response.clock === "business_hours" ? "business_hours" : "calendar";
  view.append(
    h("p", {}, t("pol.intro", { name: p.name, zone: p.timezone })),
    h("p", { class: p.open_now ? "ok" : "muted" }, p.open_now ? t("pol.open_now") : t("pol.closed_now", { when: localTime(p.next_opening, p.timezone) })),
    h("h2", {}, t("pol.hours")), h("ul", { class: "plain" }, days),
    h("p", {}, t("pol.response_" + clock, { target: policyDuration(p.response.target, clock) }), " ",
      t("pol.emergency", { line: p.emergency_line })),
    h("p", {}, t("pol.holidays", { where: regionName(p.holidays.country, p.holidays.subdivision), n: p.holidays.this_year.length }),
      " ", p.closures.length ? t("pol.closures", { days: list(p.closures.map((d) => calendarDay(d))) }) : t("pol.no_closures")),
    h("h2", {}, t("pol.templates")),
    h("p", {}, t("pol.templates_intro")),
    ...p.templates.map((tpl) => h("section", { class: "template", "aria-labelledby": `tpl-${tpl.name}` },
      h("h3", { id: `tpl-${tpl.name}` }, templateName(tpl.name)),
      h("dl", {}, tpl.texts.flatMap((x) => [
        h("dt", {}, languageName(x.language) + (x.translated ? "" : ` (${t("pol.fallback")})`)),
        clientText("dd", x.text, { lang: x.translated ? x.language : "en" })])))));
}
