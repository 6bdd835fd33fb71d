// The notification centre's control in the header (SPEC §4.6): for every role, a link named
// `Notifications, N unread` (`Notifications` when none is unread) that opens the list (the
// notifications page). The same answer (GET /notifications) gives the supervisor's `Reviews` badge:
// breaches and overrides still to review, which a review done settles.
//
// refreshCounts() asks the API again; the shell calls it on every page, the inbox with each of its
// refreshes, the notifications page after marking, and anything else may fire the window event
// `cmdm:changed` (e.g. a pushed "this changed" message) to have it asked.

import { api } from "./api.js";
import { h } from "./dom.js";
import { language, t } from "./i18n.js";

const CONTROL_ID = "notifications-control";
let asking = null;

// The catalogue's `<base>_<form>` text for n, the form chosen by the language's own plural rules
// (Intl.PluralRules: French says "1 non lue", "2 non lues"); `<base>_other` when a form is missing.
export function plural(base, n) {
  const key = `${base}_${new Intl.PluralRules(language()).select(n)}`;
  return t(t(key) === key ? `${base}_other` : key, { n });
}

// "Notifications, 2 unread" in the console's language; "Notifications" when nothing is unread.
export function controlName(unread) {
  return unread ? plural("notif.control", unread) : t("notif.control_none");
}

// A bell drawn in SVG (no emoji font needed), hidden from assistive technology: the link's name says it.
function bellIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "bell-icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

// The control itself, made once and kept in the header's tools (before the signed-in name).
export function mountControl(signedIn) {
  let link = document.getElementById(CONTROL_ID);
  if (!link) {
    link = h("a", { id: CONTROL_ID, class: "bell", href: "#/notifications", "aria-label": controlName(0) },
      bellIcon(),
      h("span", { class: "bell-label", "aria-hidden": "true" }),
      h("span", { class: "badge", "aria-hidden": "true", hidden: true }));
    const tools = document.querySelector(".tools");
    tools.insertBefore(link, document.getElementById("who"));
  }
  link.hidden = !signedIn;
  link.setAttribute("aria-current", location.hash.startsWith("#/notifications") ? "page" : "false");
  link.querySelector(".bell-label").textContent = t("notif.title");
  return link;
}

function show(unread, reviews) {
  const link = document.getElementById(CONTROL_ID);
  if (link) {
    link.setAttribute("aria-label", controlName(unread));
    const badge = link.querySelector(".badge");
    badge.hidden = !unread;
    badge.textContent = unread ? String(unread) : "";
  }
  for (const nav of document.querySelectorAll('a[data-badge="reviews"]')) {
    nav.querySelector(".count-badge")?.remove();
    if (reviews) {
      nav.append(h("span", { class: "count-badge" }, " ",
        h("span", { class: "badge" }, String(reviews), h("span", { class: "sr" }, " " + t("notif.to_review")))));
    }
  }
}

// Ask the API for the counts (one request at a time: a second call while one runs shares it).
export function refreshCounts() {
  if (!document.getElementById(CONTROL_ID) || document.getElementById(CONTROL_ID).hidden) return Promise.resolve();
  if (asking) return asking;
  asking = api.get("/notifications", { query: { limit: "1" } })
    .then((data) => show(data.unread, data.unread_reviews))
    .catch(() => {})  // the control is a hint: the notifications page shows any error itself
    .finally(() => { asking = null; });
  return asking;
}

// The control's name without asking the API again (the language changed, the page moved).
export function redrawControl(data) {
  if (data) show(data.unread, data.unread_reviews);
}

window.addEventListener("cmdm:changed", () => refreshCounts());
