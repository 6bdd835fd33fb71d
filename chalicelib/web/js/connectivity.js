// The shell's side of issue 23: the push channel and alerts while someone is signed in, the small
// "Live" / "Reconnecting" status in the header, the service worker that keeps the shell for
// offline use, and saying plainly when the network is gone.

import * as alerts from "./alerts.js";
import { t } from "./i18n.js";
import * as live from "./live.js";

const STATUS_TEXT = { up: "live.up", connecting: "live.connecting", down: "live.down", unavailable: "live.unavailable" };

function showStatus(next) {
  const box = document.getElementById("live-status");
  if (!box) return;
  const offline = !navigator.onLine;
  box.hidden = next === "off" && !offline;
  box.dataset.state = offline ? "offline" : next;
  box.textContent = offline ? t("live.offline_short") : (STATUS_TEXT[next] ? t(STATUS_TEXT[next]) : "");
}

// Signed in: open the socket, listen for alerts, show the button that turns them on.
export function signedIn() {
  alerts.setUpButton(document.getElementById("alert-switch"));
  alerts.start();
  live.start();
}

// Signed out (or the session expired): close the socket, stop alerts, hide the header's parts.
export function signedOut() {
  live.stop();
  alerts.stop();
  const button = document.getElementById("alert-switch");
  if (button) button.hidden = true;
}

// Redraw the header's words after a change of language.
export function relabel() {
  showStatus(live.liveStatus());
  const button = document.getElementById("alert-switch");
  if (button && !button.hidden) alerts.setUpButton(button);
}

// Once per page load: the status line, the service worker, the network's comings and goings.
// `notify` is the shell's notice; `back` runs when the network returns (the shell reloads what it could not).
export function boot({ notify, back }) {
  live.onStatus(showStatus);
  // A pushed change of the member's notifications (a crisis, a breach, an override) has the
  // header's Notifications control, the Reviews badge and the notifications page ask again.
  live.onEvent((event) => {
    if (event.type === "notifications_changed") window.dispatchEvent(new Event("cmdm:changed"));
  });
  showStatus(live.liveStatus());
  window.addEventListener("offline", () => {
    showStatus(live.liveStatus());
    notify(t("live.offline"), "error");
  });
  window.addEventListener("online", () => {
    showStatus(live.liveStatus());
    notify("");  // the "offline" error is over
    notify(t("live.online"));
    back();
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "open" && typeof event.data.hash === "string") location.hash = event.data.hash;
    });
    navigator.serviceWorker.register("sw.js").catch((err) => console.warn("service worker not registered", err));
  }
}

// Whether a failed request failed because the network is gone (not because the service refused).
export function isOffline(err) {
  return !navigator.onLine || (err && err.code === "network");
}
