// The conversation with one client (issue 14 step 3).

import { h } from "../dom.js";

export async function render(view) {
  view.append(h("section", { "aria-label": "Conversation" }));
}
