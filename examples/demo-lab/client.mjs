// The demo's client: opens one TCP connection per flow, each from its own source address:port
// (a reused address:port would reuse an IPVS connection entry and not be scheduled again), reads
// the real server's name and reports it. Started inside the client namespace by lab.mjs with
// `ip netns exec NS node client.mjs`; reads { host, port, flows: [{ src, sport }], concurrency,
// timeoutMs } as JSON on stdin and writes [{ server } | { error }] (one per flow) as JSON.
import net from 'node:net';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const results = new Array(job.flows.length);

function connect(flow) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let data = '';
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    };
    const sock = net.connect({ host: job.host, port: job.port, localAddress: flow.src, localPort: flow.sport });
    const timer = setTimeout(() => finish({ error: 'timeout' }), job.timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d) => (data += d));
    sock.on('end', () => finish(data.trim() ? { server: data.trim() } : { error: 'empty reply' }));
    sock.on('error', (e) => finish({ error: e.code ?? e.message }));
  });
}

let next = 0;
async function worker() {
  while (next < job.flows.length) {
    const i = next++;
    results[i] = await connect(job.flows[i]);
  }
}
await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, worker));
process.stdout.write(JSON.stringify(results));
