// How the agent console draws tickets: pure functions from a ticket (and
// a few facts about the viewer) to DOM nodes, text only.
import { el, timeEl, parseDate, messagesOf, subjectOf, attachmentLinks } from '/js/common.js';

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
// `presence` is a line such as "agent2 is typing…" (or "").
export function ticketRow(t, { selected, fresh, agentName, onOpen, presence }) {
  const tags = Array.isArray(t.tags) ? t.tags : [];
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
      t.ticketStatus === 'active' && t.waitingOn === 'agent' ? el('span', { className: 'badge waiting' }, 'Waiting on us') : null,
      el('span', { className: 'muted small' }, timeEl(t.createdAt)),
    ),
    el('span', { className: 'row-customer' }, customerName(t)),
    el('span', { className: 'row-subject' }, subjectOf(t)),
    el('span', { className: 'row-text' }, snippet(lastText(t))),
    tags.length ? el('span', { className: 'row-tags' }, tags.map((tag) => el('span', { className: 'tag' }, tag))) : null,
    presence ? el('span', { className: 'row-presence' }, presence) : null,
    ));
}

// lastText is what the row shows: the newest answer or reply, else the first text.
function lastText(t) {
  const spoken = messagesOf(t).filter((m) => m.kind !== 'note');
  return spoken.length ? spoken.at(-1).body : t.ticketContent;
}

const KIND = {
  answer: 'Answer',
  reply: 'Customer reply',
  note: 'Internal note',
};

// messageItem is one message of the conversation. Notes are set apart: their
// own class (a different background) and an "Internal note" label.
export function messageItem(m, agentName, customer) {
  const kind = KIND[m.kind] ? m.kind : 'answer';
  return messageNode(m, kind, m.kind === 'reply' ? customer : staffName(m, agentName));
}

// staffName is "you", a known agent's name, or the name the message carries.
function staffName(m, agentName) {
  const known = m.authorId ? agentName(m.authorId) : '';
  return known && known !== 'another agent' ? known : m.authorName || 'an agent';
}

function messageNode(m, kind, who) {
  return el('li', { className: `message ${kind}`, 'data-id': m.id, 'data-kind': kind },
    el('p', { className: 'message-author small' },
      kind === 'note' ? el('strong', { className: 'note-label' }, 'Internal note') : el('span', { className: 'kind-label' }, KIND[kind]),
      ' · ', who, ' · ', timeEl(m.createdAt)),
    el('p', { className: `message-text${kind === 'answer' ? ' answer-text' : ''}${kind === 'note' ? ' note-text' : ''}` }, m.body),
    attachmentLinks(m.attachments),
  );
}

// detailNodes is the body of the ticket panel: state, customer, the first
// text and the conversation (the actions around it stay in the page).
export function detailNodes(t, agentName) {
  const active = t.ticketStatus === 'active';
  const messages = messagesOf(t);
  const notes = messages.filter((m) => m.kind === 'note').length;
  const customer = t.customerUserName || 'the customer';
  return [
    el('p', { className: 'ticket-meta' },
      el('span', { className: `badge ${active ? 'open' : 'closed'}` }, active ? 'Active' : 'Closed'),
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      active && t.waitingOn ? el('span', { className: `badge ${t.waitingOn === 'agent' ? 'waiting' : 'waiting-you'}` }, t.waitingOn === 'agent' ? 'Waiting on us' : 'Waiting on the customer') : null,
      el('span', { className: `holder${t.takenBy && active ? ' taken' : ''}`, id: 'holder' }, holderLine(t, agentName)),
    ),
    el('p', { className: 'detail-subject' }, subjectOf(t)),
    el('dl', { className: 'facts' },
      el('dt', {}, 'Customer'), el('dd', {}, customerName(t)),
      el('dt', {}, 'Email'), el('dd', {}, t.userEmail || ''),
      el('dt', {}, 'Sent'), el('dd', {}, timeEl(t.createdAt)),
      el('dt', {}, 'Updated'), el('dd', {}, timeEl(t.updatedAt)),
      t.followUpOf ? [el('dt', {}, 'Follows up'), el('dd', {}, el('code', {}, t.followUpOf))] : null,
    ),
    el('p', { className: 'ticket-content' }, t.ticketContent),
    attachmentLinks(t.attachments),
    el('h3', {}, messages.length
      ? `Conversation (${messages.length} ${messages.length === 1 ? 'message' : 'messages'}${notes ? `, ${notes} internal` : ''})`
      : 'No answer yet'),
    messages.length ? el('ol', { className: 'conversation', 'aria-label': 'Conversation, oldest first' },
      messages.map((m) => messageItem(m, agentName, customer))) : null,
  ];
}
