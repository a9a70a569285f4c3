// The cluster lab's real server: greets every TCP connection with "HELLO NAME", then answers each
// line "P SEQ" with "R NAME SEQ", for as long as the client keeps the connection. The lab starts one
// per real-server namespace (`ip netns exec NS node server.mjs NAME PORT MAX_SECONDS [--standby]`: a process
// listens in the namespace it lives in; lvskit itself never forks). Prints "ready" once listening;
// exits when its parent closes stdin, or after MAX_SECONDS (default 900).
import net from 'node:net';

// --standby: start, print "standby", and listen only when a line "listen" arrives on stdin (a
// replacement that is ready at once when its real server comes back: under emulation starting
// node takes many seconds)
const standby = process.argv.includes('--standby');
const [name, port = '80', maxSeconds = '900'] = process.argv.slice(2).filter((a) => a !== '--standby');
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
const listen = () => server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
if (standby) {
  process.stdout.write('standby\n');
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => {
    if (d.includes('listen') && !server.listening) listen();
  });
} else listen();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), Number(maxSeconds) * 1000).unref();
