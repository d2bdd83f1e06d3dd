// Shared helpers of the customer portal and the agent console: one API
// helper, form errors next to their inputs, busy buttons, and a DOM builder
// that inserts everything as text (never as HTML).

import { sendForm, attachmentPreview } from '/js/attach.js';

// ApiError is a failed call: the HTTP status, PocketBase's message and the
// per-field errors of its `data` ({field: {code, message}}).
export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && typeof body.message === 'string' && body.message) ||
      (status === 0 ? 'The server could not be reached. Check your connection and try again.' : `The request failed (HTTP ${status}).`);
    super(message);
    this.status = status;
    this.fields = body && body.data && typeof body.data === 'object' ? body.data : {};
  }
}

// api calls a portal route with a JSON body and returns the parsed answer,
// or throws an ApiError.
export async function api(method, path, { token, body, query, files, onProgress, onSent } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let url = path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  if (files && files.length) return sendForm(method, url, headers, body, files, onProgress, onSent); // js/attach.js
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null);
  }
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, json);
  return json || {};
}

// el builds an element. attrs sets properties (className, hidden, ...),
// "data-*" / "aria-*" / other attributes, and "on<event>" listeners;
// children are nodes or strings (inserted as text).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'className' || k === 'hidden' || k === 'disabled' || k === 'type' || k === 'value') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// fill replaces an element's children with the given nodes and strings
// (as text), skipping null, undefined and false.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

// setText replaces an element's content with plain text.
export function setText(node, text) {
  node.textContent = text == null ? '' : String(text);
}

// formValues reads a form's named inputs as trimmed strings (passwords as typed).
export function formValues(form) {
  const out = {};
  for (const input of form.elements) {
    if (!input.name || input.type === 'submit' || input.type === 'button') continue;
    if ((input.type === 'radio' || input.type === 'checkbox') && !input.checked) continue;
    out[input.name] = input.type === 'password' ? input.value : input.value.trim();
  }
  return out;
}

// clearErrors removes the error messages of a form.
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.remove();
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && !id.endsWith('-error'));
    if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
    else input.removeAttribute('aria-describedby');
  }
  const general = form.querySelector('.form-error');
  if (general) { general.textContent = ''; general.hidden = true; }
}

// showFieldError puts a message right under the input it is about.
export function showFieldError(input, message) {
  const id = `${input.id || input.name}-error`;
  let p = document.getElementById(id);
  if (!p) {
    p = el('p', { className: 'field-error', id });
    input.insertAdjacentElement('afterend', p);
  }
  p.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  const ids = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  ids.add(id);
  input.setAttribute('aria-describedby', [...ids].join(' '));
}

// showErrors shows an API error on a form: each field error next to its
// input, the general message (and errors of fields without an input) in the
// form's .form-error line. The first bad input gets the focus.
export function showErrors(form, err) {
  clearErrors(form);
  const general = form.querySelector('.form-error');
  const rest = [];
  let first = null;
  const fields = err instanceof ApiError ? err.fields : {};
  for (const [name, detail] of Object.entries(fields)) {
    const message = (detail && detail.message) || 'This value is not valid.';
    const input = form.elements.namedItem(name);
    if (input && input instanceof HTMLElement && input.type !== 'hidden') {
      showFieldError(input, message);
      first = first || input;
    } else {
      rest.push(`${name}: ${message}`);
    }
  }
  if (general) {
    general.textContent = [err.message, ...rest].join(' ');
    general.hidden = false;
  }
  if (first) first.focus();
}

// busy disables a button (and marks its form aria-busy) while fn runs.
export async function busy(button, fn) {
  const form = button.form;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (form) form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (form) form.removeAttribute('aria-busy');
  }
}

// onSubmit wires a form: clears its errors, runs handler(values) with the
// submit button busy, and shows an ApiError next to its inputs.
export function onSubmit(form, handler) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button && button.disabled) return;
    clearErrors(form);
    await busy(button, async () => {
      try {
        await handler(formValues(form));
      } catch (err) {
        if (!(err instanceof ApiError)) console.error(err);
        showErrors(form, err instanceof ApiError ? err : new ApiError(-1, { message: 'Something went wrong in this page. Reload it and try again.' }));
      }
    });
  });
}

// parseDate reads PocketBase's "2006-01-02 15:04:05.000Z" dates.
export function parseDate(s) {
  if (!s) return null;
  const d = new Date(String(s).replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? null : d;
}

// formatDate is a short local date and time, with the ISO date in a <time>.
export function timeEl(s) {
  const d = parseDate(s);
  if (!d) return el('span', {}, '');
  return el('time', { datetime: d.toISOString() }, d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
}

// announce says something to screen readers through the page's live region.
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

// pager renders "Previous / Next" buttons for a list answer.
export function renderPager(container, list, go) {
  container.replaceChildren();
  const page = Number(list.page) || 1;
  const pages = Number(list.numOfPages) || 0;
  if (pages <= 1) return;
  container.append(
    el('button', { type: 'button', className: 'secondary', disabled: page <= 1, onclick: () => go(page - 1) }, 'Previous page'),
    el('span', { className: 'muted' }, `Page ${page} of ${pages}`),
    el('button', { type: 'button', className: 'secondary', disabled: page >= pages, onclick: () => go(page + 1) }, 'Next page'),
  );
}

// goLive runs subscribeAll and keeps the `live` indicator true to the
// realtime connection: "Live" once every subscription is in place (the SDK
// fires PB_CONNECT again after a reconnect, with the subscriptions sent
// again), "Reconnecting…" while it is down. After a reconnect reload() reads
// the list again, as events may have been missed meanwhile.
export async function goLive(pb, live, { signedIn, subscribeAll, reload, notLive }) {
  pb.realtime.onDisconnect = () => {
    if (!signedIn()) return;
    live.dataset.state = 'off';
    setText(live, 'Reconnecting…');
  };
  let ready = false;
  const setLive = () => { live.dataset.state = 'on'; setText(live, 'Live'); };
  try {
    await pb.realtime.subscribe('PB_CONNECT', () => {
      if (!ready) return;
      setLive();
      reload();
    });
    await subscribeAll();
    ready = true;
    setLive();
  } catch {
    live.dataset.state = 'off';
    setText(live, notLive);
  }
}

// showPageMessage puts a sentence at the top of the page (#page-message).
export function showPageMessage(text, kind = 'ok') {
  const box = document.getElementById('page-message');
  setText(box, text);
  box.dataset.kind = kind;
  box.hidden = !text;
}

// sessionApi returns api() calling as pb's signed-in account; a 401 while
// signed in ends the session through logOut and says so.
export function sessionApi(pb, logOut) {
  return async (method, path, opts = {}) => {
    try {
      return await api(method, path, { ...opts, token: pb.authStore.token });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && pb.authStore.token) {
        await logOut();
        showPageMessage('Your session has ended. Log in again.', 'error');
      }
      throw err;
    }
  };
}

// messagesOf is a ticket's conversation after its first text, oldest first:
// `messages` ({id, kind, body, authorId, authorName, createdAt, attachments})
// or, from a server that predates them, the answers of `ticketAnswers`.
export function messagesOf(t) {
  if (t && Array.isArray(t.messages)) return t.messages;
  const answers = t && Array.isArray(t.ticketAnswers) ? t.ticketAnswers : [];
  return answers.map((a) => ({ id: a.id, kind: 'answer', body: a.answer, authorId: a.adminId, authorName: '', createdAt: a.createdAt, attachments: [] }));
}

// subjectOf is a ticket's subject, or its first line when it has none.
export function subjectOf(t) {
  const s = t && typeof t.ticketSubject === 'string' ? t.ticketSubject.trim() : '';
  if (s) return s;
  const first = String((t && t.ticketContent) || '').split('\n')[0].trim();
  return first.length > 120 ? `${first.slice(0, 119)}…` : first || 'Ticket';
}

// attachmentLinks lists a message's files as download links (names as text).
export function attachmentLinks(files) {
  if (!Array.isArray(files) || files.length === 0) return null;
  return el('ul', { className: 'attachments' }, files.map((f) => el('li', {},
    el('a', { href: safeUrl(f.url), download: f.name || true, rel: 'noopener' }, f.name || 'file'),
    f.size ? el('span', { className: 'muted small' }, ` (${formatSize(f.size)})`) : null,
    attachmentPreview(f),
  )));
}

// safeUrl keeps same-origin http(s) links only; anything else becomes "#".
function safeUrl(u) {
  try {
    const url = new URL(String(u || ''), window.location.origin);
    return url.origin === window.location.origin ? url.href : '#';
  } catch {
    return '#';
  }
}

function formatSize(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}
