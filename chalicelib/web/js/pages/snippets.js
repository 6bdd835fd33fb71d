// Set-up: snippets (issue 22), the agency's prepared answers, by language. An administrator adds,
// changes and deletes them (PUT and DELETE /snippets/{id}, each conditioned on the version read: an
// edit made on a stale copy is refused and the list is read again); workers insert them by typing
// "/" in a message (snippet_picker.js). The API checks the placeholders: a refusal is shown next to
// the field it names, and what was typed stays in the form.

import { api, ApiError } from "../api.js";
import { clear, clientText, field, h } from "../dom.js";
import { languageName, localTime } from "../format.js";
import { t } from "../i18n.js";
import { can } from "../roles.js";
import { subnav } from "../supervision.js";

const PLACEHOLDERS = ["first_name", "next_opening", "case_manager", "agency_name"];
const path = (id) => `/snippets/${encodeURIComponent(id)}`;

function snippetItem(s, ctx, onEdit, onDelete) {
  const actions = can(ctx.me.role, "manage_snippets") ? h("p", { class: "inline" },
    h("button", { type: "button", onclick: () => onEdit(s) }, t("snip.edit_button")),
    h("button", { type: "button", class: "danger", onclick: (event) => onDelete(s, event.currentTarget) }, t("snip.delete")))
    : null;
  return h("li", { class: "snippet", "aria-labelledby": `sn-${s.snippet_id}` },
    h("h3", { id: `sn-${s.snippet_id}`, dir: "auto" }, s.title),
    clientText("p", s.body, { class: "snippet-body", lang: s.language }),
    h("p", { class: "meta" }, [
      s.placeholders.length ? t("snip.uses", { list: s.placeholders.map((p) => `{${p}}`).join(" ") }) : null,
      s.updated_by === "system" ? t("snip.from_policy") : t("snip.updated", { time: localTime(s.updated_at, ctx.me.timezone), name: s.updated_by_name || s.updated_by }),
    ].filter(Boolean).join(" · ")),
    actions);
}

// The form for a new snippet, or for `editing` (the version it was read at goes with the change).
// onSaved(snippet) once stored; onStale() when another change got in first: the form keeps what
// was typed, takes the stored version (saving again replaces it, knowingly) and the list is redrawn.
function snippetForm(ctx, languages, editing, { onSaved, onCancel, latest }) {
  let version = editing ? editing.version : 0;
  const id = h("input", { type: "text", id: "sn-id", required: true, maxlength: 64, autocomplete: "off",
    value: editing ? editing.snippet_id : "", readonly: !!editing });
  const title = h("input", { type: "text", id: "sn-title", required: true, maxlength: 100, value: editing ? editing.title : "" });
  const language = h("select", { id: "sn-language" }, languages.map((code) => h("option",
    { value: code, selected: editing ? code === editing.language : code === languages[0] }, `${languageName(code)} (${code})`)));
  const body = h("textarea", { id: "sn-body", rows: 4, maxlength: 1600, required: true, dir: "auto" }, editing ? editing.body : "");
  const errors = {};
  const fieldOf = (name, label, control) => {
    errors[name] = h("p", { class: "error", id: `sn-${name}-error` });  // read out with the field it describes
    control.setAttribute("aria-describedby", errors[name].id);
    const wrap = field(label, control);
    wrap.append(errors[name]);
    return wrap;
  };
  const chips = h("p", { class: "inline placeholders" }, t("snip.placeholders"), PLACEHOLDERS.map((name) =>
    h("button", { type: "button", class: "link", onclick: () => {
      body.setRangeText(`{${name}}`, body.selectionStart, body.selectionEnd, "end");
      body.focus();
    } }, `{${name}}`)));
  const general = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "grid-form snippet-form", "aria-labelledby": "sn-form-title", novalidate: true },
    h("h2", { id: "sn-form-title" }, editing ? t("snip.edit", { title: editing.title }) : t("snip.new")),
    fieldOf("snippet_id", t("snip.id"), id), fieldOf("title", t("snip.f_title"), title),
    fieldOf("language", t("snip.f_language"), language),
    h("div", { class: "wide" }, fieldOf("body", t("snip.f_body"), body), chips),
    h("p", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("snip.save")),
      editing ? h("button", { type: "button", onclick: onCancel }, t("snip.cancel")) : null),
    general);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.values(errors).forEach((e) => { e.textContent = ""; });
    general.textContent = "";
    try {
      onSaved(await api.put(path(id.value.trim()), { title: title.value, language: language.value, body: body.value, version }));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const target = errors[err.field];
      (target || general).textContent = err.message;  // the API's words, next to what to fix
      if (target) form.querySelector(`[aria-describedby="${target.id}"]`).focus();
      if (err.status === 409) {
        const stored = await latest(id.value.trim());
        version = stored ? stored.version : 0;
        general.textContent = `${err.message} ${t("snip.stale")}`;
      }
    }
  });
  return form;
}

export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.snippets")), subnav("setup/snippets", ctx.me), h("p", {}, t("snip.intro")));
  const formSlot = h("div");
  const listSlot = h("div", { class: "snippets-page" });
  view.append(formSlot, listSlot);
  let data = { snippets: [], languages: [] };

  async function drawList() {
    data = await api.get("/snippets", { signal: ctx.signal });
    const languages = [...new Set([...data.languages, ...data.snippets.map((s) => s.language)])];
    clear(listSlot);
    for (const code of languages) {
      const mine = data.snippets.filter((s) => s.language === code);
      listSlot.append(h("section", { class: "snippet-group", "aria-labelledby": `sg-${code}` },
        h("h2", { id: `sg-${code}` }, `${languageName(code)} (${code})`),
        mine.length
          ? h("ul", { class: "snippets", "aria-label": t("snip.in_language", { language: languageName(code) }) },
            mine.map((s) => snippetItem(s, ctx, showForm, confirmDelete)))
          : h("p", { class: "meta" }, t("snip.none_yet"))));
    }
    return languages;
  }

  function showForm(editing = null) {
    if (!can(ctx.me.role, "manage_snippets")) return;
    const languages = [...new Set([...data.languages, ...data.snippets.map((s) => s.language)])];
    const form = snippetForm(ctx, languages, editing, {
      onSaved: async (saved) => {
        ctx.notify(t("snip.saved", { title: saved.title }));
        await drawList();
        showForm();
      },
      onCancel: () => showForm(),
      latest: async (id) => (await drawList(), data.snippets.find((s) => s.snippet_id === id)),
    });
    clear(formSlot).append(form);
    if (editing) form.querySelector("#sn-title").focus();
  }

  // Deleting asks first, in place: the buttons become "Delete “…”" and "Keep it".
  function confirmDelete(s, button) {
    const row = button.parentElement;
    const keep = h("button", { type: "button" }, t("snip.keep"));
    const sure = h("button", { type: "button", class: "danger" }, t("snip.delete_confirm", { title: s.title }));
    row.replaceChildren(sure, keep);
    sure.focus();
    keep.addEventListener("click", () => drawList());
    sure.addEventListener("click", async () => {
      try {
        await api.del(path(s.snippet_id), undefined, { query: { version: s.version } });
        ctx.notify(t("snip.deleted", { title: s.title }));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        ctx.notify(err.message, "error");
      }
      await drawList();
    });
  }

  await drawList();
  showForm();
}
