// rtnetlink links (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK): pure encoders and a decoder.
// No I/O, no N-API. Layouts: include/uapi/linux/rtnetlink.h (struct ifinfomsg),
// include/uapi/linux/if_link.h (IFLA_*, IFLA_INFO_*), include/uapi/linux/veth.h (VETH_INFO_PEER).
// Semantics mirror net/core/rtnetlink.c: rtnl_newlink, rtnl_setlink (do_setlink), rtnl_dellink,
// rtnl_getlink and rtnl_fill_ifinfo.
//
// Every integer attribute here is host order (nla_put_u32 / nla_get_u32); the link-layer address
// is raw bytes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "codec/nlattr.h"

namespace lvskit::link {

// Identifies one link: by index when index > 0, else by name (IFLA_IFNAME, or IFLA_ALT_IFNAME is
// not used: rtnl_dev_get looks names up in both).
struct LinkRef {
  uint32_t index = 0;
  std::string name;
};

// RTM_GETLINK for one link. skipStats adds IFLA_EXT_MASK RTEXT_FILTER_SKIP_STATS (smaller reply).
void EncodeGet(nl::MessageWriter& w, const LinkRef& ref, bool skipStats);
// RTM_GETLINK dump of every link of the namespace.
void EncodeDump(nl::MessageWriter& w, bool skipStats);

// Changes to an existing link (RTM_NEWLINK without NLM_F_CREATE, as iproute2's `ip link set`).
// Unset optionals are left alone.
struct LinkChange {
  LinkRef ref;
  uint32_t flags = 0;   // ifi_flags: new values of the bits selected by `change`
  uint32_t change = 0;  // ifi_change: which IFF_* bits to change
  std::optional<uint32_t> mtu;
  std::optional<std::string> newName;
  std::optional<std::string> address;  // raw link-layer bytes
  std::optional<uint32_t> txqlen;
  std::optional<uint32_t> master;      // 0 = release from master (IFLA_MASTER 0)
  std::optional<int32_t> netnsFd;      // IFLA_NET_NS_FD: move the link there
  std::optional<uint32_t> netnsPid;    // IFLA_NET_NS_PID
};
void EncodeSet(nl::MessageWriter& w, const LinkChange& c);

// A new link (RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL). kind "veth" creates the pair with
// `peerName` (optionally in the namespace peerNetnsFd); "dummy" and other kinds without
// IFLA_INFO_DATA need only the name.
struct LinkCreate {
  std::string name;
  std::string kind;
  uint32_t flags = 0;  // e.g. IFF_UP to create it up
  std::optional<uint32_t> mtu;
  std::optional<std::string> address;
  std::optional<int32_t> netnsFd;  // create the link directly in that namespace
  // veth only
  std::string peerName;
  std::optional<std::string> peerAddress;
  std::optional<int32_t> peerNetnsFd;
};
void EncodeCreate(nl::MessageWriter& w, const LinkCreate& c);

// RTM_DELLINK. Deleting one end of a veth pair deletes both.
void EncodeDelete(nl::MessageWriter& w, const LinkRef& ref);

struct LinkStats {
  uint64_t rxPackets = 0, txPackets = 0, rxBytes = 0, txBytes = 0;
  uint64_t rxErrors = 0, txErrors = 0, rxDropped = 0, txDropped = 0, multicast = 0, collisions = 0;
};

// One RTM_NEWLINK / RTM_DELLINK message, decoded.
struct LinkInfo {
  uint16_t msgType = 0;  // RTM_NEWLINK or RTM_DELLINK
  uint32_t index = 0;
  uint16_t type = 0;     // ARPHRD_*
  uint32_t flags = 0;    // IFF_*
  std::string name;
  std::optional<uint32_t> mtu;
  std::optional<uint32_t> minMtu, maxMtu;
  std::optional<uint32_t> txqlen;
  std::optional<uint8_t> operstate;  // IF_OPER_*
  std::optional<uint32_t> master;
  std::optional<uint32_t> link;       // IFLA_LINK: the peer/lower link's index
  std::optional<int32_t> linkNetnsId; // IFLA_LINK_NETNSID: IFLA_LINK is in that namespace
  std::optional<std::string> address;   // raw bytes
  std::optional<std::string> broadcast; // raw bytes
  std::optional<std::string> permAddress;
  std::string kind;       // IFLA_INFO_KIND, empty for physical devices and lo
  std::string slaveKind;  // IFLA_INFO_SLAVE_KIND
  std::optional<uint32_t> group;
  std::optional<std::string> qdisc;
  std::optional<std::string> ifalias;
  std::optional<LinkStats> stats;
};

// Decodes one message. False (with err set) if it is not a link message or is malformed.
bool Decode(const uint8_t* msg, size_t len, LinkInfo* out, std::string* err);

}  // namespace lvskit::link
