// A tiny hash router: "#/inbox", "#/clients/<id>", "#/clients/<id>/file", "#/compliance".
// Each page is one module in ./pages/ exporting `render(view, ctx)`; ctx.signal is aborted when
// the user leaves the page (stop polling there). To add a page: a module and one line below.

export const ROUTES = [
  { pattern: /^\/signin$/, page: "signin", public: true },
  { pattern: /^\/inbox$/, page: "inbox" },
  { pattern: /^\/clients\/([^/]+)$/, page: "conversation", params: ["clientId"] },
  { pattern: /^\/clients\/([^/]+)\/file$/, page: "file", params: ["clientId"] },
  // Issue 15 (supervisor console) fills pages/compliance.js; the route and nav link are here.
  { pattern: /^\/compliance$/, page: "compliance", roles: ["supervisor", "admin"] },
  // Issue 15: the other supervision and set-up pages (a page's own query follows "?").
  { pattern: /^\/reviews$/, page: "reviews", roles: ["supervisor", "admin"] },
  { pattern: /^\/usage$/, page: "usage", roles: ["supervisor", "admin"] },
  { pattern: /^\/audit$/, page: "audit", roles: ["supervisor", "admin"] },
  { pattern: /^\/inquiries$/, page: "inquiries", roles: ["supervisor", "admin"] },
  { pattern: /^\/setup\/staff$/, page: "staff", roles: ["supervisor", "admin"] },
  { pattern: /^\/setup\/numbers$/, page: "numbers", roles: ["supervisor", "admin"] },
  { pattern: /^\/setup\/policy$/, page: "policy", roles: ["supervisor", "admin"] },
  { pattern: /^\/setup\/intake$/, page: "intake", roles: ["admin"] },
];

export function currentPath() {
  const hash = location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash : "/inbox";
}

export function match(path) {
  const bare = path.split("?")[0];  // "#/audit?staff_id=amal": the page reads its own query
  for (const route of ROUTES) {
    const found = route.pattern.exec(bare);
    if (found) {
      const params = {};
      (route.params || []).forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1])));
      return { route, params };
    }
  }
  return null;
}

export function navigate(path) {
  if (location.hash === "#" + path) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = "#" + path;
}
