// Allocation-free IPv4 text handling for the bulk encoders' fast paths (lib/rtnl/route.ts
// routeEncodeMany, lib/ipvs/validate.ts fastKey/fastDest). Internal: not re-exported by the
// package (lib/rtnl/index.ts); ip.ts parseIPv4 is the public parser these agree with.

/**
 * Fast paths of bulk encoders: text[from, to) as a strict dotted quad (parseIPv4's rules: four
 * decimal parts 0..255, no leading zeros) -> its big-endian value, or -1. No allocation.
 */
export function ipv4Value(t: string, from = 0, to = t.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let leadingZero = false;
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      dots++;
      part = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || (leadingZero && digits > 0)) return -1;
    if (digits === 0) leadingZero = c === 48;
    if (++digits > 3) return -1;
    part = part * 10 + (c - 48);
    if (part > 255) return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

/** A big-endian IPv4 value as the u32 row word the native bulk encoders read (b0 | b1 << 8 | ...). */
export function ipv4RowWord(be: number): number {
  return ((be >>> 24) | ((be >>> 8) & 0xff00) | ((be & 0xff00) << 8) | (be << 24)) >>> 0;
}
