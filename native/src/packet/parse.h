// Packet header parsing: one raw packet (given its link type) -> the flow the kernel sees.
//
// Pure C++, no allocation, every read bounds-checked against the captured length (and the IP
// datagram's own length: bytes past it are link padding, which the kernel trims in ip_rcv_core /
// ip6_rcv_core before routing).
//
// What is extracted mirrors, as of Linux 6.18:
//  - net/core/flow_dissector.c __skb_flow_dissect() with FLOW_DISSECTOR_F_STOP_AT_ENCAP (the
//    flags fib_multipath_hash() / rt6_multipath_hash() pass): the "dissector" flow.
//      * IPv4: ihl < 5 is bad; options are skipped by ihl. Any fragment (first or later, since
//        FLOW_DISSECTOR_F_PARSE_1ST_FRAG is not passed) keeps ip_proto but gets no ports.
//      * IPv6: hop-by-hop (0), routing (43) and destination options (60) are skipped by
//        (hdrlen + 1) * 8; a fragment header (44) sets ip_proto to its nexthdr and stops (no
//        ports, first fragment included). AH (51) and ESP (50) are NOT skipped: the dissector
//        takes their SPI as the ports (include/linux/in.h proto_ports_offset: TCP, UDP, DCCP,
//        ESP, SCTP, UDP-Lite at offset 0, AH at 4; other protocols have ports 0). The flow
//        label is ntohl(ip6_flowlabel(iph)) (low 20 bits).
//      * IPIP (4) / IPv6 (41) stop at the outer header (STOP_AT_ENCAP); GRE is not followed.
//      * At most MAX_FLOW_DISSECT_HDRS (15) extension headers; past that the dissection stops
//        with the extension header's number as ip_proto and no ports, as the kernel does.
//      * A truncated L4 header gives ports 0 (__skb_flow_get_ports), reported kTruncatedL4.
//  - net/ipv4/route.c ip_multipath_l3_keys(): the "l3" key of multipath policy 0 (and 2 on a
//    plain packet). For an ICMP error (icmp_is_err: types 3, 4, 5, 11, 12) that is not a
//    non-first fragment, the addresses are the quoted (inner) header's, read without any
//    validation of the inner header (20 bytes at ihl*4 + 8 suffice); otherwise the outer ones.
//  - net/ipv6/route.c ip6_multipath_l3_keys(): for an ICMPv6 error (icmpv6_is_err: types 1..4)
//    directly after the IPv6 header (no extension headers), the inner header's addresses, flow
//    label and nexthdr (40 bytes at 48 suffice); otherwise the outer header's addresses, flow
//    label and its first nexthdr, as read from the header (not the L4 protocol after extension
//    headers: that is what the kernel does when no FIB rule needs early dissection).
//  - ICMP/ICMPv6 errors additionally get the quoted packet parsed as a flow of its own (the
//    "inner" flow: addresses, protocol after extension headers, ports when quoted), which is
//    the flow IPVS (ip_vs_in_icmp) and conntrack relate the error to.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lvskit::packet {

// Link-layer header types (LINKTYPE_* of the pcap/pcapng spec; same values as DLT_* for these).
enum LinkType : uint32_t {
  kLinkNull = 0,        // BSD loopback: 4-byte address family in the capturing host's order
  kLinkEthernet = 1,
  kLinkRaw = 101,       // raw IP, version from the first nibble
  kLinkLinuxSll = 113,  // Linux cooked capture v1
  kLinkIpv4 = 228,
  kLinkIpv6 = 229,
  kLinkLinuxSll2 = 276,
};

// Per-packet result. Statuses below kFirstNoFlow come with a flow (addresses were read).
enum Status : uint8_t {
  kOk = 0,            // full flow (ports for the protocols the kernel takes ports from)
  kFragment = 1,      // IP fragment: L3 flow and ip_proto, ports 0 (as the kernel hashes it)
  kTruncatedL4 = 2,   // IP header complete, L4 header cut short: ports 0 (as the kernel)
  kFirstNoFlow = 3,
  kTruncated = 3,     // cut before the IP addresses (link, VLAN or IP header incomplete)
  kMalformed = 4,     // IP version mismatch, IPv4 ihl < 5 or total length < ihl*4
  kNotIp = 5,         // a link-layer payload that is not IPv4/IPv6 (ARP, LLDP, 802.3 LLC...)
  kUnsupportedLink = 6,  // link type not handled
  kStatusCount = 7,
};

// flags bits.
enum : uint8_t {
  kFlagFirstFragment = 1u << 0,  // the fragment at offset 0 (its L4 header is present)
  kFlagIcmpError = 1u << 1,      // ICMP (v4 types 3,4,5,11,12) / ICMPv6 (1..4) error
  kFlagInner = 1u << 2,          // the quoted packet parsed: inner* fields are valid
  kFlagL3Inner = 1u << 3,        // the policy-0 key took the quoted header (kernel rule met)
  kFlagVlan = 1u << 4,           // at least one 802.1Q/802.1ad tag; vlan = the outer VID
  kFlagIpOptions = 1u << 5,      // IPv4 options / IPv6 extension headers were skipped
  kFlagEncap = 1u << 6,          // IPIP / IPv6-in-IP / GRE: dissection stopped at the outer header
  kFlagL4Bad = 1u << 7,          // inner header present but not parseable (inner flow partial)
};

// One parsed packet. Addresses as host-order numbers (IPv4 in [0]; IPv6 as 4 words, most
// significant first), ports host-order, flowLabel low 20 bits.
struct Flow {
  uint8_t status = kTruncated;
  uint8_t family = 0;  // 4, 6, or 0 when no flow
  uint8_t flags = 0;
  uint8_t proto = 0;   // dissector ip_proto
  uint16_t sport = 0, dport = 0;
  uint16_t vlan = 0;
  uint32_t flowLabel = 0;
  uint32_t saddr[4] = {0, 0, 0, 0}, daddr[4] = {0, 0, 0, 0};
  // ip_multipath_l3_keys / ip6_multipath_l3_keys.
  uint32_t l3Saddr[4] = {0, 0, 0, 0}, l3Daddr[4] = {0, 0, 0, 0};
  uint8_t l3Proto = 0;
  uint32_t l3FlowLabel = 0;
  // The quoted packet of an ICMP error (valid with kFlagInner).
  uint8_t innerProto = 0;
  uint16_t innerSport = 0, innerDport = 0;
  uint32_t innerFlowLabel = 0;
  uint32_t innerSaddr[4] = {0, 0, 0, 0}, innerDaddr[4] = {0, 0, 0, 0};
};

// Parses one packet of `len` captured bytes.
Flow ParsePacket(const uint8_t* data, size_t len, uint32_t linkType);

// Struct-of-arrays output of the batch parser, split by family. Every pointer must hold
// `capacity` entries (addresses 1 word per flow for IPv4, 4 for IPv6); all are required.
struct FlowsOutV4 {
  uint32_t *saddr, *daddr, *index, *l3Saddr, *l3Daddr, *innerSaddr, *innerDaddr;
  uint16_t *sport, *dport, *vlan, *innerSport, *innerDport;
  uint8_t *proto, *flags, *innerProto;
};
struct FlowsOutV6 {
  uint32_t *saddr, *daddr, *index, *flowLabel, *l3Saddr, *l3Daddr, *l3FlowLabel, *innerSaddr,
      *innerDaddr, *innerFlowLabel;
  uint16_t *sport, *dport, *vlan, *innerSport, *innerDport;
  uint8_t *proto, *flags, *l3Proto, *innerProto;
};

struct BatchResult {
  size_t v4 = 0, v6 = 0;
  uint32_t counts[kStatusCount] = {};
};

// Parses n packets: packet i is buf[offsets[i] .. offsets[i] + lengths[i]) (the caller checks
// that each range lies inside the buffer) with link type linkTypes[i] (or `linkType` when
// linkTypes is null). status[i] receives each packet's Status; flows go to v4 / v6 in packet
// order with index[] = the packet number. No allocation.
BatchResult ParseBatch(const uint8_t* buf, const uint32_t* offsets, const uint32_t* lengths,
                       const uint16_t* linkTypes, uint32_t linkType, size_t n, uint8_t* status,
                       const FlowsOutV4& v4, const FlowsOutV6& v6);

}  // namespace lvskit::packet
