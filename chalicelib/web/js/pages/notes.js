// The `Notes` region of a client's conversation and file (SPEC §4.6, issue 22): the file's private
// case notes, newest first, each with its author's name and time, and (for those the API lets write
// them: `can_write`) a textbox named `Note` with a button named `Save note`. Notes are never sent to
// the client. Not a page of its own: conversation.js and file.js place notesRegion() where it fits.
// Everything comes from GET /clients/{id}/notes (paged: "Show older notes") and goes back through
// POST /clients/{id}/notes; a refusal is said next to the textbox and the text stays there.

import { api, ApiError } from "../api.js";
import { clear, clientText, h } from "../dom.js";
import { localTime } from "../format.js";
import { t } from "../i18n.js";

const MAX_CHARS = 4000;  // the API's limit (domain/notes.py); it says so itself when refused

function noteItem(note, zone) {
  return h("li", { class: "note", dataset: { id: note.note_id } },
    h("p", { class: "note-who" }, h("strong", {}, note.by_name || note.by), " · ",
      h("time", { datetime: note.at }, localTime(note.at, zone))),
    clientText("p", note.body, { class: "note-body" }));
}

// The form with the textbox named `Note` and the button named `Save note`; onSaved(note) once stored.
function noteForm(path, onSaved) {
  const textbox = h("textarea", { id: "note-body", rows: 3, maxlength: MAX_CHARS, "aria-describedby": "note-private note-error" });
  const save = h("button", { type: "submit" }, t("notes.save"));
  // The refusal is an alert only while there is one: the composer above has its own alert.
  const errorSlot = h("div");
  const showError = (text) => errorSlot.replaceChildren(...(text ? [h("p", { class: "error", id: "note-error", role: "alert" }, text)] : []));
  const form = h("form", { class: "note-form", novalidate: true },
    h("label", { for: "note-body" }, t("notes.label")), textbox, h("p", { class: "actions" }, save), errorSlot);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    if (!textbox.value.trim()) {
      showError(t("notes.empty_field"));
      textbox.focus();
      return;
    }
    save.disabled = true;
    try {
      const { data } = await api.post(`${path}/notes`, { body: textbox.value });
      textbox.value = "";
      onSaved(data);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showError(err.message);  // the API's own words; what was typed stays
      textbox.focus();
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

// The region named `Notes` for the client at `path` ("/clients/<id>"). It draws itself once its
// first page has come; `ctx.signal` stops it when the page is left.
export function notesRegion(ctx, path) {
  const list = h("ol", { class: "notes", "aria-label": t("notes.list") });
  const older = h("button", { type: "button", class: "link", hidden: true }, t("notes.older"));
  const status = h("p", { class: "meta" }, t("notes.loading"));
  const region = h("section", { class: "notes-panel card", "aria-labelledby": "notes-title" },
    h("h2", { id: "notes-title" }, t("notes.title")),
    h("p", { class: "meta", id: "note-private" }, t("notes.private")), status);
  let next = null;

  function show(notes, { prepend = false } = {}) {
    const items = notes.map((n) => noteItem(n, ctx.me.timezone));
    if (prepend) list.prepend(...items); else list.append(...items);
    status.textContent = list.children.length ? "" : t("notes.none");
    status.hidden = !status.textContent;
  }

  async function page(cursor) {
    const data = await api.get(`${path}/notes`, { signal: ctx.signal, query: { next: cursor } });
    next = data.next;
    older.hidden = !next;
    return data;
  }

  older.addEventListener("click", async () => {
    older.disabled = true;
    try {
      show((await page(next)).notes);
    } catch (err) {
      if (err.name !== "AbortError") ctx.notify(err.message, "error");
    } finally {
      older.disabled = false;
    }
  });

  page(null).then((data) => {
    status.before(data.can_write
      ? noteForm(path, (note) => {
        show([note], { prepend: true });
        ctx.notify(t("notes.saved"));
      })
      : h("p", { class: "readonly" }, t("notes.read_only")));
    region.append(list, older);
    show(data.notes);
  }).catch((err) => {
    if (err.name === "AbortError") return;
    clear(status).append(err instanceof ApiError ? err.message : t("error.page"));
  });
  return region;
}
