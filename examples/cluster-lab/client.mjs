// The cluster lab's client: holds many long-lived TCP connections to the VIP, each from its own
// source address:port, and exchanges a line on each of them several times a second ("P SEQ" ->
// "R SERVER SEQ"). It counts, per connection, what was sent and answered and how it ended (reset,
// closed, refused, timeout). The lab starts it in the client namespace
// (`ip netns exec NS node client.mjs`) and drives it with one JSON command per stdin line; each
// answer is one JSON line on stdout carrying the command's `id`.
//
//   { id, op: 'open', host, port, flows: [{ key, src, sport }], concurrency, intervalMs, connectTimeoutMs }
//       -> { id, opened, failed: [{ key, error }] }     once every connection greeted or failed
//   { id, op: 'report' }  -> { id, now, conns: [{ key, server, sent, recv, error, sinceRecvMs }] }
//   { id, op: 'close', keys? } -> { id, closed }         ends connections (all when keys is absent)
//   { id, op: 'probe', host, port, flows, timeoutMs } -> { id, results: [{ key, server } | { key, error }] }
//       short connections: connect, read the greeting, close
import net from 'node:net';

const conns = new Map();
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function lines(sock, onLine) {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
}

/** Opens one long-lived connection; resolves once the server greeted it or it failed. */
function openOne(job, flow) {
  return new Promise((resolve) => {
    const c = { key: flow.key, server: undefined, sent: 0, recv: 0, error: undefined, lastRecv: 0, outstanding: false, nextAt: 0, sock: undefined };
    conns.set(flow.key, c);
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(c);
      }
    };
    const sock = net.connect({ host: job.host, port: job.port, localAddress: flow.src, localPort: flow.sport });
    c.sock = sock;
    sock.setNoDelay(true);
    const timer = setTimeout(() => {
      if (!c.server) {
        c.error = 'connect timeout';
        sock.destroy();
        settle();
      }
    }, job.connectTimeoutMs ?? 20_000);
    lines(sock, (line) => {
      const f = line.split(' ');
      if (f[0] === 'HELLO') {
        c.server = f[1];
        c.lastRecv = Date.now();
        // spread the first ping over one interval so the connections do not tick in step
        c.nextAt = Date.now() + Math.floor(Math.random() * job.intervalMs);
        settle();
      } else if (f[0] === 'R') {
        if (f[1] !== c.server) c.error ??= `answered by ${f[1]}, greeted by ${c.server}`;
        c.recv++;
        c.lastRecv = Date.now();
        c.outstanding = false;
        c.nextAt = Date.now() + job.intervalMs;
      }
    });
    sock.on('error', (e) => {
      c.error ??= e.code ?? e.message;
      settle();
    });
    sock.on('close', () => {
      c.error ??= 'closed by peer';
      c.closed = true;
      settle();
    });
  });
}

// One ticker for every connection: each sends its next line when its interval has passed and the
// previous line was answered (so a stalled connection keeps one line in flight, retransmitted by TCP).
setInterval(() => {
  const now = Date.now();
  for (const c of conns.values()) {
    if (c.error || !c.server || c.outstanding || now < c.nextAt) continue;
    c.outstanding = true;
    c.sent++;
    c.sock.write(`P ${c.sent}\n`);
  }
}, 20);

async function open(job) {
  const failed = [];
  let next = 0;
  let opened = 0;
  const worker = async () => {
    while (next < job.flows.length) {
      const c = await openOne(job, job.flows[next++]);
      if (c.error) failed.push({ key: c.key, error: c.error });
      else opened++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency ?? 16) }, worker));
  return { opened, failed };
}

function report() {
  const now = Date.now();
  return {
    now,
    conns: [...conns.values()].map((c) => ({ key: c.key, server: c.server, sent: c.sent, recv: c.recv, error: c.error, sinceRecvMs: c.lastRecv ? now - c.lastRecv : undefined })),
  };
}

function close(keys) {
  let closed = 0;
  for (const k of keys ?? [...conns.keys()]) {
    const c = conns.get(k);
    if (!c) continue;
    c.error ??= 'closed by client';
    c.sock.destroy();
    conns.delete(k);
    closed++;
  }
  return { closed };
}

function probeOne(job, flow) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: job.host, port: job.port, localAddress: flow.src, localPort: flow.sport });
    const done = (r) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ key: flow.key, ...r });
    };
    const timer = setTimeout(() => done({ error: 'timeout' }), job.timeoutMs ?? 20_000);
    lines(sock, (line) => {
      const f = line.split(' ');
      if (f[0] === 'HELLO') done({ server: f[1] });
    });
    sock.on('error', (e) => done({ error: e.code ?? e.message }));
    sock.on('close', () => done({ error: 'closed by peer' }));
  });
}

async function probe(job) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < job.flows.length) {
      const i = next++;
      results[i] = await probeOne(job, job.flows[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency ?? 8) }, worker));
  return { results };
}

let inbuf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', async (d) => {
  inbuf += d;
  let nl;
  while ((nl = inbuf.indexOf('\n')) >= 0) {
    const cmd = JSON.parse(inbuf.slice(0, nl));
    inbuf = inbuf.slice(nl + 1);
    const run = { open, report, close: (c) => close(c.keys), probe }[cmd.op];
    if (!run) {
      out({ id: cmd.id, error: `unknown op ${cmd.op}` });
      continue;
    }
    Promise.resolve(run(cmd)).then((r) => out({ id: cmd.id, ...r }), (e) => out({ id: cmd.id, error: String(e?.stack ?? e) }));
  }
});
process.stdin.on('end', () => process.exit(0));
out({ ready: true });
