// Set-up: client intake (issue 15, administrators). Creates the client's file (POST /clients),
// then records the signed consent with its channels, circle of care and whether the client
// accepts information posts (PUT /clients/{id}/consent). Messaging starts only after both. A form
// the API refuses keeps what was typed and says why next to the field (issue 22).

import { api, ApiError } from "../api.js";
import { clear, field, formErrors, h } from "../dom.js";
import { languageName } from "../format.js";
import { t } from "../i18n.js";
import { hasCaseload } from "../roles.js";
import { subnav } from "../supervision.js";

const LANGUAGES = ["en", "fr", "ar", "es", "fa", "uk", "so", "ti", "zh", "pa"];


export async function render(view, ctx) {
  view.append(h("h1", {}, t("setup.intake")), subnav("setup/intake", ctx.me));
  const { staff } = await api.get("/staff", { signal: ctx.signal });
  const name = h("input", { type: "text", id: "in-name", required: true, maxlength: "200", autocomplete: "off" });
  const phone = h("input", { type: "tel", id: "in-phone", required: true, autocomplete: "off", "aria-describedby": "in-phone-hint" });
  const channel = h("select", { id: "in-channel" }, ["whatsapp", "sms"].map((c) => h("option", { value: c }, t("channel." + c))));
  const lang = h("select", { id: "in-language" }, LANGUAGES.map((l) => h("option", { value: l, lang: l }, languageName(l))));
  const manager = h("select", { id: "in-manager" }, staff.filter((s) => hasCaseload(s.role) && s.active)
    .map((s) => h("option", { value: s.staff_id }, s.name || s.staff_id)));
  const form = h("form", { class: "grid-form", "aria-labelledby": "file-title" },
    h("h2", { id: "file-title" }, t("intake.file")),
    field(t("intake.name"), name),
    h("div", { class: "field" }, h("label", { for: phone.id }, t("intake.phone")), phone,
      h("p", { class: "hint", id: "in-phone-hint" }, t("intake.phone_hint"))),
    field(t("intake.channel"), channel),
    field(t("intake.language"), lang), field(t("intake.manager"), manager),
    h("button", { type: "submit", class: "primary" }, t("intake.create")));
  const consentBox = h("div", {});
  const errors = formErrors(form, { name, phone, channel, language: lang, case_manager_id: manager });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    try {
      const { data } = await api.post("/clients", { name: name.value.trim(), phone: phone.value.trim(), channel: channel.value,
        language: lang.value, case_manager_id: manager.value });
      ctx.notify(t("intake.created", { name: data.name }));
      clear(consentBox).append(consentForm(data, ctx));
      consentBox.querySelector("input").focus();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.api(err);
    }
  });
  view.append(form, consentBox);
}

function consentForm(client, ctx) {
  const version = h("input", { type: "text", id: "co-version", required: true, value: "CFN-CMDM-2026" });
  const signed = h("input", { type: "datetime-local", id: "co-signed", required: true });
  const sms = h("input", { type: "checkbox", id: "co-sms", checked: client.channel === "sms" });
  const whatsapp = h("input", { type: "checkbox", id: "co-whatsapp", checked: client.channel === "whatsapp" });
  const circle = h("textarea", { id: "co-circle", rows: "3" });
  const posts = h("input", { type: "checkbox", id: "co-posts" });
  const form = h("form", { class: "grid-form", "aria-labelledby": "consent-title" },
    h("h2", { id: "consent-title" }, t("intake.consent_for", { name: client.name })),
    field(t("intake.form_version"), version), field(t("intake.signed_at"), signed),
    h("fieldset", {}, h("legend", {}, t("intake.channels")),
      h("label", { class: "check" }, sms, " ", t("channel.sms")), h("label", { class: "check" }, whatsapp, " ", t("channel.whatsapp"))),
    field(t("intake.circle"), circle),
    h("label", { class: "check" }, posts, " ", t("intake.posts")),
    h("button", { type: "submit", class: "primary" }, t("intake.record")));
  const errors = formErrors(form, { form_version: version, signed_at: signed, channels: sms, circle_of_care: circle });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.clear();
    // The time typed is the agency's wall clock, sent without an offset: the server reads it in
    // the agency's zone with its pinned rules, never the browser's (SPEC §5.11).
    try {
      await api.put(`/clients/${encodeURIComponent(client.client_id)}/consent`, {
        form_version: version.value.trim(), signed_at: signed.value,
        channels: [sms.checked && "sms", whatsapp.checked && "whatsapp"].filter(Boolean),
        circle_of_care: circle.value.split("\n").map((x) => x.trim()).filter(Boolean), posts: posts.checked });
      ctx.notify(t("intake.recorded", { name: client.name }));
      form.replaceWith(h("p", { class: "done", role: "status" }, t("intake.recorded", { name: client.name }), " ",
        h("a", { href: `#/clients/${encodeURIComponent(client.client_id)}/file` }, t("intake.open_file"))));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.api(err);
    }
  });
  return form;
}
