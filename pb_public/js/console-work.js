// Working on one ticket in the agent console, beyond take / close: the
// compose box (an answer to the customer or an internal note), release,
// reopen and assign, tags, and the ticket's history.
import { el, setText, onSubmit, timeEl, clearErrors, showErrors, ApiError } from '/js/common.js';
import { enableAttach, withFiles } from '/js/attach.js';

const $ = (id) => document.getElementById(id);
const HISTORY_PAGE = 50;

const COMPOSE = {
  answer: {
    name: 'answer', label: 'Your answer', submit: 'Send answer',
    hint: 'The customer sees it at once and gets it by mail.',
  },
  note: {
    name: 'note', label: 'Your internal note', submit: 'Add note',
    hint: 'Only agents see notes; the customer never does.',
  },
};

const EVENTS = {
  created: 'sent the ticket',
  replied: 'replied',
  answered: 'answered',
  noted: 'added an internal note',
  taken: 'took the ticket',
  released: 'released the ticket',
  assigned: 'assigned the ticket',
  closed: 'closed the ticket',
  reopened: 'reopened the ticket',
  prioritized: 'marked it high priority',
  tagged: 'changed the tags',
  rated: 'rated the answer',
  slaBreached: 'service level missed',
  mailSent: 'mail sent',
  mailFailed: 'mail failed',
  mailReceived: 'mail received',
};

// setupWork wires the ticket panel's work parts to the console and returns
// { renderWork(ticket), composeKind(), resetWork() }.
export function setupWork({ state, call, isSuper, applyTicket, agentName, showMessage, presence }) {
  const form = $('answer-form');
  enableAttach(form);
  const text = $('answer-text');
  const history = { ticketId: null, page: 0, items: [], done: false };

  // ---- compose: answer or note ------------------------------------------------
  function composeKind() {
    return form.elements.kind.value === 'note' ? 'note' : 'answer';
  }

  function showCompose(kind) {
    const c = COMPOSE[kind];
    clearErrors(form);
    text.name = c.name;
    setText($('answer-label'), c.label);
    setText($('answer-hint'), c.hint);
    setText($('answer-submit'), c.submit);
    form.classList.toggle('writing-note', kind === 'note');
  }

  for (const radio of form.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener('change', () => showCompose(composeKind()));
  }
  text.addEventListener('input', () => presence.typed());

  onSubmit(form, async (v) => {
    const t = state.selected;
    if (!t) return;
    const kind = composeKind();
    const path = kind === 'note' ? `/addNoteOnTicket/${encodeURIComponent(t.id)}` : `/sendAnswerOnTicket/${encodeURIComponent(t.id)}`;
    const res = await call(kind === 'note' ? 'POST' : 'PATCH', path, withFiles(form, { body: { [kind]: v[kind] } }));
    text.value = '';
    if (res.data && res.data.id === t.id) applyTicket(res.data);
    showMessage($('action-error'), '');
    showMessage($('action-ok'), kind === 'note' ? 'Your note is added; only agents see it.' : 'Your answer is sent.');
    if (history.ticketId === t.id && $('history').open) loadHistory(true);
  });

  // ---- assign (superAdmin) ----------------------------------------------------
  const assign = $('assign-form');
  onSubmit(assign, async (v) => {
    const t = state.selected;
    if (!t) return;
    const res = await call('PATCH', `/assignTicket/${encodeURIComponent(t.id)}`, { body: { adminId: v.adminId } });
    delete select.dataset.chosen;
    if (res.data) applyTicket(res.data);
    showMessage($('action-error'), '');
    showMessage($('action-ok'), v.adminId ? `The ticket is assigned to ${agentName(v.adminId)}.` : 'The ticket is free: nobody holds it.');
  });

  const select = $('assign-admin');
  select.addEventListener('change', () => { select.dataset.chosen = '1'; });

  function renderAssign(t) {
    // a choice made and not yet sent stays while the ticket redraws
    const keep = select.dataset.ticket === t.id && select.dataset.chosen ? select.value : null;
    const agents = [...state.agents.entries()].sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    select.replaceChildren(
      el('option', { value: '' }, 'Nobody (free the ticket)'),
      ...agents.map(([id, name]) => el('option', { value: id }, id === state.me.id ? `${name} (you)` : name)),
    );
    select.value = keep ?? (t.takenBy || '');
    if (keep === null) delete select.dataset.chosen;
    select.dataset.ticket = t.id;
    assign.hidden = !isSuper() || t.ticketStatus !== 'active';
  }

  // ---- tags -----------------------------------------------------------------
  const tagForm = $('tag-form');
  onSubmit(tagForm, async (v) => {
    const t = state.selected;
    if (!t) return;
    const tag = String(v.tag || '').trim().toLowerCase();
    if (!tag) {
      showErrors(tagForm, new ApiError(400, { message: 'Write a tag first.', data: {} }));
      return;
    }
    const res = await call('PATCH', `/tagTicket/${encodeURIComponent(t.id)}`, { body: { add: [tag] } });
    tagForm.reset();
    if (res.data) applyTicket(res.data);
  });

  async function removeTag(tag, button) {
    const t = state.selected;
    if (!t) return;
    button.disabled = true;
    try {
      const res = await call('PATCH', `/tagTicket/${encodeURIComponent(t.id)}`, { body: { remove: [tag] } });
      if (res.data) applyTicket(res.data);
      $('tag-input').focus();
    } catch (err) {
      button.disabled = false;
      showErrors(tagForm, err);
    }
  }

  function renderTags(t) {
    const tags = Array.isArray(t.tags) ? t.tags : [];
    $('tag-list').replaceChildren(...tags.map((tag) => el('li', { className: 'tag' },
      el('span', {}, tag),
      el('button', {
        type: 'button', className: 'tag-remove', 'aria-label': `Remove tag ${tag}`, title: `Remove tag ${tag}`,
        onclick: (e) => removeTag(tag, e.currentTarget),
      }, '×'),
    )));
    if (!tags.length) $('tag-list').replaceChildren(el('li', { className: 'muted small' }, 'No tags yet.'));
  }

  // ---- history ----------------------------------------------------------------
  const details = $('history');
  details.addEventListener('toggle', () => { if (details.open) loadHistory(true); });
  $('history-more').addEventListener('click', () => loadHistory(false));

  async function loadHistory(fromStart) {
    const t = state.selected;
    if (!t) return;
    if (fromStart || history.ticketId !== t.id) Object.assign(history, { ticketId: t.id, page: 0, items: [], done: false });
    if (history.done) return;
    const list = $('history-list');
    list.setAttribute('aria-busy', 'true');
    showMessage($('history-error'), '');
    try {
      const page = history.page + 1;
      const res = await call('GET', `/getTicketHistory/${encodeURIComponent(t.id)}`, { query: { page, limit: HISTORY_PAGE } });
      if (!state.selected || state.selected.id !== history.ticketId) return;
      history.page = page;
      history.items.push(...(res.data || []));
      history.done = page >= (Number(res.numOfPages) || 0);
      renderHistory();
    } catch (err) {
      showMessage($('history-error'), err.message);
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  function renderHistory() {
    $('history-list').replaceChildren(...history.items.map((h) => el('li', { 'data-event': h.event },
      timeEl(h.at), ' ',
      el('strong', {}, h.by ? (h.by === state.me.id ? 'you' : h.byName || agentName(h.by)) : h.byName || 'the system'),
      ' ', EVENTS[h.event] || h.event,
      detailText(h.detail, agentName) ? el('span', { className: 'muted' }, ` — ${detailText(h.detail, agentName)}`) : null,
    )));
    if (!history.items.length) $('history-list').replaceChildren(el('li', { className: 'muted' }, 'Nothing yet.'));
    $('history-more').hidden = history.done;
  }

  // ---- per ticket -------------------------------------------------------------
  let lastId = null;
  let lastUpdated = null;
  function renderWork(t) {
    const active = t.ticketStatus === 'active';
    if (t.id !== lastId) {
      // another ticket: start the compose box, tags and history afresh
      lastId = t.id;
      form.elements.kind.value = 'answer';
      showCompose('answer');
      text.value = '';
      clearErrors(tagForm);
      clearErrors(assign);
      details.open = false;
      Object.assign(history, { ticketId: null, page: 0, items: [], done: false });
      $('history-list').replaceChildren();
    } else if (details.open && t.updatedAt !== lastUpdated) {
      loadHistory(true);
    }
    lastUpdated = t.updatedAt;
    // an admin writes on active tickets; a superAdmin may also note a closed one
    $('kind-answer').disabled = !active;
    if (!active && composeKind() === 'answer') {
      form.elements.kind.value = 'note';
      showCompose('note');
    }
    form.hidden = !(active || isSuper());
    renderAssign(t);
    renderTags(t);
    $('tag-form').hidden = !(active || isSuper());
  }

  function resetWork() {
    lastId = null;
  }

  return { renderWork, composeKind, resetWork };
}

// detailText is a history line's detail as a short plain sentence: who a
// ticket went to or came from, which tags changed, the rating; ids of
// messages and flags that the event already says are left out.
function detailText(d, agentName) {
  if (d == null || d === '') return '';
  if (typeof d !== 'object') return String(d);
  const who = (id, name) => name || (id ? agentName(id) : 'nobody');
  const list = (v) => (Array.isArray(v) ? v.join(', ') : String(v));
  const parts = [];
  for (const [k, v] of Object.entries(d)) {
    if (v == null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (k === 'messageId' || k === 'high' || k === 'toName') continue;
    if (k === 'to') parts.push(`to ${who(v, d.toName)}`);
    else if (k === 'from') parts.push(`from ${who(v)}`);
    else if (k === 'added') parts.push(`added ${list(v)}`);
    else if (k === 'removed') parts.push(`removed ${list(v)}`);
    else parts.push(`${k}: ${typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : list(v)}`);
  }
  return parts.join('; ');
}
