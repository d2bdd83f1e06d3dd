// Starts the built Ticket Portal binary on a free loopback port with a fresh
// data dir, for end-to-end tests. PORTAL_BIN names the binary (make test sets
// it; default ../bin/ticketportal).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
// A relative PORTAL_BIN is taken from the directory the tests run in.
export const bin = process.env.PORTAL_BIN ? resolve(process.env.PORTAL_BIN) : join(repoRoot, 'bin', 'ticketportal');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

// startPortal runs `serve` and resolves once the health endpoint answers.
// It returns { url, dir, run(args) (a CLI call on the same data dir), stop() }.
export async function startPortal({ env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'portal-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = (...args) => execFileSync(bin, [...args, `--dir=${dir}`], { cwd: repoRoot, encoding: 'utf8' });
  // migrations first, so that accounts can be made before serving
  run('migrate', 'up');
  const child = spawn(bin, ['serve', `--http=127.0.0.1:${port}`, `--dir=${dir}`], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`portal did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    run,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// operatorToken makes a PocketBase superuser and returns its auth token.
export async function operatorToken(portal, email = 'ops@example.com', password = 'operator-pass-1') {
  portal.run('superuser', 'upsert', email, password);
  const res = await fetch(`${portal.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: email, password }),
  });
  if (!res.ok) throw new Error(`operator login: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

// api calls the portal with JSON and returns { status, body }.
export async function api(portal, method, path, { token, body } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(portal.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, body: json };
}

// makeCustomer creates a verified customer through the operator's record API
// and returns its record.
export async function makeCustomer(portal, opToken, userName, password = 'customer-pass-1') {
  const res = await api(portal, 'POST', '/api/collections/users/records', {
    token: opToken,
    body: {
      email: `${userName}@example.com`, userName, password, passwordConfirm: password,
      userFirstName: userName, userLastName: 'Tester', mobileNumber: '+1 555 0199', verified: true,
    },
  });
  if (res.status !== 200) throw new Error(`make customer ${userName}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// makeAdmin creates an agent (role admin or superAdmin) through the
// operator's record API and returns its record.
export async function makeAdmin(portal, opToken, userName, role = 'admin', password = 'agent-pass-12') {
  const res = await api(portal, 'POST', '/api/collections/admins/records', {
    token: opToken,
    body: { email: `${userName}@example.com`, userName, password, passwordConfirm: password, role, verified: true },
  });
  if (res.status !== 200) throw new Error(`make admin ${userName}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
