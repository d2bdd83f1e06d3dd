// Files on tickets and messages, for the portal and the console: attach
// (a button and drag and drop onto the form), the chosen files listed with
// their size and an image preview, upload as multipart/form-data with a
// progress bar (XHR upload progress), image thumbnails in the
// conversation, and downloads that always carry a fresh file token (the
// URLs a ticket comes with hold a token valid for minutes; live updates
// hold none).
//
// Hooks in the pages: enableAttach(form) once per form that sends files,
// api(..., withFiles(form, opts)) where the form is sent, common.js's api()
// hands bodies with files to sendForm, attachmentLinks() adds
// attachmentPreview(file), and enableFreshFileLinks(getToken) once per page.
import { el, ApiError } from '/js/common.js';

const chosen = new WeakMap(); // form → File[]

// formatSize writes a size for people.
export function formatSize(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

// enableAttach adds the attach button, the drop zone and the list of chosen
// files to a form (before its submit button).
export function enableAttach(form) {
  if (!form || chosen.has(form)) return;
  chosen.set(form, []);
  const id = `${form.id || 'form'}-files`;
  const input = el('input', { type: 'file', multiple: true, id, hidden: true, 'data-attach-input': '' }); // the button opens it
  const button = el('button', { type: 'button', className: 'secondary attach-button', 'aria-controls': `${id}-list` }, 'Attach files');
  const list = el('ul', { className: 'attach-list', id: `${id}-list`, 'aria-live': 'polite' });
  const progress = el('progress', { className: 'attach-progress', max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const hint = el('span', { className: 'hint attach-hint' }, 'or drop files here');
  const box = el('div', { className: 'attach-box' }, button, hint, input, list, progress);
  const submit = form.querySelector('button[type="submit"]');
  form.insertBefore(box, submit || null);

  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => { add(form, [...input.files]); input.value = ''; });
  for (const type of ['dragenter', 'dragover']) {
    form.addEventListener(type, (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      form.classList.add('attach-drop');
    });
  }
  form.addEventListener('dragleave', (e) => { if (!form.contains(e.relatedTarget)) form.classList.remove('attach-drop'); });
  form.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    form.classList.remove('attach-drop');
    add(form, [...e.dataTransfer.files]);
  });
  form.addEventListener('reset', () => clear(form));
}

function hasFiles(e) {
  return e.dataTransfer && [...(e.dataTransfer.types || [])].includes('Files');
}

function add(form, files) {
  const list = chosen.get(form);
  for (const f of files) if (f && f.size >= 0) list.push(f);
  render(form);
}

function clear(form) {
  if (!chosen.has(form)) return;
  chosen.set(form, []);
  render(form);
  const bar = form.querySelector('.attach-progress');
  if (bar) bar.hidden = true;
}

function render(form) {
  const list = form.querySelector('.attach-list');
  const files = chosen.get(form);
  list.replaceChildren(...files.map((f, i) => {
    const li = el('li', { className: 'attach-item' },
      el('span', { className: 'attach-name' }, f.name),
      el('span', { className: 'muted small' }, ` (${formatSize(f.size)})`),
      el('button', {
        type: 'button', className: 'link attach-remove', 'aria-label': `Remove ${f.name}`,
        onclick: () => { files.splice(i, 1); render(form); },
      }, 'Remove'),
    );
    if (/^image\/(png|jpeg|gif|webp)$/.test(f.type) && f.size < 8 * 1024 * 1024) {
      const img = el('img', { className: 'attach-preview', alt: '', width: '48', height: '48' });
      const reader = new FileReader(); // a data: URL (the pages' CSP allows data: images, not blob:)
      reader.onload = () => { img.src = reader.result; };
      reader.readAsDataURL(f);
      li.prepend(img);
    }
    return li;
  }));
}

// withFiles adds the form's chosen files (and its progress bar) to the
// options of an api call; the form's list is cleared once they are sent.
export function withFiles(form, opts = {}) {
  const files = chosen.get(form) || [];
  if (!files.length) return opts;
  const bar = form.querySelector('.attach-progress');
  return {
    ...opts,
    files: [...files],
    onProgress: (loaded, total) => {
      if (!bar) return;
      bar.hidden = false;
      bar.value = total ? Math.round((loaded / total) * 100) : 0;
    },
    onSent: () => clear(form),
  };
}

// sendForm sends body's fields and files as multipart/form-data with XHR
// (fetch has no upload progress) and resolves with the JSON answer, or
// rejects with an ApiError.
export function sendForm(method, url, headers, body, files, onProgress, onSent) {
  const form = new FormData();
  for (const [k, v] of Object.entries(body || {})) {
    if (v !== undefined && v !== null) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  for (const f of files) form.append('files', f, f.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers || {})) if (k.toLowerCase() !== 'content-type') xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => { if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : 0); });
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status < 200 || xhr.status >= 300) { reject(new ApiError(xhr.status, json)); return; }
      if (onSent) onSent();
      resolve(json || {});
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.send(form);
  });
}

// attachmentPreview is the thumbnail of an image in the conversation (null
// for other files).
export function attachmentPreview(f) {
  if (!f || !f.thumbUrl) return null;
  return el('a', { href: f.url, className: 'attach-thumb', 'data-file-link': '', target: '_blank', rel: 'noopener' },
    el('img', { src: f.thumbUrl, alt: `Preview of ${f.name || 'the image'}`, width: '100', height: '100', loading: 'lazy' }));
}

// enableFreshFileLinks makes every file link of the page fetch a new file
// token (POST /api/files/token) when clicked, so that a link works however
// long the page has been open and whichever way the ticket arrived.
export function enableFreshFileLinks(getToken) {
  document.addEventListener('click', async (e) => {
    const a = e.target instanceof Element ? e.target.closest('.attachments a, a[data-file-link]') : null;
    if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const url = new URL(a.href, window.location.origin);
    if (url.origin !== window.location.origin || !url.pathname.startsWith('/api/files/')) return;
    const auth = getToken();
    if (!auth) return;
    e.preventDefault();
    try {
      const res = await fetch('/api/files/token', { method: 'POST', headers: { Authorization: `Bearer ${auth}` } });
      const json = await res.json();
      if (json && json.token) url.searchParams.set('token', json.token);
    } catch { /* try with the token the link has */ }
    url.searchParams.delete('thumb');
    const go = el('a', { href: url.href, target: '_blank', rel: 'noopener' });
    // an image (it has a thumbnail) opens in a new tab; anything else downloads
    const image = a.matches('.attach-thumb') || Boolean(a.closest('li') && a.closest('li').querySelector('.attach-thumb'));
    if (!image) {
      url.searchParams.set('download', '1');
      go.href = url.href;
      go.setAttribute('download', a.getAttribute('download') || '');
      go.removeAttribute('target');
    }
    document.body.append(go);
    go.click();
    go.remove();
  });
}
