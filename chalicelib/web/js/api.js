// Every request the console makes goes out here; no other module calls fetch(). Above all the
// JSON API, same origin, with the signed-in token: this module knows the base URL (the console
// lives at <api>/console/), the bearer token and the error shape {"error": {"code", "message",
// "field"?}}, for JSON answers (request, api.get/post/put/del) and text ones such as CSV reports
// (requestText, api.csv) alike. A 401 signs the user out (expired token). Besides the API: the
// console's own files (consoleJson), the presigned upload to the media bucket (uploadFile) and
// the sign-in service's token endpoint (postForm).

import { expire, idToken } from "./auth.js";
import { t } from "./i18n.js";

export const API_BASE = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function url(path, query = {}) {
  const target = new URL(path.replace(/^\//, ""), API_BASE);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target;
}

// The one call to fetch(): a network failure becomes ApiError "network" (an abort stays one).
async function send(target, init) {
  try {
    return await fetch(target, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", t("error.network"));
  }
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

// An API call: the answer's status, headers and text when it succeeded; else the API's error.
async function call(method, path, { body, query, signal, auth = true, headers: extra = {}, accept = "application/json" } = {}) {
  const headers = { Accept: accept, ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && idToken()) headers.Authorization = `Bearer ${idToken()}`;
  const response = await send(url(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
  });
  const text = await response.text();
  if (response.ok) return { status: response.status, headers: response.headers, text };
  const error = (parseJson(text) || {}).error || {};
  const failure = new ApiError(response.status, error.code || "http_" + response.status,
    error.message || t("error.unexpected", { status: response.status }), error.field || null);
  if (response.status === 401 && auth) expire();
  throw failure;
}

// A JSON answer: {status, data}.
export async function request(method, path, options = {}) {
  const { status, text } = await call(method, path, options);
  return { status, data: parseJson(text) };
}

// A text answer (a CSV report by default): {status, headers, text}; errors as request's.
export async function requestText(method, path, { accept = "text/csv", ...options } = {}) {
  return call(method, path, { ...options, accept });
}

// A file of the console itself (config.json, a language catalogue), as JSON: no token.
export async function consoleJson(href, init = {}) {
  const response = await send(new URL(href, document.baseURI), init);
  if (!response.ok) {
    throw new ApiError(response.status, "http_" + response.status, t("error.unexpected", { status: response.status }));
  }
  return response.json();
}

// A form POSTed to another service (the sign-in service's token endpoint), its JSON answer.
export async function postForm(target, fields) {
  const response = await send(target, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  const data = parseJson(await response.text());
  if (!response.ok || !data) throw new ApiError(response.status, "http_" + response.status, (data && data.error) || "refused");
  return data;
}

// A file straight to the media bucket with the presigned POST the API gave (POST /clients/{id}/uploads).
// The bucket is another origin: the response is opaque here, and the API checks the object arrived
// when the message is sent, answering in its own words if it did not.
export async function uploadFile(form, blob) {
  const data = new FormData();
  for (const [key, value] of Object.entries(form.fields)) data.append(key, value);
  data.append("file", blob);
  await send(form.url, { method: "POST", body: data, mode: "no-cors", credentials: "omit" });
}

export const api = {
  get: (path, options) => request("GET", path, options).then((r) => r.data),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }).then((r) => r.data),
  del: (path, body, options) => request("DELETE", path, { ...options, body }).then((r) => r.data),
  csv: (path, options) => requestText("GET", path, options),
};
