// Crisis in the conversation (SPEC §5.9): the banner shown while the file is in crisis, with the
// agency's emergency line and the client's emergency contact (the `crisis` of GET
// /clients/{id}/messages), the word `Crisis` on a message read as one, and the worker's button to
// mark a client message as a crisis or take the mark back (PUT .../messages/{id}/crisis).

import { api, ApiError } from "./api.js";
import { clear, clientText, h } from "./dom.js";
import { localTime } from "./format.js";
import { t } from "./i18n.js";
import { can } from "./roles.js";

function tel(number) {
  return h("a", { href: "tel:" + number.replace(/[^+\d]/g, "") }, number);
}

// The banner: hidden until update() gets a crisis; a region named `Crisis` while shown.
export function crisisBanner(me) {
  const el = h("section", { class: "crisis-banner", "aria-labelledby": "crisis-title", hidden: true });
  let shown = "";
  function update(crisis) {
    const next = JSON.stringify(crisis || null);
    if (next === shown) return;
    shown = next;
    clear(el);
    el.hidden = !crisis;
    if (!crisis) return;
    const contact = crisis.emergency_contact;
    el.append(
      h("h2", { id: "crisis-title" }, t("crisis.word")),
      h("p", {}, t("crisis.since", { time: localTime(crisis.since, me.timezone) })),
      h("p", {}, t("crisis.line"), " ", tel(crisis.emergency_line)),
      contact
        ? h("p", {}, t("crisis.contact"), " ", clientText("span", contact.name), ` (${contact.relation}) `, tel(contact.phone))
        : h("p", { class: "meta" }, t("crisis.no_contact")));
  }
  return { el, update };
}

// The word `Crisis` on a message read as one (its words, or a worker's mark).
export function crisisTag(msg) {
  return msg.crisis ? h("span", { class: "tag crisis" }, t("crisis.word")) : null;
}

// Mark a client's message as a crisis, or take the mark back; `done` redraws the conversation.
export function crisisToggle(msg, ctx, path, done) {
  if (msg.direction !== "inbound" || msg.kind !== "client" || !can(ctx.me.role, "mark_crisis")) return null;
  const button = h("button", { type: "button", class: msg.crisis ? "link" : "link danger-link" },
    msg.crisis ? t("crisis.unmark") : t("crisis.mark"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api.put(`${path}/messages/${encodeURIComponent(msg.id)}/crisis`, { crisis: !msg.crisis });
      ctx.notify(msg.crisis ? t("crisis.unmarked") : t("crisis.marked"));
      await done();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      ctx.notify(err.message, "error");
      button.disabled = false;
    }
  });
  return button;
}
