// System notifications (issue 23): a new client message for the worker's own files (or those they
// cover) and a crisis, raised while the console is open or in a background tab. The worker turns
// them on with a button (never a prompt on load). Whether an event deserves one is the server's
// decision, sent as `alert` on the pushed event: only within the worker's hours (the agency open,
// the worker not away), and a crisis at any hour for whom it concerns (the on-call person after
// hours). The notification names the client only after the API confirms the worker may see them.

import { api } from "./api.js";
import { t } from "./i18n.js";
import { onEvent } from "./live.js";

const supported = () => "Notification" in window;
let stopListening = null;

function label(button) {
  const permission = supported() ? Notification.permission : "denied";
  button.hidden = !supported();
  button.disabled = permission !== "default";
  button.textContent = permission === "granted" ? t("alerts.on") : permission === "denied" ? t("alerts.blocked") : t("alerts.turn_on");
}

// The header's button: shows the state, asks for permission only when pressed.
export function setUpButton(button) {
  if (!button) return;
  label(button);
  button.onclick = async () => {
    if (!supported() || Notification.permission !== "default") return;
    await Notification.requestPermission();
    label(button);
  };
}

async function clientName(clientId) {
  try {
    const client = await api.get(`/clients/${encodeURIComponent(clientId)}`);
    return client.name || null;
  } catch {
    return null;
  }
}

async function raise(event) {
  if (!supported() || Notification.permission !== "granted") return;
  const name = event.client_id ? await clientName(event.client_id) : null;
  const crisis = event.alert === "crisis";
  const body = crisis ? (name ? t("alerts.crisis_from", { name }) : t("alerts.crisis")) : (name ? t("alerts.message_from", { name }) : t("alerts.message"));
  const options = { body, tag: `${event.alert}:${event.client_id || ""}`, renotify: true, requireInteraction: crisis,
    data: { hash: event.client_id ? `#/clients/${encodeURIComponent(event.client_id)}` : "#/inbox" } };
  const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration() : null;
  if (registration) {
    await registration.showNotification(t("alerts.title"), options);
  } else {
    const note = new Notification(t("alerts.title"), options);
    note.onclick = () => { window.focus(); location.hash = options.data.hash; };
  }
}

// Listen while signed in (main.js): each pushed event that carries an alert raises one notification.
export function start() {
  stop();
  stopListening = onEvent((event) => {
    if (event.alert === "message" || event.alert === "crisis") raise(event).catch((err) => console.warn(err));
  });
}

export function stop() {
  if (stopListening) stopListening();
  stopListening = null;
}
