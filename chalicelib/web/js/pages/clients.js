// The Clients page (SPEC §4.6, issue 22): the caller's whole caseload, waiting or not. A searchbox
// named `Search clients` (part of a name, or a phone number in any format: the server reads it),
// a labelled filter, and a list named `Clients`, most recent activity first, each item named with
// the client's name and showing where the file stands, its waiting clock and its last activity in
// the agency's zone. "More" fetches the next page (GET /clients `next`). Opening an item shows the
// client's Conversation, where the case manager can write even when nothing is waiting.
// The search and the filter live in the page's address (#/clients?q=…&filter=…), so Back returns
// to the same list.

import { api } from "../api.js";
import { clear, clientText, h } from "../dom.js";
import { channelName, languageName, localTime, shortTime } from "../format.js";
import { language, t } from "../i18n.js";
import { rememberWorklist } from "../shortcuts.js";

const FILTERS = ["", "waiting", "no_consent", "opted_out", "closed"];
const TYPING_MS = 250;

// Where the file stands, in words (the server's fields: status, consent, opted_out, open_inquiry).
function stateText(client, zone) {
  if (client.status !== "active") return t("clients.state." + client.status);
  if (client.opted_out) return t("clients.state.opted_out");
  if (client.consent.state === "withdrawn") return t("clients.state.withdrawn");
  if (!client.consent.channels.includes(client.channel)) return t("clients.state.no_consent");
  const inquiry = client.open_inquiry;
  if (inquiry) {
    const key = inquiry.status === "breached" ? "clients.state.overdue" : "clients.state.waiting";
    return t(key, { due: shortTime(inquiry.due_at, zone) });
  }
  return t("clients.state.active");
}

function item(client, me) {
  const id = client.client_id;
  const waiting = client.open_inquiry && client.status === "active";
  const cls = ["client", waiting ? "waiting" : null, client.open_inquiry?.status === "breached" ? "overdue" : null,
    client.status !== "active" || client.opted_out ? "ended" : null].filter(Boolean).join(" ");
  return h("li", { class: cls, "aria-labelledby": `cl-name-${id} cl-state-${id}`, dataset: { clientId: id } },
    h("a", { href: `#/clients/${encodeURIComponent(id)}`, class: "client-row" },
      h("span", { class: "client-head" },
        clientText("span", client.name, { class: "name", id: `cl-name-${id}`, lang: client.language }),
        h("span", { class: "state", id: `cl-state-${id}` }, stateText(client, me.timezone))),
      h("span", { class: "meta" }, [channelName(client.channel), languageName(client.language)].join(" · "),
        " · ", h("bdi", { dir: "ltr" }, client.phone)),
      h("span", { class: "activity" },
        t("clients.last_activity", { time: localTime(client.last_activity_at, me.timezone) }))));
}

function countText(n) {
  const key = `clients.count.${new Intl.PluralRules(language()).select(n)}`;
  return t(t(key) === key ? "clients.count.other" : key, { n });
}

// The page's own query, from its address: "#/clients?q=587%20355&filter=waiting".
function readQuery() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const filter = params.get("filter") || "";
  return { q: params.get("q") || "", filter: FILTERS.includes(filter) ? filter : "" };
}

function keepQuery(q, filter) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (filter) params.set("filter", filter);
  const text = params.toString();
  history.replaceState(null, "", "#/clients" + (text ? "?" + text : ""));
}

function controls(initial) {
  const search = h("input", { type: "search", id: "clients-q", value: initial.q, autocomplete: "off",
    spellcheck: "false", "aria-describedby": "clients-q-hint", maxlength: 100 });
  const filter = h("select", { id: "clients-filter" },
    FILTERS.map((f) => h("option", { value: f, selected: f === initial.filter }, t("clients.filter." + (f || "all")))));
  const form = h("form", { class: "search clients-search", role: "search", novalidate: true },
    h("div", { class: "field grow" }, h("label", { for: "clients-q" }, t("clients.search")), search,
      h("span", { class: "meta", id: "clients-q-hint" }, t("clients.search_hint"))),
    h("div", { class: "field" }, h("label", { for: "clients-filter" }, t("clients.show")), filter));
  return { form, search, filter };
}

export async function render(view, ctx) {
  const initial = readQuery();
  const { form, search, filter } = controls(initial);
  const count = h("p", { class: "count", "aria-live": "polite" });
  const list = h("ul", { class: "clients", "aria-label": t("clients.list") });
  const more = h("button", { type: "button", hidden: true }, t("clients.more"));
  view.append(h("h1", {}, t("clients.title")), form, count, list, h("p", { class: "more" }, more));

  let generation = 0;
  let next = null;
  let shown = 0;

  // The first page of what the controls ask for; an answer to an older question is dropped.
  async function load(after = null) {
    const mine = after ? generation : ++generation;
    const q = search.value.trim();
    const data = await api.get("/clients", { signal: ctx.signal, query: { q, filter: filter.value, next: after } });
    if (mine !== generation) return;
    if (!after) {
      clear(list);
      shown = 0;
      keepQuery(q, filter.value);
    }
    for (const client of data.clients) list.append(item(client, ctx.me));
    shown += data.clients.length;
    rememberWorklist([...list.querySelectorAll("[data-client-id]")].map((el) => el.dataset.clientId),
      location.hash.slice(1) || "/clients");
    next = data.next;
    more.hidden = !next;
    count.textContent = shown ? countText(shown) : (q || filter.value ? t("clients.none") : t("clients.empty"));
  }

  const reload = () => load().catch((err) => { if (err.name !== "AbortError") ctx.notify(err.message, "error"); });
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(reload, TYPING_MS);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typing);
    reload();
  });
  filter.addEventListener("change", reload);
  more.addEventListener("click", async () => {
    more.disabled = true;
    const first = list.children.length;
    try {
      await load(next);
      list.children[first]?.querySelector("a")?.focus();  // keyboard users carry on from the new items
    } catch (err) {
      if (err.name !== "AbortError") ctx.notify(err.message, "error");
    } finally {
      more.disabled = false;
    }
  });
  ctx.signal.addEventListener("abort", () => clearTimeout(typing));
  await load();
}
