#include "families/link.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>

namespace lvskit::link {

namespace {

void PutIfinfo(nl::MessageWriter& w, uint32_t index, uint32_t flags, uint32_t change) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = static_cast<int>(index);
  ifi.ifi_flags = flags;
  ifi.ifi_change = change;
  w.putHeader(&ifi, sizeof ifi);
}

// rtnl_newlink/rtnl_dellink/rtnl_getlink look a device up by ifi_index when it is > 0, else by
// IFLA_IFNAME (or IFLA_ALT_IFNAME).
void PutRef(nl::MessageWriter& w, const LinkRef& ref) {
  if (ref.index == 0) w.putString(IFLA_IFNAME, ref.name);
}

}  // namespace

void EncodeGet(nl::MessageWriter& w, const LinkRef& ref, bool skipStats) {
  size_t m = w.begin(RTM_GETLINK, NLM_F_REQUEST);
  PutIfinfo(w, ref.index, 0, 0);
  PutRef(w, ref);
  if (skipStats) w.putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  w.end(m);
}

void EncodeDump(nl::MessageWriter& w, bool skipStats) {
  size_t m = w.begin(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  PutIfinfo(w, 0, 0, 0);
  if (skipStats) w.putU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  w.end(m);
}

void EncodeSet(nl::MessageWriter& w, const LinkChange& c) {
  size_t m = w.begin(RTM_NEWLINK, NLM_F_REQUEST);
  PutIfinfo(w, c.ref.index, c.flags, c.change);
  if (c.ref.index == 0) {
    w.putString(IFLA_IFNAME, c.ref.name);
    // A rename of a link named by name is impossible in one request (IFLA_IFNAME is both the key
    // and the new name); the TypeScript layer resolves the index first.
  } else if (c.newName) {
    w.putString(IFLA_IFNAME, *c.newName);
  }
  if (c.mtu) w.putU32(IFLA_MTU, *c.mtu);
  if (c.address) w.putRaw(IFLA_ADDRESS, c.address->data(), c.address->size());
  if (c.txqlen) w.putU32(IFLA_TXQLEN, *c.txqlen);
  if (c.master) w.putU32(IFLA_MASTER, *c.master);
  if (c.netnsFd) w.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(*c.netnsFd));
  if (c.netnsPid) w.putU32(IFLA_NET_NS_PID, *c.netnsPid);
  w.end(m);
}

void EncodeCreate(nl::MessageWriter& w, const LinkCreate& c) {
  size_t m = w.begin(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(w, 0, c.flags, c.flags);
  w.putString(IFLA_IFNAME, c.name);
  if (c.mtu) w.putU32(IFLA_MTU, *c.mtu);
  if (c.address) w.putRaw(IFLA_ADDRESS, c.address->data(), c.address->size());
  if (c.netnsFd) w.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(*c.netnsFd));
  size_t li = w.nestBegin(IFLA_LINKINFO);
  w.putString(IFLA_INFO_KIND, c.kind);
  if (c.kind == "veth") {
    // drivers/net/veth.c veth_newlink: VETH_INFO_PEER holds a struct ifinfomsg followed by the
    // peer's own IFLA_* attributes (name, address, namespace, mtu).
    size_t data = w.nestBegin(IFLA_INFO_DATA);
    size_t peer = w.nestBegin(VETH_INFO_PEER);
    PutIfinfo(w, 0, 0, 0);
    if (!c.peerName.empty()) w.putString(IFLA_IFNAME, c.peerName);
    if (c.mtu) w.putU32(IFLA_MTU, *c.mtu);
    if (c.peerAddress) w.putRaw(IFLA_ADDRESS, c.peerAddress->data(), c.peerAddress->size());
    if (c.peerNetnsFd) w.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(*c.peerNetnsFd));
    w.nestEnd(peer);
    w.nestEnd(data);
  }
  w.nestEnd(li);
  w.end(m);
}

void EncodeDelete(nl::MessageWriter& w, const LinkRef& ref) {
  size_t m = w.begin(RTM_DELLINK, NLM_F_REQUEST);
  PutIfinfo(w, ref.index, 0, 0);
  PutRef(w, ref);
  w.end(m);
}

bool Decode(const uint8_t* msg, size_t len, LinkInfo* out, std::string* err) {
  if (len < nl::kNlmsgHdrLen) {
    *err = "link message shorter than a netlink header";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_type != RTM_NEWLINK && h.nlmsg_type != RTM_DELLINK) {
    *err = "not a link message (type " + std::to_string(h.nlmsg_type) + ")";
    return false;
  }
  if (h.nlmsg_len > len || h.nlmsg_len < nl::kNlmsgHdrLen + sizeof(ifinfomsg)) {
    *err = "link message of " + std::to_string(h.nlmsg_len) + " bytes has no room for struct ifinfomsg";
    return false;
  }
  const uint8_t* p = msg + nl::kNlmsgHdrLen;
  ifinfomsg ifi;
  std::memcpy(&ifi, p, sizeof ifi);
  out->msgType = h.nlmsg_type;
  out->index = static_cast<uint32_t>(ifi.ifi_index);
  out->type = ifi.ifi_type;
  out->flags = ifi.ifi_flags;
  size_t hdr = nl::Align4(sizeof ifi);
  nl::Attrs a(p + hdr, h.nlmsg_len - nl::kNlmsgHdrLen - hdr, IFLA_MAX, "RTM_NEWLINK");
  out->name = a.str(IFLA_IFNAME);
  if (a.has(IFLA_MTU)) out->mtu = a.u32(IFLA_MTU);
  if (a.has(IFLA_MIN_MTU)) out->minMtu = a.u32(IFLA_MIN_MTU);
  if (a.has(IFLA_MAX_MTU)) out->maxMtu = a.u32(IFLA_MAX_MTU);
  if (a.has(IFLA_TXQLEN)) out->txqlen = a.u32(IFLA_TXQLEN);
  if (a.has(IFLA_OPERSTATE)) out->operstate = a.u8(IFLA_OPERSTATE);
  if (a.has(IFLA_MASTER)) out->master = a.u32(IFLA_MASTER);
  if (a.has(IFLA_LINK)) out->link = a.u32(IFLA_LINK);
  if (a.has(IFLA_LINK_NETNSID)) out->linkNetnsId = a.s32(IFLA_LINK_NETNSID);
  if (a.has(IFLA_GROUP)) out->group = a.u32(IFLA_GROUP);
  if (a.has(IFLA_ADDRESS)) out->address = std::string(a.bytes(IFLA_ADDRESS));
  if (a.has(IFLA_BROADCAST)) out->broadcast = std::string(a.bytes(IFLA_BROADCAST));
  if (a.has(IFLA_PERM_ADDRESS)) out->permAddress = std::string(a.bytes(IFLA_PERM_ADDRESS));
  if (a.has(IFLA_QDISC)) out->qdisc = a.str(IFLA_QDISC);
  if (a.has(IFLA_IFALIAS)) out->ifalias = a.str(IFLA_IFALIAS);
  if (a.has(IFLA_LINKINFO)) {
    nl::Attrs li = a.nested(IFLA_LINKINFO, IFLA_INFO_MAX, "IFLA_LINKINFO");
    out->kind = li.str(IFLA_INFO_KIND);
    out->slaveKind = li.str(IFLA_INFO_SLAVE_KIND);
  }
  if (a.has(IFLA_STATS64)) {
    // struct rtnl_link_stats64 grew over time; the first ten u64 counters have always been there.
    std::string_view s = a.bytes(IFLA_STATS64, 10 * 8, true);
    if (s.size() >= 80) {
      uint64_t v[10];
      std::memcpy(v, s.data(), sizeof v);
      out->stats = LinkStats{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
    }
  }
  if (!a.ok()) {
    *err = a.error();
    return false;
  }
  return true;
}

}  // namespace lvskit::link
