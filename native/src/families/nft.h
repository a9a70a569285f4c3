// nf_tables over nfnetlink (NFNL_SUBSYS_NFTABLES): pure encoders and decoders of tables, chains,
// rules (as expression lists), named sets and set elements. No I/O, no N-API.
//
// Mirrors include/uapi/linux/netfilter/nf_tables.h (NFT_MSG_*, NFTA_*), nfnetlink.h (struct
// nfgenmsg, NFNL_SUBSYS_NFTABLES) and net/netfilter/nf_tables_api.c, nft_payload.c, nft_cmp.c,
// nft_bitwise.c, nft_range.c, nft_meta.c, nft_ct.c, nft_immediate.c, nft_lookup.c, nft_nat.c,
// nft_masq.c, nft_counter.c (each expression's policy and dump).
//
// Wire facts encoded here, once:
//  - Every message is nlmsghdr + nfgenmsg { nfgen_family = NFPROTO_*, version = NFNETLINK_V0,
//    res_id = 0 } + attributes; the message type is (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*.
//  - Every NLA_U32 of nf_tables is big-endian (the kernel reads ntohl(nla_get_be32)), handles and
//    positions are big-endian u64 (be64_to_cpu), counters big-endian u64. The chain priority is a
//    big-endian s32. Register numbers, ops, keys: big-endian u32. NFTA_CT_DIRECTION is a u8.
//  - Data (cmp, range, bitwise masks, immediate values, set keys) travels as raw bytes in a nest
//    NFTA_DATA_VALUE, in the byte order of the packet field it is compared with (addresses and
//    ports big-endian) or of the kernel value (meta mark, ct state: host order u32). Verdicts are
//    a nest NFTA_DATA_VERDICT { NFTA_VERDICT_CODE be32 (NF_ACCEPT 1, NF_DROP 0, NFT_JUMP -3,
//    NFT_GOTO -4, NFT_RETURN -5), NFTA_VERDICT_CHAIN }.
//  - Nests are sent with NLA_F_NESTED (as nft does); the decoder ignores the flag.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "codec/nlattr.h"

namespace lvskit::nft {

// nfnetlink message type of an nf_tables message (include/uapi/linux/netfilter/nfnetlink.h
// NFNL_SUBSYS_NFTABLES = 10).
constexpr uint16_t kSubsysNftables = 10;
constexpr uint16_t MsgType(uint8_t nftMsg) { return static_cast<uint16_t>((kSubsysNftables << 8) | nftMsg); }

struct Table {
  uint8_t family = 0;  // NFPROTO_*
  std::string name;
  bool hasFlags = false;
  uint32_t flags = 0;  // NFT_TABLE_F_*
  uint64_t handle = 0;
  uint32_t use = 0;    // decoded: chains in the table
};

struct Chain {
  uint8_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  bool hasHook = false;  // a base chain
  uint32_t hooknum = 0;  // NF_INET_*
  int32_t priority = 0;
  std::string type;      // "filter", "route", "nat"
  bool hasPolicy = false;
  uint32_t policy = 0;   // NF_ACCEPT 1, NF_DROP 0
  uint32_t use = 0;
};

enum class ExprKind : uint8_t {
  Unknown = 0,
  Payload = 1,
  Cmp = 2,
  Bitwise = 3,
  Range = 4,
  Meta = 5,
  Ct = 6,
  Immediate = 7,
  Lookup = 8,
  Nat = 9,
  Masq = 10,
  Counter = 11,
};

// One expression. Which fields count depends on kind (see nft.cc EncodeExpr); 0 registers mean
// "absent" for the optional ones (NFT_REG_VERDICT is 0, which only immediate's dreg uses).
struct Expr {
  ExprKind kind = ExprKind::Unknown;
  std::string name;  // the kernel's expression name ("payload", ...)
  uint32_t base = 0, offset = 0, len = 0;  // payload; len also bitwise
  uint32_t dreg = 0, sreg = 0;
  uint32_t op = 0;                         // cmp (NFT_CMP_*), range (NFT_RANGE_*)
  uint32_t key = 0;                        // meta (NFT_META_*), ct (NFT_CT_*)
  int32_t dir = -1;                        // ct direction, -1 = absent
  bool isVerdict = false;                  // immediate: data is a verdict
  int32_t verdict = 0;                     // immediate verdict code
  std::string chain;                       // immediate jump/goto target
  std::string data, data2;                 // cmp data | range from,to | bitwise mask,xor | immediate value
  std::string set;                         // lookup set name
  uint32_t flags = 0;                      // lookup, nat, masq flags
  bool hasFlags = false;
  uint32_t natType = 0, natFamily = 0;     // NFT_NAT_SNAT/DNAT, NFPROTO_*
  uint32_t regAddrMin = 0, regAddrMax = 0, regProtoMin = 0, regProtoMax = 0;
  uint64_t packets = 0, bytes = 0;         // counter
  std::string raw;                         // Unknown: NFTA_EXPR_DATA as sent by the kernel
};

struct Rule {
  uint8_t family = 0;
  std::string table, chain;
  bool hasHandle = false;
  uint64_t handle = 0;
  bool hasPosition = false;
  uint64_t position = 0;  // insert after (NLM_F_APPEND) / before this handle
  std::vector<Expr> exprs;
  std::string userdata;
};

struct Set {
  uint8_t family = 0;
  std::string table, name;
  uint32_t flags = 0;    // NFT_SET_*
  uint32_t keyType = 0;  // nftables' datatype number: informational for the kernel, read by nft
  uint32_t keyLen = 0;
  bool hasId = false;
  uint32_t id = 0;       // NFTA_SET_ID: names the set within one transaction
  uint64_t handle = 0;
};

struct SetElems {
  uint8_t family = 0;
  std::string table, set;
  std::vector<std::string> keys;  // raw key bytes (NFTA_SET_ELEM_KEY / NFTA_DATA_VALUE)
};

// Encoders. `msg` is NFT_MSG_*, nlFlags the netlink flags (NLM_F_CREATE, NLM_F_EXCL,
// NLM_F_APPEND, NLM_F_ECHO ...). DEL* messages carry only the identifying attributes given.
void EncodeTable(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Table& t);
void EncodeChain(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Chain& c);
void EncodeRule(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Rule& r);
void EncodeSet(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Set& s);
void EncodeSetElems(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const SetElems& e);
// A GET* dump of `family` (NFPROTO_UNSPEC = all), narrowed to a table and a chain or set when
// given (GETRULE: NFTA_RULE_TABLE/CHAIN, GETSETELEM needs both table and set).
void EncodeDump(nl::MessageWriter& w, uint8_t msg, uint8_t family, const std::string& table,
                const std::string& name);

// Decoders of one whole message (nlmsghdr included). False with *err set on malformed input.
// `msgOut` receives the NFT_MSG_* of the message.
bool DecodeTable(const uint8_t* msg, size_t len, Table* out, std::string* err);
bool DecodeChain(const uint8_t* msg, size_t len, Chain* out, std::string* err);
bool DecodeRule(const uint8_t* msg, size_t len, Rule* out, std::string* err);
bool DecodeSet(const uint8_t* msg, size_t len, Set* out, std::string* err);
bool DecodeSetElems(const uint8_t* msg, size_t len, SetElems* out, std::string* err);
// Only the handle of a NEWRULE message (0 when absent), skipping the expressions.
bool DecodeRuleHandle(const uint8_t* msg, size_t len, uint64_t* handle, std::string* err);

}  // namespace lvskit::nft
