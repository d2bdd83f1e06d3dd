// Realtime end to end: the built binary, the official pocketbase JS SDK as
// the client (what the web pages use), the eventsource package as Node's
// EventSource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import PocketBase from 'pocketbase';
import { EventSource } from 'eventsource';
import { startPortal, operatorToken, api, makeCustomer, makeAdmin } from './lib/server.mjs';

globalThis.EventSource = EventSource; // Node 20 has none

let portal;
let op;
const clients = [];

before(async () => {
  portal = await startPortal();
  op = await operatorToken(portal);
});

after(async () => {
  // an SDK client without subscriptions closes its connection
  await Promise.all(clients.map((pb) => pb.realtime.unsubscribe().catch(() => {})));
  await portal?.stop();
});

// login answers the token of POST /login.
async function login(userName, password) {
  const res = await api(portal, 'POST', '/login', { body: { userName, password } });
  assert.equal(res.status, 200, `login ${userName}: ${JSON.stringify(res.body)}`);
  return res.body.token;
}

// sdk is a pocketbase JS SDK client holding a token, as the README shows.
function sdk(token) {
  const pb = new PocketBase(portal.url);
  pb.autoCancellation(false);
  pb.authStore.save(token);
  clients.push(pb);
  return pb;
}

// inbox collects what a subscription hears; until waits for a match.
function inbox() {
  const got = [];
  let wake = () => {};
  return {
    got,
    push: (data) => { got.push(data); wake(); },
    async until(match, what, ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = got.find(match);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; heard ${JSON.stringify(got)}`);
        await new Promise((r) => { wake = r; setTimeout(r, 50); });
      }
    },
  };
}

async function sendTicket(token, ticketContent) {
  const res = await api(portal, 'POST', '/sendTicket', { token, body: { ticketContent } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.ticketId;
}

async function patch(token, path, body) {
  const res = await api(portal, 'PATCH', path, { token, body });
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
  return res.body;
}

// pool runs fn over items with at most n at a time.
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

test('admins hear each other\'s marks; a customer is refused from the room and hears only its own tickets, answers included', async () => {
  const ann = await makeAdmin(portal, op, 'ann');
  const ben = await makeAdmin(portal, op, 'ben');
  const carl = await makeCustomer(portal, op, 'carl');
  await makeCustomer(portal, op, 'dora');
  const annToken = await login('ann', 'agent-pass-12');
  const benToken = await login('ben', 'agent-pass-12');
  const carlToken = await login('carl', 'customer-pass-1');
  const doraToken = await login('dora', 'customer-pass-1');

  const annRoom = inbox();
  const benRoom = inbox();
  const annTickets = inbox();
  const pbAnn = sdk(annToken);
  await pbAnn.realtime.subscribe('adminsRoom', annRoom.push);
  await pbAnn.collection('tickets').subscribe('*', annTickets.push);
  await sdk(benToken).realtime.subscribe('adminsRoom', benRoom.push);

  const carlTickets = inbox();
  const carlAnswers = inbox();
  const pbCarl = sdk(carlToken);
  await pbCarl.collection('tickets').subscribe('*', carlTickets.push);
  await pbCarl.collection('messages').subscribe('*', carlAnswers.push);
  await assert.rejects(sdk(carlToken).realtime.subscribe('adminsRoom', () => {}), (err) => err.status === 403);

  const doraTicket = await sendTicket(doraToken, 'My invoice is wrong.');
  const carlTicket = await sendTicket(carlToken, 'The app crashes on start.');
  await annTickets.until((e) => e.action === 'create' && e.record.id === doraTicket, 'create of dora\'s ticket for ann');
  await annTickets.until((e) => e.action === 'create' && e.record.id === carlTicket, 'create of carl\'s ticket for ann');

  // ann takes carl's ticket, ben closes dora's: both hear both
  await patch(annToken, `/markTicketStatus/${carlTicket}`, { status: 'markAsTaken' });
  const taken = { event: 'marked', ticketId: carlTicket, ticketStatus: 'taken', by: ann.id };
  await patch(benToken, `/markTicketStatus/${doraTicket}`, { status: 'markAsClosed' });
  const closed = { event: 'marked', ticketId: doraTicket, ticketStatus: 'closed', by: ben.id };
  for (const room of [annRoom, benRoom]) {
    await room.until((m) => m.ticketStatus === 'closed', 'the closed mark');
    assert.deepEqual(room.got, [taken, closed]);
  }

  // ann answers carl: the answer arrives in carl's ticket without reloading
  const answer = 'Please update to version 2.1.';
  await patch(annToken, `/sendAnswerOnTicket/${carlTicket}`, { answer });
  const update = await carlTickets.until(
    (e) => e.action === 'update' && e.record.id === carlTicket && e.record.ticketAnswers?.some((a) => a.answer === answer),
    'carl\'s ticket carrying the answer');
  assert.equal(update.record.ticketAnswers.at(-1).adminId, ann.id);
  await carlAnswers.until((e) => e.action === 'create' && e.record.kind === 'answer' && e.record.body === answer, 'the answer message');

  // everything carl heard is about his own ticket (dora's events came first, so they would be here)
  assert.ok(carlTickets.got.some((e) => e.action === 'create' && e.record.id === carlTicket));
  for (const e of carlTickets.got) assert.equal(e.record.customerId, carl.id, `carl heard ${JSON.stringify(e)}`);
  for (const e of carlAnswers.got) assert.equal(e.record.ticket, carlTicket);
});

test('500 subscribed admins all hear one mark', async (t) => {
  // 500 agents on one loopback address would trip the per-IP rate limiter;
  // an operator excludes an office's address the same way.
  const settings = await api(portal, 'PATCH', '/api/settings', { token: op, body: { rateLimits: { excludedIPs: ['127.0.0.1'] } } });
  assert.equal(settings.status, 200, JSON.stringify(settings.body));

  const boss = await makeAdmin(portal, op, 'boss', 'superAdmin');
  const bossToken = await login('boss', 'agent-pass-12');
  await makeCustomer(portal, op, 'erin');
  const ticket = await sendTicket(await login('erin', 'customer-pass-1'), 'Where is my parcel?');

  let started = Date.now();
  const names = Array.from({ length: 500 }, (_, i) => `crowd${i}`);
  // each account's password is hashed with bcrypt: the server's cores set the pace
  const admins = await pool(names, 4, (name) => makeAdmin(portal, op, name));
  t.diagnostic(`500 admins made in ${Date.now() - started} ms`);
  // tokens without 500 more bcrypt checks: the operator impersonates each agent
  const tokens = await pool(admins, 16, async (a) => {
    const res = await api(portal, 'POST', `/api/collections/admins/impersonate/${a.id}`, { token: op, body: { duration: 3600 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.token;
  });
  const rooms = await pool(tokens, 50, async (token) => {
    const room = inbox();
    await sdk(token).realtime.subscribe('adminsRoom', room.push);
    return room;
  });
  t.diagnostic(`500 admins made, given tokens and subscribed in ${Date.now() - started} ms`);

  started = Date.now();
  await patch(bossToken, `/markAsHighPriority/${ticket}`, {});
  const marked = { event: 'marked', ticketId: ticket, ticketStatus: 'high priority', by: boss.id };
  await Promise.all(rooms.map((room) => room.until((m) => m.ticketId === ticket, 'the mark', 30000)));
  t.diagnostic(`all 500 heard the mark ${Date.now() - started} ms after it was sent`);
  for (const room of rooms) assert.deepEqual(room.got, [marked]);
});
