// Loaded into every node process of a scripts/sanitize.sh run (NODE_OPTIONS=--require). Not used
// otherwise. Why: LeakSanitizer checks for leaks in exit(), and vitest's pool (tinypool) ends each
// test fork with SIGTERM, then SIGKILL one second later: a fork never reaches exit(), so without
// this no leak in lvskit.node would ever be reported from the test suites.
//  - In a tinypool fork: on SIGTERM (and on a normal exit), run LeakSanitizer now through
//    lsan_check.node (built next to the sanitized addon), write a marker
//    <reports>/../lsan-checked/<pid> and exit. A marker <reports>/../lsan-started/<pid> is written
//    at start, so sanitize.sh fails when a fork's check never ran.
//  - In the process that owns the forks: tinypool's SIGKILL one second after SIGTERM is held back
//    (60 s) while the fork is still checking.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');

const checker = process.env.LVSKIT_LSAN_CHECK;
const dir = process.env.LVSKIT_SAN_MARKERS;
const isFork = typeof process.argv[1] === 'string' && /tinypool[\\/].*entry[\\/]process\.js$/.test(process.argv[1]);

if (checker && dir && isFork) {
  const mark = (sub, text) => {
    try {
      fs.mkdirSync(path.join(dir, sub), { recursive: true });
      fs.writeFileSync(path.join(dir, sub, String(process.pid)), text);
    } catch {}
  };
  mark('lsan-started', '');
  let done = false;
  const check = (why) => {
    if (done) return false;
    done = true;
    const leaked = require(checker).leakCheck();
    mark('lsan-checked', `${why}: ${leaked ? 'leaks' : 'clean'}\n`);
    return leaked;
  };
  process.on('SIGTERM', () => process.exit(check('SIGTERM') ? 23 : 0));
  process.on('exit', () => check('exit'));
}

const origKill = cp.ChildProcess.prototype.kill;
cp.ChildProcess.prototype.kill = function kill(signal) {
  const isPoolFork = Array.isArray(this.spawnargs) && this.spawnargs.some((a) => /tinypool[\\/].*entry[\\/]process\.js$/.test(String(a)));
  if (signal === 'SIGKILL' && isPoolFork && this.exitCode === null && this.signalCode === null) {
    const t = setTimeout(() => origKill.call(this, 'SIGKILL'), 60_000);
    t.unref();
    this.once('exit', () => clearTimeout(t));
    return true;
  }
  return origKill.call(this, signal);
};
