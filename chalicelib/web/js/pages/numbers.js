// Set-up: work numbers (issue 15). Each number and who holds it; an administrator assigns one to
// a worker, and before a re-assignment the page shows what will move (GET
// /numbers/{n}/reassignment) and asks to confirm; only then PUT /numbers/{n} does it. The number
// may be typed the national way (587 355 0103): the API reads it in the agency's country.

import { api, ApiError } from "../api.js";
import { clear, field, formErrors, h } from "../dom.js";
import { list, t } from "../i18n.js";
import { can, hasCaseload } from "../roles.js";
import { subnav } from "../supervision.js";

const path = (number) => `/numbers/${encodeURIComponent(number)}`;

function explain(preview, names) {
  const who = (id) => names[id] || id;
  if (preview.change === "new") return [t("num.new", { number: preview.number, to: who(preview.to_staff) })];
  if (preview.change === "same") return [t("num.same", { to: who(preview.to_staff) })];
  const lines = [t("num.moves", { n: preview.clients_moving, from: who(preview.from_staff), to: who(preview.to_staff) }),
    t("num.clocks", { n: preview.open_clocks_moving })];
  return lines;
}

export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.numbers")), subnav("setup/numbers", ctx.me));
  const [{ numbers }, { staff }] = await Promise.all([
    api.get("/numbers", { signal: ctx.signal }), api.get("/staff", { signal: ctx.signal })]);
  const names = Object.fromEntries(staff.map((s) => [s.staff_id, s.name || s.staff_id]));
  view.append(h("div", { class: "scroll" }, h("table", { class: "audit", "aria-label": t("setup.numbers") },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("num.number")), h("th", { scope: "col" }, t("num.holder")),
      h("th", { scope: "col" }, t("num.channels")))),
    h("tbody", {}, numbers.map((n) => h("tr", {}, h("td", {}, n.number), h("td", {}, names[n.staff_id] || n.staff_id),
      h("td", {}, list(n.channels.map((c) => t("channel." + c))))))))));
  if (!can(ctx.me.role, "assign_numbers")) {
    view.append(h("p", { class: "readonly" }, t("setup.readonly")));
    return;
  }
  const number = h("input", { type: "tel", id: "num-number", required: true, autocomplete: "off", "aria-describedby": "num-number-hint" });
  const worker = h("select", { id: "num-worker" }, staff.filter((s) => hasCaseload(s.role) && s.active)
    .map((s) => h("option", { value: s.staff_id }, s.name || s.staff_id)));
  const sms = h("input", { type: "checkbox", id: "num-sms", checked: true });
  const whatsapp = h("input", { type: "checkbox", id: "num-whatsapp", checked: true });
  const preview = h("div", { class: "preview-box", "aria-live": "polite" });
  const channels = () => [sms.checked && "sms", whatsapp.checked && "whatsapp"].filter(Boolean);
  const form = h("form", { class: "grid-form", "aria-labelledby": "assign-title" },
    h("h2", { id: "assign-title" }, t("num.assign")),
    h("div", { class: "field" }, h("label", { for: number.id }, t("num.number_field")), number,
      h("p", { class: "hint", id: "num-number-hint" }, t("num.number_hint"))),
    field(t("num.worker"), worker),
    h("fieldset", {}, h("legend", {}, t("num.channels")),
      h("label", { class: "check" }, sms, " ", t("channel.sms")), h("label", { class: "check" }, whatsapp, " ", t("channel.whatsapp"))),
    h("button", { type: "submit", class: "primary" }, t("num.check")), preview);
  const errors = formErrors(form, { number, staff_id: worker, channels: sms });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(preview);
    errors.clear();
    const target = number.value.trim();
    if (!target) {
      errors.field(number, t("num.number_needed"));
      return;
    }
    try {
      const plan = await api.get(`${path(target)}/reassignment`, { query: { staff_id: worker.value, channels: channels().join(",") } });
      const confirm = h("button", { type: "button", class: "primary" }, t("num.confirm"));
      const list = plan.clients.length
        ? h("ul", { "aria-label": t("num.clients_moving") }, plan.clients.map((c) => h("li", { dir: "auto" }, `${c.name} (${t("channel." + c.channel)})`)))
        : null;
      preview.append(h("h3", {}, t("num.what_happens")), ...explain(plan, names).map((line) => h("p", {}, line)), list, confirm);
      confirm.focus();
      confirm.addEventListener("click", async () => {
        try {
          await api.put(path(plan.number), { staff_id: plan.to_staff, channels: plan.channels });
          ctx.notify(t("num.assigned", { number: plan.number, to: names[plan.to_staff] || plan.to_staff }));
          ctx.navigate("/setup/numbers");
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          errors.api(err);
        }
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.api(err);  // next to the number (or the worker) it is about; what was typed stays
    }
  });
  view.append(form);
}
