// The client's file (issue 14 step 5).

import { h } from "../dom.js";

export async function render(view) {
  view.append(h("h1", {}, "File"));
}
