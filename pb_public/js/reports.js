// The reports page of the agent console (superAdmins): GET /getReport drawn
// as small SVG charts by the functions below (no library), with every
// number also in a table.
import PocketBase, { LocalAuthStore } from '/vendor/pocketbase-0.28.1.es.mjs';
import { api, ApiError, el, fill } from '/js/common.js';
import { duration } from '/js/sla.js';

const pb = new PocketBase(window.location.origin, new LocalAuthStore('ticketportal.agent'));
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = { created: '#2952cc', closed: '#1a7f37', backlog: '#b35c00', good: '#1a7f37', bad: '#b3261e', median: '#2952cc', p90: '#7a8fd6' };

// svg builds an SVG element with attributes and children.
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function chartFrame(labelledBy, width, height, title) {
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': labelledBy, preserveAspectRatio: 'xMidYMid meet' },
    svg('title', {}, title));
}

// lineChart draws series of numbers over days (x) with a y grid.
export function lineChart(labels, series, { labelledBy, title }) {
  const W = 420, H = 240, L = 34, R = 22, T = 10, B = 26;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const n = labels.length;
  const x = (i) => L + (n <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const root = chartFrame(labelledBy, W, H, title);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    root.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v * 100) / 100)));
  }
  const ticks = Math.min(n, 5);
  for (let k = 0; k < ticks; k++) {
    const i = ticks === 1 ? 0 : Math.round((k * (n - 1)) / (ticks - 1));
    root.append(svg('text', { x: x(i), y: H - 10, 'text-anchor': 'middle' }, labels[i].slice(5)));
  }
  for (const s of series) {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    root.append(svg('polyline', { points: pts, fill: 'none', stroke: s.color, 'stroke-width': 2, 'data-series': s.name }));
    if (n <= 62) for (let i = 0; i < n; i++) root.append(svg('circle', { cx: x(i), cy: y(s.values[i]), r: 2.5, fill: s.color }));
  }
  return root;
}

// barChart draws horizontal bars: rows of {label, value, color, text}.
export function barChart(rows, { labelledBy, title, max }) {
  const W = 380, rowH = 30, L = 146, R = 64;
  const H = Math.max(1, rows.length) * rowH + 10;
  const top = niceMax(max ?? Math.max(0, ...rows.map((r) => r.value || 0)));
  const root = chartFrame(labelledBy, W, H, title);
  rows.forEach((r, i) => {
    const y = 5 + i * rowH;
    const w = Math.max(r.value > 0 ? 2 : 0, ((r.value || 0) / top) * (W - L - R));
    root.append(
      svg('text', { x: L - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end' }, r.label),
      svg('rect', { x: L, y: y + 4, width: w.toFixed(1), height: rowH - 8, fill: r.color, rx: 2 }),
      svg('text', { x: L + w + 6, y: y + rowH / 2 + 4 }, r.text ?? String(r.value)),
    );
  });
  return root;
}

const mins = (v) => (v === null || v === undefined ? '—' : duration(v));

function render(data) {
  const days = data.days || [];
  const labels = days.map((d) => d.day);
  fill($('chart-days'), lineChart(labels, [
    { name: 'created', color: COLORS.created, values: days.map((d) => d.created) },
    { name: 'closed', color: COLORS.closed, values: days.map((d) => d.closed) },
    { name: 'backlog', color: COLORS.backlog, values: days.map((d) => d.backlog) },
  ], { labelledBy: 'cap-days', title: 'Tickets created, closed and in the backlog per day' }));

  const fr = data.firstResponse || {}, res = data.resolution || {};
  fill($('chart-times'), barChart([
    { label: 'First answer, median', value: fr.medianMinutes || 0, color: COLORS.median, text: mins(fr.medianMinutes) },
    { label: 'First answer, p90', value: fr.p90Minutes || 0, color: COLORS.p90, text: mins(fr.p90Minutes) },
    { label: 'Close, median', value: res.medianMinutes || 0, color: COLORS.median, text: mins(res.medianMinutes) },
    { label: 'Close, p90', value: res.p90Minutes || 0, color: COLORS.p90, text: mins(res.p90Minutes) },
  ], { labelledBy: 'cap-times', title: 'Median and 90th percentile times' }));

  const pct = data.slaBreachedPercent || 0;
  $('sla-percent').textContent = `${pct} %`;
  fill($('chart-sla'), barChart([
    { label: 'Missed a deadline', value: pct, color: COLORS.bad, text: `${pct} %` },
    { label: 'Met every deadline', value: 100 - pct, color: COLORS.good, text: `${Math.round((100 - pct) * 100) / 100} %` },
  ], { labelledBy: 'cap-sla', title: 'Share of tickets that missed a deadline', max: 100 }));

  const ratings = data.ratings || { good: 0, bad: 0 };
  fill($('chart-ratings'), barChart([
    { label: 'Good', value: ratings.good, color: COLORS.good },
    { label: 'Bad', value: ratings.bad, color: COLORS.bad },
  ], { labelledBy: 'cap-ratings', title: 'Ratings of tickets sent in the range' }));

  const agents = data.agents || [];
  fill($('chart-agents'), barChart(agents.map((a) => ({ label: a.userName || a.adminId, value: a.answers, color: COLORS.created })),
    { labelledBy: 'cap-agents', title: 'Answers per agent' }));
  fill($('agents'), ...agents.map((a) => el('tr', {},
    el('th', { scope: 'row' }, a.userName || a.adminId), el('td', {}, String(a.answers)), el('td', {}, String(a.closed)),
    el('td', {}, mins(a.medianFirstResponseMinutes)))));

  fill($('figures'), ...[
    ['First answer, median', mins(fr.medianMinutes)], ['First answer, 90th percentile', mins(fr.p90Minutes)],
    ['Close, median', mins(res.medianMinutes)], ['Close, 90th percentile', mins(res.p90Minutes)],
    ['Missed a deadline', `${pct} %`], ['Rated good', String(ratings.good)], ['Rated bad', String(ratings.bad)],
  ].map(([k, v]) => el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, v))));
  fill($('days'), ...days.map((d) => el('tr', {}, el('th', { scope: 'row' }, d.day),
    el('td', {}, String(d.created)), el('td', {}, String(d.closed)), el('td', {}, String(d.backlog)))));
}

function range() {
  return { from: $('from').value, to: $('to').value };
}

async function load() {
  const err = $('report-error');
  err.hidden = true;
  $('charts').setAttribute('aria-busy', 'true');
  try {
    const res = await api('GET', '/getReport', { token: pb.authStore.token, query: range() });
    render(res.data);
  } catch (e) {
    err.textContent = e instanceof ApiError ? e.message : 'The report could not be drawn.';
    err.hidden = false;
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) showNoAccess();
  } finally {
    $('charts').setAttribute('aria-busy', 'false');
  }
}

async function downloadCSV() {
  const { from, to } = range();
  const res = await fetch(`/getReport?format=csv&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    { headers: { Authorization: `Bearer ${pb.authStore.token}` } });
  if (!res.ok) { $('report-error').textContent = 'The CSV could not be made for these days.'; $('report-error').hidden = false; return; }
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: `report-${from}-${to}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function showNoAccess() {
  $('report').hidden = true;
  $('no-access').hidden = false;
}

function start() {
  const me = pb.authStore.record;
  if (!pb.authStore.isValid || !me || (me.role !== 'superAdmin' && me.collectionName !== '_superusers')) {
    showNoAccess();
    return;
  }
  const today = new Date();
  const from = new Date(today.getTime() - 29 * 86400000);
  $('to').value = today.toISOString().slice(0, 10);
  $('from').value = from.toISOString().slice(0, 10);
  $('report').hidden = false;
  $('range-form').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  $('csv').addEventListener('click', downloadCSV);
  load();
}

start();
