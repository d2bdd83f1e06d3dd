// A real SMTP server on loopback (the smtp-server package) that keeps every
// mail it receives, decoded enough to read its text and links, for tests.
import { SMTPServer } from 'smtp-server';
import { freePort } from './server.mjs';

// startMailbox listens on a free 127.0.0.1 port and resolves to
// { host, port, mails, waitForMail(predicate, timeoutMs), stop() }.
// Each mail is { from, to: [addresses], raw, subject, text, links }.
export async function startMailbox() {
  const mails = [];
  const waiters = new Set();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const mail = parseMail(Buffer.concat(chunks).toString('latin1'));
        mail.from = session.envelope.mailFrom && session.envelope.mailFrom.address;
        mail.to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        mails.push(mail);
        for (const w of waiters) w();
        done();
      });
    },
  });
  const port = await freePort();
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  server.on('error', () => { /* a dropped client connection */ });

  // waitForMail resolves with the first mail matching predicate, waiting up
  // to timeoutMs for it to arrive.
  function waitForMail(predicate, timeoutMs = 15000) {
    return new Promise((ok, fail) => {
      const check = () => {
        const hit = mails.find(predicate);
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        ok(hit);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`no matching mail within ${timeoutMs} ms; got ${mails.length}: ${mails.map((m) => `${m.to} "${m.subject}"`).join(', ')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    host: '127.0.0.1',
    port,
    mails,
    waitForMail,
    stop: () => new Promise((ok) => server.close(ok)),
  };
}

// parseMail splits a raw RFC 5322 message into its headers and decoded text
// parts (multipart walked, quoted-printable and base64 decoded).
export function parseMail(raw) {
  const { headers, body } = splitHeaders(raw);
  const texts = [];
  walk(headers, body, texts);
  const text = texts.join('\n');
  return {
    raw,
    subject: decodeWords(headers.subject || ''),
    text,
    links: [...new Set([...text.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0].replaceAll('&amp;', '&')))],
  };
}

function splitHeaders(part) {
  const cut = part.search(/\r?\n\r?\n/);
  const head = cut < 0 ? part : part.slice(0, cut);
  const body = cut < 0 ? '' : part.slice(cut).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

function walk(headers, body, texts) {
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type);
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary[1]}`).slice(1);
    for (const p of parts) {
      if (p.startsWith('--')) break;
      const sub = splitHeaders(p.replace(/^\r?\n/, ''));
      walk(sub.headers, sub.body, texts);
    }
    return;
  }
  if (!/^text\//i.test(type)) return;
  const enc = (headers['content-transfer-encoding'] || '').toLowerCase();
  let bytes;
  if (enc === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (enc === 'quoted-printable') bytes = decodeQP(body);
  else bytes = Buffer.from(body, 'latin1');
  texts.push(bytes.toString('utf8'));
}

function decodeQP(s) {
  const soft = s.replace(/=\r?\n/g, '');
  const out = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(out);
}

// decodeWords decodes RFC 2047 encoded words of a header (=?UTF-8?Q?...?=).
function decodeWords(s) {
  return s.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_, _charset, kind, text) => {
    if (kind.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    return decodeQP(text.replaceAll('_', ' ')).toString('utf8');
  });
}
