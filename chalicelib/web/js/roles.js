// The console's role map: the one place that says what each role (worker, supervisor, admin)
// gets in the console: the pages it may open, the links of the Main navigation and of the
// supervision pages' navigation, and the actions the console offers it. Every other module asks
// here; none compares a role itself. The API decides what is allowed (it answers 403 to anything
// else): this map only keeps the console from offering what the API would refuse.

export const ROLES = ["worker", "supervisor", "admin"];

const EVERYONE = ROLES;
const SUPERVISION = ["supervisor", "admin"];
const CASEWORK = ["worker", "admin"];
const ADMIN = ["admin"];

// Each page module in ./pages/ (the router's `page`) and the roles that may open it. The sign-in
// page is public (router.js); a page missing here is opened by nobody.
const PAGES = {
  inbox: EVERYONE,
  clients: EVERYONE,
  conversation: EVERYONE,
  file: EVERYONE,
  compliance: SUPERVISION,
  reviews: SUPERVISION,
  usage: SUPERVISION,
  audit: SUPERVISION,
  inquiries: SUPERVISION,
  staff: SUPERVISION,
  numbers: SUPERVISION,
  policy: SUPERVISION,
  intake: ADMIN,
  snippets: ADMIN,
  notifications: EVERYONE,  // the notification centre (issue 23)
};

// What the console offers each role to do. Supervisors read files and conversations.
const ACTIONS = {
  write_messages: ["worker"],  // the composer (with its preview), cancelling one's held messages: the API lets
                               // only the case manager or the colleague covering write (admins read)
  record_consent: CASEWORK,    // record a signed consent
  withdraw_consent: CASEWORK,  // record that the client withdrew it
  warn: CASEWORK,              // a conduct warning
  change_status: CASEWORK,     // active, suspended, closed
  manage_staff: ADMIN,         // add staff, change a role, (de)activate, record or remove absences
  assign_numbers: ADMIN,       // give a work number to a worker
  manage_snippets: ADMIN,      // the agency's prepared answers (whoever writes messages inserts them)
  mark_crisis: CASEWORK,       // mark a client message as a crisis, or take the mark back (SPEC §5.9)
  emergency_contact: CASEWORK, // record the client's emergency contact
};

// The Main navigation, in order (SPEC §4.6 fixes `Inbox` and `Clients` for every role and
// `Compliance` for supervisors and admins). `label` is a catalogue key; `badge` names the count
// shown beside it (notifications.js: "reviews", the breaches and overrides still to review).
const MAIN_NAV = [
  { path: "/inbox", page: "inbox", label: "nav.inbox" },
  { path: "/clients", page: "clients", label: "nav.clients" },
  { path: "/compliance", page: "compliance", label: "nav.compliance" },
  { path: "/reviews", page: "reviews", label: "sup.reviews", badge: "reviews" },
  { path: "/setup/staff", page: "staff", label: "nav.setup" },
];

// The in-page navigation between the supervision and set-up pages, in order.
const SUPERVISION_NAV = [
  { path: "/compliance", page: "compliance", label: "nav.compliance" },
  { path: "/reviews", page: "reviews", label: "sup.reviews" },
  { path: "/usage", page: "usage", label: "sup.usage" },
  { path: "/audit", page: "audit", label: "sup.audit" },
  { path: "/setup/staff", page: "staff", label: "setup.staff" },
  { path: "/setup/numbers", page: "numbers", label: "setup.numbers" },
  { path: "/setup/intake", page: "intake", label: "setup.intake" },
  { path: "/setup/policy", page: "policy", label: "setup.policy" },
  { path: "/setup/snippets", page: "snippets", label: "setup.snippets" },
];

// May `role` open the page module `page`?
export function canOpen(role, page) {
  return (PAGES[page] || []).includes(role);
}

// Does the console offer `role` the action `action` (a key of ACTIONS)?
export function can(role, action) {
  if (!(action in ACTIONS)) throw new Error(`unknown console action ${action}`);
  return ACTIONS[action].includes(role);
}

// Does a staff member of `role` hold a caseload of their own (clients, a work number, absences
// covered by a colleague)? A worker's inbox is her own caseload; other roles see everyone's.
export function hasCaseload(role) {
  return role === "worker";
}

// May the signed-in staff member `me` write to this client (the composer)? The API lets the case
// manager and a colleague covering them write: a worker opens only such files; an administrator
// writes to the files they manage themselves.
export function mayWriteTo(me, client) {
  return can(me.role, "write_messages") && (hasCaseload(me.role) || client.case_manager_id === me.staff_id);
}

// The links of the Main navigation that `role` gets, in order.
export function mainNav(role) {
  return MAIN_NAV.filter((item) => canOpen(role, item.page));
}

// The links of the supervision pages' navigation that `role` gets, in order.
export function supervisionNav(role) {
  return SUPERVISION_NAV.filter((item) => canOpen(role, item.page));
}
