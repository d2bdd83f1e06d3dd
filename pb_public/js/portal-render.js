// How the customer portal draws tickets: pure functions from a ticket to
// DOM nodes, text only. A customer's tickets never hold notes (the server
// leaves them out); any other kind than answer and reply is not drawn.
import { el, timeEl, messagesOf, subjectOf, attachmentLinks } from '/js/common.js';

export function statusBadge(t) {
  if (t.ticketStatus === 'closed') return el('span', { className: 'badge closed' }, 'Closed');
  if (t.isTaken || t.takenBy) return el('span', { className: 'badge taken' }, 'In progress');
  return el('span', { className: 'badge open' }, 'Open');
}

// waitingBadge says whose turn it is, for an active ticket.
function waitingBadge(t) {
  if (t.ticketStatus === 'closed' || !t.waitingOn) return null;
  return t.waitingOn === 'customer'
    ? el('span', { className: 'badge waiting-you' }, 'Waiting on you')
    : el('span', { className: 'badge waiting' }, 'Waiting on support');
}

// customerMessages are the answers and replies of a ticket, oldest first.
export function customerMessages(t) {
  return messagesOf(t).filter((m) => m.kind === 'answer' || m.kind === 'reply');
}

function author(m) {
  if (m.kind === 'reply') return 'You';
  return m.authorName ? `${m.authorName}, support team` : 'Support team';
}

// messageItem is one answer or reply: its text, who wrote it and when.
export function messageItem(m, fresh) {
  const kind = m.kind === 'reply' ? 'reply' : 'answer';
  return el('li', { className: `message ${kind}${fresh ? ' fresh' : ''}`, 'data-id': m.id, 'data-kind': kind },
    el('p', { className: 'message-author small' }, author(m), ' · ', timeEl(m.createdAt)),
    el('p', { className: `message-text${kind === 'answer' ? ' answer-text' : ''}` }, m.body),
    attachmentLinks(m.attachments),
  );
}

function openLink(t, text) {
  return el('a', { href: `#/tickets/${encodeURIComponent(t.id)}` }, text);
}

// ticketItem is one ticket of the "My tickets" list: its state, subject,
// first text and latest message, and the way into the whole conversation.
export function ticketItem(t, fresh) {
  const messages = customerMessages(t);
  const last = messages.at(-1);
  const count = messages.length;
  return el('li', { className: 'ticket', 'data-id': t.id, 'data-status': t.ticketStatus },
    el('div', { className: 'ticket-meta' },
      statusBadge(t),
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      waitingBadge(t),
      el('span', { className: 'muted' }, 'Ticket ', el('code', {}, t.id), ' · sent ', timeEl(t.createdAt)),
    ),
    el('h3', { className: 'ticket-subject' }, openLink(t, subjectOf(t))),
    t.followUpOf ? el('p', { className: 'muted small' }, 'Follow-up of ticket ', el('code', {}, t.followUpOf)) : null,
    el('p', { className: 'ticket-content' }, t.ticketContent),
    el('p', { className: 'answers-heading' }, count ? `Latest of ${count} ${count === 1 ? 'message' : 'messages'}` : 'No answer yet'),
    last ? el('ol', { className: 'conversation' }, messageItem(last, fresh.has(last.id))) : null,
    el('p', { className: 'open-line' }, openLink(t, t.ticketStatus === 'closed' ? 'Read the conversation' : 'Read the conversation and reply')),
  );
}

// ticketMetaNodes is the head of the ticket page.
export function ticketMetaNodes(t) {
  return [
    el('p', { className: 'ticket-meta' },
      statusBadge(t),
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      waitingBadge(t),
      el('span', { className: 'muted' }, 'Ticket ', el('code', {}, t.id), ' · sent ', timeEl(t.createdAt)),
    ),
    t.followUpOf ? el('p', { className: 'muted' }, 'This ticket follows up ',
      el('a', { href: `#/tickets/${encodeURIComponent(t.followUpOf)}` }, `ticket ${t.followUpOf}`), '.') : null,
  ];
}

// conversationNodes is the first text followed by every answer and reply.
export function conversationNodes(t, fresh) {
  return [
    el('li', { className: 'message first', 'data-kind': 'first' },
      el('p', { className: 'message-author small' }, 'You · ', timeEl(t.createdAt)),
      el('p', { className: 'message-text ticket-content' }, t.ticketContent),
      attachmentLinks(t.attachments),
    ),
    ...customerMessages(t).map((m) => messageItem(m, fresh.has(m.id))),
  ];
}
