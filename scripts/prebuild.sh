#!/usr/bin/env bash
# The prebuilt addons `npm pack` ships (run by the `prepack` script, so every tarball carries them):
# prebuilds/linux-x64/lvskit.glibc.node and prebuilds/linux-arm64/lvskit.glibc.node, N-API
# (one binary per platform serves every Node version >= 20), stripped, tagged glibc so that
# node-gyp-build does not load them on musl (there, and on any other platform, the install script
# compiles from the shipped sources instead).
#
# arm64 is cross-built with Debian's cross compiler (apt: g++-aarch64-linux-gnu). The Node headers
# are the host's (/usr/include/node): an N-API addon includes only node_api.h and
# js_native_api*.h, which hold no architecture-dependent definitions (plain C declarations over
# fixed-width and pointer types), so the same headers serve both targets.
#
# libstdc++ stays a shared library (node itself links it, so it is there wherever node runs): the
# prebuild then needs GLIBC_2.33 and GLIBCXX_3.4.26 at most (stat/fstat as plain symbols since
# glibc 2.33; strerrorname_np 2.32), any glibc distribution from 2021 on. Linking libstdc++ and
# libgcc statically was measured to need more, not less: GLIBC_2.36 (arc4random in libstdc++.a's
# random_device, _dl_find_object in libgcc_eh). scripts/check-pack.sh checks the packed tarball.
#
# Builds in a scratch copy of the package, never in build/ (other builds and tests use it), under
# the same lock as `npm run build:native` (the machine's cores are shared).
#
#   bash scripts/prebuild.sh            both targets; without the cross compiler, x64 alone and a
#                                       warning (prepack also runs when npm installs lvskit from
#                                       git: that must not need a cross compiler). CI's
#                                       scripts/check-pack.sh fails a tarball without both.
#   LVSKIT_PREBUILD_ARCHS=arm64 bash scripts/prebuild.sh   the named ones (a missing compiler fails)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARCHS="${LVSKIT_PREBUILD_ARCHS:-x64 arm64}"

# node-gyp: npm puts its own on PATH for package scripts; outside npm, use npm's copy.
NODE_GYP="$(command -v node-gyp || true)"
if [ -z "$NODE_GYP" ]; then
  NODE_GYP="${npm_config_node_gyp:-$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js}"
fi
[ -x "$NODE_GYP" ] || { echo "prebuild: node-gyp not found (tried $NODE_GYP)" >&2; exit 1; }
# Node headers without a download: the image ships them under /usr/include/node.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
export npm_config_jobs="${npm_config_jobs:-2}"

for arch in $ARCHS; do
  case "$arch" in
    x64) ;;
    arm64)
      command -v aarch64-linux-gnu-g++ >/dev/null || {
        msg="aarch64-linux-gnu-g++ is missing (apt-get install g++-aarch64-linux-gnu binutils-aarch64-linux-gnu)"
        [ -z "${LVSKIT_PREBUILD_ARCHS:-}" ] || { echo "prebuild: $msg" >&2; exit 1; }
        echo "prebuild: WARNING: no linux-arm64 prebuild: $msg" >&2
        ARCHS="${ARCHS/arm64/}"
      } ;;
    *) echo "prebuild: unknown arch $arch (x64, arm64)" >&2; exit 1 ;;
  esac
done

WORK="$(mktemp -d /tmp/lvskit-prebuild.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/native"
cp "$ROOT/binding.gyp" "$ROOT/package.json" "$WORK/"
cp "$ROOT/native/sources.txt" "$WORK/native/"
cp -r "$ROOT/native/src" "$WORK/native/"
ln -s "$ROOT/node_modules" "$WORK/node_modules"

rm -rf "$ROOT/prebuilds"
for arch in $ARCHS; do
  (
    cd "$WORK"
    strip_bin=strip
    if [ "$arch" = arm64 ]; then
      export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar
      export CC_host=gcc CXX_host=g++ LINK_host=g++
      strip_bin=aarch64-linux-gnu-strip
    fi
    echo "== prebuild: linux-$arch"
    flock /tmp/lvskit-native-build.lock \
      env PREBUILD_NODE_GYP="$NODE_GYP" "$ROOT/node_modules/.bin/prebuildify" \
        --napi --strip --strip-bin "$strip_bin" --tag-libc --arch "$arch" --quiet
  )
done
mkdir -p "$ROOT/prebuilds"
cp -r "$WORK/prebuilds/." "$ROOT/prebuilds/"
find "$ROOT/prebuilds" -name '*.node' -printf '%P %s bytes\n'
