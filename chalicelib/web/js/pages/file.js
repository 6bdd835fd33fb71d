// The client's file (issue 14 step 5): consent, status and warnings, absences covering it,
// follow-ups and survey scores, referrals; and what a worker may do to it (record consent, warn,
// change status). Everything comes from the JSON API and goes back through it: GET /clients/{id},
// GET /followups, PUT /clients/{id}/consent, POST /clients/{id}/warnings, PUT /clients/{id}/status.
// Which forms show is the role map's (roles.js): a supervisor reads the file; workers and
// administrators act on it, as the API lets them. Issue 22: withdrawing consent (with its
// reason) and closing the file are confirmed in a dialog naming the client; a form the API
// refuses keeps what was typed and says why next to the field.

import { api, ApiError } from "../api.js";
import { confirmAction } from "../dialog.js";
import { clear, clientText, field, formErrors, h } from "../dom.js";
import { calendarDay, channelName, languageName, localTime } from "../format.js";
import { t } from "../i18n.js";
import { can } from "../roles.js";
import { emergencyCard } from "../emergency.js";
import { notesRegion } from "./notes.js";

function row(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...(value.length && value.some((v) => v !== null && v !== "") ? value : [t("file.none")]))];
}

function section(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}


export async function render(view, ctx) {
  const clientId = ctx.params.clientId;
  const path = `/clients/${encodeURIComponent(clientId)}`;
  const zone = ctx.me.timezone;
  const may = (action) => can(ctx.me.role, action);

  async function load() {
    const [client, followups] = await Promise.all([
      api.get(path, { signal: ctx.signal }),
      api.get("/followups", { signal: ctx.signal })
        .catch((err) => (err instanceof ApiError ? { followups: [] } : Promise.reject(err))),
    ]);
    return { client, followups: (followups.followups || []).filter((f) => f.client_id === clientId) };
  }

  // An action of one of the forms: done, the file is drawn again; refused, the form keeps its
  // values and `errors` says why next to the field the API named (the API's own words).
  async function act(call, done, errors) {
    errors.clear();
    try {
      await call();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      errors.api(err);
      return false;
    }
    ctx.notify(done);
    await draw();
    return true;
  }

  async function draw() {
    const { client, followups } = await load();
    clear(view);
    const consent = client.consent;
    view.append(h("header", { class: "conv-head" },
      h("p", {}, h("a", { href: `#${path}` }, "← " + t("file.back"))),
      clientText("h1", t("file.title", { name: client.name }), { lang: client.language }),
      h("p", { class: "meta" }, [channelName(client.channel), languageName(client.language), client.phone].join(" · "))));

    // --- consent ---------------------------------------------------------------------------------
    const consentList = h("dl", { class: "facts" },
      row(t("file.consent_state"), t("file.consent." + consent.state)),
      row(t("intake.form_version"), consent.form_version || ""),
      row(t("intake.signed_at"), localTime(consent.signed_at, zone)),
      row(t("intake.channels"), consent.channels.map(channelName).join(", ")),
      row(t("intake.circle"), consent.circle_of_care.length ? h("ul", {}, consent.circle_of_care.map((p) => h("li", {}, p))) : ""),
      row(t("intake.posts"), consent.posts ? t("file.yes") : t("file.no")),
      consent.withdrawn_at ? row(t("file.withdrawn"), localTime(consent.withdrawn_at, zone), " — ", consent.withdrawn_reason || "") : null);
    const consentCard = section("file-consent", t("file.consent"), consentList);
    if (may("record_consent") && client.status !== "closed") consentCard.append(consentForm(client));
    if (may("withdraw_consent") && consent.state === "given") consentCard.append(withdrawForm(client));

    // --- status and conduct ----------------------------------------------------------------------
    const statusCard = section("file-status", t("file.status"), h("dl", { class: "facts" },
      row(t("file.status"), t("file.status." + client.status), client.status_reason ? ` — ${client.status_reason}` : ""),
      client.closed_at ? row(t("file.closed_at"), localTime(client.closed_at, zone)) : null,
      row(t("file.warnings"), String(client.warnings), client.flagged_for_meeting ? ` — ${t("file.flagged")}` : ""),
      row(t("file.messaging"), client.can_message ? t("file.can_message") : client.messaging_refusal || ""),
      client.opted_out ? row(t("file.opted_out"), t("file.yes")) : null,
      row(t("file.open_inquiry"), client.open_inquiry
        ? t("file.inquiry_due", { time: localTime(client.open_inquiry.due_at, zone) }) : "")));
    if (may("warn") && client.status === "active") statusCard.append(warnForm());
    if (may("change_status")) statusCard.append(statusForm(client));

    // --- absences --------------------------------------------------------------------------------
    const absences = client.absences || [];
    const absenceCard = section("file-absences", t("file.absences"), absences.length
      ? h("ul", {}, absences.map((a) => h("li", {}, t("file.absence", {
        from: calendarDay(a.start), to: calendarDay(a.end), cover: a.cover_name || a.cover_id }), a.note ? ` (${a.note})` : "")))
      : h("p", {}, t("file.no_absences")));

    // --- follow-ups and surveys ------------------------------------------------------------------
    const upcoming = h("dl", { class: "facts" },
      row(t("file.next_followup"), localTime(client.next_followup_at, zone)),
      row(t("file.next_checkin"), localTime(client.next_checkin_at, zone)),
      row(t("file.next_survey"), localTime(client.next_survey_at, zone)));
    const sent = followups.length
      ? h("table", { class: "data", "aria-label": t("file.followups_sent") },
        h("thead", {}, h("tr", {}, [t("file.kind"), t("file.sent_at"), t("file.reply"), t("file.score")].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, followups.map((f) => h("tr", {},
          h("td", {}, t("kind." + f.kind)), h("td", {}, localTime(f.at, zone)),
          h("td", {}, f.replied ? localTime(f.replied_at, zone) : t("file.no_reply")),
          h("td", {}, f.score === undefined || f.score === null ? "" : `${f.score} / 5`)))))
      : h("p", {}, t("file.no_followups"));
    const followCard = section("file-followups", t("file.followups"), upcoming, sent);

    // --- referrals -------------------------------------------------------------------------------
    const referrals = client.referrals || [];
    const referralCard = section("file-referrals", t("file.referrals"), referrals.length
      ? h("ul", {}, referrals.map((r) => h("li", {}, t("file.referral", { to: r.to, service: r.service || "", at: localTime(r.at, zone) }))))
      : h("p", {}, t("file.no_referrals")));

    view.append(h("div", { class: "file-grid" }, consentCard, statusCard,
      emergencyCard(client, { me: ctx.me, path, act }), absenceCard, followCard, referralCard, notesRegion(ctx, path)));
  }

  function consentForm(client) {
    const consent = client.consent;
    const version = h("input", { type: "text", id: "fc-version", required: true, value: consent.form_version || "" });
    const signed = h("input", { type: "datetime-local", id: "fc-signed", required: true });
    const boxes = ["sms", "whatsapp"].map((c) => h("input", { type: "checkbox", id: `fc-${c}`, value: c,
      checked: consent.channels.includes(c) || (!consent.channels.length && client.channel === c) }));
    const circle = h("textarea", { id: "fc-circle", rows: "3" }, consent.circle_of_care.join("\n"));
    const posts = h("input", { type: "checkbox", id: "fc-posts", checked: consent.posts });
    const form = h("form", { class: "grid-form", "aria-labelledby": "fc-title" },
      h("h3", { id: "fc-title" }, consent.state === "given" ? t("file.consent_again") : t("file.consent_record")),
      field(t("intake.form_version"), version), field(t("intake.signed_at"), signed),
      h("fieldset", {}, h("legend", {}, t("intake.channels")),
        boxes.map((b) => h("label", { class: "check" }, b, " ", channelName(b.value)))),
      field(t("intake.circle"), circle),
      h("label", { class: "check" }, posts, " ", t("intake.posts")),
      h("button", { type: "submit", class: "primary" }, t("intake.record")));
    const errors = formErrors(form, { form_version: version, signed_at: signed, channels: boxes[0], circle_of_care: circle });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The agency's wall clock, sent without an offset: the server converts it with its own
      // time-zone rules, never the browser's (SPEC §5.11).
      const at = signed.value;
      act(() => api.put(`${path}/consent`, {
        form_version: version.value.trim(), signed_at: at,
        channels: boxes.filter((b) => b.checked).map((b) => b.value),
        circle_of_care: circle.value.split("\n").map((x) => x.trim()).filter(Boolean), posts: posts.checked,
      }), t("intake.recorded", { name: client.name }), errors);
    });
    return form;
  }

  // Withdrawing consent stops all messaging: a dialog names the client, says so, and asks the
  // reason (required) before the API is called.
  function withdrawForm(client) {
    const form = h("form", { class: "inline-form", "aria-label": t("file.withdraw") },
      h("button", { type: "submit", class: "danger" }, t("file.withdraw_button")));
    const errors = formErrors(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errors.clear();
      try {
        const done = await confirmAction({
          title: t("confirm.withdraw_title", { name: client.name }),
          consequence: t("confirm.withdraw_body", { name: client.name }),
          confirm: t("file.withdraw_button"),
          reason: { label: t("confirm.withdraw_reason") },
          run: (reason) => api.del(`${path}/consent`, { reason }),
        });
        if (!done) return;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.api(err);
        return;
      }
      ctx.notify(t("file.withdrawn_done"));
      await draw();
    });
    return form;
  }

  function warnForm() {
    const reason = h("input", { type: "text", id: "fwarn-reason", maxlength: 500 });
    const form = h("form", { class: "inline-form", "aria-labelledby": "fwarn-title" },
      h("h3", { id: "fwarn-title" }, t("file.warn")), field(t("file.warn_reason"), reason),
      h("button", { type: "submit" }, t("file.warn_button")));
    const errors = formErrors(form, { reason });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(() => api.post(`${path}/warnings`, { reason: reason.value.trim() }), t("file.warned"), errors);
    });
    return form;
  }

  function statusForm(client) {
    const status = h("select", { id: "fs-status" }, ["active", "suspended", "closed"].map((s) =>
      h("option", { value: s, selected: s === client.status }, t("file.status." + s))));
    const reason = h("input", { type: "text", id: "fs-reason", maxlength: 500 });
    const conduct = h("input", { type: "checkbox", id: "fs-conduct" });
    const form = h("form", { class: "inline-form", "aria-labelledby": "fs-title" },
      h("h3", { id: "fs-title" }, t("file.change_status")), field(t("file.new_status"), status),
      field(t("file.reason"), reason), h("label", { class: "check" }, conduct, " ", t("file.conduct")),
      h("button", { type: "submit" }, t("file.change_button")));
    const errors = formErrors(form, { status, reason, conduct });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { status: status.value, conduct: conduct.checked };
      if (reason.value.trim()) body.reason = reason.value.trim();
      const change = () => api.put(`${path}/status`, body);
      const done = t("file.status_changed", { status: t("file.status." + status.value) });
      if (status.value !== "closed" || client.status === "closed") {
        act(change, done, errors);
        return;
      }
      // Closing the file ends the service: asked first, naming the client and what follows.
      errors.clear();
      try {
        const confirmed = await confirmAction({
          title: t("confirm.close_title", { name: client.name }),
          consequence: t(conduct.checked ? "confirm.close_body_conduct" : "confirm.close_body", { name: client.name }),
          confirm: t("confirm.close_button"),
          run: change,
        });
        if (!confirmed) return;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        errors.api(err);
        return;
      }
      ctx.notify(done);
      await draw();
    });
    return form;
  }

  await draw();
}
