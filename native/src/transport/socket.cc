#include "transport/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace lvskit {

namespace {

constexpr int kDefaultRcvbuf = 32 << 20;  // accounting only: memory is used when answers queue
constexpr size_t kRecvBufBytes = 1 << 18;  // dumps send at most ~32 KiB per datagram
// Kernel-side cost of one queued answer (skb truesize) assumed when bounding a send so that every
// answer fits the receive buffer: a small error/ack skb is ~1 KiB, a GET reply a few KiB.
constexpr size_t kAnswerBudget = 4096;

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

// The kernel reports -errno with errno in 1..4095 (include/linux/err.h MAX_ERRNO); any other
// value in an error or DONE message is a malformed answer (and negating INT_MIN would overflow).
int ErrnoFromKernel(int32_t negative) {
  return (negative < 0 && negative >= -4095) ? -negative : EPROTO;
}

SysError Sys(int err, std::string what) {
  SysError e;
  e.err = err;
  e.message = std::move(what) + ": " + std::strerror(err);
  return e;
}

bool IsDump(const nlmsghdr& h) { return (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP; }

// Parses the extended-ack TLVs (include/uapi/linux/netlink.h enum nlmsgerr_attrs) that follow an
// NLMSG_ERROR or NLMSG_DONE payload.
void ParseExtAck(const uint8_t* p, size_t len, ItemResult* r) {
  nl::Attrs a(p, len, NLMSGERR_ATTR_MAX, "extended ack");
  if (a.has(NLMSGERR_ATTR_MSG)) r->extackMessage = a.str(NLMSGERR_ATTR_MSG);
  if (a.has(NLMSGERR_ATTR_OFFS)) r->extackOffset = a.u32(NLMSGERR_ATTR_OFFS);
#ifdef NLMSGERR_ATTR_MISS_TYPE
  if (a.has(NLMSGERR_ATTR_MISS_TYPE)) r->missingType = a.u32(NLMSGERR_ATTR_MISS_TYPE);
#endif
}

// Decodes an NLMSG_ERROR message into r: error 0 is an ack.
void ParseError(const nl::MessageView& m, ItemResult* r) {
  int32_t err = 0;
  if (m.payloadLen >= sizeof(int32_t)) std::memcpy(&err, m.payload, sizeof err);
  if (err == 0) return;
  r->status = ItemStatus::Failed;
  r->error = ErrnoFromKernel(err);
  if (!(m.hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  // struct nlmsgerr { int error; struct nlmsghdr msg; } then, unless NLM_F_CAPPED, the rest of
  // the original request, then the TLVs (net/netlink/af_netlink.c netlink_ack).
  size_t tlv = sizeof(int32_t) + sizeof(nlmsghdr);
  if (!(m.hdr->nlmsg_flags & NLM_F_CAPPED) && m.payloadLen >= tlv) {
    nlmsghdr orig;
    std::memcpy(&orig, m.payload + sizeof(int32_t), sizeof orig);
    tlv = sizeof(int32_t) + nl::Align4(orig.nlmsg_len);
  }
  if (tlv < m.payloadLen) ParseExtAck(m.payload + tlv, m.payloadLen - tlv, r);
}

void AppendReply(const nl::MessageView& m, uint32_t item, Replies* out) {
  size_t off = out->bytes.size();
  size_t len = m.hdr->nlmsg_len;
  out->bytes.resize(off + nl::Align4(len), 0);
  std::memcpy(out->bytes.data() + off, m.hdr, len);
  out->offsets.push_back(static_cast<uint32_t>(off));
  out->items.push_back(item);
}

}  // namespace

std::string ErrnoName(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : ("E" + std::to_string(err));
}

std::string NetnsSpec::describe() const {
  switch (kind) {
    case Kind::Current: return "the current network namespace";
    case Kind::Path: return "network namespace " + path;
    case Kind::Pid: return "the network namespace of pid " + std::to_string(pid);
  }
  return "?";
}

std::unique_ptr<NetlinkSocket> NetlinkSocket::Open(int protocol, const NetnsSpec& ns,
                                                   int rcvbufBytes, SysError* err) {
  std::unique_ptr<NetlinkSocket> s(new NetlinkSocket());
  s->protocol_ = protocol;
  s->ns_ = ns;
  s->nsfd_ = OpenNamespaceFd(ns, err);
  if (s->nsfd_ < 0) return nullptr;
  struct stat st;
  if (fstat(s->nsfd_, &st) == 0) {
    s->nsDev_ = st.st_dev;
    s->nsIno_ = st.st_ino;
  }
  int fd = -1;
  int sockErr = 0;
  auto make = [&] {
    fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) sockErr = errno;
  };
  if (ns.kind == NetnsSpec::Kind::Current) {
    make();
  } else if (!RunInNamespaceFd(s->nsfd_, [](void* f) { (*static_cast<decltype(make)*>(f))(); },
                               &make, err)) {
    return nullptr;
  }
  if (fd < 0) {
    *err = Sys(sockErr, "socket(AF_NETLINK, " + std::to_string(protocol) + ")");
    return nullptr;
  }
  s->fd_ = fd;
  int one = 1;
  // Errors come back without a copy of the request, and with the kernel's message and offset.
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  int want = rcvbufBytes > 0 ? rcvbufBytes : kDefaultRcvbuf;
  // SO_RCVBUFFORCE ignores rmem_max but needs CAP_NET_ADMIN; fall back to what is allowed.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  socklen_t sl = sizeof s->rcvbuf_;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf_, &sl);
  sl = sizeof s->sndbuf_;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf_, &sl);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    *err = Sys(errno, "bind(netlink)");
    return nullptr;
  }
  sl = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &sl) != 0) {
    *err = Sys(errno, "getsockname(netlink)");
    return nullptr;
  }
  s->portId_ = sa.nl_pid;
  void* buf = mmap(nullptr, kRecvBufBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) {
    *err = Sys(errno, "mmap(receive buffer)");
    return nullptr;
  }
  s->rbuf_ = static_cast<uint8_t*>(buf);
  s->rbufLen_ = kRecvBufBytes;
  return s;
}

NetlinkSocket::~NetlinkSocket() { close(); }

void NetlinkSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  if (nsfd_ >= 0) ::close(nsfd_);
  if (rbuf_) munmap(rbuf_, rbufLen_);
  fd_ = -1;
  nsfd_ = -1;
  rbuf_ = nullptr;
  rbufLen_ = 0;
}

bool NetlinkSocket::namespaceStillThere(SysError* err) const {
  if (ns_.kind == NetnsSpec::Kind::Current) return true;
  std::string path = ns_.kind == NetnsSpec::Kind::Path
                         ? ns_.path
                         : "/proc/" + std::to_string(ns_.pid) + "/ns/net";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_dev != nsDev_ || st.st_ino != nsIno_) {
    err->err = ENOENT;
    err->message = ns_.describe() + " was deleted or replaced after this handle was opened; " +
                   "open a new handle";
    return false;
  }
  return true;
}

bool NetlinkSocket::sendAll(const uint8_t* data, size_t len, SysError* err) {
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  iovec iov{const_cast<uint8_t*>(data), len};
  msghdr mh{};
  mh.msg_name = &to;
  mh.msg_namelen = sizeof to;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  for (;;) {
    ssize_t n = ::sendmsg(fd_, &mh, 0);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    *err = Sys(errno, "sendmsg(netlink)");
    return false;
  }
}

ssize_t NetlinkSocket::recvOne(SysError* err) {
  for (;;) {
    sockaddr_nl from{};
    iovec iov{rbuf_, rbufLen_};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_, &mh, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      *err = Sys(errno, "recvmsg(netlink)");
      return -1;
    }
    if (mh.msg_flags & MSG_TRUNC) {
      *err = Sys(EMSGSIZE, "recvmsg(netlink): datagram larger than the receive buffer");
      return -1;
    }
    if (from.nl_pid != 0) continue;  // only the kernel may answer us
    return n;
  }
}

ExecOutcome NetlinkSocket::execute(const uint8_t* msgs, size_t len, const ExecOptions& opt) {
  ExecOutcome out;
  std::vector<size_t> offs;
  {
    nl::MessageIterator it(msgs, len);
    nl::MessageView m;
    while (it.next(m)) offs.push_back(static_cast<size_t>(reinterpret_cast<const uint8_t*>(m.hdr) - msgs));
    if (!it.error().empty()) {
      out.fatal.err = EINVAL;
      out.fatal.message = "malformed request batch: " + it.error();
      return out;
    }
  }
  out.items.resize(offs.size());
  if (fd_ < 0) {
    out.fatal.err = EBADF;
    out.fatal.message = "the socket is closed";
    return out;
  }
  if (!namespaceStillThere(&out.fatal)) return out;

  if (opt.nfBatchSubsys != 0) {
    if (!offs.empty()) runTransaction(msgs, offs, opt.nfBatchSubsys, opt.ackEach, &out);
    return out;
  }

  std::vector<uint8_t> scratch;
  size_t maxBytes = static_cast<size_t>(std::max(sndbuf_ - 32, 4096));
  size_t maxCount = std::max<size_t>(1, static_cast<size_t>(rcvbuf_) / kAnswerBudget);
  size_t i = 0;
  while (i < offs.size()) {
    nlmsghdr h;
    std::memcpy(&h, msgs + offs[i], sizeof h);
    bool ok;
    size_t next;
    if (IsDump(h)) {
      ok = runDump(msgs + offs[i], i, opt, scratch, &out);
      next = i + 1;
    } else {
      // Pack consecutive non-dump requests up to the send buffer and answer budget.
      size_t j = i;
      size_t bytes = 0;
      while (j < offs.size()) {
        nlmsghdr hj;
        std::memcpy(&hj, msgs + offs[j], sizeof hj);
        if (IsDump(hj)) break;
        size_t l = nl::Align4(hj.nlmsg_len);
        if (j > i && (bytes + l > maxBytes || j - i >= maxCount)) break;
        bytes += l;
        ++j;
      }
      ok = runChunk(msgs, offs, i, j, opt, scratch, &out);
      next = j;
    }
    if (!ok) break;  // fatal transport error: later items stay NotSent
    bool failedHere = false;
    for (size_t k = i; k < next; ++k)
      if (out.items[k].status == ItemStatus::Failed) failedHere = true;
    i = next;
    if (failedHere && opt.stopOnError) break;
  }
  return out;
}

bool NetlinkSocket::runChunk(const uint8_t* msgs, const std::vector<size_t>& offs, size_t first,
                             size_t last, const ExecOptions& opt, std::vector<uint8_t>& scratch,
                             ExecOutcome* out) {
  size_t begin = offs[first];
  size_t end = last < offs.size() ? offs[last] : offs[last - 1] + nl::Align4(reinterpret_cast<const nlmsghdr*>(msgs + offs[last - 1])->nlmsg_len);
  // The caller's bytes are const: stamp seq/pid/flags into a copy.
  scratch.assign(msgs + begin, msgs + end);
  uint32_t firstSeq = seq_ + 1;
  for (size_t k = first; k < last; ++k) {
    nlmsghdr* h = reinterpret_cast<nlmsghdr*>(scratch.data() + (offs[k] - begin));
    h->nlmsg_seq = ++seq_;
    h->nlmsg_pid = 0;
    h->nlmsg_flags |= NLM_F_REQUEST;
    if (opt.ackEach || k + 1 == last) h->nlmsg_flags |= NLM_F_ACK;
  }
  uint32_t lastSeq = seq_;
  out->sendCalls++;
  SysError e;
  if (!sendAll(scratch.data(), scratch.size(), &e)) {
    out->fatal = e;
    return false;
  }
  for (size_t k = first; k < last; ++k) out->items[k].status = ItemStatus::Unknown;
  // Requests without NLM_F_ACK that get no answer succeeded; mark them when the final ack lands.
  std::vector<bool> answered(last - first, false);
  for (;;) {
    ssize_t n = recvOne(&e);
    if (n < 0) {
      out->fatal = e;
      return false;
    }
    nl::MessageIterator it(rbuf_, static_cast<size_t>(n));
    nl::MessageView m;
    bool done = false;
    while (it.next(m)) {
      uint32_t seq = m.hdr->nlmsg_seq;
      if (m.hdr->nlmsg_pid != portId_ || seq < firstSeq || seq > lastSeq) {
        out->droppedForeign++;
        continue;
      }
      size_t k = first + (seq - firstSeq);
      ItemResult& r = out->items[k];
      if (m.hdr->nlmsg_type == NLMSG_ERROR) {
        r.status = ItemStatus::Ok;
        ParseError(m, &r);
        answered[k - first] = true;
        if (seq == lastSeq) done = true;
      } else if (m.hdr->nlmsg_type == NLMSG_DONE || m.hdr->nlmsg_type == NLMSG_NOOP) {
        continue;
      } else {
        if (r.replyCount == 0) r.replyBegin = static_cast<uint32_t>(out->replies.offsets.size());
        r.replyCount++;
        AppendReply(m, static_cast<uint32_t>(k), &out->replies);
      }
    }
    if (!it.error().empty()) {
      out->fatal.err = EPROTO;
      out->fatal.message = "malformed answer from the kernel: " + it.error();
      return false;
    }
    if (done) break;
  }
  // Every request before the acked last one was processed; those without an error succeeded.
  for (size_t k = first; k < last; ++k)
    if (!answered[k - first] && out->items[k].status == ItemStatus::Unknown)
      out->items[k].status = ItemStatus::Ok;
  return true;
}

bool NetlinkSocket::runDump(const uint8_t* msg, size_t index, const ExecOptions& opt,
                            std::vector<uint8_t>& scratch, ExecOutcome* out) {
  nlmsghdr h0;
  std::memcpy(&h0, msg, sizeof h0);
  ItemResult& r = out->items[index];
  for (int attempt = 0;; ++attempt) {
    scratch.assign(msg, msg + h0.nlmsg_len);
    nlmsghdr* h = reinterpret_cast<nlmsghdr*>(scratch.data());
    h->nlmsg_seq = ++seq_;
    h->nlmsg_pid = 0;
    h->nlmsg_flags |= NLM_F_REQUEST;
    uint32_t seq = seq_;
    size_t replyMark = out->replies.offsets.size();
    size_t byteMark = out->replies.bytes.size();
    r = ItemResult();
    r.status = ItemStatus::Unknown;
    r.replyBegin = static_cast<uint32_t>(replyMark);
    out->sendCalls++;
    SysError e;
    if (!sendAll(scratch.data(), scratch.size(), &e)) {
      r.status = ItemStatus::NotSent;
      out->fatal = e;
      return false;
    }
    bool done = false;
    bool intr = false;
    while (!done) {
      ssize_t n = recvOne(&e);
      if (n < 0) {
        out->fatal = e;
        return false;
      }
      nl::MessageIterator it(rbuf_, static_cast<size_t>(n));
      nl::MessageView m;
      while (it.next(m)) {
        if (m.hdr->nlmsg_pid != portId_ || m.hdr->nlmsg_seq != seq) {
          out->droppedForeign++;
          continue;
        }
        if (m.hdr->nlmsg_flags & NLM_F_DUMP_INTR) intr = true;
        if (m.hdr->nlmsg_type == NLMSG_DONE) {
          // The DONE payload is the dump's final status (negative errno), maybe with TLVs.
          int32_t st = 0;
          if (m.payloadLen >= sizeof st) std::memcpy(&st, m.payload, sizeof st);
          r.status = ItemStatus::Ok;
          if (st < 0) {
            r.status = ItemStatus::Failed;
            r.error = ErrnoFromKernel(st);
            if ((m.hdr->nlmsg_flags & NLM_F_ACK_TLVS) && m.payloadLen > sizeof st)
              ParseExtAck(m.payload + sizeof st, m.payloadLen - sizeof st, &r);
          }
          done = true;
        } else if (m.hdr->nlmsg_type == NLMSG_ERROR) {
          // A dump that could not start (EINVAL, EOPNOTSUPP, ESRCH...) answers with an error.
          r.status = ItemStatus::Ok;
          ParseError(m, &r);
          if (r.status == ItemStatus::Ok) continue;  // an ack after DONE, if one was asked
          done = true;
        } else {
          r.replyCount++;
          AppendReply(m, static_cast<uint32_t>(index), &out->replies);
        }
      }
      if (!it.error().empty()) {
        out->fatal.err = EPROTO;
        out->fatal.message = "malformed answer from the kernel: " + it.error();
        return false;
      }
    }
    if (intr && r.status == ItemStatus::Ok && attempt < opt.dumpIntrRetries) {
      // Drop the inconsistent snapshot and ask again.
      out->replies.offsets.resize(replyMark);
      out->replies.items.resize(replyMark);
      out->replies.bytes.resize(byteMark);
      continue;
    }
    r.interrupted = intr;
    return true;
  }
}

bool NetlinkSocket::runTransaction(const uint8_t* msgs, const std::vector<size_t>& offs,
                                   uint16_t subsys, bool ackEach, ExecOutcome* out) {
  for (size_t k = 0; k < offs.size(); ++k) {
    nlmsghdr h;
    std::memcpy(&h, msgs + offs[k], sizeof h);
    if (IsDump(h)) {
      out->fatal.err = EINVAL;
      out->fatal.message = "a dump cannot be part of an nfnetlink transaction (item " + std::to_string(k) + ")";
      return false;
    }
  }
  // BEGIN and END: an nfgenmsg (include/uapi/linux/netfilter/nfnetlink.h) with res_id = the
  // subsystem in network order (nfnetlink_rcv_skb_batch ntohs(nfgenmsg->res_id)).
  nfgenmsg g{};
  g.nfgen_family = AF_UNSPEC;
  g.version = NFNETLINK_V0;
  g.res_id = htons(subsys);
  nl::MessageWriter frame;
  size_t b = frame.begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST);
  frame.putHeader(&g, sizeof g);
  frame.end(b);
  size_t beginLen = frame.size();
  size_t last = offs.back();
  size_t bodyEnd = last + nl::Align4(reinterpret_cast<const nlmsghdr*>(msgs + last)->nlmsg_len);
  std::vector<uint8_t> buf;
  buf.reserve(beginLen * 2 + bodyEnd);
  buf.assign(frame.data(), frame.data() + beginLen);
  buf.insert(buf.end(), msgs, msgs + bodyEnd);
  size_t e = frame.begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST);
  frame.putHeader(&g, sizeof g);
  frame.end(e);
  buf.insert(buf.end(), frame.data() + beginLen, frame.data() + frame.size());

  uint32_t beginSeq = ++seq_;
  reinterpret_cast<nlmsghdr*>(buf.data())->nlmsg_seq = beginSeq;
  uint32_t firstSeq = seq_ + 1;
  for (size_t k = 0; k < offs.size(); ++k) {
    nlmsghdr* h = reinterpret_cast<nlmsghdr*>(buf.data() + beginLen + offs[k]);
    h->nlmsg_seq = ++seq_;
    h->nlmsg_pid = 0;
    h->nlmsg_flags |= NLM_F_REQUEST;
    // Failures are always answered (nfnetlink_rcv_batch reports every error); success needs
    // NLM_F_ACK, asked only of the last item unless ackEach: its ack proves the kernel went
    // through the whole transaction, and half the answers keep big transactions inside the
    // receive buffer.
    if (ackEach || k + 1 == offs.size()) h->nlmsg_flags |= NLM_F_ACK;
  }
  uint32_t lastSeq = seq_;
  reinterpret_cast<nlmsghdr*>(buf.data() + beginLen + bodyEnd)->nlmsg_seq = ++seq_;

  // The whole transaction must be one datagram: the kernel reads at most sk_sndbuf - 32 bytes.
  if (buf.size() + 32 > static_cast<size_t>(sndbuf_)) {
    int want = static_cast<int>(std::min<size_t>(buf.size() + 4096, 1u << 30));
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    socklen_t sl = sizeof sndbuf_;
    getsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf_, &sl);
    if (buf.size() + 32 > static_cast<size_t>(sndbuf_)) {
      out->fatal.err = EMSGSIZE;
      out->fatal.message = "the transaction is " + std::to_string(buf.size()) +
                           " bytes, more than the socket's send buffer (" + std::to_string(sndbuf_) +
                           "; raising it needs CAP_NET_ADMIN or net.core.wmem_max)";
      return false;
    }
  }
  out->sendCalls++;
  SysError err;
  if (!sendAll(buf.data(), buf.size(), &err)) {
    out->fatal = err;
    return false;
  }
  for (auto& it : out->items) it.status = ItemStatus::Unknown;
  std::vector<bool> answered(offs.size(), false);
  ItemResult beginErr;
  bool lastAnswered = false;
  for (;;) {
    sockaddr_nl from{};
    iovec iov{rbuf_, rbufLen_};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    // Everything is queued before sendmsg returns; block only if the last ack is somehow late.
    bool wait = !lastAnswered && beginErr.status != ItemStatus::Failed;
    ssize_t n = ::recvmsg(fd_, &mh, wait ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!wait && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      out->fatal = Sys(errno, "recvmsg(netlink)");
      return false;
    }
    if (mh.msg_flags & MSG_TRUNC) {
      out->fatal = Sys(EMSGSIZE, "recvmsg(netlink): datagram larger than the receive buffer");
      return false;
    }
    if (from.nl_pid != 0) continue;
    nl::MessageIterator it(rbuf_, static_cast<size_t>(n));
    nl::MessageView m;
    while (it.next(m)) {
      uint32_t seq = m.hdr->nlmsg_seq;
      if (m.hdr->nlmsg_pid != portId_ || seq < beginSeq || seq > lastSeq) {
        out->droppedForeign++;
        continue;
      }
      if (seq == beginSeq) {
        if (m.hdr->nlmsg_type == NLMSG_ERROR) ParseError(m, &beginErr);
        continue;
      }
      size_t k = seq - firstSeq;
      ItemResult& r = out->items[k];
      if (m.hdr->nlmsg_type == NLMSG_ERROR) {
        if (r.status != ItemStatus::Failed) {  // the first answer wins
          r.status = ItemStatus::Ok;
          ParseError(m, &r);
        }
        answered[k] = true;
        if (seq == lastSeq) lastAnswered = true;
      } else if (m.hdr->nlmsg_type != NLMSG_DONE && m.hdr->nlmsg_type != NLMSG_NOOP) {
        // NLM_F_ECHO copies of what the request created (e.g. a new rule with its handle).
        if (r.replyCount == 0) r.replyBegin = static_cast<uint32_t>(out->replies.offsets.size());
        r.replyCount++;
        AppendReply(m, static_cast<uint32_t>(k), &out->replies);
      }
    }
    if (!it.error().empty()) {
      out->fatal.err = EPROTO;
      out->fatal.message = "malformed answer from the kernel: " + it.error();
      return false;
    }
  }
  // The last item's ack came after every earlier item was processed: the unanswered ones were
  // accepted (and are committed unless the transaction aborted, below).
  if (lastAnswered)
    for (size_t k = 0; k < offs.size(); ++k)
      if (!answered[k] && out->items[k].status == ItemStatus::Unknown) out->items[k].status = ItemStatus::Ok;
  bool aborted = beginErr.status == ItemStatus::Failed;
  for (size_t k = 0; k < offs.size(); ++k)
    if (out->items[k].status == ItemStatus::Failed) aborted = true;
  for (size_t k = 0; k < offs.size(); ++k) {
    ItemResult& r = out->items[k];
    if (beginErr.status == ItemStatus::Failed && r.status != ItemStatus::Failed) {
      r.status = ItemStatus::Failed;
      r.error = beginErr.error;
      r.extackMessage = beginErr.extackMessage.empty()
                            ? "the kernel refused the transaction as a whole"
                            : beginErr.extackMessage;
    } else if (aborted && r.status != ItemStatus::Failed) {
      r.status = ItemStatus::NotSent;  // acknowledged, then undone by the abort
    }
  }
  return true;
}

const GenlFamily* NetlinkSocket::resolveFamily(const std::string& name, SysError* err) {
  auto found = families_.find(name);
  if (found != families_.end()) return &found->second;
  nl::MessageWriter w;
  size_t m = w.begin(GENL_ID_CTRL, NLM_F_REQUEST);
  w.putGenlHeader(CTRL_CMD_GETFAMILY, 1);
  w.putString(CTRL_ATTR_FAMILY_NAME, name);
  w.end(m);
  ExecOutcome o = execute(w.data(), w.size(), ExecOptions());
  if (o.fatal.err) {
    *err = o.fatal;
    return nullptr;
  }
  const ItemResult& r = o.items[0];
  if (r.status == ItemStatus::Failed) {
    err->err = r.error;
    err->message = "generic netlink family '" + name + "' is not available in " + ns_.describe() +
                   " (" + ErrnoName(r.error) + ")" +
                   (r.error == ENOENT ? ": the kernel has no such family or its module is not loaded" : "");
    return nullptr;
  }
  if (r.replyCount == 0) {
    err->err = EPROTO;
    err->message = "no answer to CTRL_CMD_GETFAMILY '" + name + "'";
    return nullptr;
  }
  const uint8_t* p = o.replies.bytes.data() + o.replies.offsets[r.replyBegin];
  const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(p);
  size_t hdr = nl::kNlmsgHdrLen + GENL_HDRLEN;
  if (h->nlmsg_len < hdr) {
    err->err = EPROTO;
    err->message = "short CTRL_CMD_GETFAMILY answer";
    return nullptr;
  }
  nl::Attrs a(p + hdr, h->nlmsg_len - hdr, CTRL_ATTR_MAX, "CTRL_CMD_GETFAMILY");
  GenlFamily f;
  f.id = a.u16(CTRL_ATTR_FAMILY_ID);
  f.version = a.u32(CTRL_ATTR_VERSION);
  f.hdrSize = a.u32(CTRL_ATTR_HDRSIZE);
  f.maxAttr = a.u32(CTRL_ATTR_MAXATTR);
  if (a.has(CTRL_ATTR_MCAST_GROUPS)) {
    nl::Attrs groups = a.nested(CTRL_ATTR_MCAST_GROUPS, 0, "CTRL_ATTR_MCAST_GROUPS");
    groups.forEach([&](uint16_t, const uint8_t* d, size_t l) {
      nl::Attrs g(d, l, CTRL_ATTR_MCAST_GRP_MAX, "CTRL_ATTR_MCAST_GRP", groups.errorSink());
      f.groups[g.str(CTRL_ATTR_MCAST_GRP_NAME)] = g.u32(CTRL_ATTR_MCAST_GRP_ID);
    });
  }
  if (!a.ok() || f.id == 0) {
    err->err = EPROTO;
    err->message = "bad CTRL_CMD_GETFAMILY answer: " + (a.ok() ? std::string("no family id") : a.error());
    return nullptr;
  }
  return &(families_[name] = std::move(f));
}

bool NetlinkSocket::addMembership(uint32_t group, SysError* err) {
  if (setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0) {
    *err = Sys(errno, "NETLINK_ADD_MEMBERSHIP " + std::to_string(group));
    return false;
  }
  return true;
}

bool NetlinkSocket::setNonBlocking(SysError* err) {
  int fl = fcntl(fd_, F_GETFL);
  if (fl < 0 || fcntl(fd_, F_SETFL, fl | O_NONBLOCK) != 0) {
    *err = Sys(errno, "fcntl(O_NONBLOCK)");
    return false;
  }
  return true;
}

bool NetlinkSocket::drainEvents(Replies* out, uint32_t* overruns, SysError* err) {
  for (;;) {
    sockaddr_nl from{};
    iovec iov{rbuf_, rbufLen_};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd_, &mh, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == ENOBUFS) {  // events were dropped; the socket keeps working
        (*overruns)++;
        continue;
      }
      *err = Sys(errno, "recvmsg(netlink events)");
      return false;
    }
    if (from.nl_pid != 0) continue;
    nl::MessageIterator it(rbuf_, static_cast<size_t>(n));
    nl::MessageView m;
    while (it.next(m)) {
      if (m.hdr->nlmsg_type == NLMSG_DONE || m.hdr->nlmsg_type == NLMSG_NOOP ||
          m.hdr->nlmsg_type == NLMSG_ERROR)
        continue;
      AppendReply(m, 0, out);
    }
  }
}

}  // namespace lvskit
