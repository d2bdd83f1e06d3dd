// The agent console: the live active queue (PocketBase realtime: the
// `tickets` collection events and the `adminsRoom` topic), one ticket's
// actions (take, answer, close; for a superAdmin also high priority and
// delete), and for a superAdmin the closed tickets, search by id and the
// agents.
import PocketBase, { LocalAuthStore } from '/vendor/pocketbase-0.28.1.es.mjs';
import {
  api, ApiError, setText, onSubmit, busy, announce, clearErrors, fill, goLive,
  showPageMessage, sessionApi,
} from '/js/common.js';
import { byQueueOrder, ticketRow, detailNodes } from '/js/console-render.js';
import { setupManage } from '/js/console-manage.js';

const QUEUE_PAGE = 100; // the queue is loaded whole, 100 at a time

const pb = new PocketBase(window.location.origin, new LocalAuthStore('ticketportal.agent'));
pb.autoCancellation(false);

const $ = (id) => document.getElementById(id);
const state = {
  me: null,
  queue: [], // active tickets
  closed: { page: 1, items: [] },
  agents: new Map(), // admin id -> user name
  selected: null, // the ticket shown in the detail panel
  view: 'queue',
  fresh: new Set(), // ids of tickets that just arrived (highlighted)
};

const isSuper = () => state.me && state.me.role === 'superAdmin';
const token = () => pb.authStore.token;

// call runs an API call as the signed-in agent; a 401 ends the session.
const call = sessionApi(pb, () => logOut());

function showMessage(p, text) {
  setText(p, text);
  p.hidden = !text;
}

// ---- agents' names --------------------------------------------------------

async function loadAgents() {
  try {
    const list = await pb.collection('admins').getFullList({ fields: 'id,userName', batch: 500 });
    for (const a of list) state.agents.set(a.id, a.userName);
  } catch { /* names fall back to "another agent" */ }
}

function agentName(id) {
  if (!id) return '';
  if (state.me && id === state.me.id) return 'you';
  return state.agents.get(id) || 'another agent';
}

// ensureAgent loads the names again when an unknown agent shows up.
async function ensureAgent(id) {
  if (!id || state.agents.has(id) || (state.me && id === state.me.id)) return;
  await loadAgents();
  renderQueue();
  renderDetail();
}

// ---- session ----------------------------------------------------------------

function wireLogin() {
  const form = $('login-form');
  onSubmit(form, async (v) => {
    // role "admin" admits agents and heads of support alike
    const res = await api('POST', '/login', { body: { userName: v.userName, password: v.password, role: 'admin' } });
    const user = res.user || {};
    if (user.role !== 'admin' && user.role !== 'superAdmin') {
      throw new ApiError(403, { message: 'This is a customer account: customers use the customer portal at /.' });
    }
    pb.authStore.save(res.token, user);
    $('login-form').reset();
    showPageMessage('');
    await showSignedIn();
  });
  $('logout').addEventListener('click', async () => {
    await logOut();
    showPageMessage('You are logged out.');
  });
}

async function showSignedIn() {
  state.me = pb.authStore.record;
  state.agents.set(state.me.id, state.me.userName);
  setText($('whoami'), state.me.userName || state.me.email);
  setText($('whoami-role'), isSuper() ? '(head of support)' : '(agent)');
  for (const node of document.querySelectorAll('.super-only')) node.hidden = !isSuper();
  $('session').hidden = false;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  showView('queue');
  await Promise.all([loadAgents(), subscribe()]);
  await loadQueue();
}

function showSignedOut() {
  state.me = null;
  state.queue = [];
  state.selected = null;
  $('session').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  closeDetail();
}

async function logOut() {
  try { await pb.realtime.unsubscribe(); } catch { /* already gone */ }
  pb.authStore.clear();
  showSignedOut();
}

// ---- realtime -------------------------------------------------------------------

async function subscribe() {
  await goLive(pb, $('live'), {
    signedIn: token,
    subscribeAll: async () => {
      await pb.realtime.subscribe('adminsRoom', onMarked);
      await pb.collection('tickets').subscribe('*', onTicketEvent);
    },
    reload: loadQueue,
    notLive: 'Not live: reload the page',
  });
}

// onTicketEvent applies a record event of the tickets collection.
function onTicketEvent(e) {
  if (!e || !e.record) return;
  const t = e.record;
  if (e.action === 'delete') {
    forgetTicket(t.id, 'This ticket was deleted.');
    return;
  }
  const isNew = e.action === 'create' && t.ticketStatus === 'active' && !state.queue.some((q) => q.id === t.id);
  if (isNew) markFresh(t.id);
  applyTicket(t);
  if (isNew) announce(`New ticket from ${t.customerUserName || 'a customer'}.`);
  ensureAgent(t.takenBy);
  for (const a of t.ticketAnswers || []) ensureAgent(a.adminId);
}

// onMarked applies an adminsRoom message: a ticket was taken, closed or
// flagged high priority by some agent.
function onMarked(msg) {
  if (!msg || msg.event !== 'marked' || !msg.ticketId) return;
  const patch = (t) => {
    if (msg.ticketStatus === 'taken') return { ...t, isTaken: true, takenBy: msg.by || t.takenBy };
    if (msg.ticketStatus === 'closed') return { ...t, ticketStatus: 'closed' };
    if (msg.ticketStatus === 'high priority') return { ...t, isHighPriority: true };
    return t;
  };
  const inQueue = state.queue.find((t) => t.id === msg.ticketId);
  if (inQueue) applyTicket(patch(inQueue));
  else if (state.selected && state.selected.id === msg.ticketId) applyTicket(patch(state.selected));
  if (state.selected && state.selected.id === msg.ticketId && msg.by && msg.by !== state.me.id) {
    const what = { taken: 'taken', closed: 'closed', 'high priority': 'marked high priority' }[msg.ticketStatus] || 'changed';
    showMessage($('action-error'), '');
    showMessage($('action-ok'), `This ticket was just ${what} by ${agentName(msg.by)}.`);
    if (!state.agents.has(msg.by)) {
      // name the agent once its name is known
      ensureAgent(msg.by).then(() => showMessage($('action-ok'), `This ticket was just ${what} by ${agentName(msg.by)}.`));
      return;
    }
  }
  ensureAgent(msg.by);
}

// applyTicket puts a fresh copy of a ticket everywhere it is shown.
function applyTicket(t) {
  const i = state.queue.findIndex((q) => q.id === t.id);
  if (t.ticketStatus === 'active') {
    if (i >= 0) state.queue[i] = t;
    else state.queue.push(t);
  } else if (i >= 0) {
    state.queue.splice(i, 1);
  }
  const c = state.closed.items.findIndex((q) => q.id === t.id);
  if (c >= 0) state.closed.items[c] = t;
  else if (t.ticketStatus === 'closed' && isSuper() && state.closed.page === 1 && state.closed.loaded) state.closed.items.unshift(t);
  if (state.selected && state.selected.id === t.id) state.selected = t;
  renderQueue();
  renderClosed();
  renderDetail();
}

// markFresh highlights a newly arrived ticket's row for a moment.
function markFresh(id) {
  state.fresh.add(id);
  setTimeout(() => state.fresh.delete(id), 2000);
}

function forgetTicket(id, message) {
  state.queue = state.queue.filter((t) => t.id !== id);
  state.closed.items = state.closed.items.filter((t) => t.id !== id);
  renderQueue();
  renderClosed();
  if (state.selected && state.selected.id === id) {
    closeDetail();
    showPageMessage(message);
  }
}

// ---- the queue ----------------------------------------------------------------------

async function loadQueue() {
  const list = $('queue');
  list.setAttribute('aria-busy', 'true');
  showMessage($('queue-error'), '');
  try {
    const all = [];
    for (let page = 1; page <= 50; page++) {
      const res = await call('GET', '/getAllActiveTickets', { query: { page, limit: QUEUE_PAGE } });
      all.push(...(res.data || []));
      if (page >= (Number(res.numOfPages) || 0)) break;
    }
    state.queue = all;
    renderQueue();
    if (state.selected) {
      const fresh = all.find((t) => t.id === state.selected.id);
      if (fresh) applyTicket(fresh);
    }
  } catch (err) {
    if (token()) showMessage($('queue-error'), err.message);
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

// renderRows redraws a list of ticket rows, keeping the keyboard focus on
// the row that had it.
function renderRows(list, tickets) {
  const focused = list.contains(document.activeElement) && document.activeElement.closest('li');
  const focusedId = focused && focused.dataset.id;
  list.replaceChildren(...tickets.map((t) => ticketRow(t, {
    selected: state.selected && state.selected.id === t.id,
    fresh: state.fresh.has(t.id),
    agentName,
    onOpen: openTicket,
  })));
  const again = focusedId && list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] button`);
  if (again) again.focus();
}

function renderQueue() {
  state.queue.sort(byQueueOrder);
  renderRows($('queue'), state.queue);
  $('queue-empty').hidden = state.queue.length > 0;
  setText($('queue-count'), state.queue.length ? `(${state.queue.length})` : '');
}

// ---- one ticket -------------------------------------------------------------------------

function openTicket(t) {
  state.selected = t;
  clearErrors($('answer-form'));
  showMessage($('action-error'), '');
  showMessage($('action-ok'), '');
  $('detail').hidden = false;
  document.querySelector('.workspace').classList.add('has-detail');
  renderQueue();
  renderClosed();
  renderDetail();
  $('detail').focus();
  document.dispatchEvent(new CustomEvent('portal:ticket-open', { detail: t })); // js/search.js, js/canned.js
}
document.addEventListener('portal:open-ticket', (e) => openTicket(e.detail)); // a search result

function closeDetail() {
  const id = state.selected && state.selected.id;
  state.selected = null;
  $('detail').hidden = true;
  document.querySelector('.workspace').classList.remove('has-detail');
  renderQueue();
  renderClosed();
  const row = id && document.querySelector(`li[data-id="${CSS.escape(id)}"] button`);
  if (row) row.focus();
}

function renderDetail() {
  const t = state.selected;
  if (!t) return;
  const active = t.ticketStatus === 'active';
  setText($('detail-heading'), `Ticket ${t.id}`);
  fill($('detail-body'), ...detailNodes(t, agentName));
  $('take-button').hidden = !active || t.takenBy === state.me.id;
  $('close-button').hidden = !active;
  $('priority-button').hidden = !isSuper() || !active || t.isHighPriority;
  $('delete-button').hidden = !isSuper();
  $('answer-form').hidden = !active;
}

// ticketAction runs one action button of the detail panel and shows its
// outcome (a 409 from a race included) right under the buttons.
function ticketAction(buttonId, run) {
  const button = $(buttonId);
  button.addEventListener('click', async () => {
    const t = state.selected;
    if (!t || button.disabled) return;
    showMessage($('action-error'), '');
    showMessage($('action-ok'), '');
    await busy(button, async () => {
      try {
        const ok = await run(t);
        if (ok) showMessage($('action-ok'), ok);
      } catch (err) {
        showMessage($('action-error'), err.message);
      }
    });
    // a button that went away (Take, Close, ...) leaves the focus nearby
    if (button.hidden && !$('detail').hidden) ($('answer-form').hidden ? $('detail') : $('answer-text')).focus();
  });
}

function wireDetail() {
  $('detail-close').addEventListener('click', closeDetail);
  $('detail').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDetail(); });

  ticketAction('take-button', async (t) => {
    await call('PATCH', `/markTicketStatus/${encodeURIComponent(t.id)}`, { body: { status: 'markAsTaken' } });
    applyTicket({ ...state.selected, isTaken: true, takenBy: state.me.id });
    return 'You have taken this ticket.';
  });
  ticketAction('close-button', async (t) => {
    await call('PATCH', `/markTicketStatus/${encodeURIComponent(t.id)}`, { body: { status: 'markAsClosed' } });
    applyTicket({ ...state.selected, ticketStatus: 'closed' });
    return 'The ticket is closed.';
  });
  ticketAction('priority-button', async (t) => {
    await call('PATCH', `/markAsHighPriority/${encodeURIComponent(t.id)}`);
    applyTicket({ ...state.selected, isHighPriority: true });
    return 'The ticket is marked high priority.';
  });
  ticketAction('delete-button', async (t) => {
    if (!window.confirm(`Delete ticket ${t.id} and its answers for good?`)) return '';
    await call('DELETE', `/deleteSpecificTicket/${encodeURIComponent(t.id)}`);
    forgetTicket(t.id, `Ticket ${t.id} is deleted.`);
    return '';
  });

  const form = $('answer-form');
  onSubmit(form, async (v) => {
    const t = state.selected;
    if (!t) return;
    const res = await call('PATCH', `/sendAnswerOnTicket/${encodeURIComponent(t.id)}`, { body: { answer: v.answer } });
    form.reset();
    if (res.data && res.data.id === t.id) applyTicket(res.data);
    showMessage($('action-ok'), 'Your answer is sent.');
  });
}

// ---- superAdmin views ----------------------------------------------------------------

function showView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-pressed', String(tab.dataset.view === view));
  for (const name of ['queue', 'closed', 'search', 'admins']) $(`view-${name}`).hidden = name !== view;
  if (view === 'closed') loadClosed(1);
  if (view === 'admins') loadAdmins(1);
}

function wireViews() {
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => showView(tab.dataset.view));
}

// ---- start -------------------------------------------------------------------------------

const { loadClosed, renderClosed, loadAdmins } = setupManage({
  state, call, token, openTicket, renderRows, showMessage,
});
wireLogin();
wireDetail();
wireViews();
const saved = pb.authStore.record;
if (pb.authStore.isValid && saved && (saved.role === 'admin' || saved.role === 'superAdmin')) {
  showSignedIn().catch((err) => showPageMessage(err.message, 'error'));
} else {
  pb.authStore.clear();
  showSignedOut();
}
