// Drafts (issue 22): what a worker typed in a conversation's Message box and has not sent yet.
// Kept per signed-in staff member and client in the tab's sessionStorage, so a draft survives
// going to another page, a language switch and a reload, but not the tab: the machine may be
// shared. Cleared once the API accepted the message (never when it refused it), and all at once
// on sign-out.

const PREFIX = "cmdm.draft.";

function key(me, clientId) {
  return `${PREFIX}${me.agency_id}/${me.staff_id}/${clientId}`;
}

export function loadDraft(me, clientId) {
  return sessionStorage.getItem(key(me, clientId)) || "";
}

export function saveDraft(me, clientId, text) {
  if (text) sessionStorage.setItem(key(me, clientId), text);
  else sessionStorage.removeItem(key(me, clientId));
}

export function clearDraft(me, clientId) {
  sessionStorage.removeItem(key(me, clientId));
}

// Every draft of this tab (sign-out).
export function clearAllDrafts() {
  for (let i = sessionStorage.length - 1; i >= 0; i--) {
    const name = sessionStorage.key(i);
    if (name && name.startsWith(PREFIX)) sessionStorage.removeItem(name);
  }
}
