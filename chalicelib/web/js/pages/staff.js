// Set-up: staff (issue 15). Everyone of the agency with role, numbers and absences. An
// administrator adds staff, changes a role, deactivates or reactivates someone, and records an
// absence with the colleague who covers it; supervisors see the same page read-only. Issue 22:
// deactivating someone and removing an absence are confirmed in a dialog naming the person; a
// form the API refuses keeps what was typed and says why next to the field.

import { api, ApiError } from "../api.js";
import { confirmAction } from "../dialog.js";
import { field, formErrors, h } from "../dom.js";
import { calendarDay } from "../format.js";
import { list, t } from "../i18n.js";
import { ROLES, can, hasCaseload } from "../roles.js";
import { subnav } from "../supervision.js";

function roleSelect(id, value) {
  return h("select", { id }, ROLES.map((r) => h("option", { value: r, selected: r === value }, t("role." + r))));
}

// An action of the page: done, the page is drawn again with the news; refused, `errors` (a
// form's) says why next to the field, or the notice does.
async function act(ctx, call, done, errors = null) {
  if (errors) errors.clear();
  try {
    await call();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (errors) errors.api(err);
    else ctx.notify(err.message, "error");
    return;
  }
  ctx.notify(done);
  ctx.navigate("/setup/staff");
}

// Something that cannot be undone, asked first in a dialog; a refusal goes to the notice.
async function confirmed(ctx, question, done) {
  try {
    if (await confirmAction(question)) {
      ctx.notify(done);
      ctx.navigate("/setup/staff");
    }
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
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
  const errors = formErrors(form, { start, end, cover_id: cover, note });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    errors.clear();
    if (start.value && end.value && end.value < start.value) {
      errors.field(end, t("form.end_before_start"));
      return;
    }
    const absenceId = `abs-${start.value}-${cover.value}`.replace(/[^A-Za-z0-9_.-]/g, "");
    act(ctx, () => api.put(`/staff/${encodeURIComponent(id)}/absences/${encodeURIComponent(absenceId)}`,
      { start: start.value, end: end.value, cover_id: cover.value, note: note.value.trim() || undefined }), t("staff.abs_done"), errors);
  });
  return form;
}

function absenceItem(person, absence, names, ctx, manages) {
  const values = { name: person.name || person.staff_id, start: calendarDay(absence.start), end: calendarDay(absence.end),
    cover: names[absence.cover_id] || absence.cover_id };
  const remove = () => confirmed(ctx, {
    title: t("confirm.absence_title", values),
    consequence: t("confirm.absence_body", values),
    confirm: t("confirm.absence_button"),
    run: () => api.del(`/staff/${encodeURIComponent(person.staff_id)}/absences/${encodeURIComponent(absence.absence_id)}`),
  }, t("staff.abs_removed"));
  return h("li", {}, t("staff.absent", values), absence.note ? h("span", { dir: "auto" }, ` (${absence.note})`) : null,
    manages ? [" ", h("button", { type: "button", class: "danger", onclick: remove,
      "aria-label": t("staff.abs_remove_of", values) }, t("staff.abs_remove"))] : null);
}

function numbersLine(person) {
  return list(person.numbers.map((n) => `${n.number} (${list(n.channels.map((c) => t("channel." + c)))})`));
}

function row(person, workers, ctx) {
  const manages = can(ctx.me.role, "manage_staff");
  const names = Object.fromEntries(workers.map((w) => [w.staff_id, w.name || w.staff_id]));
  const name = person.name || person.staff_id;
  const section = h("li", { class: `person${person.active ? "" : " inactive"}`, "aria-labelledby": `st-${person.staff_id}` },
    h("h2", { id: `st-${person.staff_id}` }, name,
      h("span", { class: "meta" }, ` · ${person.staff_id} · ${t("role." + person.role)}${person.active ? "" : " · " + t("staff.inactive")}`)),
    person.numbers.length ? h("p", {}, t("staff.numbers"), " ", numbersLine(person)) : null,
    person.absences.length
      ? h("ul", { class: "absences", "aria-label": t("staff.absences") },
        person.absences.map((a) => absenceItem(person, a, names, ctx, manages)))
      : null);
  if (!manages) return section;
  const role = roleSelect(`role-${person.staff_id}`, person.role);
  const toggle = () => {
    const put = () => api.put(`/staff/${encodeURIComponent(person.staff_id)}`, { role: person.role, name: person.name, active: !person.active });
    if (!person.active) return act(ctx, put, t("staff.reactivated"));
    return confirmed(ctx, {
      title: t("confirm.deactivate_title", { name }),
      consequence: t(hasCaseload(person.role) ? "confirm.deactivate_body_worker" : "confirm.deactivate_body", { name }),
      confirm: t("confirm.deactivate_button"),
      run: put,
    }, t("staff.deactivated"));
  };
  const save = h("form", { class: "inline", "aria-label": t("staff.change_role_of", { name }) },
    h("label", { for: role.id }, t("staff.role")), role,
    h("button", { type: "submit" }, t("staff.save_role")),
    person.staff_id === ctx.me.staff_id ? null : h("button", { type: "button", class: person.active ? "danger" : "", onclick: toggle,
      "aria-label": t(person.active ? "staff.deactivate_who" : "staff.reactivate_who", { name }) },
    person.active ? t("staff.deactivate") : t("staff.reactivate")));
  const errors = formErrors(save, { role });
  save.addEventListener("submit", (event) => {
    event.preventDefault();
    act(ctx, () => api.put(`/staff/${encodeURIComponent(person.staff_id)}`, { role: role.value, name: person.name, active: person.active }),
      t("staff.saved"), errors);
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
  const errors = formErrors(form, { staff_id: id, name, role });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(ctx, () => api.put(`/staff/${encodeURIComponent(id.value.trim())}`, { role: role.value, name: name.value.trim() }),
      t("staff.added"), errors);
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
