// Fuzz target: the hash kernels (native/src/hash/): IPVS sh/dh/mh tables and lookups, Maglev,
// multipath (ECMP) hashing, upper bounds and selection, resilient selection, Toeplitz.
//
// lvskit-fuzz-requires: src/hash/ipvs.cc src/hash/maglev.cc src/hash/multipath.cc src/hash/toeplitz.cc
//
// Input: byte 0 picks the kernel, the rest (through FuzzedDataProvider) gives sizes, weights,
// flags and flows. Every array a kernel reads or writes is a heap vector of exactly the length
// the kernel's contract asks for, so a read or write one element past it is an ASan report.
// Properties, beyond "no crash, no out-of-bounds access":
//  - every batch function agrees, element by element, with its one-flow form (sh/dh/mh lookups,
//    multipath hash, select, predict = hash then select), and mh's batch (Lemire fastmod) with
//    the plain `%` lookup;
//  - table builders are checked against a simple scalar model: sh (each destination takes
//    max(weight, 1) consecutive buckets, round robin), dh (i % n), Maglev (full, every slot a
//    backend with a positive weight), mh (full when a last weight is positive, only positive
//    destinations), multipath upper bounds (non-decreasing over live nexthops, the last live one
//    at 2^31 - 1, dead ones -1);
//  - Toeplitz: the table-driven batch equals the bit-serial reference on the same bytes;
//  - lookups return a destination index below n, or kNoDest.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "hash/ipvs.h"
#include "hash/jhash.h"
#include "hash/maglev.h"
#include "hash/multipath.h"
#include "hash/toeplitz.h"

using namespace lvskit::hash;

#include "fuzz_check.h"

namespace {

template <class T>
std::vector<T> Array(FuzzedDataProvider& in, size_t n) {
  std::vector<T> v(n);
  for (auto& x : v) x = in.ConsumeIntegral<T>();
  return v;
}

// Flows: addrWords words per address; sport/proto sometimes absent (null), as the API allows.
struct Flows {
  size_t n;
  int words;
  std::vector<uint32_t> saddr, daddr, label;
  std::vector<uint16_t> sport, dport;
  std::vector<uint8_t> proto;
  bool hasSport, hasDport, hasProto, hasLabel;
  const uint16_t* sp() const { return hasSport ? sport.data() : nullptr; }
  const uint16_t* dp() const { return hasDport ? dport.data() : nullptr; }
  const uint8_t* pr() const { return hasProto ? proto.data() : nullptr; }
  const uint32_t* fl() const { return hasLabel ? label.data() : nullptr; }
};

Flows ConsumeFlows(FuzzedDataProvider& in, int words) {
  Flows f;
  f.words = words;
  f.n = in.ConsumeIntegralInRange<size_t>(0, 64);
  f.hasSport = in.ConsumeBool();
  f.hasDport = in.ConsumeBool();
  f.hasProto = in.ConsumeBool();
  f.hasLabel = in.ConsumeBool();
  f.saddr = Array<uint32_t>(in, f.n * size_t(words));
  f.daddr = Array<uint32_t>(in, f.n * size_t(words));
  f.sport = Array<uint16_t>(in, f.hasSport ? f.n : 0);
  f.dport = Array<uint16_t>(in, f.hasDport ? f.n : 0);
  f.proto = Array<uint8_t>(in, f.hasProto ? f.n : 0);
  f.label = Array<uint32_t>(in, f.hasLabel ? f.n : 0);
  for (auto& l : f.label) l &= 0xfffff;
  return f;
}

uint32_t Fold(const uint32_t* a, int words) {
  return words == 4 ? (a[0] ^ a[1] ^ a[2] ^ a[3]) : a[0];
}

// The port an IPVS scheduler hashes for flow i (ip_vs_sh/mh: only with the port flag, and only
// TCP/UDP/SCTP when the protocol is known).
uint16_t SchedPort(const Flows& f, size_t i, uint32_t flags) {
  if (!(flags & kSvcSchedPort) || !f.hasSport) return 0;
  if (f.hasProto && f.proto[i] != 6 && f.proto[i] != 17 && f.proto[i] != 132) return 0;
  return f.sport[i];
}

void FuzzShDh(FuzzedDataProvider& in) {
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 300);
  std::vector<int32_t> w(n);
  for (auto& x : w) x = in.ConsumeIntegralInRange<int32_t>(-2, 300);
  std::vector<uint8_t> usable(n);
  for (auto& u : usable) u = in.ConsumeBool();
  const uint32_t flags = in.ConsumeIntegral<uint8_t>() & (kSvcSchedFallback | kSvcSchedPort);
  const int words = in.ConsumeBool() ? 4 : 1;
  const Flows f = ConsumeFlows(in, words);

  std::vector<uint16_t> sh(kShTabSize), dh(kDhTabSize);
  ShBuildTable(w.data(), n, sh.data());
  DhBuildTable(n, dh.data());
  // Scalar model of ip_vs_sh_reassign: round robin, max(weight, 1) buckets each.
  size_t p = 0;
  int32_t taken = 0;
  for (size_t i = 0; i < kShTabSize; i++) {
    if (n == 0) {
      CHECK(sh[i] == kNoDest);
      CHECK(dh[i] == kNoDest);
      continue;
    }
    CHECK(sh[i] == p);
    CHECK(dh[i] == i % n);
    if (++taken >= (w[p] > 1 ? w[p] : 1)) {
      p = (p + 1) % n;
      taken = 0;
    }
  }

  std::vector<uint16_t> outSh(f.n), outDh(f.n);
  ShLookupBatch(sh.data(), usable.data(), n, f.saddr.data(), words, f.sp(), f.pr(), f.n, flags,
                outSh.data());
  DhLookupBatch(dh.data(), usable.data(), n, f.daddr.data(), words, f.n, outDh.data());
  for (size_t i = 0; i < f.n; i++) {
    const uint32_t skey = Fold(&f.saddr[i * size_t(words)], words);
    const uint32_t dkey = Fold(&f.daddr[i * size_t(words)], words);
    const uint16_t port = SchedPort(f, i, flags);
    const uint32_t one = ShLookup(sh.data(), usable.data(), n, skey, port, flags);
    CHECK(outSh[i] == one);
    CHECK(outSh[i] == kNoDest || (outSh[i] < n && usable[outSh[i]]));
    // Without fallback: exactly the hashed bucket, if usable.
    if (!(flags & kSvcSchedFallback)) {
      const uint16_t d = sh[Hash32(uint32_t(port) + skey, 8)];
      CHECK(outSh[i] == ((d < n && usable[d]) ? d : kNoDest));
    }
    CHECK(outDh[i] == DhLookup(dh.data(), usable.data(), n, dkey));
    const uint16_t dd = dh[(dkey * 0x61C88647u) >> 24];
    CHECK(outDh[i] == ((dd < n && usable[dd]) ? dd : kNoDest));
  }
}

void FuzzMh(FuzzedDataProvider& in) {
  if (in.ConsumeIntegral<uint8_t>() == 0xa5) {
    // 65535 destinations or more fit a 131071-slot table (index 17) but not a 16-bit entry:
    // index 65535 would read as kNoDest. Refused, and the table is left alone.
    const size_t big = 65535 + in.ConsumeIntegralInRange<size_t>(0, 3);
    std::vector<uint32_t> k(big, 1);
    std::vector<uint16_t> pt(big, 80);
    std::vector<int32_t> w(big, 1);
    std::vector<uint16_t> t(MhTableSize(17), 7);
    CHECK(!MhBuildTable(k.data(), pt.data(), w.data(), big, 17, t.data()));
    CHECK(t[0] == 7 && t.back() == 7);
    return;
  }
  // Index 8..11 (251..2039 slots) keeps an input fast; 7 and 18 are refused.
  const uint32_t tabIndex = in.ConsumeIntegralInRange<uint32_t>(7, 11);
  const uint32_t m = MhTableSize(tabIndex);
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 300);
  const std::vector<uint32_t> keys = Array<uint32_t>(in, n);
  const std::vector<uint16_t> ports = Array<uint16_t>(in, n);
  std::vector<int32_t> lw(n);
  // The kernel refuses a negative weight (ERANGE), so last weights are 0..INT_MAX.
  for (auto& x : lw) x = in.ConsumeIntegralInRange<int32_t>(0, 1 << 20);
  std::vector<uint8_t> usable(n);
  for (auto& u : usable) u = in.ConsumeBool();
  const uint32_t flags = in.ConsumeIntegral<uint8_t>() & (kSvcSchedFallback | kSvcSchedPort);
  const int words = in.ConsumeBool() ? 4 : 1;
  const Flows f = ConsumeFlows(in, words);

  std::vector<uint16_t> table(m == 0 ? 1 : m);
  const bool ok = MhBuildTable(keys.data(), ports.data(), lw.data(), n, tabIndex, table.data());
  if (m == 0 || n > m) {
    CHECK(!ok);
    return;
  }
  CHECK(ok);
  bool anyPositive = false;
  for (size_t i = 0; i < n; i++) anyPositive = anyPositive || lw[i] > 0;
  for (uint32_t s = 0; s < m; s++) {
    if (!anyPositive) {
      CHECK(table[s] == kNoDest);
    } else {
      CHECK(table[s] < n);
      CHECK(lw[table[s]] > 0);
    }
  }
  std::vector<uint16_t> out(f.n);
  MhLookupBatch(table.data(), m, usable.data(), n, f.saddr.data(), words, f.sp(), f.pr(), f.n,
                flags, out.data());
  for (size_t i = 0; i < f.n; i++) {
    const uint32_t key = Fold(&f.saddr[i * size_t(words)], words);
    const uint16_t port = SchedPort(f, i, flags);
    CHECK(out[i] == MhLookup(table.data(), m, usable.data(), n, key, port, flags));
    CHECK(out[i] == kNoDest || (out[i] < n && usable[out[i]]));
    const uint16_t d = table[MhHashKey(key, port, 0, false) % m];
    if (d < n && usable[d]) CHECK(out[i] == d);
  }
}

void FuzzMaglev(FuzzedDataProvider& in) {
  static const uint32_t kPrimes[] = {2, 3, 7, 13, 251, 509, 1021};
  // Mostly a prime size (the contract); sometimes any size (must stay in bounds, may refuse).
  const uint32_t m = in.ConsumeBool() ? in.PickValueInArray(kPrimes)
                                      : in.ConsumeIntegralInRange<uint32_t>(0, 600);
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 64);
  const bool weighted = in.ConsumeBool();
  std::vector<uint32_t> off(n), skip(n), w(weighted ? n : 0);
  for (size_t i = 0; i < n; i++) {
    off[i] = in.ConsumeIntegralInRange<uint32_t>(0, m + 1);
    skip[i] = in.ConsumeIntegralInRange<uint32_t>(0, m + 1);
    if (weighted) w[i] = in.ConsumeIntegralInRange<uint32_t>(0, 5);
  }
  std::vector<uint32_t> table(m == 0 ? 1 : m);
  const bool ok = MaglevBuild(off.data(), skip.data(), weighted ? w.data() : nullptr, n, m, table.data());
  bool valid = m >= 2;
  for (size_t i = 0; i < n; i++) valid = valid && off[i] < m && skip[i] >= 1 && skip[i] < m;
  if (!valid) {
    CHECK(!ok);
    return;
  }
  bool prime = m >= 2;
  for (uint32_t d = 2; d * d <= m; d++) prime = prime && m % d != 0;
  if (!prime) return;  // a composite M may strand a backend: false is allowed, nothing to check
  CHECK(ok);
  bool any = false;
  for (size_t i = 0; i < n; i++) any = any || !weighted || w[i] > 0;
  for (uint32_t s = 0; s < m; s++) {
    if (!any) {
      CHECK(table[s] == 0xffffffffu);
    } else {
      CHECK(table[s] < n);
      CHECK(!weighted || w[table[s]] > 0);
    }
  }
  const std::vector<uint32_t> hashes = Array<uint32_t>(in, in.ConsumeIntegralInRange<size_t>(0, 64));
  std::vector<uint32_t> out(hashes.size());
  MaglevLookupBatch(table.data(), m, hashes.data(), hashes.size(), out.data());
  for (size_t i = 0; i < hashes.size(); i++) CHECK(out[i] == table[hashes[i] % m]);
}

void FuzzMultipath(FuzzedDataProvider& in) {
  MultipathParams p;
  p.policy = in.ConsumeIntegralInRange<uint32_t>(0, 3);
  p.seed = in.ConsumeIntegral<uint32_t>();
  p.fields = in.ConsumeIntegral<uint32_t>();
  p.packetPath = in.ConsumeBool();
  const bool v6 = in.ConsumeBool();
  const size_t nh = in.ConsumeIntegralInRange<size_t>(1, 40);
  std::vector<uint32_t> w(nh);
  for (auto& x : w) x = in.ConsumeIntegralInRange<uint32_t>(1, 65535);
  const bool withAlive = in.ConsumeBool();
  std::vector<uint8_t> alive(withAlive ? nh : 0);
  for (auto& a : alive) a = in.ConsumeBool();
  std::vector<int32_t> ub(nh);
  MultipathUpperBounds(w.data(), withAlive ? alive.data() : nullptr, nh, ub.data());
  int32_t last = -1;
  bool anyLive = false;
  for (size_t i = 0; i < nh; i++) {
    if (withAlive && !alive[i]) {
      CHECK(ub[i] == -1);
      continue;
    }
    anyLive = true;
    CHECK(ub[i] >= last);
    last = ub[i];
  }
  if (anyLive) CHECK(last == 0x7fffffff);

  const Flows f = ConsumeFlows(in, v6 ? 4 : 1);
  std::vector<uint32_t> hashes(f.n);
  std::vector<uint16_t> chosen(f.n), predicted(f.n);
  if (v6) {
    MultipathHashV6Batch(f.saddr.data(), f.daddr.data(), f.sp(), f.dp(), f.pr(), f.fl(), f.n, p,
                         hashes.data());
    MultipathPredictV6Batch(f.saddr.data(), f.daddr.data(), f.sp(), f.dp(), f.pr(), f.fl(), f.n,
                            p, ub.data(), nh, predicted.data());
  } else {
    MultipathHashV4Batch(f.saddr.data(), f.daddr.data(), f.sp(), f.dp(), f.pr(), f.n, p,
                         hashes.data());
    MultipathPredictV4Batch(f.saddr.data(), f.daddr.data(), f.sp(), f.dp(), f.pr(), f.n, p,
                            ub.data(), nh, predicted.data());
  }
  MultipathSelectBatch(hashes.data(), f.n, ub.data(), nh, chosen.data());
  for (size_t i = 0; i < f.n; i++) {
    uint32_t one;
    if (v6) {
      FlowV6 x{};
      for (int k = 0; k < 4; k++) {
        x.saddr[k] = f.saddr[4 * i + k];
        x.daddr[k] = f.daddr[4 * i + k];
      }
      x.sport = f.hasSport ? f.sport[i] : 0;
      x.dport = f.hasDport ? f.dport[i] : 0;
      x.proto = f.hasProto ? f.proto[i] : 0;
      x.flowLabel = f.hasLabel ? f.label[i] : 0;
      one = MultipathHashV6(x, p);
    } else {
      FlowV4 x{f.saddr[i], f.daddr[i], uint16_t(f.hasSport ? f.sport[i] : 0),
               uint16_t(f.hasDport ? f.dport[i] : 0), uint8_t(f.hasProto ? f.proto[i] : 0)};
      one = MultipathHashV4(x, p);
    }
    CHECK(hashes[i] == one);
    CHECK(hashes[i] <= 0x7fffffffu);  // (hash >> 1): 31 bits
    CHECK(chosen[i] == MultipathSelect(hashes[i], ub.data(), nh));
    CHECK(predicted[i] == chosen[i]);
    CHECK(chosen[i] < nh);
    // Hash-threshold by hand: the first live nexthop whose bound is >= hash.
    size_t want = nh;
    for (size_t k = 0; k < nh && want == nh; k++) {
      if (ub[k] >= 0 && int64_t(hashes[i]) <= int64_t(ub[k])) want = k;
    }
    if (want < nh) CHECK(chosen[i] == want);
  }
  // Resilient groups: bucket = hash % buckets.
  const size_t buckets = in.ConsumeIntegralInRange<size_t>(1, 512);
  const std::vector<uint32_t> rtable = Array<uint32_t>(in, buckets);
  std::vector<uint32_t> rout(f.n);
  ResilientSelectBatch(hashes.data(), f.n, rtable.data(), buckets, rout.data());
  for (size_t i = 0; i < f.n; i++) CHECK(rout[i] == rtable[hashes[i] % buckets]);
}

void FuzzToeplitz(FuzzedDataProvider& in) {
  const bool v6 = in.ConsumeBool();
  const bool ports = in.ConsumeBool();
  const size_t inputLen = v6 ? (ports ? 36 : 32) : (ports ? 12 : 8);
  // Sometimes a wrong key or input length: Prepare must refuse without touching memory it
  // was not given.
  const size_t keyLen = in.ConsumeIntegralInRange<size_t>(0, 52);
  const size_t askLen = in.ConsumeBool() ? inputLen : in.ConsumeIntegralInRange<size_t>(0, 40);
  const std::vector<uint8_t> key = Array<uint8_t>(in, keyLen);
  std::vector<uint32_t> table(askLen * 256 + 1);
  const bool ok = ToeplitzPrepare(key.data(), keyLen, askLen, table.data());
  CHECK(ok == (askLen >= 1 && askLen <= kToeplitzMaxInput && keyLen >= askLen + 4));
  if (!ok || askLen < inputLen) return;
  const Flows f = ConsumeFlows(in, v6 ? 4 : 1);
  const bool withPorts = ports && f.hasSport && f.hasDport;
  std::vector<uint32_t> out(f.n);
  if (v6)
    ToeplitzV6Batch(table.data(), f.saddr.data(), f.daddr.data(), ports ? f.sp() : nullptr,
                    ports ? f.dp() : nullptr, f.n, out.data());
  else
    ToeplitzV4Batch(table.data(), f.saddr.data(), f.daddr.data(), ports ? f.sp() : nullptr,
                    ports ? f.dp() : nullptr, f.n, out.data());
  for (size_t i = 0; i < f.n; i++) {
    // The bytes on the wire: saddr, daddr (network order), then sport, dport.
    uint8_t bytes[kToeplitzMaxInput];
    size_t len = 0;
    auto put32 = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) bytes[len++] = uint8_t(v >> s);
    };
    const int words = v6 ? 4 : 1;
    for (int k = 0; k < words; k++) put32(f.saddr[i * size_t(words) + size_t(k)]);
    for (int k = 0; k < words; k++) put32(f.daddr[i * size_t(words) + size_t(k)]);
    if (withPorts) put32((uint32_t(f.sport[i]) << 16) | f.dport[i]);
    CHECK(out[i] == ToeplitzBytes(key.data(), keyLen, bytes, len));
  }
}

void FuzzJhash(FuzzedDataProvider& in) {
  const uint32_t initval = in.ConsumeIntegral<uint32_t>();
  const std::vector<uint8_t> bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64));
  (void)Jhash(bytes.data(), uint32_t(bytes.size()), initval);
  // jhash2 over words equals jhash over the same bytes (host order) when the length is a
  // multiple of 4 (lookup3's two entry points agree on aligned input).
  std::vector<uint32_t> words(bytes.size() / 4);
  for (size_t i = 0; i < words.size(); i++) __builtin_memcpy(&words[i], &bytes[4 * i], 4);
  CHECK(Jhash2(words.data(), uint32_t(words.size()), initval) ==
        Jhash(bytes.data(), uint32_t(4 * words.size()), initval));
  if (words.size() >= 3) {
    CHECK(Jhash3Words(words[0], words[1], words[2], initval) == Jhash2(words.data(), 3, initval));
    CHECK(Jhash2Words(words[0], words[1], initval) == Jhash2(words.data(), 2, initval));
    CHECK(Jhash1Word(words[0], initval) == Jhash2(words.data(), 1, initval));
  }
  const uint32_t v = in.ConsumeIntegral<uint32_t>();
  const unsigned bits = in.ConsumeIntegralInRange<unsigned>(0, 32);
  CHECK(Hash32(v, bits) == (bits == 0 ? 0 : uint32_t((uint64_t(uint32_t(v * 0x61C88647u)) >> (32 - bits)))));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  FuzzedDataProvider in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: FuzzShDh(in); break;
    case 1: FuzzMh(in); break;
    case 2: FuzzMaglev(in); break;
    case 3: FuzzMultipath(in); break;
    case 4: FuzzToeplitz(in); break;
    case 5: FuzzJhash(in); break;
  }
  return 0;
}
