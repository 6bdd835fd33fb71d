// The console's words: one JSON catalogue per language in ../i18n/, switchable at any time.
// Keys are "area.name"; {name} placeholders are filled from the values given to t().

import { consoleJson } from "./api.js";

export const LANGUAGES = ["en", "fr"];
const STORE_KEY = "cmdm.language";
let current = "en";
let catalogue = {};
let fallback = {};

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

export function t(key, values = {}) {
  const text = catalogue[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// Durations the server computed (seconds): "3 h 20 min", "2 d 4 h".
export function duration(seconds) {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), min = Math.floor((s % 3600) / 60);
  if (d) return t("time.days_hours", { d, h: hr });
  if (hr) return t("time.hours_minutes", { h: hr, m: min });
  return t("time.minutes", { m: min });
}
