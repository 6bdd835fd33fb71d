// Keyboard shortcuts (issue 22), active only outside text fields and dialogs: `j`/`k` (or
// Alt+ArrowDown/Up) move to the next or previous conversation of the list the worker came from,
// `/` focuses the page's search, `?` shows this list. Ctrl+Enter (Cmd+Enter) sends from the
// Message box: conversation.js handles it there, in the field. Letters typed in a field are text,
// never a shortcut (in `Message`, `/` belongs to the composer).

import { api } from "./api.js";
import { dialogOpen, infoDialog } from "./dialog.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { canOpen } from "./roles.js";
import { currentPath, match, navigate } from "./router.js";

const WORKLIST = "cmdm.worklist";
const WORKLIST_FROM = "cmdm.worklist.from";
let focusSearchNext = false;

// The order of the list a worker opens conversations from (the Inbox, the Clients page): the
// client ids, so `j`/`k` in a conversation open its neighbours, and the list's own path (with its
// search), so the conversation's way back leads there.
export function rememberWorklist(clientIds, from = "/inbox") {
  sessionStorage.setItem(WORKLIST, JSON.stringify(clientIds));
  sessionStorage.setItem(WORKLIST_FROM, from);
}

// The path of the list a conversation was opened from: the Inbox unless the client is on the
// Clients page's list last shown.
export function worklistOrigin(clientId) {
  const from = sessionStorage.getItem(WORKLIST_FROM) || "/inbox";
  return worklist().includes(clientId) ? from : "/inbox";
}

// Sign-out: the list goes with the session.
export function forgetWorklist() {
  sessionStorage.removeItem(WORKLIST);
  sessionStorage.removeItem(WORKLIST_FROM);
}

function worklist() {
  try {
    return JSON.parse(sessionStorage.getItem(WORKLIST) || "[]");
  } catch {
    return [];
  }
}

function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

// The search field of the page shown, if it has one.
function searchField() {
  return document.querySelector("main input[type=search], main [role=search] input, main [role=searchbox]");
}

function focusSearch(ctx) {
  const field = searchField();
  if (field) {
    field.focus();
    if (typeof field.select === "function") field.select();
    return;
  }
  // No search here: the Clients page has one, where the role map gives it.
  if (match("/clients") && ctx.me() && canOpen(ctx.me().role, match("/clients").route.page)) {
    focusSearchNext = true;
    navigate("/clients");
  }
}

// A list page: focus moves between the links of its items (`data-worklist` on the list).
function stepInList(list, delta) {
  const links = [...list.querySelectorAll("a[data-client-id]")];
  if (!links.length) return;
  const at = links.indexOf(document.activeElement);
  const next = at < 0 ? (delta > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + delta));
  links[next].focus();
}

// A conversation: open the neighbour in the list the worker came from (the Inbox by default).
async function stepConversation(clientId, delta, ctx) {
  let ids = worklist();
  if (!ids.includes(clientId)) {
    const inbox = await api.get("/inbox");
    ids = inbox.items.map((item) => item.client_id);
    rememberWorklist(ids);
  }
  const at = ids.indexOf(clientId);
  const target = at < 0 ? ids[delta > 0 ? 0 : ids.length - 1] : ids[at + delta];
  if (target) navigate(`/clients/${encodeURIComponent(target)}`);
  else ctx.notify(delta > 0 ? t("keys.last") : t("keys.first"));
}

function step(delta, ctx) {
  const list = document.querySelector("main [data-worklist]");
  if (list) return stepInList(list, delta);
  const found = match(currentPath());
  if (found && found.route.page === "conversation") {
    stepConversation(found.params.clientId, delta, ctx).catch((err) => ctx.notify(err.message, "error"));
  }
}

export function showHelp() {
  const rows = [
    [["j"], ["Alt", "↓"], "keys.next"],
    [["k"], ["Alt", "↑"], "keys.previous"],
    [["/"], null, "keys.search"],
    [["Ctrl", "Enter"], ["⌘", "Enter"], "keys.send"],
    [["?"], null, "keys.help"],
    [["Esc"], null, "keys.close"],
  ];
  const keys = (combo) => combo.map((k, i) => [i ? "+" : "", h("kbd", {}, k)]);
  const table = h("table", { class: "keys" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("keys.keys")), h("th", { scope: "col" }, t("keys.does")))),
    h("tbody", {}, rows.map(([main, other, label]) => h("tr", {},
      h("td", {}, keys(main), other ? [" ", t("keys.or"), " ", keys(other)] : null),
      h("td", {}, t(label))))));
  return infoDialog({ title: t("keys.title"), content: [h("p", {}, t("keys.intro")), table], className: "help" });
}

// Listen for the shortcuts on the whole document. `ctx`: {me(), notify}.
export function installShortcuts(ctx) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing || dialogOpen() || typing(event.target) || !ctx.me()) return;
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    let act = null;
    if (plain && event.key === "j") act = () => step(1, ctx);
    else if (plain && event.key === "k") act = () => step(-1, ctx);
    else if (event.altKey && !event.ctrlKey && !event.metaKey && event.key === "ArrowDown") act = () => step(1, ctx);
    else if (event.altKey && !event.ctrlKey && !event.metaKey && event.key === "ArrowUp") act = () => step(-1, ctx);
    else if (plain && event.key === "/") act = () => focusSearch(ctx);
    else if (!event.ctrlKey && !event.metaKey && !event.altKey && event.key === "?") act = () => showHelp();
    if (!act) return;
    event.preventDefault();
    act();
  });
}

// After a page is drawn: the search asked for with `/` before the page that has it was open.
export function afterRender() {
  if (!focusSearchNext) return;
  focusSearchNext = false;
  const field = searchField();
  if (field) field.focus();
}
