// A tiny hash router: "#/inbox", "#/clients", "#/clients/<id>", "#/clients/<id>/file", "#/compliance".
// Each page is one module in ./pages/ exporting `render(view, ctx)`; ctx.signal is aborted when
// the user leaves the page (stop polling there). To add a page: a module, one line below, and
// the roles that may open it in roles.js (which alone decides who sees what).

export const ROUTES = [
  { pattern: /^\/signin$/, page: "signin", public: true },
  { pattern: /^\/inbox$/, page: "inbox" },
  { pattern: /^\/clients$/, page: "clients" },  // the caseload (issue 22; its query follows "?")
  { pattern: /^\/clients\/([^/]+)$/, page: "conversation", params: ["clientId"] },
  { pattern: /^\/clients\/([^/]+)\/file$/, page: "file", params: ["clientId"] },
  // The supervision and set-up pages (issue 15; a page's own query follows "?").
  { pattern: /^\/compliance$/, page: "compliance" },
  { pattern: /^\/reviews$/, page: "reviews" },
  { pattern: /^\/usage$/, page: "usage" },
  { pattern: /^\/audit$/, page: "audit" },
  { pattern: /^\/inquiries$/, page: "inquiries" },
  { pattern: /^\/setup\/staff$/, page: "staff" },
  { pattern: /^\/setup\/numbers$/, page: "numbers" },
  { pattern: /^\/setup\/policy$/, page: "policy" },
  { pattern: /^\/setup\/intake$/, page: "intake" },
  { pattern: /^\/setup\/snippets$/, page: "snippets" },
  { pattern: /^\/notifications$/, page: "notifications" },  // issue 23: the notification centre
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
