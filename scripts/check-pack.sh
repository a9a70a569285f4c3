#!/usr/bin/env bash
# What `npm pack` ships, proven the way a user meets it (issue 18, item 1):
#  1. the tarball carries N-API prebuilds for linux-x64 and linux-arm64 (glibc), built by the
#     prepack script (scripts/prebuild.sh; the arm64 one with Debian's cross compiler);
#  2. each is an ELF shared object of its architecture exporting the N-API entry point
#     (napi_register_module_v1), and needs no glibc/libstdc++ symbol version newer than the build
#     machine has (it prints the newest it needs), and ldd resolves every library of the x64 one;
#     the arm64 one loads in Debian's arm64 Node under qemu-user and computes what x64 computes;
#  3. installed from the tarball into an empty directory, with a PATH on which no compiler and no
#     make can be found, it installs without compiling (no build/ in the installed package), and
#     the Quick start's pure calls (hashing, parsing) and `npx lvskit --version` work, through
#     both `import` and `require`.
# Needs: g++-aarch64-linux-gnu binutils-aarch64-linux-gnu (the cross build), file, and
# qemu-user-static to run the arm64 prebuild (skipped, saying so, without it).
#   bash scripts/check-pack.sh            (npm pack runs prepack: both prebuilds, then tsc)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/lvskit-check-pack.XXXXXX)"
# npm pack's prepack leaves prebuilds/ in the checkout: a check leaves nothing behind.
trap 'rm -rf "$WORK" "$ROOT/prebuilds"' EXIT
fail() { echo "check-pack: FAIL: $*" >&2; exit 1; }
say() { echo "check-pack: $*"; }
for tool in file readelf objdump ldd; do command -v "$tool" >/dev/null || fail "$tool is missing (apt: file binutils libc-bin)"; done

# 1. Pack (prepack builds the prebuilds, prepare builds dist/).
cd "$ROOT"
npm pack --pack-destination "$WORK" --silent >"$WORK/pack.out" 2>&1 || { cat "$WORK/pack.out" >&2; fail "npm pack failed"; }
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
[ -f "$TARBALL" ] || fail "npm pack wrote no tarball ($(cat "$WORK/pack.out"))"
say "tarball $(basename "$TARBALL"): $(stat -c %s "$TARBALL") bytes"
mkdir "$WORK/unpacked"
tar -xzf "$TARBALL" -C "$WORK/unpacked"
PKG="$WORK/unpacked/package"
X64="$PKG/prebuilds/linux-x64/lvskit.glibc.node"
ARM64="$PKG/prebuilds/linux-arm64/lvskit.glibc.node"
[ -f "$X64" ] || fail "no linux-x64 prebuild in the tarball"
[ -f "$ARM64" ] || fail "no linux-arm64 prebuild in the tarball"

# 2. The binaries.
check_elf() { # file, expected `file` text
  local f="$1" want="$2" desc
  desc="$(file -b "$f")"
  say "$(basename "$(dirname "$f")"): $desc"
  [[ "$desc" == *"$want"* ]] || fail "$f is not '$want'"
  [[ "$desc" == *"stripped"* && "$desc" != *"not stripped"* ]] || fail "$f is not stripped"
  readelf --dyn-syms -W "$f" | awk '$7 != "UND" { print $8 }' | grep -x 'napi_register_module_v1' >/dev/null \
    || fail "$f does not export napi_register_module_v1"
}
check_elf "$X64" 'ELF 64-bit LSB shared object, x86-64'
check_elf "$ARM64" 'ELF 64-bit LSB shared object, ARM aarch64'

newest() { # file, prefix (GLIBC_ or GLIBCXX_): the newest symbol version the file needs
  readelf -V -W "$1" | grep -o "Name: $2[0-9.]*" | sed 's/Name: //' | sort -uV | tail -n 1
}
HOST_GLIBC="GLIBC_$(ldd --version | sed -n 1p | grep -o '[0-9]*\.[0-9]*$')"
HOST_GLIBCXX="$(objdump -T "$(readlink -f "$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/libstdc++.so.6)")" 2>/dev/null | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -n 1 || true)"
for f in "$X64" "$ARM64"; do
  arch="$(basename "$(dirname "$f")")"
  g="$(newest "$f" GLIBC_)"; gxx="$(newest "$f" GLIBCXX_)"
  say "$arch needs at most $g${gxx:+ and $gxx} (build machine: $HOST_GLIBC${HOST_GLIBCXX:+, $HOST_GLIBCXX}); libraries: $(readelf -d "$f" | grep -o 'NEEDED.*' | grep -o '\[.*\]' | tr -d '[]' | tr '\n' ' ')"
  [ "$(printf '%s\n%s\n' "$g" "$HOST_GLIBC" | sort -V | tail -n 1)" = "$HOST_GLIBC" ] || fail "$arch needs $g, newer than the build machine's $HOST_GLIBC"
  if [ -n "$gxx" ] && [ -n "$HOST_GLIBCXX" ]; then
    [ "$(printf '%s\n%s\n' "$gxx" "$HOST_GLIBCXX" | sort -V | tail -n 1)" = "$HOST_GLIBCXX" ] || fail "$arch needs $gxx, newer than the build machine's $HOST_GLIBCXX"
  fi
done
if ldd "$X64" | grep 'not found' >/dev/null; then ldd "$X64" >&2; fail "ldd: the x64 prebuild needs a library this machine lacks"; fi

# 2b. The arm64 prebuild runs: Debian's arm64 Node (nodejs:arm64 and the libraries it needs, from
#     apt into a scratch root with a private apt state: nothing is installed) under qemu-user loads
#     it, and its hashes (SipHash, jhash, hash_32) and errno names equal the x64 prebuild's.
cat >"$WORK/probe.cjs" <<'EOF'
const m = require(process.argv[2]);
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const data = Uint8Array.from({ length: 37 }, (_, i) => (i * 7) & 255);
console.log(JSON.stringify({
  siphash24: String(m.hash.siphash24(key, data)),
  siphash13: String(m.hash.siphash13(key, data)),
  jhash: m.hash.jhash(data, 0x1a2b3c4d),
  jhash3Words: m.hash.jhash3Words(0xc0000201, 0x0a000001, 0x00500050, 0x5eed),
  hash32: m.hash.hash32(0x12345678, 10),
  errno: m.errnoName(2),
}));
EOF
if command -v qemu-aarch64-static >/dev/null; then
  APTDIR="$WORK/apt" ARMROOT="$WORK/arm64-root"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/debs" "$ARMROOT"
  APT=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Lists="$APTDIR/lists"
       -o Dir::Cache="$APTDIR/cache" -o Dir::State::status=/dev/null -o Debug::NoLocking=1)
  apt-get "${APT[@]}" update -qq >/dev/null
  # nodejs and what it loads (not the maintainer-script tools: nothing is configured here)
  debs="$(apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances nodejs \
    | grep '^[a-z]' | sort -u | grep -vE '^(debconf|perl|dpkg|install-info|base-files|mawk|tar|gcc-12-base|libc-bin|libcrypt|debianutils)' || true)"
  # shellcheck disable=SC2086 # one word per package
  (cd "$APTDIR/debs" && apt-get "${APT[@]}" download $debs >/dev/null) || fail "apt could not fetch Debian's arm64 nodejs"
  for d in "$APTDIR"/debs/*.deb; do dpkg-deb -x "$d" "$ARMROOT"; done
  arm_node="$(qemu-aarch64-static -L "$ARMROOT" "$ARMROOT/usr/bin/node" -p 'process.arch + " node " + process.version')"
  want_probe="$(node "$WORK/probe.cjs" "$X64")"
  got_probe="$(qemu-aarch64-static -L "$ARMROOT" "$ARMROOT/usr/bin/node" "$WORK/probe.cjs" "$ARM64")" || fail "the arm64 prebuild does not load in $arm_node"
  [ "$got_probe" = "$want_probe" ] || fail "arm64 and x64 prebuilds disagree: $got_probe vs $want_probe"
  say "linux-arm64 runs: loaded by Debian's $arm_node under qemu-user, its hashes equal x64's"
else
  say "SKIPPED: the arm64 prebuild was not run (no qemu-aarch64-static: apt-get install qemu-user-static)"
fi

# 3. Install with no compiler on PATH. The dependencies (node-addon-api, node-gyp-build) come
#    from npm's cache when it has them (--prefer-offline), else from the registry.
BIN="$WORK/bin"
mkdir "$BIN"
for t in node npm npx sh; do ln -s "$(readlink -f "$(command -v "$t")")" "$BIN/$t"; done
for t in g++ c++ gcc cc clang make; do
  if PATH="$BIN" command -v "$t" >/dev/null 2>&1; then fail "$t is findable on the restricted PATH"; fi
done
APP="$WORK/app"
mkdir "$APP"
echo '{ "name": "consumer", "version": "1.0.0", "private": true, "type": "module" }' >"$APP/package.json"
cd "$APP"
start=$(date +%s%N)
env -i HOME="$HOME" PATH="$BIN" npm install --prefer-offline --no-audit --no-fund --loglevel=error "$TARBALL" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log" >&2; fail "npm install of the tarball failed without a compiler"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
say "installed without a compiler on PATH in $ms ms"
INSTALLED="$APP/node_modules/lvskit"
[ -d "$INSTALLED/prebuilds/linux-x64" ] || fail "the installed package has no prebuilds/"
[ ! -e "$INSTALLED/build" ] || fail "the install compiled (node_modules/lvskit/build exists)"

# The Quick start's pure calls: the kernel's mh scheduler for a service, and the rules format.
cat >"$APP/quick.mjs" <<'EOF'
import { schedulerForService, parseRules, servicesFromRules, emitRules } from 'lvskit';
const services = servicesFromRules(parseRules('-A -t 192.0.2.10:80 -s mh -b mh-port\n-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 100\n-a -t 192.0.2.10:80 -r 10.0.0.12:80 -g -w 100\n'));
const [service] = services;
if (!service || service.destinations.length !== 2) throw new Error('parse: ' + JSON.stringify(services));
const pick = schedulerForService(service, service.destinations).pick('203.0.113.7', 40000)?.address;
if (pick !== '10.0.0.11' && pick !== '10.0.0.12') throw new Error('pick: ' + pick);
const rules = emitRules(services);
if (!rules.includes('-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 100')) throw new Error('emit: ' + rules);
console.log(`import: mh picks ${pick}; ${services.length} service re-emitted`);
EOF
cat >"$APP/quick.cjs" <<'EOF'
const { schedulerForService, parseRules, servicesFromRules } = require('lvskit');
const [service] = servicesFromRules(parseRules('-A -t 192.0.2.10:80 -s mh -b mh-port\n-a -t 192.0.2.10:80 -r 10.0.0.11:80 -g -w 100\n-a -t 192.0.2.10:80 -r 10.0.0.12:80 -g -w 100\n'));
console.log(`require: mh picks ${schedulerForService(service, service.destinations).pick('203.0.113.7', 40000)?.address}`);
EOF
PATH="$BIN" node quick.mjs | sed 's/^/check-pack: /'
q_esm="$(PATH="$BIN" node quick.mjs | grep -o 'picks [0-9.]*')"
q_cjs="$(PATH="$BIN" node quick.cjs | grep -o 'picks [0-9.]*')"
[ "$q_cjs" = "$q_esm" ] || fail "require and import disagree: '$q_cjs' vs '$q_esm'"
say "require: the same pick"
version="$(PATH="$BIN" npx --no-install lvskit --version)"
want="$(node -p "require('$ROOT/package.json').version")"
[[ "$version" == *"$want"* ]] || fail "npx lvskit --version printed '$version', want $want"
say "npx lvskit --version: $version"

# The control: the same package without its prebuilds must fail to install on that PATH (it
# would have to compile), so the success above was the prebuild's, not a compiler's.
mkdir "$WORK/bare" "$WORK/app2"
tar -xzf "$TARBALL" -C "$WORK/bare"
rm -rf "$WORK/bare/package/prebuilds"
tar -czf "$WORK/bare.tgz" -C "$WORK/bare" package
cp "$APP/package.json" "$WORK/app2/"
cd "$WORK/app2"
if env -i HOME="$HOME" PATH="$BIN" npm install --prefer-offline --no-audit --no-fund --loglevel=error "$WORK/bare.tgz" >"$WORK/install2.log" 2>&1; then
  fail "the package without prebuilds installed on the compiler-less PATH: the check proves nothing"
fi
say "control: without prebuilds the install fails there ($(grep -o 'not found: make\|gyp ERR! stack Error: [^)]*' "$WORK/install2.log" | sed -n 1p))"
[ ! -e "$INSTALLED/build" ] || fail "loading compiled something (node_modules/lvskit/build exists)"
say "ok"
