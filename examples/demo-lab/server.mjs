// A demo real server: answers every TCP connection with its own name, then closes.
// run.mjs/lab.mjs start one per real-server namespace with `ip netns exec NS node server.mjs NAME PORT`
// (a process listens in the namespace it lives in; lvskit itself never forks). It exits when its
// parent closes stdin, or after --max-seconds (default 600), whichever comes first.
import net from 'node:net';

const [name, port = '80', maxSeconds = '600'] = process.argv.slice(2);
if (!name) {
  console.error('usage: node server.mjs NAME [PORT] [MAX_SECONDS]');
  process.exit(2);
}
const server = net.createServer((sock) => {
  sock.on('error', () => {});
  sock.end(`${name}\n`);
});
server.on('error', (e) => {
  console.error(`server ${name}: ${e.message}`);
  process.exit(1);
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Number(maxSeconds) * 1000).unref();
