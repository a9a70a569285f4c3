// The cluster lab's real server: greets every TCP connection with "HELLO NAME", then answers each
// line "P SEQ" with "R NAME SEQ", for as long as the client keeps the connection. The lab starts one
// per real-server namespace (`ip netns exec NS node server.mjs NAME PORT MAX_SECONDS`: a process
// listens in the namespace it lives in; lvskit itself never forks). Prints "ready" once listening;
// exits when its parent closes stdin, or after MAX_SECONDS (default 900).
import net from 'node:net';

const [name, port = '80', maxSeconds = '900'] = process.argv.slice(2);
if (!name) {
  console.error('usage: node server.mjs NAME [PORT] [MAX_SECONDS]');
  process.exit(2);
}
const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => {});
  let buf = '';
  sock.write(`HELLO ${name}\n`);
  sock.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('P ')) sock.write(`R ${name} ${line.slice(2)}\n`);
    }
  });
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
