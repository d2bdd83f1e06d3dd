// How the agent console draws tickets: pure functions from a ticket (and
// a few facts about the viewer) to DOM nodes, text only.
import { el, timeEl, parseDate } from '/js/common.js';
import { slaBadge, slaFacts } from '/js/sla.js';

// byQueueOrder: high priority first, then newest first (as the server).
export function byQueueOrder(a, b) {
  if (!!a.isHighPriority !== !!b.isHighPriority) return a.isHighPriority ? -1 : 1;
  return (parseDate(b.createdAt) || 0) - (parseDate(a.createdAt) || 0);
}

// customerName is "First Last (userName)".
export function customerName(t) {
  const full = [t.customerFirstName, t.customerLastName].filter(Boolean).join(' ');
  return full ? `${full} (${t.customerUserName})` : t.customerUserName || 'Customer';
}

function holderText(t, agentName) {
  if (t.ticketStatus === 'closed') return 'Closed';
  if (!t.takenBy) return 'Free';
  return `Taken by ${agentName(t.takenBy)}`;
}

// holderLine says who holds (or held) a ticket, for its detail.
export function holderLine(t, agentName) {
  if (t.ticketStatus !== 'active') return t.takenBy ? `Handled by ${agentName(t.takenBy)}` : '';
  return t.takenBy ? `Taken by ${agentName(t.takenBy)}` : 'Nobody has taken it yet';
}

function snippet(text, n = 140) {
  const s = String(text || '').replace(/\s+/g, ' ').trim();
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ticketRow is one row of a ticket list: a button that opens the ticket.
export function ticketRow(t, { selected, fresh, agentName, onOpen }) {
  return el('li', { 'data-id': t.id },
    el('button', {
      type: 'button',
      className: `row${t.isHighPriority ? ' high' : ''}${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`,
      'aria-current': selected ? 'true' : null,
      onclick: () => onOpen(t),
    },
    el('span', { className: 'row-top' },
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      el('span', { className: `badge ${t.ticketStatus === 'closed' ? 'closed' : t.takenBy ? 'taken' : 'open'}` }, holderText(t, agentName)),
      slaBadge(t),
      el('span', { className: 'muted small' }, timeEl(t.createdAt)),
    ),
    el('span', { className: 'row-customer' }, customerName(t)),
    el('span', { className: 'row-text' }, snippet(t.ticketContent)),
    ));
}

// detailNodes is the body of the ticket panel: state, customer, content
// and answers (the actions around it stay in the page).
export function detailNodes(t, agentName) {
  const active = t.ticketStatus === 'active';
  const answers = Array.isArray(t.ticketAnswers) ? t.ticketAnswers : [];
  return [
    el('p', { className: 'ticket-meta' },
      el('span', { className: `badge ${active ? 'open' : 'closed'}` }, active ? 'Active' : 'Closed'),
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      el('span', { className: `holder${t.takenBy && active ? ' taken' : ''}`, id: 'holder' }, holderLine(t, agentName)),
    ),
    el('dl', { className: 'facts' },
      el('dt', {}, 'Customer'), el('dd', {}, customerName(t)),
      el('dt', {}, 'Email'), el('dd', {}, t.userEmail || ''),
      el('dt', {}, 'Sent'), el('dd', {}, timeEl(t.createdAt)),
      el('dt', {}, 'Updated'), el('dd', {}, timeEl(t.updatedAt)),
      ...slaFacts(t),
    ),
    el('p', { className: 'ticket-content' }, t.ticketContent),
    el('h3', {}, answers.length ? `Answers (${answers.length})` : 'No answer yet'),
    answers.length ? el('ol', { className: 'answers' }, answers.map((a) => el('li', { className: 'answer', 'data-id': a.id },
      el('p', { className: 'answer-text' }, a.answer),
      el('p', { className: 'muted small' }, agentName(a.adminId) || 'an agent', ' · ', timeEl(a.createdAt)),
    ))) : null,
  ];
}
