// Set-up: staff (issue 15). Everyone of the agency with role, numbers and absences. An
// administrator adds staff, changes a role, deactivates or reactivates someone, and records an
// absence with the colleague who covers it; supervisors see the same page read-only.

import { api } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import { ROLES, can, hasCaseload } from "../roles.js";
import { subnav } from "../supervision.js";

function roleSelect(id, value) {
  return h("select", { id }, ROLES.map((r) => h("option", { value: r, selected: r === value }, t("role." + r))));
}

async function act(ctx, call, done) {
  try {
    await call();
    ctx.notify(done);
    ctx.navigate("/setup/staff");
  } catch (err) {
    ctx.notify(err.message, "error");
  }
}

function absenceForm(person, workers, ctx) {
  const id = person.staff_id;
  const start = h("input", { type: "date", id: `abs-start-${id}`, required: true });
  const end = h("input", { type: "date", id: `abs-end-${id}`, required: true });
  const cover = h("select", { id: `abs-cover-${id}` }, workers.filter((w) => w.staff_id !== id)
    .map((w) => h("option", { value: w.staff_id }, w.name || w.staff_id)));
  const note = h("input", { type: "text", id: `abs-note-${id}`, maxlength: "500" });
  const form = h("form", { class: "grid-form", "aria-label": t("staff.absence_for", { name: person.name }) },
    field(t("staff.abs_start"), start),
    field(t("staff.abs_end"), end),
    field(t("staff.abs_cover"), cover),
    field(t("staff.abs_note"), note),
    h("button", { type: "submit" }, t("staff.abs_record")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const absenceId = `abs-${start.value}-${cover.value}`.replace(/[^A-Za-z0-9_.-]/g, "");
    act(ctx, () => api.put(`/staff/${encodeURIComponent(id)}/absences/${encodeURIComponent(absenceId)}`,
      { start: start.value, end: end.value, cover_id: cover.value, note: note.value.trim() || undefined }), t("staff.abs_done"));
  });
  return form;
}

function row(person, workers, ctx) {
  const manages = can(ctx.me.role, "manage_staff");
  const names = Object.fromEntries(workers.map((w) => [w.staff_id, w.name || w.staff_id]));
  const section = h("li", { class: `person${person.active ? "" : " inactive"}`, "aria-labelledby": `st-${person.staff_id}` },
    h("h2", { id: `st-${person.staff_id}` }, person.name || person.staff_id,
      h("span", { class: "meta" }, ` · ${person.staff_id} · ${t("role." + person.role)}${person.active ? "" : " · " + t("staff.inactive")}`)),
    person.numbers.length
      ? h("p", {}, t("staff.numbers"), " ", person.numbers.map((n) => `${n.number} (${n.channels.map((c) => t("channel." + c)).join(", ")})`).join("; "))
      : null,
    person.absences.length
      ? h("ul", { class: "absences", "aria-label": t("staff.absences") }, person.absences.map((a) => h("li", {},
          t("staff.absent", { start: a.start, end: a.end, cover: names[a.cover_id] || a.cover_id }),
          manages ? h("button", { type: "button", class: "danger", onclick: () => act(ctx,
            () => api.del(`/staff/${encodeURIComponent(person.staff_id)}/absences/${encodeURIComponent(a.absence_id)}`),
            t("staff.abs_removed")) }, t("staff.abs_remove")) : null)))
      : null);
  if (!manages) return section;
  const role = roleSelect(`role-${person.staff_id}`, person.role);
  const save = h("form", { class: "inline", "aria-label": t("staff.change_role_of", { name: person.name }) },
    h("label", { for: role.id }, t("staff.role")), role,
    h("button", { type: "submit" }, t("staff.save_role")),
    person.staff_id === ctx.me.staff_id ? null : h("button", { type: "button", class: person.active ? "danger" : "", onclick: () => act(ctx,
      () => api.put(`/staff/${encodeURIComponent(person.staff_id)}`, { role: person.role, name: person.name, active: !person.active }),
      person.active ? t("staff.deactivated") : t("staff.reactivated")) }, person.active ? t("staff.deactivate") : t("staff.reactivate")));
  save.addEventListener("submit", (event) => {
    event.preventDefault();
    act(ctx, () => api.put(`/staff/${encodeURIComponent(person.staff_id)}`, { role: role.value, name: person.name, active: person.active }),
      t("staff.saved"));
  });
  section.append(save);
  if (hasCaseload(person.role) && person.active) {
    section.append(h("details", {}, h("summary", {}, t("staff.abs_add")), absenceForm(person, workers.filter((w) => w.active), ctx)));
  }
  return section;
}

function addForm(ctx) {
  const id = h("input", { type: "text", id: "new-staff-id", required: true, maxlength: "64", autocomplete: "off" });
  const name = h("input", { type: "text", id: "new-staff-name", required: true, maxlength: "200" });
  const role = roleSelect("new-staff-role", "worker");
  const form = h("form", { class: "grid-form", "aria-labelledby": "add-staff" },
    h("h2", { id: "add-staff" }, t("staff.add")),
    field(t("staff.id"), id),
    field(t("staff.name"), name),
    field(t("staff.role"), role),
    h("button", { type: "submit", class: "primary" }, t("staff.add_button")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(ctx, () => api.put(`/staff/${encodeURIComponent(id.value.trim())}`, { role: role.value, name: name.value.trim() }),
      t("staff.added"));
  });
  return form;
}

export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.staff")), subnav("setup/staff", ctx.me));
  const { staff } = await api.get("/staff", { signal: ctx.signal });
  const workers = staff.filter((s) => hasCaseload(s.role));
  const manages = can(ctx.me.role, "manage_staff");
  if (!manages) view.append(h("p", { class: "readonly" }, t("setup.readonly")));
  view.append(h("ul", { class: "people", "aria-label": t("setup.staff") }, staff.map((p) => row(p, workers, ctx))));
  if (manages) view.append(addForm(ctx));
}
