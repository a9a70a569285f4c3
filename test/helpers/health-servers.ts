// Real servers for the health-check tests, run with `node -e` inside a namespace (startNodeIn):
// TCP, HTTP, HTTPS and UDP on one address. Not a test file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PORTS = { tcp: 7001, http: 7080, https: 7443, udp: 7053 } as const;

/**
 * argv: address name [keyFile certFile]. HTTP and HTTPS answer GET / with 200 "hello from NAME",
 * /bad with 503, /slow never; /conn reports the client's address; UDP echoes "echo:" + payload.
 * Writes "ready" once every socket listens.
 */
export const SERVER_SCRIPT = String.raw`
const [addr, name, keyFile, certFile] = process.argv.slice(1);
const net = require('net'), http = require('http'), https = require('https'), dgram = require('dgram'), fs = require('fs');
process.on('uncaughtException', (e) => process.stderr.write(String(e) + '\n'));
const handler = (req, res) => {
  if (req.url === '/bad') { res.writeHead(503); res.end('down'); return; }
  if (req.url === '/slow') return;
  res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello from ' + name + ' host=' + req.headers.host);
};
let waiting = 0;
const up = () => { if (--waiting === 0) process.stdout.write('ready\n'); };
waiting++; net.createServer((s) => { s.on('error', () => {}); s.end(name + '\n'); }).listen(${PORTS.tcp}, addr, up);
waiting++; http.createServer(handler).listen(${PORTS.http}, addr, up);
if (keyFile) { waiting++; https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, handler).listen(${PORTS.https}, addr, up); }
waiting++; const u = dgram.createSocket(addr.includes(':') ? 'udp6' : 'udp4');
u.on('message', (m, r) => u.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
u.bind(${PORTS.udp}, addr, up);
`;

/** A self-signed certificate for `cn` (SAN: the name and the IP), made with openssl. */
export function selfSigned(cn: string, ipSan: string): { key: string; cert: string; keyFile: string; certFile: string; dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lvskit-health-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn},IP:${ipSan}`], { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), keyFile, certFile, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
