// The console's service worker (issue 23): keeps the shell (HTML, stylesheet, modules, the language
// catalogues, icons) so the console opens, and says plainly that it is offline, when the network is
// gone; and opens the right conversation when a system notification is clicked. It never keeps an
// API answer (those hold personal information and are never cached): only files under /console/.
// chalicelib/console.py fills in the list of files and a version drawn from their contents.

const VERSION = "__CMDM_VERSION__";
const SHELL = __CMDM_SHELL__;
const CACHE = `cmdm-shell-${VERSION}`;
const SCOPE = new URL("./", self.location).pathname;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((f) => new Request(f, { cache: "no-store" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("cmdm-shell-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The shell: the network first (so a new version is seen at once), the kept copy when offline.
async function shell(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok && request.method === "GET") cache.put(request, answer.clone());
    return answer;
  } catch (err) {
    const kept = await cache.match(request, { ignoreSearch: true })
      || (request.mode === "navigate" ? await cache.match("./") : undefined);
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  if (url.pathname.endsWith("/sw.js")) return;
  event.respondWith(shell(event.request));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const hash = (event.notification.data && event.notification.data.hash) || "#/inbox";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname.startsWith(SCOPE));
    if (open) {
      open.postMessage({ type: "open", hash });
      return open.focus();
    }
    return self.clients.openWindow(SCOPE + hash);
  }));
});
