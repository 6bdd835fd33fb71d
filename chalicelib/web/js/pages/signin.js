// Sign-in. local/test: the seeded staff of each agency, one button each (SPEC §4.6).
// aws: one button to the agency's Cognito sign-in page (code flow with PKCE, ../auth.js).

import { api } from "../api.js";
import { startCognitoSignIn } from "../auth.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

export async function render(view, ctx) {
  view.append(h("h1", {}, t("signin.title")));
  if (ctx.config.signin === "cognito") {
    view.append(
      h("p", {}, t("signin.cognito_intro")),
      h("button", { type: "button", class: "primary", onclick: () => startCognitoSignIn(ctx.config) }, t("signin.cognito_button")),
    );
    return;
  }
  view.append(h("p", {}, t("signin.local_intro")));
  const { agencies } = await api.get("/dev/staff", { signal: ctx.signal, auth: false });
  for (const agency of agencies) {
    const list = h("ul", { class: "staff-list", "aria-label": agency.name });
    for (const person of agency.staff) {
      const choose = async () => {
        const { data } = await api.post("/dev/tokens", { agency_id: agency.agency_id, staff_id: person.staff_id }, { auth: false });
        await ctx.signedIn(data.id_token);
      };
      list.append(h("li", {}, h("button", { type: "button", onclick: choose },
        t("signin.as", { name: person.name, role: t("role." + person.role) }))));
    }
    view.append(h("section", { "aria-labelledby": `agency-${agency.agency_id}` },
      h("h2", { id: `agency-${agency.agency_id}` }, agency.name), list));
  }
}
