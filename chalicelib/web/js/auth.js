// Who is signed in. The ID token lives in sessionStorage only (this tab, gone when it closes):
// never a cookie, never a log line. Stages: "local"/"test" sign in from a list of seeded staff or
// with /console/#id_token=<JWT> (SPEC §4.6); "aws" uses Cognito's hosted UI with the
// authorization code flow and PKCE (the code verifier never leaves this tab).

import { postForm } from "./api.js";

const TOKEN = "cmdm.id_token";
const RECEIVED = "cmdm.token_received_ms";
const PKCE = "cmdm.pkce";
let expiryTimer = null;
const listeners = new Set();

export function onSignedOut(listener) {
  listeners.add(listener);
}

function decodePart(part) {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const text = atob(b64 + "===".slice((b64.length + 3) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
}

export function claims() {
  const token = idToken();
  if (!token) return null;
  try {
    return decodePart(token.split(".")[1]);
  } catch {
    return null;
  }
}

export function idToken() {
  return sessionStorage.getItem(TOKEN);
}

// The token's lifetime (exp - iat) counted from when this tab received it, so a browser whose
// clock disagrees with the server's still signs out when the server would refuse the token.
function armExpiry() {
  clearTimeout(expiryTimer);
  const c = claims();
  if (!c || !c.exp) return;
  const lifetime = c.iat ? (c.exp - c.iat) * 1000 : (c.exp * 1000 - Date.now());
  const received = Number(sessionStorage.getItem(RECEIVED) || Date.now());
  const left = received + lifetime - Date.now();
  if (left <= 0) return expire();
  if (left < 2 ** 31 - 1) expiryTimer = setTimeout(expire, left);
}

export function store(token) {
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.setItem(RECEIVED, String(Date.now()));
  armExpiry();
}

function forget() {
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(RECEIVED);
}

export function expire() {
  if (!idToken()) return;
  forget();
  for (const listener of listeners) listener("expired");
}

export function signOut(config) {
  forget();
  for (const listener of listeners) listener("signed_out");
  if (config && config.signin === "cognito" && config.cognito.domain) {
    const url = new URL(`https://${config.cognito.domain}/logout`);
    url.searchParams.set("client_id", config.cognito.client_id);
    url.searchParams.set("logout_uri", consoleUrl());
    location.assign(url);
  }
}

export function consoleUrl() {
  return new URL(".", document.baseURI).href;
}

// On page load: take a token handed over in the URL, then clean the URL so it is not kept in
// history or shown. Returns true when a token was taken.
export async function captureFromUrl(config) {
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (hash.has("id_token")) {
    history.replaceState(null, "", location.pathname + "#/inbox");
    if (config.signin === "local") {
      store(hash.get("id_token"));
      return true;
    }
    return false; // aws: only the code flow signs in
  }
  const query = new URLSearchParams(location.search);
  if (config.signin === "cognito" && query.has("code")) {
    history.replaceState(null, "", location.pathname + "#/inbox");
    const saved = JSON.parse(sessionStorage.getItem(PKCE) || "{}");
    sessionStorage.removeItem(PKCE);
    if (!saved.state || saved.state !== query.get("state")) throw new Error("sign-in state mismatch");
    const tokens = await postForm(`https://${config.cognito.domain}/oauth2/token`, {
      grant_type: "authorization_code",
      client_id: config.cognito.client_id,
      code: query.get("code"),
      redirect_uri: consoleUrl(),
      code_verifier: saved.verifier,
    }).catch((err) => {
      throw err.status ? new Error("the sign-in service refused the code") : err;  // else the network's words
    });
    store(tokens.id_token);
    return true;
  }
  if (idToken()) armExpiry();
  return false;
}

function randomString(bytes) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(data);
}

function base64url(data) {
  return btoa(String.fromCharCode(...data)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// aws: off to Cognito's hosted UI with a fresh PKCE verifier and state.
export async function startCognitoSignIn(config) {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  const url = new URL(`https://${config.cognito.domain}/oauth2/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.cognito.client_id);
  url.searchParams.set("redirect_uri", consoleUrl());
  url.searchParams.set("scope", config.cognito.scopes.join(" "));
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", base64url(digest));
  url.searchParams.set("code_challenge_method", "S256");
  location.assign(url);
}
