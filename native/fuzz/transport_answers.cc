// Fuzz target: the transport's handling of whatever the kernel answers
// (native/src/transport/socket.cc: runChunk, runDump, ParseError, ParseExtAck, resolveFamily's
// CTRL_CMD_GETFAMILY decoder, drainEvents).
//
// lvskit-fuzz-requires: src/transport/socket.cc src/transport/netns.cc
//
// A real NETLINK_ROUTE socket is opened (unprivileged, current namespace) so the code under test
// runs unchanged, but this file defines sendmsg() and recvmsg(): the executable's definitions win
// over libc's and the sanitizer runtimes' (their interceptors are weak), so every datagram the
// transport sends is swallowed by a fake kernel and every datagram it receives comes from the
// fuzzer input. The fake kernel only helps the fuzzer past sequence/port matching: it rewrites
// nlmsg_seq to one of the sequences just sent and nlmsg_pid to the socket's port, unless a record
// flag says not to.
//
// Input: byte 0 picks the scenario, byte 1 the options, then records of
//   [u16 little-endian length][u8 flags][length bytes: one datagram]
// flags: 1 = sender is not the kernel, 2 = keep seq, 4 = keep pid, 8 = recvmsg fails ENOBUFS,
//        16 = datagram truncated (MSG_TRUNC).
// When the records run out, recvmsg fails (ECONNRESET, or EAGAIN for non-blocking reads), so
// every run ends.
//
// Properties beyond "no crash, no out-of-bounds read": the outcome has one result per request;
// every reply lies inside the reply buffer and is a whole message; every item's reply range lies
// inside the offsets; without a transport failure and without stopOnError no item is left
// NotSent or Unknown (the transport never reports "don't know" as success or leaves an item
// unaccounted).
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "codec/nlattr.h"
#include "transport/socket.h"

using namespace lvskit;

#include "fuzz_check.h"

namespace {

struct FakeKernel {
  bool active = false;
  uint32_t port = 0;
  const uint8_t* in = nullptr;
  size_t left = 0;
  uint32_t firstSeq = 0;
  uint32_t nSeq = 0;
  uint64_t sends = 0;
} g;

bool NextRecord(const uint8_t** rec, size_t* len, uint8_t* flags) {
  if (g.left < 3) return false;
  size_t l = static_cast<size_t>(g.in[0]) | (static_cast<size_t>(g.in[1]) << 8);
  *flags = g.in[2];
  g.in += 3;
  g.left -= 3;
  if (l > g.left) l = g.left;
  *rec = g.in;
  *len = l;
  g.in += l;
  g.left -= l;
  return true;
}

}  // namespace

extern "C" ssize_t sendmsg(int fd, const struct msghdr* mh, int flags) {
  if (!g.active) {
    errno = ENOSYS;
    return -1;
  }
  size_t total = 0;
  for (size_t i = 0; i < mh->msg_iovlen; ++i) total += mh->msg_iov[i].iov_len;
  // The transport sends one contiguous iovec of whole messages; note their sequence numbers.
  const uint8_t* p = static_cast<const uint8_t*>(mh->msg_iov[0].iov_base);
  nl::MessageIterator it(p, mh->msg_iov[0].iov_len);
  nl::MessageView m;
  g.nSeq = 0;
  while (it.next(m)) {
    if (g.nSeq == 0) g.firstSeq = m.hdr->nlmsg_seq;
    CHECK(m.hdr->nlmsg_seq == g.firstSeq + g.nSeq);  // consecutive, as the transport promises
    CHECK(m.hdr->nlmsg_flags & NLM_F_REQUEST);
    g.nSeq++;
  }
  CHECK(it.error().empty());  // the transport never sends a malformed datagram
  g.sends++;
  return static_cast<ssize_t>(total);
}

extern "C" ssize_t recvmsg(int fd, struct msghdr* mh, int flags) {
  const uint8_t* rec;
  size_t len;
  uint8_t rf;
  if (!g.active || !NextRecord(&rec, &len, &rf)) {
    errno = (flags & MSG_DONTWAIT) ? EAGAIN : ECONNRESET;
    return -1;
  }
  if (rf & 8) {
    errno = ENOBUFS;
    return -1;
  }
  uint8_t* buf = static_cast<uint8_t*>(mh->msg_iov[0].iov_base);
  size_t cap = mh->msg_iov[0].iov_len;
  size_t n = len < cap ? len : cap;
  std::memcpy(buf, rec, n);
  // Patch seq/pid of every message header that lies wholly inside the datagram.
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= n) {
    nlmsghdr h;
    std::memcpy(&h, buf + off, sizeof h);
    if (!(rf & 2) && g.nSeq) h.nlmsg_seq = g.firstSeq + (h.nlmsg_seq % g.nSeq);
    if (!(rf & 4)) h.nlmsg_pid = g.port;
    std::memcpy(buf + off, &h, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr)) break;
    off += nl::Align4(h.nlmsg_len);
  }
  mh->msg_flags = (rf & 16) ? MSG_TRUNC : 0;
  if (mh->msg_name && mh->msg_namelen >= sizeof(sockaddr_nl)) {
    sockaddr_nl from{};
    from.nl_family = AF_NETLINK;
    from.nl_pid = (rf & 1) ? 4242 : 0;
    std::memcpy(mh->msg_name, &from, sizeof from);
  }
  return static_cast<ssize_t>(n);
}

namespace {

void Request(nl::MessageWriter& w, bool dump) {
  size_t m = w.begin(dump ? RTM_GETROUTE : RTM_NEWROUTE,
                     static_cast<uint16_t>(NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_CREATE)));
  rtmsg r{};
  r.rtm_family = 2;
  w.putHeader(&r, sizeof r);
  if (!dump) w.putU32(RTA_TABLE, 254);
  w.end(m);
}

void CheckOutcome(const ExecOutcome& o, size_t requests, const ExecOptions& opt) {
  CHECK(o.items.size() == requests);
  const Replies& r = o.replies;
  CHECK(r.bytes.size() % 4 == 0);
  CHECK(r.offsets.size() == r.items.size());
  for (size_t i = 0; i < r.offsets.size(); ++i) {
    CHECK(r.offsets[i] + sizeof(nlmsghdr) <= r.bytes.size());
    nlmsghdr h;
    std::memcpy(&h, r.bytes.data() + r.offsets[i], sizeof h);
    CHECK(h.nlmsg_len >= sizeof(nlmsghdr) && r.offsets[i] + h.nlmsg_len <= r.bytes.size());
    CHECK(r.items[i] < requests);
  }
  for (const ItemResult& it : o.items) {
    CHECK(static_cast<uint64_t>(it.replyBegin) + it.replyCount <= r.offsets.size());
    if (it.status == ItemStatus::Failed) CHECK(it.error != 0);
    if (!o.fatal.err && !opt.stopOnError)
      CHECK(it.status == ItemStatus::Ok || it.status == ItemStatus::Failed);
  }
}

std::unique_ptr<NetlinkSocket> OpenSocket() {
  SysError e;
  auto s = NetlinkSocket::Open(NETLINK_ROUTE, NetnsSpec(), 1 << 20, &e);
  if (!s) {
    std::fprintf(stderr, "cannot open a NETLINK_ROUTE socket: %s\n", e.message.c_str());
    std::abort();
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // One socket per input: resolveFamily caches per socket, and the sequence counter must not
  // make one input's behaviour depend on the ones before it.
  std::unique_ptr<NetlinkSocket> s = OpenSocket();
  g = FakeKernel();
  g.active = true;
  g.port = s->portId();
  g.in = data + 2;
  g.left = size - 2;
  uint8_t scenario = data[0] % 5;
  uint8_t o = data[1];
  ExecOptions opt;
  opt.ackEach = o & 1;
  opt.stopOnError = o & 2;
  opt.dumpIntrRetries = (o >> 2) & 3;
  size_t nReq = 1 + ((o >> 4) & 7);
  nl::MessageWriter w;
  switch (scenario) {
    case 0:
      for (size_t i = 0; i < nReq; ++i) Request(w, false);
      break;
    case 1:
      Request(w, true);
      break;
    case 2:
      Request(w, false);
      Request(w, true);
      for (size_t i = 0; i < nReq; ++i) Request(w, false);
      Request(w, true);
      break;
    case 3: {
      SysError e;
      const GenlFamily* f = s->resolveFamily("IPVS", &e);
      if (f) {
        CHECK(f->id != 0);
        CHECK(s->resolveFamily("IPVS", &e) == f);  // cached
      } else {
        CHECK(e.err != 0 && !e.message.empty());
      }
      g.active = false;
      return 0;
    }
    case 4: {
      SysError e;
      Replies r;
      uint32_t overruns = 0;
      if (s->drainEvents(&r, &overruns, &e)) {
        CHECK(r.offsets.size() == r.items.size());
        for (uint32_t off : r.offsets) CHECK(off + sizeof(nlmsghdr) <= r.bytes.size());
      }
      g.active = false;
      return 0;
    }
  }
  ExecOutcome out = s->execute(w.data(), w.size(), opt);
  CheckOutcome(out, w.messageCount(), opt);
  g.active = false;
  return 0;
}
