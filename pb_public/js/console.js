// The agent console: the live active queue with its filters (PocketBase
// realtime: the `tickets` collection events and the `adminsRoom` topic),
// one ticket's conversation and actions (take, release, answer, note, close,
// tags, history; for a superAdmin also assign, reopen, high priority and
// delete), who else is viewing or typing on a ticket, and for a superAdmin
// the closed tickets, search by id and the agents.
import PocketBase, { LocalAuthStore } from '/vendor/pocketbase-0.28.1.es.mjs';
import {
  api, ApiError, setText, onSubmit, busy, announce, clearErrors, fill, goLive,
  showPageMessage, sessionApi,
} from '/js/common.js';
import { byQueueOrder, ticketRow, detailNodes } from '/js/console-render.js';
import { setupManage } from '/js/console-manage.js';
import { setupWork } from '/js/console-work.js';
import { createPresence } from '/js/console-presence.js';
import { enableFreshFileLinks } from '/js/attach.js';

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
  filter: { show: '', tag: '' }, // the queue's filters
};

const isSuper = () => state.me && state.me.role === 'superAdmin';
const token = () => pb.authStore.token;

// call runs an API call as the signed-in agent; a 401 ends the session.
const call = sessionApi(pb, () => logOut());
enableFreshFileLinks(() => pb.authStore.token);

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
  presence.reset();
  try { await pb.realtime.unsubscribe(); } catch { /* already gone */ }
  pb.authStore.clear();
  showSignedOut();
}

// ---- realtime -------------------------------------------------------------------

async function subscribe() {
  await goLive(pb, $('live'), {
    signedIn: token,
    subscribeAll: async () => {
      await pb.realtime.subscribe('adminsRoom', onRoom);
      await pb.collection('tickets').subscribe('*', onTicketEvent);
      // a note does not touch its ticket (its customer must not even hear
      // that something happened): staff hear it on the messages collection
      await pb.collection('messages').subscribe('*', onMessageEvent);
    },
    reload: () => { loadQueue(); refreshSelected(); },
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
  // the event may carry the ticket without its conversation (or notes)
  if (state.selected && state.selected.id === t.id) refreshSelected();
  if (isNew) announce(`New ticket from ${t.customerUserName || 'a customer'}.`);
  ensureAgent(t.takenBy);
  for (const a of t.ticketAnswers || []) ensureAgent(a.adminId);
}

// onMessageEvent reads the open ticket again when one of its messages
// changes (notes arrive only this way).
function onMessageEvent(e) {
  if (e && e.record && state.selected && e.record.ticket === state.selected.id) refreshSelected();
}

// onRoom applies an adminsRoom message: "marked" or "viewing".
function onRoom(msg) {
  if (!msg) return;
  if (msg.event === 'viewing') presence.hear(msg);
  else if (msg.event === 'marked') onMarked(msg);
}

// onMarked applies a "marked" message: a ticket was taken, released,
// assigned, closed, reopened or flagged high priority by some agent.
function onMarked(msg) {
  if (!msg.ticketId) return;
  const patch = (t) => {
    if (msg.ticketStatus === 'taken') return { ...t, isTaken: true, takenBy: msg.by || t.takenBy };
    if (msg.ticketStatus === 'released') return { ...t, isTaken: false, takenBy: '' };
    if (msg.ticketStatus === 'closed') return { ...t, ticketStatus: 'closed' };
    if (msg.ticketStatus === 'high priority') return { ...t, isHighPriority: true };
    return t;
  };
  if (state.selected && state.selected.id === msg.ticketId) refreshSelected();
  const inQueue = state.queue.find((t) => t.id === msg.ticketId);
  if (inQueue) applyTicket(patch(inQueue));
  else if (state.selected && state.selected.id === msg.ticketId) applyTicket(patch(state.selected));
  if (state.selected && state.selected.id === msg.ticketId && msg.by && msg.by !== state.me.id) {
    const what = {
      taken: 'taken', released: 'released', assigned: 'assigned', closed: 'closed', reopened: 'reopened', 'high priority': 'marked high priority',
    }[msg.ticketStatus] || 'changed';
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

// applyTicket puts a fresh copy of a ticket everywhere it is shown. A copy
// without its conversation (a record event) keeps the one already known.
function applyTicket(fresh) {
  const known = (state.selected && state.selected.id === fresh.id && state.selected)
    || state.queue.find((q) => q.id === fresh.id);
  const t = known && !Array.isArray(fresh.messages) && Array.isArray(known.messages)
    ? { ...fresh, messages: known.messages }
    : fresh;
  const i = state.queue.findIndex((q) => q.id === t.id);
  if (t.ticketStatus === 'active' && matchesFilter(t)) {
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
      const res = await call('GET', '/getAllActiveTickets', { query: { page, limit: QUEUE_PAGE, ...filterQuery() } });
      all.push(...(res.data || []));
      if (page >= (Number(res.numOfPages) || 0)) break;
    }
    state.queue = all.filter(matchesFilter);
    renderQueue();
    if (state.selected) {
      const fresh = all.find((t) => t.id === state.selected.id);
      if (fresh) applyTicket(fresh);
    }
  } catch (err) {
    if (!token()) return;
    state.queue = [];
    renderQueue();
    showMessage($('queue-error'), err.message);
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

// filterQuery is the list filters of the server for the queue's filters;
// matchesFilter is the same test on one ticket, for the live updates (and
// for "high priority", which the list does not filter).
function filterQuery() {
  const { show, tag } = state.filter;
  return {
    waitingOn: show === 'waiting' ? 'agent' : undefined,
    takenBy: show === 'mine' ? 'me' : show === 'unassigned' ? 'none' : undefined,
    tag: tag || undefined,
  };
}

function matchesFilter(t) {
  const { show, tag } = state.filter;
  if (show === 'waiting' && t.waitingOn !== 'agent') return false;
  if (show === 'mine' && t.takenBy !== state.me.id) return false;
  if (show === 'unassigned' && t.takenBy) return false;
  if (show === 'high' && !t.isHighPriority) return false;
  if (tag && !(Array.isArray(t.tags) && t.tags.includes(tag))) return false;
  return true;
}

function wireFilters() {
  const form = $('queue-filters');
  const apply = () => {
    const show = form.elements.show.value;
    const tag = form.elements.tag.value.trim().toLowerCase();
    if (show === state.filter.show && tag === state.filter.tag) return;
    state.filter = { show, tag };
    setText($('queue-heading'), show || tag ? 'Active queue (filtered)' : 'Active queue');
    setText($('queue-empty'), show || tag ? 'No active ticket matches these filters.' : 'No active tickets. New ones appear here by themselves.');
    loadQueue();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  form.elements.show.addEventListener('change', apply);
  form.elements.tag.addEventListener('change', apply);
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
    presence: presence.line(t.id),
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
  presence.view(t.id);
  refreshSelected();
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
  presence.view(null);
  $('detail').hidden = true;
  document.querySelector('.workspace').classList.remove('has-detail');
  renderQueue();
  renderClosed();
  const row = id && document.querySelector(`li[data-id="${CSS.escape(id)}"] button`);
  if (row) row.focus();
}

// refreshSelected reads the open ticket whole (its conversation with the
// notes), coalescing bursts of events into one read.
let refreshTimer = null;
function refreshSelected() {
  if (!state.selected || refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    const t = state.selected;
    if (!t) return;
    try {
      const res = await call('GET', `/getTicket/${encodeURIComponent(t.id)}`);
      if (res.data && state.selected && state.selected.id === res.data.id) applyTicket(res.data);
    } catch { /* e.g. a ticket closed under an agent: keep what is shown */ }
  }, 60);
}

function renderDetail() {
  const t = state.selected;
  if (!t) return;
  const active = t.ticketStatus === 'active';
  setText($('detail-heading'), `Ticket ${t.id}`);
  fill($('detail-body'), ...detailNodes(t, agentName));
  $('take-button').hidden = !active || t.takenBy === state.me.id;
  $('release-button').hidden = !active || !t.takenBy || (t.takenBy !== state.me.id && !isSuper());
  $('close-button').hidden = !active;
  $('reopen-button').hidden = !isSuper() || active;
  $('priority-button').hidden = !isSuper() || !active || t.isHighPriority;
  $('delete-button').hidden = !isSuper();
  // (again) viewing it once it may be seen: e.g. reopened while open here
  if (active || isSuper()) presence.view(t.id);
  renderPresence();
  renderWork(t);
}

// renderPresence says who else is viewing or typing on the open ticket.
function renderPresence() {
  const line = state.selected ? presence.line(state.selected.id) : '';
  setText($('presence'), line);
  $('presence').hidden = !line;
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
  ticketAction('release-button', async (t) => {
    await call('PATCH', `/markTicketStatus/${encodeURIComponent(t.id)}`, { body: { status: 'markAsReleased' } });
    applyTicket({ ...state.selected, isTaken: false, takenBy: '' });
    refreshSelected();
    return 'The ticket is free: nobody holds it.';
  });
  ticketAction('reopen-button', async (t) => {
    await call('PATCH', `/markTicketStatus/${encodeURIComponent(t.id)}`, { body: { status: 'markAsReopened' } });
    applyTicket({ ...state.selected, ticketStatus: 'active', isTaken: false, takenBy: '' });
    refreshSelected();
    return 'The ticket is open again.';
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

const presence = createPresence({
  call,
  myId: () => state.me && state.me.id,
  onChange: (ids) => {
    if (ids.some((id) => state.queue.some((t) => t.id === id))) renderQueue();
    if (state.closed.loaded && ids.some((id) => state.closed.items.some((t) => t.id === id))) renderClosed();
    if (state.selected && ids.includes(state.selected.id)) renderPresence();
  },
});
const { loadClosed, renderClosed, loadAdmins } = setupManage({
  state, call, token, openTicket, renderRows, showMessage,
});
const { renderWork } = setupWork({
  state, call, isSuper, applyTicket, agentName, showMessage, presence,
});
wireLogin();
wireFilters();
wireDetail();
wireViews();
const saved = pb.authStore.record;
if (pb.authStore.isValid && saved && (saved.role === 'admin' || saved.role === 'superAdmin')) {
  showSignedIn().catch((err) => showPageMessage(err.message, 'error'));
} else {
  pb.authStore.clear();
  showSignedOut();
}
