// The customer portal: sign up, log in, send tickets, watch their answers
// arrive live (PocketBase realtime on the `tickets` collection, which only
// ever tells a customer about its own tickets), and read and reply to one
// ticket's whole conversation on its own page (#/tickets/<id>).
import PocketBase, { LocalAuthStore } from '/vendor/pocketbase-0.28.1.es.mjs';
import {
  api, ApiError, setText, fill, onSubmit, clearErrors, announce, renderPager, goLive,
  showPageMessage, sessionApi, subjectOf,
} from '/js/common.js';
import { ticketItem, ticketMetaNodes, conversationNodes, customerMessages } from '/js/portal-render.js';
import { enableAttach, withFiles, enableFreshFileLinks } from '/js/attach.js';

const PAGE_SIZE = 20;

const pb = new PocketBase(window.location.origin, new LocalAuthStore('ticketportal.customer'));
pb.autoCancellation(false);

const $ = (id) => document.getElementById(id);
const state = { page: 1, tickets: [], unsubscribe: null, fresh: new Set(), open: null, notice: '' };

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
    const body = { ticketContent: v.ticketContent };
    if (v.ticketSubject) body.ticketSubject = v.ticketSubject;
    const res = await call('POST', '/sendTicket', withFiles(form, { body }));
    form.reset();
    const ticket = res.data;
    if (ticket && state.page === 1) upsertTicket(ticket, { prepend: true });
    formOk(form, `Ticket sent. Its number is ${res.ticketId || (ticket && ticket.id)}.`);
  });

  const reply = $('reply-form');
  enableAttach(form);
  enableAttach(reply);
  enableFreshFileLinks(token);
  reply.elements.reply.addEventListener('input', () => { reply.querySelector('.form-ok').hidden = true; });
  onSubmit(reply, async (v) => {
    const t = state.open;
    if (!t) return;
    reply.querySelector('.form-ok').hidden = true;
    const wasClosed = t.ticketStatus === 'closed';
    const res = await call('POST', `/replyOnTicket/${encodeURIComponent(t.id)}`, withFiles(reply, { body: { reply: v.reply } }));
    reply.reset();
    const after = res.data;
    if (!after) return;
    upsertTicket(after, { prepend: true });
    if (after.id !== t.id) {
      // past the reopen window: the reply started a follow-up ticket
      state.notice = `Ticket ${t.id} stays closed, so your reply started this new ticket, ${after.id}, which follows it up.`;
      state.open = after;
      window.location.hash = `#/tickets/${after.id}`;
      return;
    }
    state.open = after;
    renderOpen();
    formOk(reply, wasClosed && after.ticketStatus === 'active' ? 'Your reply is sent and the ticket is open again.' : 'Your reply is sent.');
  });

  window.addEventListener('hashchange', () => { if (token()) route(); });
}

async function showSignedIn() {
  const user = pb.authStore.record || {};
  setText($('whoami'), user.userName || user.email || 'customer');
  $('session').hidden = false;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  await subscribe();
  await loadTickets(1);
  await route();
}

function showSignedOut() {
  $('session').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  $('tickets').replaceChildren();
  $('conversation').replaceChildren();
  state.tickets = [];
  state.open = null;
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
// the list (and the open ticket) is read again, as events may have been
// missed meanwhile.
async function subscribe() {
  await goLive(pb, $('live'), {
    signedIn: token,
    subscribeAll: async () => {
      state.unsubscribe = await pb.collection('tickets').subscribe('*', onTicketEvent);
    },
    reload: () => { loadTickets(state.page); if (state.open) loadOpen(state.open.id); },
    notLive: 'Not live: reload the page to see new answers',
  });
}

function onTicketEvent(e) {
  if (!e || !e.record) return;
  const id = e.record.id;
  if (e.action === 'delete') {
    removeTicket(id);
    if (state.open && state.open.id === id) {
      window.location.hash = '#/';
      showPageMessage(`Ticket ${id} was deleted.`);
    }
    return;
  }
  const before = state.tickets.find((t) => t.id === id);
  const isOpen = state.open && state.open.id === id;
  if (!Array.isArray(e.record.messages) && (before || isOpen)) {
    // the event carries the ticket without its conversation: read it whole
    refresh(id, e.record);
    return;
  }
  if (before || state.page === 1) upsertTicket(e.record, { prepend: true }, before || (isOpen && state.open));
  if (isOpen) {
    const prev = state.open;
    state.open = e.record;
    noteArrivals(prev, e.record);
    renderOpen();
  }
}

// refresh reads one ticket whole (coalescing bursts of events) and puts it
// wherever it shows.
const refreshing = new Map();
function refresh(id, fallback) {
  if (refreshing.has(id)) return;
  refreshing.set(id, setTimeout(async () => {
    refreshing.delete(id);
    try {
      const res = await call('GET', `/getTicket/${encodeURIComponent(id)}`);
      const t = res.data;
      if (!t) return;
      const before = state.tickets.find((x) => x.id === id);
      if (before) upsertTicket(t, { prepend: true }, before);
      if (state.open && state.open.id === id) {
        const prev = state.open;
        state.open = t;
        noteArrivals(prev, t);
        renderOpen();
      }
    } catch {
      // no conversation to read: show the ticket as the event has it
      const before = state.tickets.find((x) => x.id === id);
      if (before) upsertTicket(fallback, { prepend: true }, before);
    }
  }, 100));
}

// noteArrivals highlights and announces the messages new in `after`.
function noteArrivals(before, after) {
  const known = new Set(customerMessages(before).map((m) => m.id));
  const added = customerMessages(after).filter((m) => !known.has(m.id));
  for (const m of added) markFresh(m.id);
  if (added.some((m) => m.kind === 'answer')) announce(`New answer on your ticket ${after.id}.`);
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

// upsertTicket puts a ticket in the list; with `before` (the copy it
// replaces) the answers that are new in it are highlighted.
function upsertTicket(ticket, { prepend }, before) {
  if (before) noteArrivals(before, ticket);
  const i = state.tickets.findIndex((t) => t.id === ticket.id);
  if (i >= 0) state.tickets[i] = ticket;
  else if (prepend) state.tickets.unshift(ticket);
  else state.tickets.push(ticket);
  renderTickets();
}

// markFresh highlights a newly arrived message for a moment.
function markFresh(id) {
  state.fresh.add(id);
  setTimeout(() => state.fresh.delete(id), 2000);
}

function removeTicket(id) {
  state.tickets = state.tickets.filter((t) => t.id !== id);
  renderTickets();
}

function renderTickets() {
  $('tickets').replaceChildren(...state.tickets.map((t) => ticketItem(t, state.fresh)));
  $('tickets-empty').hidden = state.tickets.length > 0;
}

// ---- one ticket (#/tickets/<id>) ---------------------------------------------

// route shows the list or one ticket, as the address says.
async function route() {
  const m = /^#\/tickets\/([a-z0-9]{1,40})$/.exec(window.location.hash);
  if (!m) {
    state.open = null;
    $('ticket-view').hidden = true;
    $('list-view').hidden = false;
    return;
  }
  $('list-view').hidden = true;
  $('ticket-view').hidden = false;
  clearErrors($('reply-form'));
  $('reply-form').querySelector('.form-ok').hidden = true;
  // what a reply just did (a follow-up started) stays until the next page
  setText($('ticket-notice'), state.notice);
  $('ticket-notice').hidden = !state.notice;
  state.notice = '';
  if (!state.open || state.open.id !== m[1]) {
    state.open = null;
    setText($('ticket-heading'), `Ticket ${m[1]}`);
    $('ticket-meta').replaceChildren();
    $('conversation').replaceChildren();
  } else {
    renderOpen();
  }
  await loadOpen(m[1]);
  $('ticket-view').focus();
}

async function loadOpen(id) {
  const list = $('conversation');
  const err = $('ticket-error');
  list.setAttribute('aria-busy', 'true');
  err.hidden = true;
  try {
    const res = await call('GET', `/getTicket/${encodeURIComponent(id)}`);
    if (!/^#\/tickets\//.test(window.location.hash)) return;
    state.open = res.data;
    renderOpen();
  } catch (e) {
    if (!token()) return;
    state.open = null;
    $('reply-form').hidden = true;
    setText(err, e instanceof ApiError && e.status === 404 ? `There is no ticket ${id} among yours.` : e.message);
    err.hidden = false;
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

function renderOpen() {
  const t = state.open;
  if (!t) return;
  setText($('ticket-heading'), subjectOf(t));
  fill($('ticket-meta'), ...ticketMetaNodes(t));
  $('conversation').replaceChildren(...conversationNodes(t, state.fresh));
  $('reply-form').hidden = false;
  $('reply-closed').hidden = t.ticketStatus !== 'closed';
  const hint = t.ticketStatus === 'closed' ? 'reply-closed reply-hint' : 'reply-hint';
  const input = $('reply-text');
  const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x.endsWith('-error'));
  input.setAttribute('aria-describedby', [...hint.split(' '), ...ids].join(' '));
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
