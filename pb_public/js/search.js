// Search in the portal (the customer's own tickets) and in the console
// (results as you type), and, in the console, "answers that solved similar
// tickets" beside the answer box. Self-contained: it finds its places in the
// page, reads the session the page keeps, and talks to the console through
// two events (portal:ticket-open from the console, portal:open-ticket to it).
import { ApiError, el, fill, setText, timeEl } from '/js/common.js';
import { call } from '/js/search-session.js';

const CONSOLE = document.body.classList.contains('console');
const DEBOUNCE_MS = 250;

// highlighted renders a snippet whose matches are marked «like this» as
// text with <mark> elements (never as HTML).
export function highlighted(snippet) {
  const out = [];
  const parts = String(snippet || '').split(/([«»])/);
  let inside = false;
  let buf = '';
  for (const p of parts) {
    if (p === '«') { if (buf) out.push(buf); buf = ''; inside = true; continue; }
    if (p === '»') { out.push(inside ? el('mark', {}, buf) : buf); buf = ''; inside = false; continue; }
    buf += p;
  }
  if (buf) out.push(buf);
  return out;
}

function statusBadge(t) {
  const active = t.ticketStatus === 'active';
  return el('span', { className: `badge ${active ? 'open' : 'closed'}` }, active ? 'Active' : 'Closed');
}

// ---- the search box ---------------------------------------------------------------

function searchBox(idPrefix, placeholder) {
  const input = el('input', {
    id: `${idPrefix}-q`, type: 'search', autocomplete: 'off', spellcheck: 'false', maxlength: '500',
    placeholder, 'aria-describedby': `${idPrefix}-hint`, 'aria-controls': `${idPrefix}-results`,
  });
  const status = el('p', { className: 'muted small', id: `${idPrefix}-status`, role: 'status' });
  const error = el('p', { className: 'form-error', role: 'alert', hidden: true });
  const results = el('ol', { className: 'search-results', id: `${idPrefix}-results` });
  const box = el('section', { className: 'card search-box', 'aria-labelledby': `${idPrefix}-heading` },
    el('h2', { id: `${idPrefix}-heading` }, 'Search'),
    el('label', { for: `${idPrefix}-q`, className: 'visually-hidden' }, 'Search tickets'),
    input,
    el('p', { className: 'hint', id: `${idPrefix}-hint` },
      'Words must all match. "A phrase" in quotes, export* for a prefix, -word to leave out.'),
    error, status, results);
  return { box, input, status, error, results };
}

// wireSearch runs the search as the user types (debounced; a newer query
// wins over a slower older one) and renders the hits.
function wireSearch(ui, onOpen) {
  let timer = 0;
  let seq = 0;
  const run = async () => {
    const q = ui.input.value.trim();
    const mine = ++seq;
    setText(ui.error, '');
    ui.error.hidden = true;
    if (!q) {
      fill(ui.results);
      setText(ui.status, '');
      return;
    }
    ui.results.setAttribute('aria-busy', 'true');
    try {
      const res = await call('GET', '/searchTickets', { query: { q, limit: 20 } });
      if (mine !== seq) return;
      const list = Array.isArray(res.data) ? res.data : [];
      setText(ui.status, list.length ? `${res.totalNumOfItems} found${res.totalNumOfItems > list.length ? `, the best ${list.length} shown` : ''}.` : 'Nothing found.');
      fill(ui.results, list.map((t) => el('li', { className: 'search-hit', 'data-id': t.id },
        el('button', { type: 'button', className: 'link-button', onclick: () => onOpen(t) },
          el('strong', {}, t.ticketSubject || t.id)),
        ' ', statusBadge(t), ' ', el('span', { className: 'muted small' }, timeEl(t.createdAt)),
        el('p', { className: 'snippet' }, highlighted(t.snippet)),
      )));
    } catch (err) {
      if (mine !== seq) return;
      fill(ui.results);
      setText(ui.status, '');
      setText(ui.error, err instanceof ApiError ? err.message : 'The search failed.');
      ui.error.hidden = false;
    } finally {
      if (mine === seq) ui.results.setAttribute('aria-busy', 'false');
    }
  };
  ui.input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); clearTimeout(timer); run(); }
    if (e.key === 'Escape') { ui.input.value = ''; run(); }
  });
}

// ---- the console: search and similar tickets -----------------------------------------

function setupConsole() {
  const lists = document.querySelector('.lists');
  if (!lists) return;
  const ui = searchBox('ticket-search', 'Search tickets: words, "phrases", prefix*, -word');
  lists.prepend(ui.box);
  wireSearch(ui, (t) => document.dispatchEvent(new CustomEvent('portal:open-ticket', { detail: t })));

  const panel = el('section', { className: 'similar', 'aria-labelledby': 'similar-heading', hidden: true },
    el('h3', { id: 'similar-heading' }, 'Answers that solved similar tickets'));
  const list = el('ol', { className: 'similar-list' });
  const note = el('p', { className: 'muted small', role: 'status' });
  panel.append(note, list);
  const form = document.getElementById('answer-form');
  if (form) form.after(panel);
  let current = '';

  document.addEventListener('portal:ticket-open', async (e) => {
    const t = e.detail || {};
    current = t.id;
    fill(list);
    setText(note, 'Looking for similar solved tickets…');
    panel.hidden = t.ticketStatus !== 'active';
    if (panel.hidden) return;
    try {
      const res = await call('GET', `/similarTickets/${encodeURIComponent(t.id)}`, { query: { limit: 5 } });
      if (current !== t.id) return;
      const items = Array.isArray(res.data) ? res.data : [];
      setText(note, items.length ? '' : 'No closed ticket like this one has an answer yet.');
      fill(list, items.map((s) => el('li', { className: 'similar-item' },
        el('p', {}, el('strong', {}, s.ticketSubject || s.id), ' ', el('span', { className: 'muted small' }, 'closed ', timeEl(s.closedAt))),
        el('p', { className: 'similar-answer' }, s.lastAnswer),
        el('button', { type: 'button', className: 'secondary small-button', onclick: () => useAnswer(s.lastAnswer) }, 'Use this answer'),
      )));
    } catch (err) {
      if (current === t.id) setText(note, err instanceof ApiError ? err.message : 'Similar tickets could not be loaded.');
    }
  });
}

// useAnswer puts a text into the answer box (after what is there) and
// focuses it.
export function useAnswer(text) {
  const box = document.getElementById('answer-text');
  if (!box) return;
  box.value = box.value.trim() ? `${box.value.replace(/\s+$/, '')}\n\n${text}` : text;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

// ---- the portal: search of one's own tickets ------------------------------------------

function setupPortal() {
  const tickets = document.getElementById('tickets');
  if (!tickets) return;
  const ui = searchBox('my-search', 'Search my tickets');
  ui.box.classList.remove('card');
  tickets.before(ui.box);
  wireSearch(ui, (t) => {
    const row = document.querySelector(`#tickets [data-id="${CSS.escape(t.id)}"]`);
    if (row) {
      row.scrollIntoView({ block: 'center' });
      row.classList.add('search-target');
      setTimeout(() => row.classList.remove('search-target'), 2000);
    }
  });
}

if (CONSOLE) setupConsole();
else setupPortal();
