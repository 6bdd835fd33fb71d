// The console's shell: configuration, sign-in state, the Main navigation and the page router.

import * as auth from "./auth.js";
import { api, ApiError, consoleJson } from "./api.js";
import { clearAllDrafts } from "./drafts.js";
import * as connectivity from "./connectivity.js";
import { h, clear } from "./dom.js";
import { setLanguage, savedLanguage, language, t } from "./i18n.js";
import { canOpen, mainNav } from "./roles.js";
import { mountControl, refreshCounts } from "./notifications.js";
import { currentPath, match, navigate } from "./router.js";
import { afterRender, forgetWorklist, installShortcuts, showHelp } from "./shortcuts.js";

const state = { config: null, me: null, controller: null, generation: 0, offline: false };
const view = document.getElementById("main");
export const TOAST_MS = 6_000;
let toastTimer = null;

// What the console says about an action. Information goes to the status region and leaves by
// itself after a few seconds; an error stays, announced as an alert, until dismissed (or until
// the next error takes its place). notify("") clears both.
export function notify(message, kind = "info") {
  const status = document.getElementById("notice");
  const alerts = document.getElementById("alerts");
  if (!message) {
    clear(status);
    clear(alerts);
    return;
  }
  if (kind === "error") {
    const dismiss = h("button", { type: "button", class: "dismiss", "aria-label": t("shell.dismiss") }, "×");
    const toast = h("div", { class: "toast toast-error", role: "alert" }, h("p", {}, message), dismiss);
    dismiss.addEventListener("click", () => toast.remove());
    clear(alerts).append(toast);
    return;
  }
  clearTimeout(toastTimer);
  clear(status).append(h("p", { class: "toast" }, message));
  toastTimer = setTimeout(() => clear(status), TOAST_MS);
}

// What a page says goes through the notice only while the session it was drawn for lasts: once
// an API call met a 401, the shell has said why (the session ended) and the sign-in page is next.
function pageNotify(me) {
  return (message, kind) => {
    if (state.me === me) notify(message, kind);
  };
}

function renderShell() {
  const nav = document.getElementById("nav");
  const links = clear(document.getElementById("nav-links"));
  const signout = document.getElementById("signout");
  const who = document.getElementById("who");
  const agency = document.getElementById("agency");
  nav.hidden = !state.me;
  signout.hidden = !state.me;
  const help = document.getElementById("help");
  help.hidden = !state.me;
  help.setAttribute("aria-label", t("shell.shortcuts"));
  help.title = t("shell.shortcuts");
  who.textContent = state.me ? t("shell.signed_in_as", { name: state.me.name, role: t("role." + state.me.role) }) : "";
  agency.textContent = state.me ? state.me.agency_name : "";
  mountControl(Boolean(state.me));  // `Notifications, N unread`, for every role (issue 23)
  if (!state.me) return;
  const path = currentPath().split("?")[0];
  for (const item of mainNav(state.me.role)) {  // the role map's links, in order
    const current = path === item.path || (item.path === "/inbox" && path.startsWith("/clients/"));
    const link = h("a", { href: "#" + item.path, "aria-current": current ? "page" : null }, t(item.label));
    links.append(h("li", {}, link));
    if (item.badge) link.dataset.badge = item.badge;  // filled by refreshCounts()
  }
  refreshCounts();
}

async function loadMe() {
  try {
    state.me = await api.get("/me");
    state.offline = false;
    connectivity.signedIn();
  } catch (err) {
    state.me = null;
    if (connectivity.isOffline(err)) {  // the network is gone: keep the session, say so (issue 23)
      state.offline = true;
      notify(t("live.offline"), "error");
      return;
    }
    if (err instanceof ApiError && err.status !== 401) {
      notify(err.message, "error");
      auth.signOut(null);
    }
  }
}

async function route() {
  if (state.controller) state.controller.abort();
  state.controller = new AbortController();
  if (state.offline && !state.me) {  // no network, no page: the shell says so (the notice too)
    renderShell();
    clear(view).append(h("p", { class: "error" }, t("live.offline")));
    return;
  }
  let path = currentPath();
  if (!state.me && path !== "/signin") path = "/signin";
  if (state.me && path === "/signin") path = "/inbox";
  if (("#" + path) !== location.hash) history.replaceState(null, "", "#" + path);
  let found = match(path);
  if (!found || (!found.route.public && !canOpen(state.me.role, found.route.page))) {
    if (found) notify(t("error.not_for_role"), "error");  // issue 15: say why, then show the Inbox
    found = match("/inbox");
    history.replaceState(null, "", "#/inbox");
  }
  renderShell();
  // Each page draws into its own element: a page left half-drawn by a quicker navigation is
  // detached and cannot write over the next one.
  const mine = ++state.generation;
  const root = h("div", { class: "page" });
  clear(view).append(root);
  const ctx = {
    params: found.params, me: state.me, config: state.config, signal: state.controller.signal,
    navigate, notify: pageNotify(state.me), signedIn: onSignedIn,
  };
  try {
    const page = await import(`./pages/${found.route.page}.js`);
    if (mine !== state.generation) return;
    await page.render(root, ctx);
    if (mine === state.generation) afterRender();
  } catch (err) {
    if (err.name === "AbortError" || mine !== state.generation) return;
    clear(root);
    root.append(h("p", { class: "error", role: "alert" }, err instanceof ApiError ? err.message : t("error.page")));
    if (!(err instanceof ApiError)) console.warn(err);
  }
}

async function onSignedIn(token) {
  auth.store(token);
  await loadMe();
  notify("");
  navigate("/inbox");
}

// A request aborted because its page was left (ctx.signal) is not an error, wherever it was
// awaited (a form's handler that redraws the page after its action, for instance).
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason && event.reason.name === "AbortError") event.preventDefault();
});

async function boot() {
  state.config = await consoleJson("config.json", { cache: "no-store" });
  await setLanguage(savedLanguage());
  const select = document.getElementById("lang");
  select.value = language();
  select.addEventListener("change", async () => {
    await setLanguage(select.value);
    connectivity.relabel();
    route();
  });
  document.getElementById("signout").addEventListener("click", () => auth.signOut(state.config));
  document.getElementById("help").addEventListener("click", () => showHelp());
  installShortcuts({ me: () => state.me, notify: (message, kind) => notify(message, kind) });
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    view.focus();
  });
  auth.onSignedOut((why) => {
    connectivity.signedOut();
    state.me = null;
    if (why === "signed_out") {  // the machine may be shared: what this tab kept of the session goes
      clearAllDrafts();
      forgetWorklist();
    }
    notify(why === "expired" ? t("signin.expired") : t("signin.signed_out"), why === "expired" ? "error" : "info");
    navigate("/signin");
  });
  connectivity.boot({
    notify,
    back: async () => {
      if (!state.offline) return;
      if (auth.idToken()) await loadMe();
      route();
    },
  });
  try {
    await auth.captureFromUrl(state.config);
  } catch (err) {
    notify(err.message, "error");
  }
  if (auth.idToken()) await loadMe();
  window.addEventListener("hashchange", route);
  await route();
}

boot();
