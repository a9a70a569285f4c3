// Writes the rules file of bench/ipvs.mjs's load benchmark (N services x 4 destinations) to FILE.
//   node bench/profile/rules.mjs N FILE
import { writeFileSync } from 'node:fs';
const [n, file] = [Number(process.argv[2] ?? 1000), process.argv[3] ?? 'rules'];
const vs = (i) => `10.${100 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}:${80 + ((i * 7) & 1023)}`;
const out = [];
for (let i = 0; i < n; i++) {
  out.push(`-A -t ${vs(i)} -s wlc`);
  for (let j = 0; j < 4; j++) out.push(`-a -t ${vs(i)} -r 192.168.${j}.10:8080 -m -w 1`);
}
writeFileSync(file, out.join('\n') + '\n');
