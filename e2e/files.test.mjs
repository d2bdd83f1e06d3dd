// Browser test of files in the web pages, driven by
// playwright-core in Debian's Chromium against the built binary. One story:
// a customer attaches a screenshot to a new ticket in the portal (the
// attach button), sees it listed with its size and a preview, drops a log
// file onto the reply form and watches the upload's progress; an agent
// opens the ticket in the console, sees the image's thumbnail and opens the
// screenshot, served inline as a PNG; the log is a download. Screenshots go
// to e2e/artifacts/files/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startPortal, operatorToken, makeAdmin, makeCustomer, repoRoot } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'e2e', 'artifacts', 'files');
const DESKTOP = { width: 1280, height: 860 };
const WAIT = { timeout: 15000 };

let portal, browser;
let customer, agent;
let ticketId, screenshotPng;
let shot = 0;

async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function newPage() {
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: portal.url, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.on('pageerror', (err) => { page.errors = [...(page.errors || []), String(err)]; });
  return page;
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
      for (const [who, page] of Object.entries({ customer, agent })) {
        if (page && !page.isClosed()) await screenshot(page, `FAILED-${who}`).catch(() => {});
      }
      throw err;
    }
  });
}

// imageLoaded waits until an <img> has decoded a real picture.
async function imageLoaded(locator) {
  await locator.waitFor(WAIT);
  await locator.evaluate((img) => (img.complete && img.naturalWidth > 0) || new Promise((ok, fail) => {
    img.addEventListener('load', ok, { once: true });
    img.addEventListener('error', () => fail(new Error(`image ${img.src} did not load`)), { once: true });
  }));
  return locator.evaluate((img) => img.naturalWidth);
}

describe('files in Chromium', () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    portal = await startPortal();
    const op = await operatorToken(portal);
    await makeAdmin(portal, op, 'agent1', 'admin', 'agent1-pass-12');
    await makeCustomer(portal, op, 'erin', 'erin-pass-1234');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    for (const page of [customer, agent]) {
      if (page && page.errors) console.log(`page errors: ${page.errors.join('\n')}`);
    }
    if (browser) await browser.close();
    if (portal) await portal.stop();
  });

  step('lets the customer attach a screenshot to a new ticket', async () => {
    customer = await newPage();
    await customer.goto('/');
    await customer.getByLabel('User name or email').fill('erin');
    await customer.locator('#login-password').fill('erin-pass-1234');
    await customer.getByRole('button', { name: 'Log in' }).click();
    await customer.locator('#live[data-state="on"]').waitFor(WAIT);

    screenshotPng = await customer.screenshot(); // a real screenshot of the portal
    await customer.getByLabel('How can we help?').fill('The export button does nothing; screenshot attached.');
    const chooser = customer.waitForEvent('filechooser');
    await customer.locator('#ticket-form').getByRole('button', { name: 'Attach files' }).click();
    await (await chooser).setFiles({ name: 'screenshot.png', mimeType: 'image/png', buffer: screenshotPng });
    const chosen = customer.locator('#ticket-form .attach-item');
    await chosen.waitFor(WAIT);
    assert.match(await chosen.textContent(), /screenshot\.png \(\d+(\.\d)? KiB\)/);
    assert.ok(await imageLoaded(chosen.locator('img.attach-preview')) > 0, 'no preview of the chosen image');
    await screenshot(customer, 'portal-screenshot-chosen');

    await customer.getByRole('button', { name: 'Send ticket' }).click();
    await customer.locator('#ticket-form .form-ok', { hasText: 'Ticket sent' }).waitFor(WAIT);
    assert.equal(await customer.locator('#ticket-form .attach-item').count(), 0, 'the chosen files stay after sending');
    ticketId = await customer.locator('#tickets li.ticket').first().getAttribute('data-id');
    assert.match(ticketId, /^[a-z0-9]{15}$/);
  });

  step('shows the customer the file with its size and a thumbnail', async () => {
    await customer.locator(`#tickets li.ticket[data-id="${ticketId}"] .ticket-subject a`).click();
    const first = customer.locator('#conversation .message.first');
    await first.locator('.attachments').waitFor(WAIT);
    const kib = (screenshotPng.length / 1024).toFixed(1);
    assert.equal((await first.locator('.attachments li').first().textContent()).includes(`screenshot.png (${kib} KiB)`), true);
    assert.equal(await imageLoaded(first.locator('.attach-thumb img')), 100, 'the thumbnail is not the 100x100 one');
  });

  step('uploads a file dropped on the reply form, with progress', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024); // large enough for upload progress events
    await customer.evaluate((text) => {
      const form = document.getElementById('reply-form');
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'app.log', { type: 'text/plain' }));
      form.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      form.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      window.__progress = [];
      const bar = form.querySelector('.attach-progress');
      new MutationObserver(() => window.__progress.push(Number(bar.value))).observe(bar, { attributes: true });
    }, big);
    await customer.locator('#reply-form .attach-item', { hasText: 'app.log (3.0 MiB)' }).waitFor(WAIT);
    await customer.getByLabel('Your reply').fill('And here is the log.');
    await customer.getByRole('button', { name: 'Send reply' }).click();
    await customer.locator('#reply-form .form-ok', { hasText: 'Your reply is sent' }).waitFor(WAIT);
    const reply = customer.locator('#conversation .message.reply', { hasText: 'And here is the log.' });
    await reply.locator('.attachments', { hasText: 'app.log (3.0 MiB)' }).waitFor(WAIT);
    const progress = await customer.evaluate(() => window.__progress);
    assert.ok(progress.includes(100), `the progress bar never reached 100: ${progress}`);
    await screenshot(customer, 'portal-conversation-with-files');
  });

  step('lets the agent open the screenshot from the console', async () => {
    agent = await newPage();
    await agent.goto('/agent/');
    await agent.getByLabel('User name or email').fill('agent1');
    await agent.getByLabel('Password', { exact: true }).fill('agent1-pass-12');
    await agent.getByLabel('Password', { exact: true }).press('Enter');
    await agent.getByRole('heading', { name: 'Active queue' }).waitFor(WAIT);
    await agent.locator(`#queue li[data-id="${ticketId}"] button`).click();
    await agent.locator('#detail-heading', { hasText: ticketId }).waitFor(WAIT);

    const thumb = agent.locator('#detail .attach-thumb img').first();
    assert.equal(await imageLoaded(thumb), 100);
    await screenshot(agent, 'console-ticket-with-files');

    const [opened] = await Promise.all([
      agent.context().waitForEvent('page'),
      agent.locator('#detail .attachments a', { hasText: 'screenshot.png' }).click(),
    ]);
    const res = await opened.waitForEvent('response', { predicate: (r) => r.url().includes('/api/files/tickets/'), timeout: 15000 })
      .catch(() => null);
    await opened.waitForLoadState();
    assert.match(opened.url(), new RegExp(`/api/files/tickets/${ticketId}/screenshot_\\w+\\.png\\?`));
    const shown = await opened.evaluate(() => ({ type: document.contentType, img: document.images[0] && document.images[0].naturalWidth }));
    assert.equal(shown.type, 'image/png');
    if (res) assert.equal((await res.headerValue('content-disposition')).startsWith('inline'), true);

    // the same bytes as were sent
    const direct = await agent.request.get(opened.url());
    assert.equal(direct.status(), 200);
    assert.deepEqual(Buffer.compare(await direct.body(), screenshotPng), 0);
    await opened.close();
  });

  step('serves the log as a download, never inline', async () => {
    const link = agent.locator('#detail .attachments a', { hasText: 'app.log' });
    await link.waitFor(WAIT);
    const [download] = await Promise.all([agent.waitForEvent('download', WAIT), link.click()]);
    assert.equal(download.suggestedFilename(), 'app.log');
    assert.equal(customer.errors, undefined, `portal errors: ${customer.errors}`);
    assert.equal(agent.errors, undefined, `console errors: ${agent.errors}`);
  });
});
