// The only way the console reaches data: the JSON API, same origin, with the signed-in token.
// Knows the base URL (the console lives at <api>/console/), the bearer token and the error
// shape {"error": {"code", "message", "field"?}}. A 401 signs the user out (expired token).

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

export async function request(method, path, { body, query, signal, auth = true, headers: extra = {} } = {}) {
  const headers = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && idToken()) headers.Authorization = `Bearer ${idToken()}`;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", t("error.network"));
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return { status: response.status, data };
  const error = (data && data.error) || {};
  const failure = new ApiError(response.status, error.code || "http_" + response.status,
    error.message || t("error.unexpected", { status: response.status }), error.field || null);
  if (response.status === 401 && auth) expire();
  throw failure;
}

// A file straight to the media bucket with the presigned POST the API gave (POST /clients/{id}/uploads).
// The bucket is another origin: the response is opaque here, and the API checks the object arrived
// when the message is sent, answering in its own words if it did not.
export async function uploadFile(form, blob) {
  const data = new FormData();
  for (const [key, value] of Object.entries(form.fields)) data.append(key, value);
  data.append("file", blob);
  try {
    await fetch(form.url, { method: "POST", body: data, mode: "no-cors", credentials: "omit" });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
}

export const api = {
  get: (path, options) => request("GET", path, options).then((r) => r.data),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }).then((r) => r.data),
  del: (path, body, options) => request("DELETE", path, { ...options, body }).then((r) => r.data),
};
