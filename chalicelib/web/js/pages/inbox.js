// The Inbox: every client of the worker (and of colleagues they cover) waiting for an answer.

import { h } from "../dom.js";
import { t } from "../i18n.js";

export async function render(view) {
  view.append(h("h1", { id: "inbox-title" }, t("nav.inbox")), h("ul", { class: "inbox", "aria-label": t("nav.inbox") }));
}
