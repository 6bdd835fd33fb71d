// Showing what the server computed: instants in the agency's zone, durations, language names.
// Nothing here decides anything: due times, waits and send times all come from the API.

import { duration, language, t } from "./i18n.js";

export function localTime(iso, zone, options = {}) {
  if (!iso) return "";
  const formatter = new Intl.DateTimeFormat(language() === "fr" ? "fr-CA" : "en-CA", {
    timeZone: zone, weekday: "long", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", ...options,
  });
  return formatter.format(new Date(iso));
}

export function shortTime(iso, zone) {
  return localTime(iso, zone, { weekday: "short", month: undefined, day: undefined });
}

export function languageName(code) {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(code) || code;
  } catch {
    return code;
  }
}

export function channelName(channel) {
  return t("channel." + channel);
}

export function clockText(item) {
  const waited = t("inbox.waited", { time: duration(item.waited_seconds) });
  const left = item.overdue
    ? t("inbox.overdue", { time: duration(-item.seconds_left) })
    : t("inbox.left", { time: duration(item.seconds_left) });
  return `${waited} · ${left}`;
}
