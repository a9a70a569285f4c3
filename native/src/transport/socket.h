// The netlink transport: the only code in lvskit that calls send/recv on a netlink socket.
//
// One NetlinkSocket owns one AF_NETLINK fd (NETLINK_ROUTE, NETLINK_GENERIC, NETLINK_NETFILTER),
// its port id and its sequence numbers. execute() runs a batch of requests built by a MessageWriter:
//  - consecutive non-dump requests are packed into as few sendmsg calls as the socket's send
//    buffer allows (the kernel accepts up to sk_sndbuf - 32 bytes per datagram) and bounded so that
//    the answers of one send always fit the receive buffer (no ENOBUFS, no lost ack);
//  - only the last request of each send carries NLM_F_ACK unless ackEach is asked for. The kernel
//    runs the requests of a datagram in order, answering each failure with an error message, and
//    goes on after a failure (net/netlink/af_netlink.c netlink_rcv_skb): when the ack of the last
//    request arrives, every earlier request's answer has arrived before it;
//  - a dump request (NLM_F_DUMP) runs alone, its multipart reply collected until NLMSG_DONE,
//    which since 6.9 may share a datagram with data; NLM_F_DUMP_INTR marks an inconsistent dump,
//    which is retried up to dumpIntrRetries times and otherwise reported;
//  - every answer is matched to its request by sequence number; answers from anyone but the kernel
//    (nl_pid != 0), for another port, or for a sequence outside the batch are dropped and counted.
// Errors carry the errno, the kernel's extended-ack message and the offset it blamed
// (NETLINK_EXT_ACK); NETLINK_CAP_ACK keeps error messages small.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "codec/nlattr.h"

namespace lvskit {

struct SysError {
  int err = 0;  // errno
  std::string message;
};

// Which network namespace a socket lives in. Named namespaces are resolved to
// /run/netns/NAME by the TypeScript layer.
struct NetnsSpec {
  enum class Kind { Current, Path, Pid } kind = Kind::Current;
  std::string path;
  int pid = 0;
  std::string describe() const;
};

enum class ItemStatus : int32_t {
  Ok = 0,        // applied / answered
  Failed = 1,    // the kernel refused it: see ItemResult::error
  NotSent = 2,   // never sent (stopOnError, or a transport failure happened before it), or sent
                 // in an nfnetlink transaction the kernel aborted: in every case not applied
  Unknown = 3,   // sent, but the transport failed before its answer arrived
};

struct ItemResult {
  ItemStatus status = ItemStatus::NotSent;
  int error = 0;              // errno when Failed
  std::string extackMessage;  // NLMSGERR_ATTR_MSG
  int64_t extackOffset = -1;  // NLMSGERR_ATTR_OFFS: byte offset in the request message
  int64_t missingType = -1;   // NLMSGERR_ATTR_MISS_TYPE
  bool interrupted = false;   // dump stayed inconsistent (NLM_F_DUMP_INTR) after retries
  uint32_t replyBegin = 0;    // index of this item's first reply in Replies
  uint32_t replyCount = 0;
};

struct Replies {
  std::vector<uint8_t> bytes;     // whole reply messages (header included), 4-byte aligned
  std::vector<uint32_t> offsets;  // start of each reply message in bytes
  std::vector<uint32_t> items;    // which request each reply answers
};

struct ExecOptions {
  bool ackEach = false;      // NLM_F_ACK on every request instead of only the last of each send
  bool stopOnError = false;  // after a send that had a failure, send nothing more
  int dumpIntrRetries = 3;
  // Non-zero: run every request as ONE nfnetlink transaction of this subsystem (NFNL_SUBSYS_*,
  // include/uapi/linux/netfilter/nfnetlink.h): see NetlinkSocket::runTransaction.
  uint16_t nfBatchSubsys = 0;
};

struct ExecOutcome {
  std::vector<ItemResult> items;
  Replies replies;
  SysError fatal;            // transport failure (err != 0): later items are NotSent/Unknown
  uint64_t sendCalls = 0;    // sendmsg calls made (for benchmarks and tests)
  uint64_t droppedForeign = 0;
};

struct GenlFamily {
  uint16_t id = 0;
  uint32_t version = 0;
  uint32_t hdrSize = 0;
  uint32_t maxAttr = 0;
  std::map<std::string, uint32_t> groups;  // multicast group name -> id
};

class NetlinkSocket {
 public:
  // Opens a socket of `protocol` (NETLINK_ROUTE, NETLINK_GENERIC) in the namespace `ns`, without
  // forking: a short-lived thread enters the namespace, creates the socket and exits, so no
  // thread of the process stays in the other namespace. rcvbufBytes 0 = library default.
  static std::unique_ptr<NetlinkSocket> Open(int protocol, const NetnsSpec& ns, int rcvbufBytes,
                                             SysError* err);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  void close();
  bool closed() const { return fd_ < 0; }
  int fd() const { return fd_; }
  int protocol() const { return protocol_; }
  uint32_t portId() const { return portId_; }
  int rcvbuf() const { return rcvbuf_; }
  int sndbuf() const { return sndbuf_; }
  const NetnsSpec& netns() const { return ns_; }

  // Checks that the namespace this socket was opened in is still the one its name or pid points
  // to. A deleted namespace lives on while this socket holds it, invisible to everyone else:
  // requests would "succeed" in it, so the handle refuses them instead.
  bool namespaceStillThere(SysError* err) const;

  ExecOutcome execute(const uint8_t* msgs, size_t len, const ExecOptions& opt);

  // CTRL_CMD_GETFAMILY, cached per socket.
  const GenlFamily* resolveFamily(const std::string& name, SysError* err);

  // Multicast membership for event sockets (NETLINK_ADD_MEMBERSHIP, group numbers as in
  // RTNLGRP_*), and non-blocking reads of what arrived.
  bool addMembership(uint32_t group, SysError* err);
  bool setNonBlocking(SysError* err);
  // Reads every datagram waiting; appends messages. Returns false on a hard error. `overruns`
  // counts ENOBUFS seen: the kernel dropped events because the receive buffer was full.
  bool drainEvents(Replies* out, uint32_t* overruns, SysError* err);

  // Runs fn inside this socket's network namespace on a short-lived thread (for /proc/sys and
  // /proc/net, whose view follows the reading thread's namespace). False if setns failed.
  template <class Fn>
  bool runInNamespace(Fn&& fn, SysError* err) const;
  int namespaceFd() const { return nsfd_; }

 private:
  NetlinkSocket() = default;
  bool sendAll(const uint8_t* data, size_t len, SysError* err);
  // Receives one datagram into rbuf_; returns its length, or -1 with err set.
  ssize_t recvOne(SysError* err);
  bool runChunk(const uint8_t* msgs, const std::vector<size_t>& offs, size_t first, size_t last,
                const ExecOptions& opt, std::vector<uint8_t>& scratch, ExecOutcome* out);
  bool runDump(const uint8_t* msg, size_t index, const ExecOptions& opt,
               std::vector<uint8_t>& scratch, ExecOutcome* out);
  // An nfnetlink transaction (net/netfilter/nfnetlink.c nfnetlink_rcv_batch): the requests are
  // framed by NFNL_MSG_BATCH_BEGIN / NFNL_MSG_BATCH_END (res_id = the subsystem, big-endian) in
  // ONE datagram; the last request (every one with ackEach) carries NLM_F_ACK, BEGIN/END carry
  // none (kernels before 6.10 never ack them, later ones only when asked); every failure is
  // answered whatever the flags. The kernel runs every request, then commits
  // only if none failed, else aborts them all; it queues all answers before sendmsg returns
  // (netlink_unicast_kernel runs nfnetlink_rcv in the sender's context). An error answering
  // BEGIN's sequence (no such subsystem, a failed commit) fails every item. When the
  // transaction aborted, items the kernel had acknowledged are reported NotSent: not applied.
  bool runTransaction(const uint8_t* msgs, const std::vector<size_t>& offs, uint16_t subsys,
                      bool ackEach, ExecOutcome* out);

  int fd_ = -1;
  int nsfd_ = -1;
  dev_t nsDev_ = 0;
  ino_t nsIno_ = 0;
  int protocol_ = 0;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
  int rcvbuf_ = 0;
  int sndbuf_ = 0;
  NetnsSpec ns_;
  // The receive buffer: an anonymous mapping, so only the pages a datagram touches count as
  // resident, and close() returns it at once (a vector of zeros made every socket cost 256 KiB of
  // RSS until the JS object happened to be collected).
  uint8_t* rbuf_ = nullptr;
  size_t rbufLen_ = 0;
  std::map<std::string, GenlFamily> families_;
};

// Implemented in netns.cc.
int OpenNamespaceFd(const NetnsSpec& ns, SysError* err);
bool RunInNamespaceFd(int nsfd, void (*fn)(void*), void* arg, SysError* err);
bool ValidNetnsName(const std::string& name);
bool CreateNamedNetns(const std::string& name, SysError* err);  // like `ip netns add NAME`
bool DeleteNamedNetns(const std::string& name, SysError* err);  // like `ip netns del NAME`
bool ProbeNewNetns(SysError* err);  // can this process create network namespaces?

template <class Fn>
bool NetlinkSocket::runInNamespace(Fn&& fn, SysError* err) const {
  using F = std::remove_reference_t<Fn>;
  if (ns_.kind == NetnsSpec::Kind::Current) {  // already here: entering would need CAP_SYS_ADMIN
    fn();
    return true;
  }
  return RunInNamespaceFd(
      nsfd_, [](void* a) { (*static_cast<F*>(a))(); }, static_cast<void*>(&fn), err);
}

std::string ErrnoName(int err);  // "EEXIST"

}  // namespace lvskit
