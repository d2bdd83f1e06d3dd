// Browser tests of the web pages (pb_public): the customer portal at / and
// the agent console at /agent/, driven by playwright-core in Debian's
// Chromium against the built binary, with mail captured by a real SMTP
// server. One story, step by step: each step needs the ones before it.
// Screenshots of every step go to e2e/artifacts/web/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startPortal, operatorToken, makeAdmin, api, repoRoot } from './lib/server.mjs';
import { startMailbox } from './lib/mail.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'web');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 10000 };

// The ticket text carries markup: it must show up as text, never run.
const TICKET_TEXT = 'My printer shows <b>PC LOAD LETTER</b> <img src=x onerror="window.__xss=1"> — what does it mean?';
const ANSWER_TEXT = 'It wants Letter paper in the tray. Load it and press <Continue>.';

let portal, mailbox, browser, opToken;
let customer, agent1, agent2, boss; // pages, one browser context each
let ticketId;
let shot = 0;

async function screenshot(page, name) {
  shot += 1;
  const file = join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// newPage opens a page in a fresh browser context (its own storage and
// realtime connection, like a second person's browser).
async function newPage(viewport) {
  // reduced motion: no highlight animation caught half-way in the screenshots
  const context = await browser.newContext({ viewport, baseURL: portal.url, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.on('pageerror', (err) => { page.errors = [...(page.errors || []), String(err)]; });
  page.on('dialog', (d) => d.accept());
  return page;
}

// markNoReload sets a flag in the page's window: it survives only as long
// as the page is not reloaded or navigated away.
const markNoReload = (page) => page.evaluate(() => { window.__sameDocument = true; });
const assertNotReloaded = async (page) => assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');

async function agentLogIn(page, userName, password) {
  await page.goto('/agent/');
  await page.getByLabel('User name or email').fill(userName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  // keyboard: Enter in the password field submits the form
  await page.getByLabel('Password', { exact: true }).press('Enter');
  await page.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);
  await page.locator('#live[data-state="on"]').waitFor(WAIT);
}

// step is one `it` of the story. After a failure the later steps are
// skipped (they need it), and every open page is photographed.
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

describe('web pages in Chromium', () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    mailbox = await startMailbox();
    // the portal's own URL is only known once it runs: the mail settings
    // come from the environment, the app URL from the operator's settings
    portal = await startPortal({
      env: {
        PORTAL_SMTP_HOST: mailbox.host,
        PORTAL_SMTP_PORT: String(mailbox.port),
        PORTAL_SENDER_ADDRESS: 'support@example.com',
        PORTAL_SENDER_NAME: 'Ticket Portal',
      },
    });
    opToken = await operatorToken(portal);
    const settings = await api(portal, 'PATCH', '/api/settings', {
      token: opToken,
      body: { meta: { appURL: portal.url } },
    });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    await makeAdmin(portal, opToken, 'agent1', 'admin', 'agent1-pass-12');
    await makeAdmin(portal, opToken, 'agent2', 'admin', 'agent2-pass-12');
    await makeAdmin(portal, opToken, 'boss', 'superAdmin', 'boss-pass-1234');
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

  step('shows the API\'s field errors next to the sign-up inputs', async () => {
    customer = await newPage(PHONE);
    await customer.goto('/');
    await customer.getByLabel('Email', { exact: true }).fill('carol@example.com');
    await customer.getByLabel('User name', { exact: true }).fill('carol');
    await customer.getByLabel('First name').fill('Carol');
    await customer.getByLabel('Last name').fill('Customer');
    await customer.getByLabel('Mobile number').fill('+44 20 7946 0958');
    await customer.locator('#signup-password').fill('short');
    await customer.getByLabel('Repeat the password').fill('short');
    await customer.getByRole('button', { name: 'Create account' }).click();
    const error = customer.locator('#signup-password-error');
    await error.waitFor(WAIT);
    assert.match(await error.textContent(), /\S/);
    assert.equal(await customer.locator('#signup-password').getAttribute('aria-invalid'), 'true');
    assert.match(await customer.locator('#signup-password').getAttribute('aria-describedby'), /signup-password-error/);
    // the error belongs to the password, not to the fields that were right
    assert.equal(await customer.locator('#signup-email-error').count(), 0);
    await screenshot(customer, 'portal-phone-signup-field-error');
  });

  step('signs a customer up and verifies the account through the mailed link', async () => {
    await customer.locator('#signup-password').fill('carol-pass-123');
    await customer.getByLabel('Repeat the password').fill('carol-pass-123');
    await customer.getByRole('button', { name: 'Create account' }).click();
    await customer.locator('#page-message', { hasText: 'verification link' }).waitFor(WAIT);
    assert.equal(await customer.locator('#signup-password-error').count(), 0);

    // logging in before verifying says why it cannot, and offers the resend form
    await customer.getByLabel('User name or email').fill('carol@example.com');
    await customer.locator('#login-password').fill('carol-pass-123');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.locator('#login-form .form-error', { hasText: /verify/i }).waitFor(WAIT);
    assert.equal(await customer.getByLabel('Email of your account').nth(1).inputValue(), 'carol@example.com');
    await customer.getByRole('button', { name: 'Resend verification mail' }).click();
    await customer.locator('#resend-form .form-ok').waitFor(WAIT);
    await screenshot(customer, 'portal-phone-unverified');

    // two verification mails now (sign-up and resend): the last one's link
    const isVerification = (m) => m.to.includes('carol@example.com') && m.links.some((l) => l.includes('/verifyAccount?token='));
    await mailbox.waitForMail((m) => isVerification(m) && mailbox.mails.filter(isVerification).length >= 2);
    const mail = mailbox.mails.filter(isVerification).at(-1);
    const link = mail.links.find((l) => l.includes('/verifyAccount?token='));
    assert.ok(link.startsWith(`${portal.url}/verifyAccount?token=`), link);

    const res = await customer.goto(link);
    assert.equal(res.status(), 200);
    assert.match(await customer.locator('body').innerText(), /verified/i);
    // the page behind the link uses the shared stylesheet
    assert.equal(await customer.locator('link[rel="stylesheet"][href="/style.css"]').count(), 1);
    await screenshot(customer, 'verify-page-phone');
  });

  step('logs agents into the console, each in their own browser', async () => {
    agent1 = await newPage(DESKTOP);
    agent2 = await newPage(DESKTOP);
    await agentLogIn(agent1, 'agent1', 'agent1-pass-12');
    await agentLogIn(agent2, 'agent2@example.com', 'agent2-pass-12');
    assert.equal(await agent1.locator('#queue li').count(), 0);
    // a plain agent has no superAdmin sections
    assert.equal(await agent1.getByRole('button', { name: 'Agents' }).isVisible(), false);
    await markNoReload(agent1);
    await markNoReload(agent2);
    await screenshot(agent1, 'console-empty-queue');
  });

  step('lets the verified customer log in and send a ticket, with a busy button meanwhile', async () => {
    await customer.goto('/');
    await customer.getByLabel('User name or email').fill('carol@example.com');
    await customer.locator('#login-password').fill('carol-pass-123');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.getByRole('heading', { name: 'My tickets' }).waitFor(WAIT);
    await customer.locator('#live[data-state="on"]').waitFor(WAIT);
    assert.equal(await customer.locator('#whoami').textContent(), 'carol');

    // hold the request a moment to see the loading state
    let release;
    const held = new Promise((r) => { release = r; });
    await customer.route('**/sendTicket', async (route) => { await held; await route.continue(); });
    await customer.getByLabel('How can we help?').fill(TICKET_TEXT);
    const send = customer.getByRole('button', { name: 'Send ticket' });
    await send.click();
    await customer.locator('#ticket-form button[aria-busy="true"]:disabled').waitFor(WAIT);
    await customer.locator('#ticket-form[aria-busy="true"]').waitFor(WAIT);
    release();
    await customer.locator('#ticket-form .form-ok', { hasText: 'Ticket sent' }).waitFor(WAIT);
    assert.equal(await send.isDisabled(), false);
    await customer.unroute('**/sendTicket');

    const item = customer.locator('#tickets li.ticket');
    assert.equal(await item.count(), 1);
    ticketId = await item.getAttribute('data-id');
    assert.match(ticketId, /^[a-z0-9]{15}$/);
    assert.equal(await item.locator('.ticket-content').textContent(), TICKET_TEXT);
    assert.equal(await item.locator('img').count(), 0);
    assert.equal(await customer.evaluate(() => window.__xss), undefined);
    await markNoReload(customer);
    await screenshot(customer, 'portal-phone-ticket-sent');
  });

  step('shows the new ticket in both agents\' queues without reloading', async () => {
    for (const page of [agent1, agent2]) {
      const row = page.locator(`#queue li[data-id="${ticketId}"]`);
      await row.waitFor(WAIT);
      assert.match(await row.innerText(), /<b>PC LOAD LETTER<\/b> <img src=x/); // shown as text
      assert.equal(await row.locator('b, img').count(), 0);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.match(await row.innerText(), /Free/);
      await assertNotReloaded(page);
    }
    await screenshot(agent1, 'console-ticket-arrived');
  });

  step('lets agent1 take the ticket, and agent2 sees who holds it live', async () => {
    // agent2 opens it first, with the keyboard
    await agent2.locator(`#queue li[data-id="${ticketId}"] button`).focus();
    await agent2.keyboard.press('Enter');
    await agent2.locator('#detail-heading', { hasText: ticketId }).waitFor(WAIT);
    assert.equal(await agent2.locator('#holder').textContent(), 'Nobody has taken it yet');

    await agent1.locator(`#queue li[data-id="${ticketId}"] button`).click();
    const content = agent1.locator('#detail .ticket-content');
    assert.equal(await content.textContent(), TICKET_TEXT);
    assert.equal(await agent1.locator('#detail img').count(), 0);
    await agent1.getByRole('button', { name: 'Take ticket' }).click();
    await agent1.locator('#action-ok', { hasText: 'You have taken this ticket.' }).waitFor(WAIT);
    assert.equal(await agent1.locator('#holder').textContent(), 'Taken by you');
    // the Take button is gone: the keyboard focus moved on to the answer
    assert.equal(await agent1.evaluate(() => document.activeElement.id), 'answer-text');

    await agent2.locator('#holder', { hasText: 'Taken by agent1' }).waitFor(WAIT);
    await agent2.locator(`#queue li[data-id="${ticketId}"]`, { hasText: 'Taken by agent1' }).waitFor(WAIT);
    await assertNotReloaded(agent2);
    await screenshot(agent1, 'console-taken');
  });

  step('shows agent2 the conflict when taking a ticket agent1 holds', async () => {
    await agent2.getByRole('button', { name: 'Take ticket' }).click();
    const error = agent2.locator('#action-error');
    await error.waitFor(WAIT);
    assert.match(await error.textContent(), /agent1/);
    assert.equal(await agent2.locator('#holder').textContent(), 'Taken by agent1');
    await screenshot(agent2, 'console-take-conflict');
    await agent2.setViewportSize(PHONE);
    await screenshot(agent2, 'console-phone-take-conflict');
    await agent2.setViewportSize(DESKTOP);
  });

  step('lets agent1 answer, and the customer sees the answer arrive without reloading', async () => {
    await agent1.getByLabel('Your answer').fill(ANSWER_TEXT);
    await agent1.getByRole('button', { name: 'Send answer' }).click();
    await agent1.locator('#detail .answer-text', { hasText: 'Letter paper' }).waitFor(WAIT);
    assert.equal(await agent1.locator('#detail .answer-text').textContent(), ANSWER_TEXT);
    assert.match(await agent1.locator('#detail .answer').innerText(), /you/);

    const answer = customer.locator(`#tickets li[data-id="${ticketId}"] .answer-text`);
    await answer.waitFor(WAIT);
    assert.equal(await answer.textContent(), ANSWER_TEXT);
    assert.match(await customer.locator(`#tickets li[data-id="${ticketId}"] .badge`).first().textContent(), /In progress/);
    await assertNotReloaded(customer);
    await screenshot(customer, 'portal-phone-answer-arrived');
    await customer.setViewportSize(DESKTOP);
    await screenshot(customer, 'portal-desktop-answer-arrived');
    await customer.setViewportSize(PHONE);

    // the other agent's open ticket shows the answer too, with its author
    await agent2.locator('#detail .answer', { hasText: 'agent1' }).waitFor(WAIT);
    await screenshot(agent1, 'console-answered');

    const mail = await mailbox.waitForMail((m) => m.to.includes('carol@example.com') && m.text.includes('Letter paper'));
    assert.ok(mail);
  });

  step('lets the superAdmin flag the ticket high priority, live in the agents\' queues', async () => {
    boss = await newPage(DESKTOP);
    await agentLogIn(boss, 'boss', 'boss-pass-1234');
    assert.match(await boss.locator('#whoami-role').textContent(), /head of support/);
    await boss.locator(`#queue li[data-id="${ticketId}"] button`).click();
    await boss.getByRole('button', { name: 'Mark high priority' }).click();
    await boss.locator('#action-ok', { hasText: 'high priority' }).waitFor(WAIT);
    await agent2.locator(`#queue li[data-id="${ticketId}"] .badge.priority`).waitFor(WAIT);
    await assertNotReloaded(agent2);
  });

  step('puts high-priority tickets first in the queue', async () => {
    // a second, newer ticket from the customer comes in below the flagged one
    await customer.getByLabel('How can we help?').fill('A second, ordinary question.');
    await customer.getByRole('button', { name: 'Send ticket' }).click();
    await customer.locator('#tickets li.ticket', { hasText: 'A second, ordinary question.' }).waitFor(WAIT);
    await agent1.locator('#queue li', { hasText: 'A second, ordinary question.' }).waitFor(WAIT);
    const order = await agent1.locator('#queue li').evaluateAll((lis) => lis.map((li) => li.dataset.id));
    assert.equal(order.length, 2);
    assert.equal(order[0], ticketId);
    await screenshot(agent1, 'console-priority-first');
  });

  step('lets agent1 close the ticket: it leaves every queue and shows closed to the customer', async () => {
    await agent1.locator(`#queue li[data-id="${ticketId}"] button`).click();
    await agent1.getByRole('button', { name: 'Close ticket' }).click();
    await agent1.locator('#action-ok', { hasText: 'closed' }).waitFor(WAIT);
    assert.equal(await agent1.getByLabel('Your answer').isVisible(), false);
    for (const page of [agent1, agent2, boss]) {
      await page.locator(`#queue li[data-id="${ticketId}"]`).waitFor({ state: 'detached', ...WAIT });
    }
    await agent2.locator('#detail .badge.closed').waitFor(WAIT);
    await customer.locator(`#tickets li[data-id="${ticketId}"] .badge.closed`).waitFor(WAIT);
    await assertNotReloaded(customer);
    await assertNotReloaded(agent2);

    await boss.getByRole('button', { name: 'Closed tickets' }).click();
    await boss.locator(`#closed li[data-id="${ticketId}"]`).waitFor(WAIT);
    await screenshot(boss, 'console-closed-list');
  });

  step('lets the superAdmin find a ticket by its number, and says plainly when there is none', async () => {
    await boss.getByRole('button', { name: 'Find a ticket' }).click();
    await boss.getByLabel('Ticket number').fill('zzzzzzzzzzzzzzz');
    await boss.getByRole('button', { name: 'Find ticket' }).click();
    await boss.locator('#search-ticketId-error').waitFor(WAIT);
    assert.equal(await boss.locator('#search-ticketId').getAttribute('aria-invalid'), 'true');

    await boss.getByLabel('Ticket number').fill(ticketId);
    await boss.getByRole('button', { name: 'Find ticket' }).click();
    await boss.locator('#detail-heading', { hasText: ticketId }).waitFor(WAIT);
    assert.equal(await boss.locator('#search-ticketId-error').count(), 0);
    assert.equal(await boss.locator('#detail .answer-text').textContent(), ANSWER_TEXT);
  });

  step('lets the superAdmin create an admin, who appears in the list and can log in', async () => {
    await boss.getByRole('button', { name: 'Agents' }).click();
    await boss.locator('#admins tr[data-id]').first().waitFor(WAIT);
    const form = boss.locator('#admin-form');
    await form.getByLabel('Email').fill('agent3@example.com');
    await form.getByLabel('User name').fill('agent1'); // taken
    await form.getByLabel('First password').fill('agent3-pass-12');
    await boss.getByRole('button', { name: 'Add agent' }).click();
    await boss.locator('#admin-userName-error').waitFor(WAIT);
    assert.equal(await boss.locator('#admin-email-error').count(), 0);

    await form.getByLabel('User name').fill('agent3');
    await boss.getByRole('button', { name: 'Add agent' }).click();
    await boss.locator('#admin-form .form-ok', { hasText: 'agent3' }).waitFor(WAIT);
    await boss.locator('#admins tr', { hasText: 'agent3@example.com' }).waitFor(WAIT);
    assert.equal(await boss.locator('#admin-userName-error').count(), 0);
    await screenshot(boss, 'console-agents');

    const login = await api(portal, 'POST', '/login', { body: { userName: 'agent3', password: 'agent3-pass-12', role: 'admin' } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user.role, 'admin');
  });

  step('lets the superAdmin delete an admin, who then cannot log in', async () => {
    await boss.getByRole('button', { name: 'Delete agent agent3' }).click(); // the confirm dialog is accepted
    await boss.locator('#admins tr', { hasText: 'agent3@example.com' }).waitFor({ state: 'detached', ...WAIT });
    await boss.locator('#admins tr', { hasText: 'agent1@example.com' }).waitFor(WAIT);
    const login = await api(portal, 'POST', '/login', { body: { userName: 'agent3', password: 'agent3-pass-12', role: 'admin' } });
    assert.equal(login.status, 401);
  });

  step('lets the superAdmin delete a ticket, live for the agents and the customer', async () => {
    const second = await agent1.locator('#queue li').first().getAttribute('data-id');
    await boss.getByRole('button', { name: 'Active queue' }).click();
    await boss.locator(`#queue li[data-id="${second}"] button`).click();
    await boss.getByRole('button', { name: 'Delete ticket' }).click(); // the confirm dialog is accepted
    await boss.locator('#page-message', { hasText: 'deleted' }).waitFor(WAIT);
    await agent1.locator(`#queue li[data-id="${second}"]`).waitFor({ state: 'detached', ...WAIT });
    await customer.locator(`#tickets li[data-id="${second}"]`).waitFor({ state: 'detached', ...WAIT });
    assert.equal((await api(portal, 'GET', `/searchForTicket/${second}`, { token: opToken })).status, 404);
  });

  step('fits a phone-width screen and logs out', async () => {
    // the portal at desktop width, the console at phone width
    await customer.setViewportSize(DESKTOP);
    await screenshot(customer, 'portal-desktop');
    await agent2.setViewportSize(PHONE);
    await screenshot(agent2, 'console-phone-detail');
    for (const page of [customer, agent2]) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    }
    await agent2.getByRole('button', { name: 'Back to the list' }).click();
    await agent2.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);
    await screenshot(agent2, 'console-phone-queue');

    await customer.getByRole('button', { name: 'Log out' }).click();
    await customer.getByRole('heading', { name: 'Log in' }).waitFor(WAIT);
    await customer.reload();
    await customer.getByRole('heading', { name: 'Log in' }).waitFor(WAIT);
    await screenshot(customer, 'portal-desktop-signed-out');
  });

  step('resets a forgotten password through the mailed link, then logs in with it', async () => {
    await customer.getByLabel('Email of your account').first().fill('carol@example.com');
    await customer.getByRole('button', { name: 'Send reset link' }).click();
    await customer.locator('#forgot-form .form-ok').waitFor(WAIT);
    const mail = await mailbox.waitForMail((m) => m.to.includes('carol@example.com') && m.links.some((l) => l.includes('/resetPassword?token=')));
    const link = mail.links.find((l) => l.includes('/resetPassword?token='));
    assert.ok(link.startsWith(`${portal.url}/resetPassword?token=`), link);

    await customer.setViewportSize(PHONE);
    const res = await customer.goto(link);
    assert.equal(res.status(), 200);
    assert.equal(await customer.locator('link[rel="stylesheet"][href="/style.css"]').count(), 1);
    await customer.getByLabel('New password', { exact: true }).fill('carol-new-pass-9');
    await customer.getByLabel('Repeat the new password').fill('carol-new-pass-9');
    await customer.getByRole('button', { name: /new password/i }).click();
    await customer.locator('#form-done').waitFor(WAIT);
    await screenshot(customer, 'reset-page-phone');

    await customer.goto('/');
    await customer.getByLabel('User name or email').fill('carol');
    await customer.locator('#login-password').fill('carol-pass-123');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.locator('#login-form .form-error').waitFor(WAIT); // the old password no longer works
    await customer.locator('#login-password').fill('carol-new-pass-9');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.locator(`#tickets li[data-id="${ticketId}"]`).waitFor(WAIT);
    assert.equal(await customer.locator('#tickets li.ticket').count(), 1);
    for (const page of [customer, agent1, agent2, boss]) {
      assert.deepEqual(page.errors || [], [], 'script errors in the page');
    }
  });
});
