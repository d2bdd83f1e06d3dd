// The customer portal: sign up, log in, send tickets, and watch their
// answers arrive live (PocketBase realtime on the `tickets` collection,
// which only ever tells a customer about its own tickets).
import PocketBase, { LocalAuthStore } from '/vendor/pocketbase-0.28.1.es.mjs';
import {
  api, ApiError, el, setText, onSubmit, timeEl, announce, renderPager, goLive,
  showPageMessage, sessionApi,
} from '/js/common.js';

const PAGE_SIZE = 20;

const pb = new PocketBase(window.location.origin, new LocalAuthStore('ticketportal.customer'));
pb.autoCancellation(false);

const $ = (id) => document.getElementById(id);
const state = { page: 1, tickets: [], unsubscribe: null, fresh: new Set() };

function token() {
  return pb.authStore.token;
}

// call runs an API call as the signed-in customer; a 401 ends the session.
const call = sessionApi(pb, () => logOut());

// ---- signed out ---------------------------------------------------------

function wireSignedOut() {
  onSubmit($('login-form'), async (v) => {
    try {
      const res = await api('POST', '/login', { body: { userName: v.userName, password: v.password, role: 'user' } });
      pb.authStore.save(res.token, res.user);
      $('login-form').reset();
      showPageMessage('');
      await showSignedIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 403 && v.userName.includes('@')) {
        $('resend-email').value = v.userName;
      }
      throw err;
    }
  });

  onSubmit($('signup-form'), async (v) => {
    const res = await api('POST', '/signUp', { body: v });
    $('signup-form').reset();
    $('login-userName').value = (res.user && res.user.userName) || v.userName;
    showPageMessage(`Account created. We sent a verification link to ${v.email}: open it, then log in.`);
    $('page-message').focus();
  });

  onSubmit($('forgot-form'), async (v) => {
    const res = await api('POST', '/forgetPassword', { body: { email: v.email } });
    formOk($('forgot-form'), res.message || 'If an account has this email, a reset link is on its way.');
  });

  onSubmit($('resend-form'), async (v) => {
    const res = await api('POST', '/resendVerification', { body: { email: v.email } });
    formOk($('resend-form'), res.message || 'If this account still needs verifying, a new link is on its way.');
  });
}

function formOk(form, text) {
  const p = form.querySelector('.form-ok');
  setText(p, text);
  p.hidden = false;
}

// ---- signed in ----------------------------------------------------------

function wireSignedIn() {
  $('logout').addEventListener('click', async () => {
    await logOut();
    showPageMessage('You are logged out.');
  });

  const form = $('ticket-form');
  // the last "Ticket sent" goes once a new ticket is being written
  form.elements.ticketContent.addEventListener('input', () => { form.querySelector('.form-ok').hidden = true; });
  onSubmit(form, async (v) => {
    form.querySelector('.form-ok').hidden = true;
    const res = await call('POST', '/sendTicket', { body: { ticketContent: v.ticketContent } });
    form.reset();
    const ticket = res.data;
    if (ticket && state.page === 1) upsertTicket(ticket, { prepend: true });
    formOk(form, `Ticket sent. Its number is ${res.ticketId || (ticket && ticket.id)}.`);
  });
}

async function showSignedIn() {
  const user = pb.authStore.record || {};
  setText($('whoami'), user.userName || user.email || 'customer');
  $('session').hidden = false;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  await subscribe();
  await loadTickets(1);
}

function showSignedOut() {
  $('session').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  $('tickets').replaceChildren();
  state.tickets = [];
}

async function logOut() {
  if (state.unsubscribe) {
    const stop = state.unsubscribe;
    state.unsubscribe = null;
    try { await stop(); } catch { /* already gone */ }
  }
  pb.realtime.unsubscribe();
  pb.authStore.clear();
  showSignedOut();
}

// subscribe listens to the customer's own ticket events; after a reconnect
// the list is reloaded, as events may have been missed meanwhile.
async function subscribe() {
  await goLive(pb, $('live'), {
    signedIn: token,
    subscribeAll: async () => {
      state.unsubscribe = await pb.collection('tickets').subscribe('*', onTicketEvent);
    },
    reload: () => loadTickets(state.page),
    notLive: 'Not live: reload the page to see new answers',
  });
}

function onTicketEvent(e) {
  if (!e || !e.record) return;
  if (e.action === 'delete') {
    removeTicket(e.record.id);
    return;
  }
  const before = state.tickets.find((t) => t.id === e.record.id);
  if (!before && state.page !== 1) return;
  upsertTicket(e.record, { prepend: true });
  if (!before) return;
  const known = new Set((before.ticketAnswers || []).map((a) => a.id));
  const added = (e.record.ticketAnswers || []).filter((a) => !known.has(a.id));
  if (added.length) {
    for (const a of added) markFresh(a.id);
    renderTickets();
    announce(`New answer on your ticket ${e.record.id}.`);
  }
}

async function loadTickets(page) {
  const list = $('tickets');
  list.setAttribute('aria-busy', 'true');
  const err = $('tickets-error');
  err.hidden = true;
  try {
    const res = await call('GET', '/getUserTickets', { query: { page, limit: PAGE_SIZE } });
    state.page = Number(res.page) || page;
    state.tickets = Array.isArray(res.data) ? res.data : [];
    renderTickets();
    renderPager($('tickets-pager'), res, (p) => loadTickets(p));
  } catch (e) {
    if (!token()) return;
    setText(err, e.message);
    err.hidden = false;
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

function upsertTicket(ticket, { prepend }) {
  const i = state.tickets.findIndex((t) => t.id === ticket.id);
  if (i >= 0) state.tickets[i] = ticket;
  else if (prepend) state.tickets.unshift(ticket);
  else state.tickets.push(ticket);
  renderTickets();
}

// markFresh highlights a newly arrived answer for a moment.
function markFresh(id) {
  state.fresh.add(id);
  setTimeout(() => state.fresh.delete(id), 2000);
}

function removeTicket(id) {
  state.tickets = state.tickets.filter((t) => t.id !== id);
  renderTickets();
}

function renderTickets() {
  const list = $('tickets');
  list.replaceChildren(...state.tickets.map(renderTicket));
  $('tickets-empty').hidden = state.tickets.length > 0;
}

function statusBadge(t) {
  if (t.ticketStatus === 'closed') return el('span', { className: 'badge closed' }, 'Closed');
  if (t.isTaken) return el('span', { className: 'badge taken' }, 'In progress');
  return el('span', { className: 'badge open' }, 'Open');
}

function renderTicket(t) {
  const answers = Array.isArray(t.ticketAnswers) ? t.ticketAnswers : [];
  return el('li', { className: 'ticket', 'data-id': t.id, 'data-status': t.ticketStatus },
    el('div', { className: 'ticket-meta' },
      statusBadge(t),
      t.isHighPriority ? el('span', { className: 'badge priority' }, 'High priority') : null,
      el('span', { className: 'muted' }, 'Ticket ', el('code', {}, t.id), ' · sent ', timeEl(t.createdAt)),
    ),
    el('p', { className: 'ticket-content' }, t.ticketContent),
    el('h3', { className: 'answers-heading' }, answers.length ? `Answers (${answers.length})` : 'No answer yet'),
    answers.length ? el('ol', { className: 'answers' }, answers.map((a) => el('li', { className: state.fresh.has(a.id) ? 'answer fresh' : 'answer', 'data-id': a.id },
      el('p', { className: 'answer-text' }, a.answer),
      el('p', { className: 'muted small' }, 'Support team · ', timeEl(a.createdAt)),
    ))) : null,
  );
}

// ---- start --------------------------------------------------------------

wireSignedOut();
wireSignedIn();
if (pb.authStore.isValid && pb.authStore.record && pb.authStore.record.collectionName !== 'admins') {
  showSignedIn().catch((err) => showPageMessage(err.message, 'error'));
} else {
  pb.authStore.clear();
  showSignedOut();
}
