// The session of the page (portal or console) for the search and canned
// reply scripts, read from the store the page's PocketBase client keeps, so
// that those scripts need nothing from the page's own code.
import { api } from '/js/common.js';

const STORE_KEY = document.body.classList.contains('console') ? 'ticketportal.agent' : 'ticketportal.customer';

// session is the signed-in account of this page ({token, record}) or null.
export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE_KEY) || 'null');
    return s && s.token ? { token: s.token, record: s.record || s.model || {} } : null;
  } catch {
    return null;
  }
}

// call is api() as the signed-in account.
export function call(method, path, opts = {}) {
  const s = session();
  return api(method, path, { ...opts, token: s && s.token });
}
