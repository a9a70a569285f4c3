// Routes and addresses on the host kernel, inside a network namespace each trial creates and
// deletes (never the host's own). Drivers side by side: lvskit one call per rule, lvskit batched,
// `ip` one process per rule, `ip -batch`, and for routes a plain C program doing batched netlink
// (bench/c/netlink_floor.c) as the floor.
//
// A trial: node bench/routes.mjs --trial BENCH DRIVER   (bench/run.mjs runs them)
// Sizes come from the environment: BENCH_ROUTES (default 100000), BENCH_ADDRS (10000),
// BENCH_SAMPLE (one-process-per-rule drivers run this many rules, default 300),
// BENCH_LATENCY (single-add samples for lvskit, default 2000).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencies, runChild, trialMain } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const N = Number(process.env.BENCH_ROUTES ?? 100_000);
const NA = Number(process.env.BENCH_ADDRS ?? 10_000);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 300);
const LAT = Number(process.env.BENCH_LATENCY ?? 2000);
const DEV = 'd0';
const tmp = process.env.BENCH_TMP ?? '/tmp/lvskit-bench';
export const floorBin = join(tmp, 'netlink_floor');

/** Compiles bench/c/netlink_floor.c with cc -O2 when the binary is missing or older. */
export function buildFloor() {
  mkdirSync(tmp, { recursive: true });
  const src = join(here, 'c/netlink_floor.c');
  if (!existsSync(floorBin) || statSync(floorBin).mtimeMs < statSync(src).mtimeMs) execFileSync('cc', ['-O2', '-Wall', '-o', floorBin, src], { stdio: 'inherit' });
  return floorBin;
}

const lib = () => import(join(root, 'dist/index.js'));
const dst = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
const addr = (i) => `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}/32`;
const ip = (ns, ...a) => execFileSync('ip', ['-n', ns, ...a], { stdio: ['ignore', 'ignore', 'inherit'] });

/** A fresh namespace with lo and a veth pair (d0, d1) up (the host kernel may lack dummy). */
async function netnsSetup() {
  const { createNetns, deleteNetns } = await lib();
  const ns = `lvskit-bench-${process.pid}`;
  createNetns(ns);
  try {
    ip(ns, 'link', 'set', 'lo', 'up');
    ip(ns, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', 'd1');
    ip(ns, 'link', 'set', 'd1', 'up');
    ip(ns, 'link', 'set', DEV, 'up');
  } catch (e) {
    deleteNetns(ns);
    throw e;
  }
  return { ns };
}
async function netnsTeardown(ctx) {
  const { deleteNetns } = await lib();
  if (ctx.ns) deleteNetns(ctx.ns);
}

function batchFile(name, lines) {
  mkdirSync(tmp, { recursive: true });
  const f = join(tmp, `${name}-${process.pid}.batch`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

async function routesHandle(ctx) {
  const { Rtnl } = await lib();
  return Rtnl.open({ netns: ctx.ns });
}

function countRoutes(ns) {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'route', 'show', 'table', 'main'], { encoding: 'utf8', maxBuffer: 1 << 30 })).length;
}

export const benchmarks = [
  {
    name: 'route-add-single',
    where: 'host',
    title: 'One route add (latency)',
    setup: netnsSetup,
    teardown: netnsTeardown,
    drivers: {
      'lvskit routes.add': {
        ops: LAT,
        setup: async (ctx) => {
          const h = await routesHandle(ctx);
          await h.routes.add({ dst: dst(N + 1), dev: DEV }); // warm: device name resolution, JIT
          return { h };
        },
        run: async (ctx, { h }) => {
          const l = await latencies(LAT, (i) => h.routes.add({ dst: dst(i), dev: DEV }));
          h.close();
          return { p50: l.p50, p99: l.p99 };
        },
      },
      'ip route add (process per rule)': {
        run: async (ctx) => {
          const n = Math.min(SAMPLE, 200);
          const l = await latencies(n, (i) => runChild('ip', ['-n', ctx.ns, 'route', 'add', dst(i), 'dev', DEV], { rss: false }));
          return { ops: n, p50: l.p50, p99: l.p99, timedMs: (l.mean * n) / 1000 };
        },
      },
    },
  },
  {
    name: 'route-add-bulk',
    where: 'host',
    title: `Bulk route adds (${N} IPv4 /32 dev routes)`,
    ops: N,
    setup: netnsSetup,
    teardown: netnsTeardown,
    drivers: {
      'lvskit addMany': {
        setup: async (ctx) => ({ h: await routesHandle(ctx), specs: Array.from({ length: N }, (_, i) => ({ dst: dst(i), dev: DEV })) }),
        run: async (ctx, { h, specs }) => {
          const rep = await h.routes.addMany(specs);
          if (!rep.ok) throw new Error(`addMany: ${rep.failed.length} failed`);
          return { note: `${rep.sendCalls} sendmsg` };
        },
        teardown: async (ctx, { h }) => {
          h.close();
          if (countRoutes(ctx.ns) < N) throw new Error('routes missing after addMany');
        },
      },
      'lvskit add (call per rule)': {
        setup: async (ctx) => ({ h: await routesHandle(ctx), specs: Array.from({ length: N }, (_, i) => ({ dst: dst(i), dev: DEV })) }),
        run: async (ctx, { h, specs }) => {
          for (const s of specs) await h.routes.add(s);
        },
        teardown: async (ctx, { h }) => h.close(),
      },
      'C floor (batched netlink)': {
        run: async (ctx) => {
          const r = runChild(floorBin, [ctx.ns, DEV, String(N)]);
          const m = /ok (\d+) failed (\d+) ms ([\d.]+)/.exec(r.stdout);
          if (!m || m[2] !== '0') throw new Error(`floor: ${r.stdout}`);
          return { timedMs: Number(m[3]), childRssKiB: r.rssKiB, note: `own clock; process wall ${r.ms.toFixed(0)} ms` };
        },
      },
      'ip -batch': {
        setup: () => ({ file: batchFile('routes', Array.from({ length: N }, (_, i) => `route add ${dst(i)} dev ${DEV}`)) }),
        run: async (ctx, { file }) => ({ childRssKiB: runChild('ip', ['-n', ctx.ns, '-batch', file]).rssKiB }),
      },
      'ip route add (process per rule)': {
        run: async (ctx) => {
          let rss = 0;
          for (let i = 0; i < SAMPLE; i++) rss = Math.max(rss, runChild('ip', ['-n', ctx.ns, 'route', 'add', dst(i), 'dev', DEV], { rss: i === 0 }).rssKiB);
          return { ops: SAMPLE, childRssKiB: rss, note: `sampled: ${SAMPLE} rules` };
        },
      },
    },
  },
  {
    name: 'route-dump',
    where: 'host',
    title: `Full read of ${N} routes`,
    ops: N,
    setup: async () => {
      const ctx = await netnsSetup();
      runChild(floorBin, [ctx.ns, DEV, String(N)]);
      return ctx;
    },
    teardown: netnsTeardown,
    drivers: {
      'lvskit routes.list': {
        setup: async (ctx) => ({ h: await routesHandle(ctx) }),
        run: async (ctx, { h }) => {
          const all = await h.routes.list({ table: 'main' });
          if (all.length < N) throw new Error(`list gave ${all.length}`);
          h.close();
          return { note: `${all.length} routes as objects` };
        },
      },
      'ip -j route show + JSON.parse': {
        run: async (ctx) => {
          const r = runChild('ip', ['-n', ctx.ns, '-j', 'route', 'show', 'table', 'main']);
          const all = JSON.parse(r.stdout);
          if (all.length < N) throw new Error(`ip gave ${all.length}`);
          return { childRssKiB: r.rssKiB, note: `${all.length} routes; ip process RSS` };
        },
      },
    },
  },
  {
    name: 'addr-add-bulk',
    where: 'host',
    title: `Bulk address adds (${NA} IPv4 /32 on a veth link)`,
    ops: NA,
    setup: netnsSetup,
    teardown: netnsTeardown,
    drivers: {
      'lvskit addresses.batch': {
        setup: async (ctx) => ({ h: await routesHandle(ctx), ops: Array.from({ length: NA }, (_, i) => ({ op: 'add', link: DEV, address: addr(i) })) }),
        run: async (ctx, { h, ops }) => {
          const rep = await h.addresses.batch(ops);
          if (!rep.ok) throw new Error(`batch: ${rep.failed.length} failed`);
          h.close();
        },
      },
      'lvskit addresses.add (call per rule)': {
        setup: async (ctx) => ({ h: await routesHandle(ctx), specs: Array.from({ length: NA }, (_, i) => ({ link: DEV, address: addr(i) })) }),
        run: async (ctx, { h, specs }) => {
          for (const s of specs) await h.addresses.add(s);
          h.close();
        },
      },
      'ip -batch': {
        setup: () => ({ file: batchFile('addrs', Array.from({ length: NA }, (_, i) => `addr add ${addr(i)} dev ${DEV}`)) }),
        run: async (ctx, { file }) => ({ childRssKiB: runChild('ip', ['-n', ctx.ns, '-batch', file]).rssKiB }),
      },
      'ip addr add (process per rule)': {
        run: async (ctx) => {
          let rss = 0;
          for (let i = 0; i < SAMPLE; i++) rss = Math.max(rss, runChild('ip', ['-n', ctx.ns, 'addr', 'add', addr(i), 'dev', DEV], { rss: i === 0 }).rssKiB);
          return { ops: SAMPLE, childRssKiB: rss, note: `sampled: ${SAMPLE} rules` };
        },
      },
    },
  },
];

await trialMain(benchmarks);
