// Live updates (issue 23): one WebSocket per signed-in console, opened with a one-use ticket from
// POST /live/tickets (the token itself never goes in a URL). The server pushes "this changed" events
// ({type: "client_changed", client_id, what: [...], alert?} or {type: "notifications_changed", ...});
// a page that shows what changed fetches it again through the API. The socket reconnects with a
// capped, jittered backoff; while it is down (and only then) pages poll every 60 s; after a
// reconnection each page fetches once, to catch up on what it missed.

import { api, ApiError } from "./api.js";

export const FALLBACK_POLL_MS = 60_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const KEEPALIVE_MS = 8 * 60_000;  // API Gateway closes a socket idle for ten minutes

const listeners = new Set();
const watchers = new Set();
let status = "off";  // off | connecting | up | down | unavailable
let socket = null;
let retries = 0;
let reconnectTimer = null;
let keepaliveTimer = null;
let session = 0;

export function liveStatus() {
  return status;
}

function setStatus(next) {
  if (next === status) return;
  const previous = status;
  status = next;
  for (const watch of [...watchers]) watch(next, previous);
}

// Status changes ("up", "down", ...): returns the function that stops watching.
export function onStatus(watch) {
  watchers.add(watch);
  return () => watchers.delete(watch);
}

// Every event the server pushes: returns the function that stops listening.
export function onEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function dispatch(event) {
  for (const listener of [...listeners]) {
    try {
      listener(event);
    } catch (err) {
      console.warn(err);
    }
  }
}

// Open the socket for the signed-in member (main.js calls it after sign-in and on each boot).
export function start() {
  stop();
  const mine = ++session;
  connect(mine);
}

// Close it (sign-out): no reconnection.
export function stop() {
  session++;
  clearTimeout(reconnectTimer);
  clearInterval(keepaliveTimer);
  if (socket) {
    socket.onclose = null;
    socket.close();
    socket = null;
  }
  retries = 0;
  setStatus("off");
}

function scheduleReconnect(mine) {
  if (mine !== session) return;
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** retries);
  retries += 1;
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(() => connect(mine), delay);
}

async function connect(mine) {
  if (mine !== session) return;
  setStatus(status === "up" || status === "down" ? "down" : "connecting");
  let ticket;
  try {
    const { data } = await api.post("/live/tickets", {});
    ticket = data;
  } catch (err) {
    if (mine !== session) return;
    if (err instanceof ApiError && err.code === "live_unavailable") {
      setStatus("unavailable");  // this deployment has no WebSocket API: pages poll
      return;
    }
    if (err instanceof ApiError && err.status === 401) return;  // signed out meanwhile
    setStatus("down");
    scheduleReconnect(mine);
    return;
  }
  if (mine !== session) return;
  const target = new URL(ticket.url);
  target.searchParams.set("ticket", ticket.ticket);
  const ws = new WebSocket(target);
  socket = ws;
  ws.onopen = () => {
    if (mine !== session) return ws.close();
    retries = 0;
    clearInterval(keepaliveTimer);
    keepaliveTimer = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ action: "ping" }));
    }, KEEPALIVE_MS);
    setStatus("up");
  };
  ws.onmessage = (message) => {
    let event = null;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event && typeof event.type === "string") dispatch(event);
  };
  ws.onerror = () => {};  // a failed socket also closes: onclose decides
  ws.onclose = () => {
    if (socket === ws) socket = null;
    clearInterval(keepaliveTimer);
    if (mine !== session) return;
    setStatus("down");
    scheduleReconnect(mine);
  };
}

// A page's live view: `refresh()` when an event `matters(event)`, once after a reconnection, and
// every 60 s while the socket is not up; stops when the page is left (ctx.signal). Events close
// together are folded into one refresh. Returns nothing; errors go to ctx.notify.
export function follow(ctx, { matters, refresh }) {
  let pollTimer = null;
  let pending = null;
  let running = false;
  let again = false;

  async function run() {
    if (ctx.signal.aborted) return;
    if (running) { again = true; return; }
    running = true;
    try {
      await refresh();
    } catch (err) {
      if (err.name !== "AbortError") ctx.notify(err.message, "error");
    } finally {
      running = false;
    }
    if (again && !ctx.signal.aborted) { again = false; run(); }
  }

  function soon() {
    clearTimeout(pending);
    pending = setTimeout(run, 100);
  }

  function poll() {
    clearTimeout(pollTimer);
    if (ctx.signal.aborted || status === "up") return;
    pollTimer = setTimeout(async () => { await run(); poll(); }, FALLBACK_POLL_MS);
  }

  const stopEvents = onEvent((event) => { if (matters(event)) soon(); });
  const stopStatus = onStatus((next, previous) => {
    if (next === "up") {
      clearTimeout(pollTimer);
      if (previous === "down") soon();  // reconnected: catch up on what was missed
    } else if (!pollTimer || previous === "up") {
      poll();
    }
  });
  if (status !== "up") poll();
  ctx.signal.addEventListener("abort", () => {
    stopEvents();
    stopStatus();
    clearTimeout(pollTimer);
    clearTimeout(pending);
  });
}
