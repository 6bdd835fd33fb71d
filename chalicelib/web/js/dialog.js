// Dialogs (issue 22): asking before what cannot be undone, and the keyboard shortcuts' help.
// A modal <dialog> named by its heading (which names the client or the staff member), a sentence
// saying what will happen, Cancel and the confirm button. Focus stays inside while it is open
// (Tab and Shift+Tab go round), Escape cancels, and focus goes back to the control that opened it.

import { h } from "./dom.js";
import { t } from "./i18n.js";

let opened = 0;

// Keep Tab inside the dialog: from the last control to the first, and back.
function trapFocus(dialog) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const stops = [...dialog.querySelectorAll("button, input, textarea, select, a[href], [tabindex]:not([tabindex='-1'])")]
      .filter((el) => !el.disabled && !el.closest("[hidden]"));
    if (!stops.length) return;
    const first = stops[0], last = stops[stops.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
}

// Show `dialog` (already built, children and all) as a modal; resolves with its return value
// once closed, focus back where it was.
function showModal(dialog, focusFirst) {
  const opener = document.activeElement;
  document.body.append(dialog);
  trapFocus(dialog);
  dialog.showModal();
  focusFirst.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(dialog.returnValue);
    });
  });
}

// Ask before an action that cannot be undone. `title` names who it touches, `consequence` says
// what happens, `confirm` is the confirm button's words. With `reason` ({label}), a reason is
// required: the confirm button stays disabled, and a note says why, until one is typed.
// `run(reason)` does the action while the dialog stays open: a refusal of the reason is shown
// next to it (the dialog stays, the text typed too); any other refusal closes the dialog and is
// thrown to the caller, whose form says why. Resolves with {reason} once done, null if cancelled.
export async function confirmAction({ title, consequence, confirm, reason = null, run = null }) {
  const n = ++opened;
  const ids = { title: `confirm-title-${n}`, body: `confirm-body-${n}`, why: `confirm-why-${n}`, reason: `confirm-reason-${n}` };
  const cancel = h("button", { type: "button" }, t("dialog.cancel"));
  const ok = h("button", { type: "submit", class: "danger-fill", value: "confirm" }, confirm);
  const refused = h("p", { class: "error", role: "alert", id: `confirm-error-${n}`, hidden: true });
  const form = h("form", { method: "dialog" },
    h("h2", { id: ids.title }, title),
    h("p", { id: ids.body }, consequence));
  let input = null;
  if (reason) {
    input = h("input", { type: "text", id: ids.reason, maxlength: 500, required: true, autocomplete: "off",
      "aria-describedby": `${ids.why} ${refused.id}` });
    const why = h("p", { class: "hint", id: ids.why }, t("dialog.reason_needed"));
    const sync = () => {
      const empty = !input.value.trim();
      ok.disabled = empty;
      why.hidden = !empty;
    };
    input.addEventListener("input", sync);
    form.append(h("div", { class: "field" }, h("label", { for: ids.reason }, reason.label), input, why, refused));
    sync();
  } else {
    form.append(refused);
  }
  form.append(h("p", { class: "actions" }, cancel, ok));
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": ids.title, "aria-describedby": ids.body }, form);
  cancel.addEventListener("click", () => dialog.close("cancel"));
  let failure = null;
  form.addEventListener("submit", async (event) => {
    if (!run) return;  // method="dialog" closes it with "confirm"
    event.preventDefault();
    if (input && !input.value.trim()) return;
    ok.disabled = cancel.disabled = true;
    try {
      await run(input ? input.value.trim() : null);
      dialog.close("confirm");
    } catch (err) {
      ok.disabled = cancel.disabled = false;
      if (input && err.field === "reason") {
        refused.textContent = err.message;
        refused.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      failure = err;
      dialog.close("refused");
    }
  });
  const answer = await showModal(dialog, input || cancel);
  if (failure) throw failure;
  if (answer !== "confirm") return null;
  return { reason: input ? input.value.trim() : null };
}

// A dialog that only informs (the keyboard shortcuts): a heading, its content, a Close button.
export function infoDialog({ title, content, className = "" }) {
  const n = ++opened;
  const close = h("button", { type: "submit", value: "close" }, t("dialog.close"));
  const dialog = h("dialog", { class: `info ${className}`.trim(), "aria-labelledby": `info-title-${n}` },
    h("form", { method: "dialog" }, h("h2", { id: `info-title-${n}` }, title), content, h("p", { class: "actions" }, close)));
  return showModal(dialog, close);
}

// Is a modal dialog open now? (Shortcuts wait while one is.)
export function dialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}
