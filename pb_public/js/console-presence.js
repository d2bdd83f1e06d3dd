// "Who else is on this ticket": collision detection between agents.
// While an agent has a ticket open, the console tells the server every
// HEARTBEAT ms (POST /viewingTicket/:id), and with typing: true while the
// agent writes (at most every TYPING_EVERY ms). Everyone in the admin room
// hears {event: "viewing", ticketId, by, byName, typing}; a viewer is shown
// until VIEWING_TTL ms pass without a repeat, "typing" for TYPING_TTL ms.

export const HEARTBEAT = 20000;
export const VIEWING_TTL = 30000;
const TYPING_EVERY = 3000;
const TYPING_TTL = 7000;
const TICK = 2000;

// createPresence returns the console's presence state:
//   hear(msg)          applies an admin-room "viewing" message
//   view(ticketId)     starts (or, with null, stops) announcing that we view a ticket
//   typed()            says we are typing on the viewed ticket (throttled)
//   line(ticketId)     "agent2 is viewing" / "agent2 is typing…" / "" for others
// onChange(ticketIds) runs when what line() says changes for those tickets.
export function createPresence({ call, myId, onChange }) {
  const seen = new Map(); // ticketId -> Map(agentId -> {name, at, typingAt})
  let viewing = null;
  let heartbeat = null;
  let lastTyping = 0;
  let shown = new Map(); // ticketId -> the line last drawn

  function send(typing) {
    const id = viewing;
    if (!id) return;
    call('POST', `/viewingTicket/${encodeURIComponent(id)}`, { body: typing ? { typing: true } : {} }).catch(() => {
      // a ticket we may no longer see (closed for an agent, deleted) stops here
      if (viewing === id) stop();
    });
  }

  function stop() {
    clearInterval(heartbeat);
    heartbeat = null;
    viewing = null;
  }

  function view(ticketId) {
    if (ticketId === viewing) return;
    stop();
    if (!ticketId) return;
    viewing = ticketId;
    lastTyping = 0;
    send(false);
    heartbeat = setInterval(() => {
      if (document.visibilityState === 'hidden') return; // a background tab is not viewing
      send(Date.now() - lastTyping < TYPING_EVERY);
    }, HEARTBEAT);
  }

  function typed() {
    if (!viewing) return;
    const now = Date.now();
    if (now - lastTyping < TYPING_EVERY) return;
    lastTyping = now;
    send(true);
  }

  function hear(msg) {
    if (!msg || msg.event !== 'viewing' || !msg.ticketId || !msg.by || msg.by === myId()) return;
    let agents = seen.get(msg.ticketId);
    if (!agents) seen.set(msg.ticketId, (agents = new Map()));
    const now = Date.now();
    const before = agents.get(msg.by);
    const arrived = !before || now - before.at > VIEWING_TTL;
    agents.set(msg.by, {
      name: msg.byName || (before && before.name) || 'another agent',
      at: now,
      typingAt: msg.typing ? now : 0,
    });
    // someone just joined the ticket we view: tell them at once that we are
    // here too, instead of at our next heartbeat (they answer nothing back,
    // as they know us by then)
    if (arrived && msg.ticketId === viewing) send(Date.now() - lastTyping < TYPING_EVERY);
    changed();
  }

  function others(ticketId) {
    const agents = seen.get(ticketId);
    if (!agents) return [];
    const now = Date.now();
    const out = [];
    for (const [id, a] of agents) {
      if (now - a.at > VIEWING_TTL) agents.delete(id);
      else out.push({ id, name: a.name, typing: a.typingAt > 0 && now - a.typingAt < TYPING_TTL });
    }
    if (agents.size === 0) seen.delete(ticketId);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  function line(ticketId) {
    const list = others(ticketId);
    if (list.length === 0) return '';
    const typing = list.filter((a) => a.typing).map((a) => a.name);
    const watching = list.filter((a) => !a.typing).map((a) => a.name);
    const parts = [];
    if (typing.length) parts.push(`${names(typing)} ${typing.length === 1 ? 'is' : 'are'} typing…`);
    if (watching.length) parts.push(`${names(watching)} ${watching.length === 1 ? 'is' : 'are'} viewing`);
    return parts.join('; ');
  }

  // changed tells onChange which tickets' lines differ from the drawn ones.
  function changed() {
    const ids = new Set([...seen.keys(), ...shown.keys()]);
    const next = new Map();
    const diff = [];
    for (const id of ids) {
      const l = line(id);
      if (l) next.set(id, l);
      if ((shown.get(id) || '') !== l) diff.push(id);
    }
    shown = next;
    if (diff.length) onChange(diff);
  }

  const ticker = setInterval(changed, TICK);

  function reset() {
    stop();
    seen.clear();
    shown.clear();
  }

  return { hear, view, typed, line, reset, dispose: () => { reset(); clearInterval(ticker); } };
}

function names(list) {
  if (list.length <= 2) return list.join(' and ');
  return `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}
