// Browser test of the reports page (pb_public/agent/reports.html): a head of
// support logs in to the console, follows the Reports link, and sees the
// charts drawn (SVG with content) for a day with a ticket sent, answered,
// closed and rated, on a desktop and a phone, with no console error.
// Screenshots go to e2e/artifacts/reports/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startPortal, operatorToken, makeAdmin, makeCustomer, api, repoRoot } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'reports');
const WAIT = { timeout: 10000 };

let portal, browser;

async function login(userName, password) {
  const res = await api(portal, 'POST', '/login', { body: { userName, password } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token;
}

describe('reports page', () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    portal = await startPortal();
    const op = await operatorToken(portal);
    await makeAdmin(portal, op, 'boss', 'superAdmin', 'boss-pass-123');
    await makeAdmin(portal, op, 'agent1', 'admin', 'agent-pass-12');
    await makeCustomer(portal, op, 'alice', 'customer-pass-1');
    const alice = await login('alice', 'customer-pass-1');
    const agent = await login('agent1', 'agent-pass-12');
    for (const text of ['The printer is on fire.', 'Where is my invoice?']) {
      const sent = await api(portal, 'POST', '/sendTicket', { token: alice, body: { ticketContent: text } });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const id = sent.body.ticketId;
      assert.equal((await api(portal, 'PATCH', `/sendAnswerOnTicket/${id}`, { token: agent, body: { answer: 'On it.' } })).status, 200);
      if (text.startsWith('The printer')) {
        assert.equal((await api(portal, 'PATCH', `/markTicketStatus/${id}`, { token: agent, body: { status: 'markAsClosed' } })).status, 200);
      }
    }
    // a third ticket, sent and answered last: newest first puts it on top,
    // the deadline order (both wait for their close) below the invoice
    const third = await api(portal, 'POST', '/sendTicket', { token: alice, body: { ticketContent: 'A third question.' } });
    assert.equal(third.status, 201, JSON.stringify(third.body));
    assert.equal((await api(portal, 'PATCH', `/sendAnswerOnTicket/${third.body.ticketId}`, { token: agent, body: { answer: 'Yes.' } })).status, 200);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    if (browser) await browser.close();
    if (portal) await portal.stop();
  });

  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    it(`draws the charts on a ${name}`, async () => {
      const context = await browser.newContext({ viewport, baseURL: portal.url, reducedMotion: 'reduce' });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (err) => errors.push(String(err)));
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });

      await page.goto('/agent/');
      await page.getByLabel('User name or email').fill('boss');
      await page.getByLabel('Password', { exact: true }).fill('boss-pass-123');
      await page.getByLabel('Password', { exact: true }).press('Enter');
      await page.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);
      // the queue shows each ticket's time left
      await page.locator('#queue .badge.sla-ok').first().waitFor(WAIT);
      const order = () => page.locator('#queue li .row-subject').allInnerTexts(); // the row's text is the latest message
      assert.deepEqual(await order(), ['A third question.', 'Where is my invoice?']);
      await page.getByLabel('Soonest deadline first').check();
      assert.deepEqual(await order(), ['Where is my invoice?', 'A third question.']);
      await page.getByLabel('Soonest deadline first').uncheck();
      assert.deepEqual(await order(), ['A third question.', 'Where is my invoice?']);
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.getByRole('heading', { name: 'Reports' }).waitFor(WAIT);

      // Every chart is an SVG with content.
      await page.locator('#chart-days svg polyline').first().waitFor(WAIT);
      for (const id of ['chart-days', 'chart-times', 'chart-sla', 'chart-ratings', 'chart-agents']) {
        const shapes = await page.locator(`#${id} svg`).evaluate((s) => s.querySelectorAll('polyline, rect, circle').length);
        assert.ok(shapes > 0, `${id} has no shapes`);
      }
      const created = await page.locator('#chart-days svg polyline[data-series="created"]').getAttribute('points');
      assert.ok(created && created.split(' ').length === 30, `30 days of points, got ${created}`);
      // the numbers are in tables too
      const cells = (row) => row.evaluate((tr) => [...tr.cells].map((c) => c.textContent));
      const agentRow = page.locator('#agents tr', { hasText: 'agent1' });
      await agentRow.waitFor(WAIT);
      assert.deepEqual((await cells(agentRow)).slice(0, 3), ['agent1', '3', '1']);
      assert.ok(await agentRow.locator('td').nth(2).isVisible(), 'every column shows');
      const today = new Date().toISOString().slice(0, 10);
      assert.deepEqual(await cells(page.locator('#days tr', { hasText: today })), [today, '3', '1', '2']);
      // the SVG fits the screen (no sideways scrolling on a phone)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);

      await page.screenshot({ path: join(ARTIFACTS, `reports-${name}.png`), fullPage: true });
      assert.deepEqual(errors, [], 'console errors');
      await context.close();
    });
  }
});
