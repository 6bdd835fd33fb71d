// Snippets in the composer (issue 22): typing "/" at the start of the Message textbox, or after a
// space, opens a list of the agency's prepared answers in the client's language, filtered by what
// follows the "/". Arrow keys choose, Enter inserts, Escape closes; a click inserts too. The text
// inserted is the server's, already filled in for this client (GET /clients/{id}/snippets: first
// name, next opening in the agency's zone and the client's language...): the console never fills a
// placeholder itself, so none can reach a client.
//
// ARIA: the textbox keeps its role (SPEC §4.6 fixes a textbox named `Message`), so rather than
// becoming a combobox it carries the parts of the pattern a textbox supports: aria-autocomplete,
// aria-controls and aria-activedescendant pointing into a listbox named `Snippets`; a status line
// says how many match and how to choose. Focus never leaves the textbox.

import { api, ApiError } from "./api.js";
import { h } from "./dom.js";
import { language, t } from "./i18n.js";

// "/" at the start or after whitespace, then the filter typed so far (no space, no second "/").
const TRIGGER = /(^|\s)\/([^\s/]*)$/u;

function fold(text) {
  return (text || "").normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

function countText(n) {
  const rule = new Intl.PluralRules(language()).select(n);
  return t(rule === "one" ? "snip.count_one" : "snip.count_other", { n });
}

// Attach the picker to `textbox` for the client at `path` ("/clients/<id>"), until `signal` aborts.
export function attachSnippetPicker(textbox, path, signal) {
  const listId = "snippet-list";
  const list = h("ul", { id: listId, class: "snippet-list", role: "listbox", "aria-label": t("snip.list"), hidden: true });
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const anchor = h("div", { class: "snippet-anchor" });
  textbox.before(anchor);
  anchor.append(textbox, list, status);
  textbox.setAttribute("aria-autocomplete", "list");
  textbox.setAttribute("aria-controls", listId);
  if (!textbox.placeholder) textbox.placeholder = t("snip.hint");

  const state = { snippets: null, loading: null, matches: [], active: -1, start: -1, dismissed: -1 };

  function load() {
    if (!state.loading) {
      state.loading = api.get(`${path}/snippets`, { signal }).then((data) => {
        state.snippets = data.snippets.map((s) => ({ ...s, folded: fold(`${s.title} ${s.snippet_id} ${s.text}`) }));
      }).catch((err) => {
        state.loading = null;  // try again at the next "/"
        if (err.name !== "AbortError") state.error = err instanceof ApiError ? err.message : t("error.page");
      });
    }
    return state.loading;
  }

  function close() {
    list.hidden = true;
    state.active = -1;
    state.start = -1;
    textbox.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    state.active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const chosen = list.children[index];
    if (chosen && chosen.getAttribute("aria-disabled") !== "true") {
      textbox.setAttribute("aria-activedescendant", chosen.id);
      chosen.scrollIntoView({ block: "nearest" });
    } else {
      textbox.removeAttribute("aria-activedescendant");
    }
  }

  function draw(query) {
    list.replaceChildren();
    if (!state.snippets) {
      list.append(h("li", { role: "option", "aria-disabled": "true", class: "snippet-note" }, state.error || t("snip.loading")));
      list.hidden = false;
      return;
    }
    const wanted = fold(query);
    state.matches = state.snippets.filter((s) => !wanted || s.folded.includes(wanted));
    state.matches.forEach((s, i) => {
      const option = h("li", { role: "option", id: `snippet-opt-${i}`, class: "snippet-option", "aria-selected": "false" },
        h("span", { class: "snippet-title", dir: "auto" }, s.title),
        h("span", { class: "snippet-text", lang: s.language, dir: "auto" }, s.text));
      option.addEventListener("mousedown", (event) => event.preventDefault());  // keep focus in the textbox
      option.addEventListener("click", () => insert(s));
      list.append(option);
    });
    if (!state.matches.length) {
      list.append(h("li", { role: "option", "aria-disabled": "true", class: "snippet-note" },
        state.snippets.length ? t("snip.none", { q: query }) : t("snip.none_at_all")));
    }
    list.hidden = false;
    mark(state.matches.length ? 0 : -1);
    status.textContent = state.matches.length ? countText(state.matches.length) : list.textContent;
  }

  // What is typed before the caret: a "/" to act on, and the filter after it.
  function trigger() {
    if (textbox.selectionStart !== textbox.selectionEnd) return null;
    const found = TRIGGER.exec(textbox.value.slice(0, textbox.selectionStart));
    if (!found) return null;
    return { start: textbox.selectionStart - found[2].length - 1, query: found[2] };
  }

  async function update() {
    const found = trigger();
    if (!found || found.start === state.dismissed) {
      if (!found) state.dismissed = -1;
      close();
      return;
    }
    state.start = found.start;
    draw(found.query);
    if (!state.snippets) {
      await load();
      const again = trigger();  // the worker may have typed on meanwhile
      if (again && again.start === state.start) draw(again.query);
    }
  }

  function insert(snippet) {
    const end = textbox.selectionStart;
    const before = textbox.value.slice(0, state.start);
    const after = textbox.value.slice(end);
    textbox.value = before + snippet.text + after;
    const caret = before.length + snippet.text.length;
    textbox.setSelectionRange(caret, caret);
    close();
    status.textContent = t("snip.inserted", { title: snippet.title });
    textbox.dispatchEvent(new Event("input", { bubbles: true }));  // whoever keeps drafts sees it
    textbox.focus();
  }

  textbox.addEventListener("input", update);
  textbox.addEventListener("click", update);
  textbox.addEventListener("blur", close);
  textbox.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    const n = state.matches.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (n) mark((state.active + (event.key === "ArrowDown" ? 1 : n - 1)) % n);
    } else if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (state.active < 0) return;
      insert(state.matches[state.active]);
    } else if (event.key === "Escape") {
      state.dismissed = state.start;  // typed on, the same "/" stays closed; a new "/" opens again
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });
  signal.addEventListener("abort", close);
}
