// Showing what the server computed: instants in the agency's zone, durations, language names.
// Nothing here decides anything: due times, waits and send times all come from the API.

import { duration, language, t } from "./i18n.js";

// The API writes every instant in the agency's own offset (2026-12-14T09:00:00-07:00): the wall
// clock in it is the server's, worked out with the server's time-zone rules. It is shown as it
// is, never converted again with the browser's rules (which may disagree, e.g. a zone whose
// daylight-saving law changed and a browser with older or newer data).
export function localTime(iso, zone, options = {}) {
  if (!iso) return "";
  const wall = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!wall) return iso;
  const [, y, mo, d, hh, mm] = wall.map(Number);
  const formatter = new Intl.DateTimeFormat(language() === "fr" ? "fr-CA" : "en-CA", {
    timeZone: "UTC", weekday: "long", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", ...options,
  });
  return formatter.format(new Date(Date.UTC(y, mo - 1, d, hh, mm)));
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
