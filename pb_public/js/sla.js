// Service levels in the agent console: each ticket's time left to its next
// deadline as a badge (green: on track, amber: under a quarter of the time
// left, red: missed), kept current every 30 s; and the service-level facts
// and the customer's rating for the ticket's detail.
import { el, timeEl, parseDate } from '/js/common.js';

// The badges' styles live in their own sheet (the console's CSP allows
// only the site's own sheets).
if (!document.querySelector('link[href="/sla.css"]')) {
  document.head.append(el('link', { rel: 'stylesheet', href: '/sla.css' }));
}

// nextDeadline is the ticket's soonest deadline whose work is undone:
// {which, due} or null (closed, or no deadlines).
export function nextDeadline(t) {
  if (!t || t.ticketStatus !== 'active') return null;
  const first = parseDate(t.firstResponseDueAt);
  const resolve = parseDate(t.resolveDueAt);
  if (first && !t.firstRespondedAt && (!resolve || first <= resolve)) return { which: 'firstResponse', due: first };
  if (resolve) return { which: 'resolve', due: resolve };
  return null;
}

// duration says a number of minutes in words: 12 s, 45 min, 3 h 20 min, 2 d 4 h.
export function duration(minutes) {
  if (minutes > 0 && minutes < 1) return `${Math.max(1, Math.round(minutes * 60))} s`;
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m} min`;
  if (m < 48 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  return `${d} d${h ? ` ${h} h` : ''}`;
}

// timeLeft is {level, text} for a ticket at `now` (ms), or null.
export function timeLeft(t, now = Date.now()) {
  const next = nextDeadline(t);
  if (!next) return null;
  const what = next.which === 'firstResponse' ? 'first answer' : 'close';
  const left = (next.due.getTime() - now) / 60000;
  if (left <= 0) return { level: 'late', text: `${what} overdue by ${duration(-left)}` };
  const sent = parseDate(t.createdAt);
  const total = sent ? (next.due.getTime() - sent.getTime()) / 60000 : left;
  const level = total > 0 && left / total < 0.25 ? 'warn' : 'ok';
  return { level, text: `${what} due in ${duration(left)}` };
}

function paint(node, t) {
  const tl = timeLeft(t);
  node.hidden = !tl;
  if (!tl) return;
  node.className = `badge sla sla-${tl.level}`;
  node.textContent = tl.text;
}

const live = new Map(); // badge node -> ticket

// slaBadge is the time-left badge of a ticket row (null when none applies).
export function slaBadge(t) {
  const next = nextDeadline(t);
  if (!next) return null;
  const node = el('span', { className: 'badge sla', 'data-due': String(next.due.getTime()) });
  paint(node, t);
  live.set(node, t);
  return node;
}

setInterval(() => {
  for (const [node, t] of live) {
    if (!node.isConnected) live.delete(node);
    else paint(node, t);
  }
}, 30000);

// slaFacts are the detail's service-level lines (dt/dd pairs).
export function slaFacts(t) {
  if (!t || !('resolveDueAt' in t)) return [];
  const out = [];
  const tl = timeLeft(t);
  if (tl) out.push(el('dt', {}, 'Time left'), el('dd', {}, el('span', { className: `badge sla sla-${tl.level}` }, tl.text)));
  out.push(el('dt', {}, 'First answer due'), el('dd', {}, timeEl(t.firstResponseDueAt), t.firstRespondedAt ? ' · answered ' : '', t.firstRespondedAt ? timeEl(t.firstRespondedAt) : ''));
  out.push(el('dt', {}, 'Close due'), el('dd', {}, timeEl(t.resolveDueAt), t.resolvedAt ? ' · closed ' : '', t.resolvedAt ? timeEl(t.resolvedAt) : ''));
  if (t.slaBreached) {
    out.push(el('dt', {}, 'Service level'), el('dd', {}, el('span', { className: 'badge sla sla-late' },
      t.slaBreached === 'firstResponse' ? 'First answer deadline missed' : 'Close deadline missed')));
  }
  if (t.rating) {
    out.push(el('dt', {}, 'Customer rating'), el('dd', {},
      el('span', { className: `badge rating-${t.rating}` }, t.rating === 'good' ? 'Good' : 'Bad'),
      t.ratingComment ? ` “${t.ratingComment}”` : ''));
  }
  return out;
}

// The queue's "Soonest deadline first" switch (the order of ?sort=due): the
// console loads the whole queue, so its rows are put in deadline order here,
// after every render, and back in the console's own order when it is off.
function setupQueueSort() {
  const list = document.getElementById('queue');
  const heading = document.getElementById('queue-heading');
  if (!list || !heading) return;
  const input = el('input', { type: 'checkbox', id: 'sla-sort' });
  heading.after(el('p', { className: 'sla-sort' }, el('label', { for: 'sla-sort' }, input, ' Soonest deadline first')));
  input.checked = localStorage.getItem('ticketportal.sortByDeadline') === '1';
  const due = (li) => {
    const b = li.querySelector('[data-due]');
    return b ? Number(b.dataset.due) : Infinity;
  };
  const arrange = () => {
    const items = [...list.children];
    items.forEach((li, i) => { if (!li.dataset.order) li.dataset.order = String(i); });
    const key = input.checked ? (a, b) => due(a) - due(b) || a.dataset.order - b.dataset.order : (a, b) => a.dataset.order - b.dataset.order;
    const sorted = [...items].sort(key);
    if (sorted.some((li, i) => li !== items[i])) list.append(...sorted);
  };
  new MutationObserver(arrange).observe(list, { childList: true });
  input.addEventListener('change', () => {
    localStorage.setItem('ticketportal.sortByDeadline', input.checked ? '1' : '0');
    arrange();
  });
}

setupQueueSort();
