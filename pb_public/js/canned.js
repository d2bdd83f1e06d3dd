// Canned replies in the console: typing "/" in the answer box (at its start
// or after a space) opens a picker of the shared replies and one's own,
// filtered by what follows the slash; arrow keys move, Enter or Tab puts the
// reply in (its {{placeholders}} filled from the open ticket), Escape closes.
// A small form under the picker saves a new personal reply.
import { ApiError, el, fill, setText } from '/js/common.js';
import { call, session } from '/js/search-session.js';

const box = document.getElementById('answer-text');
let ticket = null; // the open ticket (from the console's portal:ticket-open)
let replies = null; // loaded once per session, reloaded after a save
const picker = { open: false, start: 0, items: [], active: 0 };

document.addEventListener('portal:ticket-open', (e) => { ticket = e.detail || null; closePicker(); });

// fillPlaceholders puts the ticket's and the agent's data into a reply.
export function fillPlaceholders(body, t, agent) {
  const values = {
    'customer.firstName': (t && t.customerFirstName) || '',
    'customer.userName': (t && t.customerUserName) || '',
    'ticket.id': (t && t.id) || '',
    'ticket.subject': (t && t.ticketSubject) || '',
    'agent.userName': (agent && agent.userName) || '',
  };
  return String(body).replace(/\{\{\s*([a-zA-Z.]+)\s*\}\}/g, (m, key) => (key in values ? values[key] : m));
}

async function loadReplies() {
  if (replies) return replies;
  const res = await call('GET', '/cannedReplies', { query: { limit: 100 } });
  replies = Array.isArray(res.data) ? res.data : [];
  return replies;
}

const list = el('ul', { className: 'canned-picker', id: 'canned-picker', role: 'listbox', 'aria-label': 'Canned replies', hidden: true });
const hint = el('p', { className: 'hint' }, 'Type / in the answer for a canned reply.');

function closePicker() {
  picker.open = false;
  list.hidden = true;
  if (box) {
    box.setAttribute('aria-expanded', 'false');
    box.removeAttribute('aria-activedescendant');
  }
}

function render() {
  fill(list, picker.items.length ? picker.items.map((r, i) => el('li', {
    id: `canned-${r.id}`, role: 'option', className: i === picker.active ? 'active' : '',
    'aria-selected': i === picker.active ? 'true' : 'false',
    onmousedown: (e) => { e.preventDefault(); picker.active = i; choose(); },
  }, el('strong', {}, r.title), r.shared ? el('span', { className: 'badge' }, 'shared') : null,
  el('span', { className: 'muted small canned-body' }, r.body.slice(0, 120)))) : [el('li', { className: 'muted small' }, 'No canned reply matches.')]);
  const active = picker.items[picker.active];
  if (active) box.setAttribute('aria-activedescendant', `canned-${active.id}`);
  const node = active && document.getElementById(`canned-${active.id}`);
  if (node) node.scrollIntoView({ block: 'nearest' });
}

// update opens, filters or closes the picker from the text before the caret.
async function update() {
  const caret = box.selectionStart;
  const before = box.value.slice(0, caret);
  const m = before.match(/(^|\s)\/([^\s/]*)$/);
  if (!m) { closePicker(); return; }
  picker.start = caret - m[2].length - 1;
  if (!picker.open) replies = null; // fresh on each opening: another agent may have signed in
  let all;
  try {
    all = await loadReplies();
  } catch (err) {
    closePicker();
    setText(hint, err instanceof ApiError ? err.message : 'Canned replies could not be loaded.');
    return;
  }
  const q = m[2].toLowerCase();
  picker.items = all.filter((r) => !q || r.title.toLowerCase().includes(q) || r.body.toLowerCase().includes(q)).slice(0, 20);
  picker.active = Math.min(picker.active, Math.max(0, picker.items.length - 1));
  picker.open = true;
  list.hidden = false;
  box.setAttribute('aria-expanded', 'true');
  render();
}

function choose() {
  const r = picker.items[picker.active];
  if (!r) { closePicker(); return; }
  const s = session();
  const text = fillPlaceholders(r.body, ticket, s && s.record);
  const caret = box.selectionStart;
  box.value = box.value.slice(0, picker.start) + text + box.value.slice(caret);
  const at = picker.start + text.length;
  box.setSelectionRange(at, at);
  closePicker();
  box.dispatchEvent(new Event('input', { bubbles: true }));
  box.focus();
}

function onKey(e) {
  if (!picker.open) return;
  const n = picker.items.length;
  if (e.key === 'ArrowDown' && n) { e.preventDefault(); picker.active = (picker.active + 1) % n; render(); }
  else if (e.key === 'ArrowUp' && n) { e.preventDefault(); picker.active = (picker.active - 1 + n) % n; render(); }
  else if ((e.key === 'Enter' || e.key === 'Tab') && n) { e.preventDefault(); choose(); }
  else if (e.key === 'Escape') { e.preventDefault(); closePicker(); }
}

// the "save as canned reply" form, under the picker
function saveForm() {
  const title = el('input', { id: 'canned-title', maxlength: '100', autocomplete: 'off' });
  const shared = el('input', { id: 'canned-shared', type: 'checkbox' });
  const msg = el('p', { className: 'muted small', role: 'status' });
  const form = el('form', { className: 'canned-save', novalidate: true },
    el('label', { for: 'canned-title' }, 'Save the answer as a canned reply named'),
    title,
    el('label', { className: 'inline' }, shared, ' shared with the team (superAdmins)'),
    el('button', { type: 'submit', className: 'secondary small-button' }, 'Save canned reply'),
    msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await call('POST', '/cannedReplies', { body: { title: title.value.trim(), body: box.value, shared: shared.checked } });
      replies = null;
      title.value = '';
      setText(msg, 'Saved. Type / in an answer to use it.');
    } catch (err) {
      setText(msg, err instanceof ApiError ? err.message : 'The canned reply could not be saved.');
    }
  });
  return el('details', { className: 'canned-details' }, el('summary', {}, 'Canned replies'), hint, form);
}

if (box) {
  box.setAttribute('aria-autocomplete', 'list');
  box.setAttribute('aria-controls', 'canned-picker');
  box.setAttribute('aria-expanded', 'false');
  box.after(list);
  list.after(saveForm());
  box.addEventListener('input', update);
  box.addEventListener('click', update);
  box.addEventListener('keydown', onKey);
  box.addEventListener('blur', () => setTimeout(closePicker, 150));
}
