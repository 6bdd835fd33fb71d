// The console's words: one JSON catalogue per language in ../i18n/, switchable at any time.
// Keys are "area.name"; {name} placeholders are filled from the values given to t(). A text that
// depends on a count is an object of plural forms ({"one": "...", "other": "..."}), chosen by the
// language's own rule (Intl.PluralRules) for the value `n`: "1 inquiry", "2 inquiries", "0 demande".

import { consoleJson } from "./api.js";

export const LANGUAGES = ["en", "fr"];
const STORE_KEY = "cmdm.language";
let current = "en";
let catalogue = {};
let fallback = {};
let rules = new Intl.PluralRules("en");

async function load(lang) {
  try {
    return await consoleJson(new URL(`../i18n/${lang}.json`, import.meta.url));
  } catch {
    throw new Error(`catalogue ${lang} missing`);
  }
}

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = "en";
  if (!Object.keys(fallback).length) fallback = await load("en");
  catalogue = lang === "en" ? fallback : await load(lang);
  current = lang;
  rules = new Intl.PluralRules(lang);
  localStorage.setItem(STORE_KEY, lang);
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export function savedLanguage() {
  return localStorage.getItem(STORE_KEY) || "en";
}

export function language() {
  return current;
}

// The locale for Intl formatters: Canadian English or French.
export function locale() {
  return current === "fr" ? "fr-CA" : "en-CA";
}

function pick(entry, values) {
  if (entry === null || typeof entry !== "object") return entry;
  const form = typeof values.n === "number" ? rules.select(values.n) : "other";
  return entry[form] ?? entry.other;
}

// The text of `key` with its placeholders filled. A value that ends a sentence with its own full
// stop ("9:00 a.m.") takes the place of the catalogue's stop: never "a.m..".
export function t(key, values = {}) {
  const text = pick(catalogue[key] ?? fallback[key], values);
  if (typeof text !== "string") {
    console.warn(`no text for ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}(\.?)/g, (whole, name, stop) => {
    if (!(name in values)) return whole;
    const value = String(values[name]);
    return stop && value.endsWith(".") ? value : value + stop;
  });
}

// Does the catalogue have a text for `key` (e.g. a translated audit event type)?
export function has(key) {
  return key in catalogue || key in fallback;
}

// Durations the server computed (seconds): "3 h 20 min", "2 d 4 h".
export function duration(seconds) {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), min = Math.floor((s % 3600) / 60);
  if (d) return t("time.days_hours", { d, h: hr });
  if (hr) return t("time.hours_minutes", { h: hr, m: min });
  return t("time.minutes", { m: min });
}

// Join a list the language's way: "a, b and c" / "a, b et c".
export function list(items) {
  try {
    return new Intl.ListFormat(locale(), { style: "long", type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}
