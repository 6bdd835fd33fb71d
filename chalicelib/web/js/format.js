// Showing what the server computed: instants in the agency's zone, durations, language names.
// Nothing here decides anything: due times, waits and send times all come from the API.

import { duration, language, locale, t } from "./i18n.js";

// The API writes every instant in the agency's own offset (2026-12-14T09:00:00-07:00): the wall
// clock in it is the server's, worked out with the server's time-zone rules. It is shown as it
// is, never converted again with the browser's rules (which may disagree, e.g. a zone whose
// daylight-saving law changed and a browser with older or newer data).
export function localTime(iso, zone, options = {}) {
  if (!iso) return "";
  const wall = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!wall) return iso;
  const [, y, mo, d, hh, mm] = wall.map(Number);
  const formatter = new Intl.DateTimeFormat(locale(), {
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

// A calendar day the API wrote as YYYY-MM-DD (an agency-local day): "Mon, Dec 14" / "lun. 14 déc.".
export function calendarDay(iso, options = { weekday: "short", month: "short", day: "numeric" }) {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!found) return iso || "";
  const [, y, m, d] = found.map(Number);
  return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", ...options }).format(new Date(Date.UTC(y, m - 1, d)));
}

// A period of agency-local days: "Mar 1 – 7, 2027" / "1 – 7 mars 2027".
export function dayRange(from, to) {
  const a = /^(\d{4})-(\d{2})-(\d{2})$/.exec(from || ""), b = /^(\d{4})-(\d{2})-(\d{2})$/.exec(to || "");
  if (!a || !b) return "";
  const day = (x) => new Date(Date.UTC(Number(x[1]), Number(x[2]) - 1, Number(x[3])));
  const format = new Intl.DateTimeFormat(locale(), { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
  return format.formatRange(day(a), day(b));
}

// A policy duration (ISO 8601, as the policy file writes it: "PT24H", "P5D", "PT90M") for a
// person: "24 hours", "5 days", "2 jours ouvrables" on a business-hours clock.
export function policyDuration(iso, clock = "calendar") {
  const found = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(iso || "");
  if (!found) return iso || "";
  const [days, hours, minutes] = found.slice(1).map((x) => Number(x || 0));
  const business = clock === "business_hours" ? "business_" : "";
  const parts = [];
  if (days) parts.push(t(`dur.${business}days`, { n: days }));
  if (hours) parts.push(t(`dur.${business}hours`, { n: hours }));
  if (minutes) parts.push(t(`dur.${business}minutes`, { n: minutes }));
  return parts.join(" ") || t(`dur.${business}hours`, { n: 0 });
}

// A count with its noun, by the language's plural rule: "1 inquiry", "3 demandes".
export function count(key, n) {
  return t(key, { n });
}
