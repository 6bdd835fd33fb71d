// Set-up: the agency policy, read-only (issue 15). Hours, holidays and closures, the response
// target, and every template in every language as a client would receive it right now: the
// server renders them with the same next-opening text its after-hours reply uses.

import { api } from "../api.js";
import { clientText, h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";
import { subnav } from "../supervision.js";

export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.policy")), subnav("setup/policy", ctx.me));
  const p = await api.get("/policy", { signal: ctx.signal });
  const days = Object.entries(p.hours).map(([day, spans]) => h("li", {},
    h("strong", {}, t("day." + day)), " ", spans.length ? spans.map((s) => s.join("–")).join(", ") : t("pol.closed")));
  view.append(
    h("p", {}, t("pol.intro", { name: p.name, zone: p.timezone })),
    h("p", { class: p.open_now ? "ok" : "muted" }, p.open_now ? t("pol.open_now") : t("pol.closed_now", { when: localTime(p.next_opening, p.timezone) })),
    h("h2", {}, t("pol.hours")), h("ul", { class: "plain" }, days),
    h("p", {}, t("pol.response", { target: p.response.target, clock: p.response.clock, line: p.emergency_line })),
    h("p", {}, t("pol.holidays", { where: [p.holidays.country, p.holidays.subdivision].filter(Boolean).join("-") || "—",
      n: p.holidays.this_year.length, closures: p.closures.join(", ") || "—" })),
    h("h2", {}, t("pol.templates")),
    h("p", {}, t("pol.templates_intro")),
    ...p.templates.map((tpl) => h("section", { class: "template", "aria-labelledby": `tpl-${tpl.name}` },
      h("h3", { id: `tpl-${tpl.name}` }, tpl.name),
      h("dl", {}, tpl.texts.flatMap((x) => [
        h("dt", { lang: x.language }, x.language + (x.translated ? "" : ` (${t("pol.fallback")})`)),
        clientText("dd", x.text, { lang: x.translated ? x.language : "en" })])))));
}
