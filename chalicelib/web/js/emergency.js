// The client's emergency contact on the file page (SPEC §4.4, §5.9): whom the client agreed may be
// called in a crisis, shown with every crisis in the conversation. The case manager (or an
// administrator) records it: PUT /clients/{id}/emergency-contact {"name", "phone", "relation"};
// the phone may be typed in national format, the API stores it in E.164.

import { api } from "./api.js";
import { clientText, field, formErrors, h } from "./dom.js";
import { t } from "./i18n.js";
import { can } from "./roles.js";

export function emergencyCard(client, { me, path, act }) {
  const contact = client.emergency_contact;
  const card = h("section", { class: "card", "aria-labelledby": "file-emergency" },
    h("h2", { id: "file-emergency" }, t("ec.title")),
    contact
      ? h("dl", { class: "facts" },
        h("dt", {}, t("ec.name")), h("dd", {}, clientText("span", contact.name)),
        h("dt", {}, t("ec.phone")), h("dd", {}, contact.phone),
        h("dt", {}, t("ec.relation")), h("dd", {}, clientText("span", contact.relation)))
      : h("p", {}, t("ec.none")));
  if (!can(me.role, "emergency_contact") || client.status === "closed") return card;
  const name = h("input", { type: "text", id: "ec-name", required: true, maxlength: 100, value: contact?.name || "" });
  const phone = h("input", { type: "tel", id: "ec-phone", required: true, maxlength: 30, value: contact?.phone || "" });
  const relation = h("input", { type: "text", id: "ec-relation", required: true, maxlength: 60, value: contact?.relation || "" });
  const form = h("form", { class: "inline-form", "aria-labelledby": "ec-form-title" },
    h("h3", { id: "ec-form-title" }, contact ? t("ec.change") : t("ec.record")),
    field(t("ec.name"), name), field(t("ec.phone"), phone), field(t("ec.relation"), relation),
    h("p", { class: "meta" }, t("ec.agreement")),
    h("button", { type: "submit" }, t("ec.save")));
  // A refused field is named beside it (the API's `field`), and what was typed stays.
  const errors = formErrors(form, { name, phone, relation });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => api.put(`${path}/emergency-contact`, {
      name: name.value.trim(), phone: phone.value.trim(), relation: relation.value.trim(),
    }), t("ec.saved"), errors);
  });
  card.append(form);
  return card;
}
