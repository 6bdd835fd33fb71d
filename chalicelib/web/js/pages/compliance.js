// PLACEHOLDER for issue 15 (supervisor console): this page will hold the table named
// `Compliance by worker` (SPEC §4.6) from GET /reports/compliance. The route, the nav link
// (supervisors and admins only) and this module's place are fixed by the foundation; replace the
// body of render() and keep its signature: render(view, ctx) with ctx.signal, ctx.me, ctx.notify.

import { h } from "../dom.js";
import { t } from "../i18n.js";

export async function render(view) {
  view.append(h("h1", {}, t("nav.compliance")), h("p", {}, t("compliance.coming")));
}
