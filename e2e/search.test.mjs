// Browser tests of search and answers: the console's search as you type,
// the answers of similar solved tickets beside the answer box, the canned
// reply picker on "/", and the portal's search of one's own tickets.
// Screenshots go to e2e/artifacts/search/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startPortal, operatorToken, makeAdmin, makeCustomer, api, repoRoot } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'search');
const WAIT = { timeout: 10000 };

let portal, browser, opToken, bossToken, aliceToken;
let openId, solvedId;

const login = async (userName, password, role) => {
  const res = await api(portal, 'POST', '/login', { body: { userName, password, role } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token;
};

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: portal.url, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.on('pageerror', (err) => { page.errors = [...(page.errors || []), String(err)]; });
  return page;
}

describe('search and answers in the browser', { timeout: 120000 }, () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    portal = await startPortal();
    opToken = await operatorToken(portal);
    await makeAdmin(portal, opToken, 'boss', 'superAdmin');
    await makeCustomer(portal, opToken, 'alice');
    bossToken = await login('boss', 'agent-pass-12', 'admin');
    aliceToken = await login('alice', 'customer-pass-1', 'user');

    // a solved printer ticket, and an open one like it
    let res = await api(portal, 'POST', '/sendTicket', { token: aliceToken, body: { ticketContent: 'The printer jams the paper in tray 2.' } });
    solvedId = res.body.ticketId;
    res = await api(portal, 'PATCH', `/sendAnswerOnTicket/${solvedId}`, { token: bossToken, body: { answer: 'Open tray 2 and take out the jammed paper.' } });
    assert.equal(res.status, 200);
    res = await api(portal, 'PATCH', `/markTicketStatus/${solvedId}`, { token: bossToken, body: { status: 'markAsClosed' } });
    assert.equal(res.status, 200);
    res = await api(portal, 'POST', '/sendTicket', { token: aliceToken, body: { ticketContent: 'My printer has a paper jam again.' } });
    openId = res.body.ticketId;
    res = await api(portal, 'POST', '/cannedReplies', { token: bossToken, body: { title: 'Greeting', body: 'Hello {{customer.firstName}}, about ticket {{ticket.id}}: ', shared: true } });
    assert.equal(res.status, 201, JSON.stringify(res.body));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    if (browser) await browser.close();
    if (portal) await portal.stop();
  });

  it('finds tickets as the agent types, opens one, offers a similar solved answer and a canned reply', async () => {
    const page = await newPage();
    await page.goto('/agent/');
    await page.getByLabel('User name or email').fill('boss');
    await page.getByLabel('Password', { exact: true }).fill('agent-pass-12');
    await page.getByLabel('Password', { exact: true }).press('Enter');
    await page.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);

    await page.getByLabel('Search tickets').pressSequentially('printer paper', { delay: 30 });
    await page.locator('#ticket-search-results .search-hit').nth(1).waitFor(WAIT);
    assert.match(await page.locator('#ticket-search-status').innerText(), /2 found/);
    assert.equal(await page.locator('#ticket-search-results mark', { hasText: /printer/i }).count() >= 1, true);
    await page.screenshot({ path: join(ARTIFACTS, '01-console-search.png'), fullPage: true });

    // the open ticket: its detail, and the solved ticket's answer beside the answer box
    await page.locator(`#ticket-search-results li[data-id="${openId}"] button`).click();
    await page.locator('#detail-heading', { hasText: openId }).waitFor(WAIT);
    const similar = page.locator('.similar-item', { hasText: 'Open tray 2' });
    await similar.waitFor(WAIT);
    await similar.getByRole('button', { name: 'Use this answer' }).click();
    assert.equal(await page.locator('#answer-text').inputValue(), 'Open tray 2 and take out the jammed paper.');
    await page.screenshot({ path: join(ARTIFACTS, '02-console-similar.png'), fullPage: true });

    // "/" opens the canned replies; the keyboard picks one, placeholders filled
    await page.locator('#answer-text').fill('');
    await page.locator('#answer-text').pressSequentially('/gre', { delay: 30 });
    await page.locator('#canned-picker li[role="option"]').first().waitFor(WAIT);
    await page.screenshot({ path: join(ARTIFACTS, '03-console-canned-picker.png'), fullPage: true });
    await page.locator('#answer-text').press('ArrowDown');
    await page.locator('#answer-text').press('Enter');
    assert.equal(await page.locator('#answer-text').inputValue(), `Hello alice, about ticket ${openId}: `);
    assert.equal(await page.locator('#canned-picker').isHidden(), true);
    assert.deepEqual(page.errors || [], []);
  });

  it("searches the customer's own tickets in the portal", async () => {
    const page = await newPage();
    await page.goto('/');
    await page.getByLabel('User name or email').fill('alice');
    await page.locator('#login-password').fill('customer-pass-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'My tickets' }).waitFor(WAIT);
    await page.getByLabel('Search tickets').pressSequentially('tray', { delay: 30 });
    await page.locator('#my-search-results .search-hit').first().waitFor(WAIT);
    assert.equal(await page.locator('#my-search-results .search-hit').count(), 1);
    await page.getByLabel('Search tickets').fill('"unclosed');
    await page.locator('#my-search-results').evaluate(() => {});
    await page.locator('.search-box .form-error', { hasText: 'quote that is not closed' }).waitFor(WAIT);
    await page.screenshot({ path: join(ARTIFACTS, '04-portal-search.png'), fullPage: true });
    assert.deepEqual(page.errors || [], []);
  });
});
