// Browser tests of the conversation (SPEC Part 2, "The conversation") in
// the web pages: the customer's ticket page in the portal and the agents'
// console, driven by playwright-core in Debian's Chromium against the built
// binary. One story, step by step: each step needs the ones before it.
//
// What it proves: a customer's reply arrives live in the console; an
// agent's internal note never reaches the customer's page (not in its DOM,
// before or after a reload, nor in any response or realtime message its
// browser received); agents see each other viewing and typing; tags, queue
// filters, history, assign, release and reopen work from the console; a
// reply on a closed ticket reopens it inside the reopen window and starts a
// follow-up past it. Screenshots go to e2e/artifacts/conversation/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startPortal, operatorToken, makeAdmin, makeCustomer, api, repoRoot } from './lib/server.mjs';
import { startMailbox } from './lib/mail.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'conversation');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 10000 };

const SUBJECT = 'Invoice 2291 charged twice';
const FIRST_TEXT = 'My card was charged twice for invoice 2291 on the 3rd. Could you refund one of them?';
const ANSWER_1 = 'Sorry about that! I can see both charges. Which card ending should the refund go to?';
const REPLY_1 = 'The card ending in 4242, please. <script>window.__xss=1</script>';
// The note carries a word found nowhere else, so its absence is meaningful.
const NOTE_MARK = 'zebracorn';
const NOTE_TEXT = `Internal: payment provider case PX-77 opened; ${NOTE_MARK} refund needs a supervisor's OK.`;
const ANSWER_2 = 'The refund is on its way and shows on your statement within 5 working days.';
const REPLY_CLOSED = 'Thanks! One more thing: can I get a corrected invoice?';
const REPLY_FOLLOWUP = 'The corrected invoice has an old address on it.';

let portal, mailbox, browser, opToken;
let customer, agent1, agent2, boss; // pages, one browser context each
let agent2Id;
let ticketId, followUpId;
const seenByCustomer = []; // every response body and realtime message the customer's browser received
let shot = 0;

async function screenshot(page, name) {
  shot += 1;
  const file = join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// newPage opens a page in a fresh browser context (its own storage and
// realtime connection, like another person's browser).
async function newPage(viewport) {
  const context = await browser.newContext({ viewport, baseURL: portal.url, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.on('pageerror', (err) => { page.errors = [...(page.errors || []), String(err)]; });
  page.on('dialog', (d) => d.accept());
  return page;
}

// recordTraffic keeps the text of everything the page's browser receives:
// every HTTP response body and, through the DevTools protocol, every
// server-sent event of the realtime connection.
async function recordTraffic(page, into) {
  page.on('response', async (res) => {
    try { into.push(`${res.url()}\n${await res.text()}`); } catch { /* a body already gone (redirect, stream) */ }
  });
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Network.eventSourceMessageReceived', (e) => into.push(`sse ${e.eventName}\n${e.data}`));
  await cdp.send('Network.enable');
}

const markNoReload = (page) => page.evaluate(() => { window.__sameDocument = true; });
const assertNotReloaded = async (page) => assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');

async function agentLogIn(page, userName, password) {
  await page.goto('/agent/');
  await page.getByLabel('User name or email').fill(userName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await page.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);
  await page.locator('#live[data-state="on"]').waitFor(WAIT);
}

async function openInConsole(page, id) {
  await page.locator(`#queue li[data-id="${id}"] button`).click();
  await page.locator('#detail-heading', { hasText: id }).waitFor(WAIT);
}

// assertNoNote checks the customer's page and everything its browser
// received for the note's words.
async function assertNoNote(page) {
  const dom = await page.evaluate(() => document.documentElement.outerHTML);
  assert.equal(dom.includes(NOTE_MARK), false, 'the note is in the customer\'s page');
  assert.equal(await page.locator('.note, [data-kind="note"]').count(), 0);
  const leaks = seenByCustomer.filter((s) => s.includes(NOTE_MARK) || s.includes('PX-77'));
  assert.deepEqual(leaks, [], 'the note reached the customer\'s browser');
}

let broken = null;
function step(name, fn) {
  it(name, async (t) => {
    if (broken) {
      t.skip(`needs the failed step "${broken}"`);
      return;
    }
    try {
      await fn(t);
    } catch (err) {
      broken = name;
      for (const [who, page] of Object.entries({ customer, agent1, agent2, boss })) {
        if (page && !page.isClosed()) await screenshot(page, `FAILED-${who}`).catch(() => {});
      }
      throw err;
    }
  });
}

// check is an `it` of the story that later steps do not depend on.
function check(name, fn) {
  it(name, async (t) => {
    if (broken) {
      t.skip(`needs the failed step "${broken}"`);
      return;
    }
    await fn(t);
  });
}

describe('the conversation in Chromium', () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    mailbox = await startMailbox();
    portal = await startPortal({
      env: {
        PORTAL_SMTP_HOST: mailbox.host,
        PORTAL_SMTP_PORT: String(mailbox.port),
        PORTAL_SENDER_ADDRESS: 'support@example.com',
        PORTAL_SENDER_NAME: 'Ticket Portal',
      },
    });
    opToken = await operatorToken(portal);
    await makeAdmin(portal, opToken, 'agent1', 'admin', 'agent1-pass-12');
    agent2Id = (await makeAdmin(portal, opToken, 'agent2', 'admin', 'agent2-pass-12')).id;
    await makeAdmin(portal, opToken, 'boss', 'superAdmin', 'boss-pass-1234');
    await makeCustomer(portal, opToken, 'dana', 'dana-pass-1234');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    for (const page of [customer, agent1, agent2, boss]) {
      if (page && page.errors) console.log(`page errors: ${page.errors.join('\n')}`);
    }
    if (browser) await browser.close();
    if (portal) await portal.stop();
    if (mailbox) await mailbox.stop();
  });

  step('lets the customer send a ticket with a subject and open its page', async () => {
    customer = await newPage(DESKTOP);
    await recordTraffic(customer, seenByCustomer);
    await customer.goto('/');
    await customer.getByLabel('User name or email').fill('dana');
    await customer.locator('#login-password').fill('dana-pass-1234');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.locator('#live[data-state="on"]').waitFor(WAIT);

    await customer.getByLabel('Subject').fill(SUBJECT);
    await customer.getByLabel('How can we help?').fill(FIRST_TEXT);
    await customer.getByRole('button', { name: 'Send ticket' }).click();
    await customer.locator('#ticket-form .form-ok', { hasText: 'Ticket sent' }).waitFor(WAIT);
    const item = customer.locator('#tickets li.ticket');
    ticketId = await item.getAttribute('data-id');
    assert.match(ticketId, /^[a-z0-9]{15}$/);
    assert.equal(await item.locator('.ticket-subject').textContent(), SUBJECT);

    await item.getByRole('link', { name: SUBJECT }).click();
    await customer.getByRole('heading', { name: SUBJECT }).waitFor(WAIT);
    assert.equal(new URL(customer.url()).hash, `#/tickets/${ticketId}`);
    assert.equal(await customer.locator('#conversation .message.first .message-text').textContent(), FIRST_TEXT);
    assert.equal(await customer.locator('#reply-closed').isVisible(), false);
    await markNoReload(customer);
  });

  step('shows agents who else is viewing a ticket, and who is typing', async () => {
    agent1 = await newPage(DESKTOP);
    agent2 = await newPage(DESKTOP);
    await agentLogIn(agent1, 'agent1', 'agent1-pass-12');
    await agentLogIn(agent2, 'agent2', 'agent2-pass-12');
    await openInConsole(agent1, ticketId);
    assert.equal(await agent1.locator('#detail .detail-subject').textContent(), SUBJECT);
    assert.equal(await agent1.locator('#presence').isVisible(), false);

    await openInConsole(agent2, ticketId);
    await agent1.locator('#presence', { hasText: 'agent2 is viewing' }).waitFor(WAIT);
    await agent1.locator(`#queue li[data-id="${ticketId}"] .row-presence`, { hasText: 'agent2 is viewing' }).waitFor(WAIT);
    await agent2.locator('#presence', { hasText: 'agent1 is viewing' }).waitFor(WAIT);

    await agent2.getByLabel('Your answer').pressSequentially('Let me che', { delay: 30 });
    await agent1.locator('#presence', { hasText: 'agent2 is typing' }).waitFor(WAIT);
    await agent1.locator(`#queue li[data-id="${ticketId}"] .row-presence`, { hasText: 'agent2 is typing' }).waitFor(WAIT);
    await screenshot(agent1, 'console-agent2-typing');
    await agent2.getByLabel('Your answer').fill('');
    await markNoReload(agent1);
    await markNoReload(agent2);
  });

  step('lets agent1 answer; the customer\'s ticket page shows it live', async () => {
    await agent1.getByLabel('Your answer').fill(ANSWER_1);
    await agent1.getByRole('button', { name: 'Send answer' }).click();
    await agent1.locator('#detail .message.answer', { hasText: 'Which card' }).waitFor(WAIT);

    const answer = customer.locator('#conversation .message.answer .message-text');
    await answer.waitFor(WAIT);
    assert.equal(await answer.textContent(), ANSWER_1);
    await customer.locator('#ticket-meta .badge', { hasText: 'Waiting on you' }).waitFor(WAIT);
    await assertNotReloaded(customer);
    // the answer moved the ticket out of the "waiting on us" filter
    await agent1.getByLabel('Show').selectOption('waiting');
    await agent1.locator(`#queue li[data-id="${ticketId}"]`).waitFor({ state: 'detached', ...WAIT });
    await agent1.getByLabel('Show').selectOption('');
    await agent1.locator(`#queue li[data-id="${ticketId}"]`).waitFor(WAIT);
  });

  step('lets the customer reply from the ticket page; both agents see the reply live', async () => {
    await customer.getByLabel('Your reply').fill(REPLY_1);
    await customer.getByRole('button', { name: 'Send reply' }).click();
    await customer.locator('#reply-form .form-ok', { hasText: 'Your reply is sent' }).waitFor(WAIT);
    const mine = customer.locator('#conversation .message.reply .message-text');
    assert.equal(await mine.textContent(), REPLY_1);
    assert.equal(await customer.evaluate(() => window.__xss), undefined);
    assert.equal(await customer.getByLabel('Your reply').inputValue(), '');

    for (const page of [agent1, agent2]) {
      const reply = page.locator('#detail .message.reply .message-text');
      await reply.waitFor(WAIT);
      assert.equal(await reply.textContent(), REPLY_1);
      await page.locator(`#queue li[data-id="${ticketId}"] .badge.waiting`).waitFor(WAIT);
      await assertNotReloaded(page);
    }
    assert.equal(await agent1.locator('#detail script').count(), 0);
    // the conversation is in order: first text, answer, reply
    const kinds = await agent1.locator('#detail .conversation > li').evaluateAll((lis) => lis.map((li) => li.dataset.kind));
    assert.deepEqual(kinds, ['answer', 'reply']);
  });

  step('lets agent1 add an internal note, set apart, that agent2 sees live', async () => {
    await agent1.getByLabel('An internal note').check();
    await agent1.getByLabel('Your internal note').fill(NOTE_TEXT);
    await agent1.getByRole('button', { name: 'Add note' }).click();
    const note = agent1.locator('#detail .message.note');
    await note.waitFor(WAIT);
    assert.equal(await note.locator('.message-text').textContent(), NOTE_TEXT);
    assert.match(await note.innerText(), /Internal note/i);
    // set apart: a background of its own
    const bg = (sel) => agent1.locator(sel).evaluate((n) => getComputedStyle(n).backgroundColor);
    assert.notEqual(await bg('#detail .message.note'), await bg('#detail .message.answer'));
    assert.notEqual(await bg('#detail .message.note'), await bg('#detail .message.reply'));

    await agent2.locator('#detail .message.note', { hasText: NOTE_MARK }).waitFor(WAIT);
    await assertNotReloaded(agent2);
    await screenshot(agent1, 'console-conversation-note');
  });

  step('never lets the note reach the customer\'s page, live or after a reload', async () => {
    // a later answer: once the customer has it, anything the note caused has arrived too
    await agent1.getByLabel('An answer to the customer').check();
    await agent1.getByLabel('Your answer').fill(ANSWER_2);
    await agent1.getByRole('button', { name: 'Send answer' }).click();
    await customer.locator('#conversation .message.answer', { hasText: 'statement within 5' }).waitFor(WAIT);
    await assertNotReloaded(customer);
    const kinds = await customer.locator('#conversation > li').evaluateAll((lis) => lis.map((li) => li.dataset.kind));
    assert.deepEqual(kinds, ['first', 'answer', 'reply', 'answer']);
    await assertNoNote(customer);

    await customer.reload();
    await customer.locator('#conversation .message.answer', { hasText: 'statement within 5' }).waitFor(WAIT);
    await customer.locator('#live[data-state="on"]').waitFor(WAIT);
    await assertNoNote(customer);
    await customer.getByRole('link', { name: 'All my tickets' }).click();
    await customer.locator(`#tickets li[data-id="${ticketId}"]`).waitFor(WAIT);
    await assertNoNote(customer);
    // the same routes read by the customer's token say the same
    const token = await customer.evaluate(() => JSON.parse(localStorage.getItem('ticketportal.customer')).token);
    for (const path of [`/getTicket/${ticketId}`, '/getUserTickets', `/api/collections/tickets/records/${ticketId}`]) {
      const res = await api(portal, 'GET', path, { token });
      assert.equal(res.status, 200, path);
      assert.equal(JSON.stringify(res.body).includes(NOTE_MARK), false, path);
    }
    // the record is not blind: it holds the answers, in responses and in realtime messages
    assert.ok(seenByCustomer.some((s) => !s.startsWith('sse ') && s.includes('statement within 5')), 'no response with the answer recorded');
    assert.ok(seenByCustomer.some((s) => s.startsWith('sse ') && s.includes('statement within 5')), 'no realtime message with the answer recorded');
    await customer.getByRole('link', { name: SUBJECT }).click();
    await customer.locator('#conversation .message.answer', { hasText: 'statement within 5' }).waitFor(WAIT);
    await screenshot(customer, 'portal-ticket-desktop');
    await customer.setViewportSize(PHONE);
    await screenshot(customer, 'portal-ticket-phone');
    const overflow = await customer.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await customer.setViewportSize(DESKTOP);
    await markNoReload(customer);
  });

  step('lets agents tag a ticket and filter the queue by tag', async () => {
    await agent1.getByLabel('Add a tag').fill('Billing');
    await agent1.getByRole('button', { name: 'Add tag' }).click();
    await agent1.locator('#tag-list .tag', { hasText: 'billing' }).waitFor(WAIT);
    await agent1.getByLabel('Add a tag').fill('refund');
    await agent1.getByRole('button', { name: 'Add tag' }).click();
    await agent1.locator('#tag-list .tag', { hasText: 'refund' }).waitFor(WAIT);
    await agent1.getByRole('button', { name: 'Remove tag refund' }).click();
    await agent1.locator('#tag-list .tag', { hasText: 'refund' }).waitFor({ state: 'detached', ...WAIT });
    await agent2.locator(`#queue li[data-id="${ticketId}"] .tag`, { hasText: 'billing' }).waitFor(WAIT);

    await agent2.getByLabel('Tag', { exact: true }).fill('shipping');
    await agent2.getByRole('button', { name: 'Filter' }).click();
    await agent2.locator('#queue-empty').waitFor(WAIT);
    await agent2.getByLabel('Tag', { exact: true }).fill('billing');
    await agent2.getByRole('button', { name: 'Filter' }).click();
    await agent2.locator(`#queue li[data-id="${ticketId}"]`).waitFor(WAIT);
    await agent2.getByLabel('Tag', { exact: true }).fill('');
    await agent2.getByRole('button', { name: 'Filter' }).click();
    // the customer never sees tags
    await assertNoNote(customer);
    assert.equal((await customer.locator('body').innerText()).includes('billing'), false);
  });

  step('lets agent1 take and release the ticket, with the "mine" and "unassigned" filters', async () => {
    await agent1.getByRole('button', { name: 'Take ticket' }).click();
    await agent1.locator('#holder', { hasText: 'Taken by you' }).waitFor(WAIT);
    await agent1.getByLabel('Show').selectOption('mine');
    await agent1.locator(`#queue li[data-id="${ticketId}"]`).waitFor(WAIT);
    await agent2.getByLabel('Show').selectOption('mine');
    await agent2.locator(`#queue li[data-id="${ticketId}"]`).waitFor({ state: 'detached', ...WAIT });
    await agent2.getByLabel('Show').selectOption('unassigned');
    await agent2.locator('#queue-empty').waitFor(WAIT);

    await agent1.getByRole('button', { name: 'Release ticket' }).click();
    await agent1.locator('#holder', { hasText: 'Nobody has taken it yet' }).waitFor(WAIT);
    await agent1.locator(`#queue li[data-id="${ticketId}"]`).waitFor({ state: 'detached', ...WAIT });
    await agent2.locator(`#queue li[data-id="${ticketId}"]`).waitFor(WAIT); // live into "unassigned"
    await agent2.locator('#holder', { hasText: 'Nobody has taken it yet' }).waitFor(WAIT);
    for (const page of [agent1, agent2]) await page.getByLabel('Show').selectOption('');
  });

  step('shows the ticket\'s history in the console', async () => {
    await agent1.locator('#history summary').click();
    for (const event of ['created', 'answered', 'replied', 'noted', 'tagged', 'taken', 'released']) {
      await agent1.locator(`#history-list li[data-event="${event}"]`).first().waitFor(WAIT);
    }
    const line = (event) => agent1.locator(`#history-list li[data-event="${event}"]`).first().innerText();
    assert.match(await line('created'), /dana sent the ticket/);
    assert.match(await line('noted'), /you added an internal note/);
    assert.match(await line('released'), /you released the ticket/);
    // oldest first
    const events = await agent1.locator('#history-list li').evaluateAll((lis) => lis.map((li) => li.dataset.event));
    assert.equal(events[0], 'created');
    assert.ok(events.indexOf('noted') < events.indexOf('released'));
    await agent1.locator('#history').scrollIntoViewIfNeeded();
    await screenshot(agent1, 'console-history');
  });

  // an assertion the later steps do not need: its failure skips nothing
  check('says in the history which tags were added and which removed', async () => {
    const tagged = await agent1.locator('#history-list li[data-event="tagged"]').allInnerTexts();
    assert.equal(tagged.length, 3, tagged.join('\n'));
    assert.match(tagged[0], /added billing$/);
    assert.match(tagged[1], /added refund$/);
    assert.match(tagged[2], /removed refund$/);
  });

  step('lets the superAdmin assign the ticket to agent2, live in agent2\'s console', async () => {
    boss = await newPage(DESKTOP);
    await agentLogIn(boss, 'boss', 'boss-pass-1234');
    await openInConsole(boss, ticketId);
    await boss.getByLabel('Assign to').selectOption(agent2Id);
    await boss.getByRole('button', { name: 'Assign' }).click();
    await boss.locator('#holder', { hasText: 'Taken by agent2' }).waitFor(WAIT);
    await agent2.locator('#holder', { hasText: 'Taken by you' }).waitFor(WAIT);
    await agent1.locator('#holder', { hasText: 'Taken by agent2' }).waitFor(WAIT);
    // a plain agent has no assign form
    assert.equal(await agent1.getByLabel('Assign to').isVisible(), false);
  });

  step('says what a reply on a closed ticket will do, and reopens it inside the window', async () => {
    await agent2.getByRole('button', { name: 'Close ticket' }).click();
    await agent2.locator('#action-ok', { hasText: 'closed' }).waitFor(WAIT);
    const closed = customer.locator('#reply-closed');
    await closed.waitFor(WAIT);
    assert.match(await closed.textContent(), /reopen/);
    assert.match(await closed.textContent(), /follow-up/);
    assert.match(await customer.getByLabel('Your reply').getAttribute('aria-describedby'), /reply-closed/);
    await screenshot(customer, 'portal-ticket-closed');

    await customer.getByLabel('Your reply').fill(REPLY_CLOSED);
    await customer.getByRole('button', { name: 'Send reply' }).click();
    await customer.locator('#reply-form .form-ok', { hasText: 'open again' }).waitFor(WAIT);
    assert.equal(new URL(customer.url()).hash, `#/tickets/${ticketId}`);
    await customer.locator('#reply-closed').waitFor({ state: 'hidden', ...WAIT });
    await agent1.locator(`#queue li[data-id="${ticketId}"]`, { hasText: 'Free' }).waitFor(WAIT);
    await assertNotReloaded(customer);
  });

  step('starts a follow-up ticket for a reply past the reopen window', async () => {
    const set = await api(portal, 'PATCH', '/portalSettings', { token: opToken, body: { reopenWindowDays: 0 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    await openInConsole(agent1, ticketId);
    await agent1.getByRole('button', { name: 'Close ticket' }).click();
    await customer.locator('#reply-closed').waitFor(WAIT);

    await customer.getByLabel('Your reply').fill(REPLY_FOLLOWUP);
    await customer.getByRole('button', { name: 'Send reply' }).click();
    await customer.locator('#ticket-notice', { hasText: 'stays closed' }).waitFor(WAIT);
    followUpId = new URL(customer.url()).hash.replace('#/tickets/', '');
    assert.match(followUpId, /^[a-z0-9]{15}$/);
    assert.notEqual(followUpId, ticketId);
    await customer.getByRole('heading', { name: SUBJECT }).waitFor(WAIT);
    await customer.locator('#ticket-meta', { hasText: `ticket ${ticketId}` }).waitFor(WAIT);
    assert.equal(await customer.locator('#conversation .message.first .message-text').textContent(), REPLY_FOLLOWUP);
    assert.equal(await customer.locator('#reply-closed').isVisible(), false);
    await screenshot(customer, 'portal-follow-up');

    await agent1.locator(`#queue li[data-id="${followUpId}"]`).waitFor(WAIT);
    await customer.getByRole('link', { name: `ticket ${ticketId}` }).click();
    await customer.locator('#reply-closed').waitFor(WAIT);
  });

  step('lets the superAdmin reopen a closed ticket from the closed list', async () => {
    await boss.getByRole('button', { name: 'Closed tickets' }).click();
    await boss.locator(`#closed li[data-id="${ticketId}"] button`).click();
    await boss.getByRole('button', { name: 'Reopen ticket' }).click();
    await boss.locator('#action-ok', { hasText: 'open again' }).waitFor(WAIT);
    await agent2.locator(`#queue li[data-id="${ticketId}"]`).waitFor(WAIT);
    await customer.locator('#reply-closed').waitFor({ state: 'hidden', ...WAIT });
    await assertNoNote(customer);
  });

  step('lets a viewer\'s presence lapse without a heartbeat once it leaves the ticket', async () => {
    await agent1.locator('#detail-heading', { hasText: ticketId }).waitFor(WAIT);
    await openInConsole(agent2, ticketId);
    // the boss has it open too: "agent2 and boss are viewing"
    await agent1.locator('#presence', { hasText: /agent2.* viewing/ }).waitFor(WAIT);
    await agent2.getByRole('button', { name: 'Back to the list' }).click();
    // there is no "left" message: agent2 is still shown for now ...
    assert.match(await agent1.locator('#presence').textContent(), /agent2/);
    // ... and goes once 30 s pass without a heartbeat from it (they come every 20 s)
    await agent1.locator('#presence', { hasText: 'agent2' }).waitFor({ state: 'hidden', timeout: 36000 });
    assert.match(await agent1.locator('#presence').textContent(), /^boss is viewing$/);
    await agent1.locator(`#queue li[data-id="${ticketId}"] .row-presence`, { hasText: 'agent2' }).waitFor({ state: 'hidden', ...WAIT });
    for (const page of [customer, agent1, agent2, boss]) {
      assert.deepEqual(page.errors || [], [], 'script errors in the page');
    }
  });
});
