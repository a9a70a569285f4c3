#include "families/nft.h"

#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>

namespace lvskit::nft {

namespace {

// Expression names as the kernel registers them (struct nft_expr_type .name in each nft_*.c).
struct KindName {
  ExprKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {ExprKind::Payload, "payload"}, {ExprKind::Cmp, "cmp"},       {ExprKind::Bitwise, "bitwise"},
    {ExprKind::Range, "range"},     {ExprKind::Meta, "meta"},     {ExprKind::Ct, "ct"},
    {ExprKind::Immediate, "immediate"}, {ExprKind::Lookup, "lookup"}, {ExprKind::Nat, "nat"},
    {ExprKind::Masq, "masq"},       {ExprKind::Counter, "counter"},
};

const char* NameOf(ExprKind k) {
  for (const auto& kn : kKindNames)
    if (kn.kind == k) return kn.name;
  return "";
}

ExprKind KindOf(const std::string& name) {
  for (const auto& kn : kKindNames)
    if (name == kn.name) return kn.kind;
  return ExprKind::Unknown;
}

constexpr size_t kNfgenLen = sizeof(nfgenmsg);
constexpr size_t kHdr = nl::kNlmsgHdrLen + kNfgenLen;  // attributes start here (4-byte aligned)

size_t Begin(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, uint8_t family) {
  size_t m = w.begin(MsgType(msg), nlFlags);
  nfgenmsg g{};
  g.nfgen_family = family;
  g.version = NFNETLINK_V0;
  g.res_id = 0;
  w.putHeader(&g, sizeof g);
  return m;
}

void PutBe64(nl::MessageWriter& w, uint16_t type, uint64_t v) {
  uint64_t be = htobe64(v);
  w.putRaw(type, &be, sizeof be);
}

// A nest holding one NFTA_DATA_VALUE (nft_data: include/uapi/linux/netfilter/nf_tables.h).
void PutData(nl::MessageWriter& w, uint16_t type, const std::string& bytes) {
  size_t n = w.nestBegin(type, true);
  w.putRaw(NFTA_DATA_VALUE, bytes.data(), bytes.size());
  w.nestEnd(n);
}

void EncodeExprData(nl::MessageWriter& w, const Expr& e) {
  switch (e.kind) {
    case ExprKind::Payload:  // nft_payload.c nft_payload_policy
      w.putBe32(NFTA_PAYLOAD_DREG, e.dreg);
      w.putBe32(NFTA_PAYLOAD_BASE, e.base);
      w.putBe32(NFTA_PAYLOAD_OFFSET, e.offset);
      w.putBe32(NFTA_PAYLOAD_LEN, e.len);
      break;
    case ExprKind::Cmp:  // nft_cmp.c nft_cmp_policy
      w.putBe32(NFTA_CMP_SREG, e.sreg);
      w.putBe32(NFTA_CMP_OP, e.op);
      PutData(w, NFTA_CMP_DATA, e.data);
      break;
    case ExprKind::Bitwise:  // nft_bitwise.c: NFT_BITWISE_BOOL, dreg = (sreg & mask) ^ xor
      w.putBe32(NFTA_BITWISE_SREG, e.sreg);
      w.putBe32(NFTA_BITWISE_DREG, e.dreg);
      w.putBe32(NFTA_BITWISE_LEN, e.len);
      PutData(w, NFTA_BITWISE_MASK, e.data);
      PutData(w, NFTA_BITWISE_XOR, e.data2);
      break;
    case ExprKind::Range:  // nft_range.c
      w.putBe32(NFTA_RANGE_SREG, e.sreg);
      w.putBe32(NFTA_RANGE_OP, e.op);
      PutData(w, NFTA_RANGE_FROM_DATA, e.data);
      PutData(w, NFTA_RANGE_TO_DATA, e.data2);
      break;
    case ExprKind::Meta:  // nft_meta.c: DREG (get) or SREG (set), never both
      w.putBe32(NFTA_META_KEY, e.key);
      if (e.sreg) w.putBe32(NFTA_META_SREG, e.sreg);
      else w.putBe32(NFTA_META_DREG, e.dreg);
      break;
    case ExprKind::Ct:  // nft_ct.c: NFTA_CT_DIRECTION is a u8 (IP_CT_DIR_ORIGINAL 0, REPLY 1)
      w.putBe32(NFTA_CT_KEY, e.key);
      if (e.sreg) w.putBe32(NFTA_CT_SREG, e.sreg);
      else w.putBe32(NFTA_CT_DREG, e.dreg);
      if (e.dir >= 0) w.putU8(NFTA_CT_DIRECTION, static_cast<uint8_t>(e.dir));
      break;
    case ExprKind::Immediate: {  // nft_immediate.c
      w.putBe32(NFTA_IMMEDIATE_DREG, e.dreg);
      if (e.isVerdict) {
        size_t d = w.nestBegin(NFTA_IMMEDIATE_DATA, true);
        size_t v = w.nestBegin(NFTA_DATA_VERDICT, true);
        w.putBe32(NFTA_VERDICT_CODE, static_cast<uint32_t>(e.verdict));
        if (!e.chain.empty()) w.putString(NFTA_VERDICT_CHAIN, e.chain);
        w.nestEnd(v);
        w.nestEnd(d);
      } else {
        PutData(w, NFTA_IMMEDIATE_DATA, e.data);
      }
      break;
    }
    case ExprKind::Lookup:  // nft_lookup.c: the set by name (names resolve inside a transaction)
      w.putString(NFTA_LOOKUP_SET, e.set);
      w.putBe32(NFTA_LOOKUP_SREG, e.sreg);
      if (e.flags) w.putBe32(NFTA_LOOKUP_FLAGS, e.flags);
      break;
    case ExprKind::Nat:  // nft_nat.c: the address registers imply NF_NAT_RANGE_MAP_IPS
      w.putBe32(NFTA_NAT_TYPE, e.natType);
      w.putBe32(NFTA_NAT_FAMILY, e.natFamily);
      if (e.regAddrMin) w.putBe32(NFTA_NAT_REG_ADDR_MIN, e.regAddrMin);
      if (e.regAddrMax) w.putBe32(NFTA_NAT_REG_ADDR_MAX, e.regAddrMax);
      if (e.regProtoMin) w.putBe32(NFTA_NAT_REG_PROTO_MIN, e.regProtoMin);
      if (e.regProtoMax) w.putBe32(NFTA_NAT_REG_PROTO_MAX, e.regProtoMax);
      if (e.hasFlags) w.putBe32(NFTA_NAT_FLAGS, e.flags);
      break;
    case ExprKind::Masq:  // nft_masq.c
      if (e.hasFlags) w.putBe32(NFTA_MASQ_FLAGS, e.flags);
      if (e.regProtoMin) w.putBe32(NFTA_MASQ_REG_PROTO_MIN, e.regProtoMin);
      if (e.regProtoMax) w.putBe32(NFTA_MASQ_REG_PROTO_MAX, e.regProtoMax);
      break;
    case ExprKind::Counter:  // nft_counter.c: starts at the given values (0)
      PutBe64(w, NFTA_COUNTER_BYTES, e.bytes);
      PutBe64(w, NFTA_COUNTER_PACKETS, e.packets);
      break;
    case ExprKind::Unknown:
      if (!e.raw.empty()) w.putHeader(e.raw.data(), e.raw.size());
      break;
  }
}

void EncodeExpr(nl::MessageWriter& w, const Expr& e) {
  size_t el = w.nestBegin(NFTA_LIST_ELEM, true);
  w.putString(NFTA_EXPR_NAME, e.kind == ExprKind::Unknown ? e.name : NameOf(e.kind));
  size_t d = w.nestBegin(NFTA_EXPR_DATA, true);
  EncodeExprData(w, e);
  w.nestEnd(d);
  w.nestEnd(el);
}

// ---- decoding

struct Msg {
  uint16_t type = 0;
  uint8_t family = 0;
  const uint8_t* attrs = nullptr;
  size_t attrsLen = 0;
};

bool Header(const uint8_t* msg, size_t len, Msg* m, std::string* err) {
  if (len < kHdr) {
    *err = "nf_tables message of " + std::to_string(len) + " bytes is shorter than nlmsghdr + nfgenmsg";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, msg, sizeof h);
  if (h.nlmsg_len < kHdr || h.nlmsg_len > len) {
    *err = "nf_tables message length " + std::to_string(h.nlmsg_len) + " does not fit " + std::to_string(len) + " bytes";
    return false;
  }
  m->type = h.nlmsg_type;
  nfgenmsg g;
  std::memcpy(&g, msg + nl::kNlmsgHdrLen, sizeof g);
  m->family = g.nfgen_family;
  m->attrs = msg + kHdr;
  m->attrsLen = h.nlmsg_len - kHdr;
  return true;
}

uint64_t Be64(const nl::Attrs& a, uint16_t type) {
  std::string_view b = a.bytes(type, 8);
  if (b.size() != 8) return 0;
  uint64_t v;
  std::memcpy(&v, b.data(), 8);
  return be64toh(v);
}

// The NFTA_DATA_VALUE inside nest `type` (cmp data, range bounds, masks, immediate values).
std::string DataValue(const nl::Attrs& a, uint16_t type, const char* where) {
  if (!a.has(type)) return {};
  nl::Attrs d = a.nested(type, NFTA_DATA_MAX, where);
  if (!d.has(NFTA_DATA_VALUE)) return {};
  std::string_view v = d.bytes(NFTA_DATA_VALUE);
  return std::string(v);
}

void DecodeExpr(const uint8_t* p, size_t len, std::shared_ptr<nl::DecodeError> sink, Expr* e) {
  nl::Attrs el(p, len, NFTA_EXPR_MAX, "NFTA_LIST_ELEM", sink);
  e->name = el.str(NFTA_EXPR_NAME);
  e->kind = KindOf(e->name);
  if (!el.has(NFTA_EXPR_DATA)) return;
  std::string_view rawData = el.bytes(NFTA_EXPR_DATA);
  switch (e->kind) {
    case ExprKind::Payload: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_PAYLOAD_MAX, "payload");
      e->dreg = a.be32(NFTA_PAYLOAD_DREG);
      e->base = a.be32(NFTA_PAYLOAD_BASE);
      e->offset = a.be32(NFTA_PAYLOAD_OFFSET);
      e->len = a.be32(NFTA_PAYLOAD_LEN);
      if (a.has(NFTA_PAYLOAD_SREG)) {  // payload set (mangling): not a form lvskit writes
        e->kind = ExprKind::Unknown;
        e->raw = std::string(rawData);
      }
      break;
    }
    case ExprKind::Cmp: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_CMP_MAX, "cmp");
      e->sreg = a.be32(NFTA_CMP_SREG);
      e->op = a.be32(NFTA_CMP_OP);
      e->data = DataValue(a, NFTA_CMP_DATA, "NFTA_CMP_DATA");
      break;
    }
    case ExprKind::Bitwise: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_BITWISE_MAX, "bitwise");
      e->sreg = a.be32(NFTA_BITWISE_SREG);
      e->dreg = a.be32(NFTA_BITWISE_DREG);
      e->len = a.be32(NFTA_BITWISE_LEN);
      e->op = a.be32(NFTA_BITWISE_OP);  // NFT_BITWISE_BOOL 0; shifts are reported raw
      e->data = DataValue(a, NFTA_BITWISE_MASK, "NFTA_BITWISE_MASK");
      e->data2 = DataValue(a, NFTA_BITWISE_XOR, "NFTA_BITWISE_XOR");
      if (e->op != 0) {
        e->kind = ExprKind::Unknown;
        e->raw = std::string(rawData);
      }
      break;
    }
    case ExprKind::Range: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_RANGE_MAX, "range");
      e->sreg = a.be32(NFTA_RANGE_SREG);
      e->op = a.be32(NFTA_RANGE_OP);
      e->data = DataValue(a, NFTA_RANGE_FROM_DATA, "NFTA_RANGE_FROM_DATA");
      e->data2 = DataValue(a, NFTA_RANGE_TO_DATA, "NFTA_RANGE_TO_DATA");
      break;
    }
    case ExprKind::Meta: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_META_MAX, "meta");
      e->key = a.be32(NFTA_META_KEY);
      e->dreg = a.be32(NFTA_META_DREG);
      e->sreg = a.be32(NFTA_META_SREG);
      break;
    }
    case ExprKind::Ct: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_CT_MAX, "ct");
      e->key = a.be32(NFTA_CT_KEY);
      e->dreg = a.be32(NFTA_CT_DREG);
      e->sreg = a.be32(NFTA_CT_SREG);
      if (a.has(NFTA_CT_DIRECTION)) e->dir = a.u8(NFTA_CT_DIRECTION);
      break;
    }
    case ExprKind::Immediate: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_IMMEDIATE_MAX, "immediate");
      e->dreg = a.be32(NFTA_IMMEDIATE_DREG);
      if (a.has(NFTA_IMMEDIATE_DATA)) {
        nl::Attrs d = a.nested(NFTA_IMMEDIATE_DATA, NFTA_DATA_MAX, "NFTA_IMMEDIATE_DATA");
        if (d.has(NFTA_DATA_VERDICT)) {
          nl::Attrs v = d.nested(NFTA_DATA_VERDICT, NFTA_VERDICT_MAX, "NFTA_DATA_VERDICT");
          e->isVerdict = true;
          e->verdict = static_cast<int32_t>(v.be32(NFTA_VERDICT_CODE));
          if (v.has(NFTA_VERDICT_CHAIN)) e->chain = v.str(NFTA_VERDICT_CHAIN);
        } else if (d.has(NFTA_DATA_VALUE)) {
          e->data = std::string(d.bytes(NFTA_DATA_VALUE));
        }
      }
      break;
    }
    case ExprKind::Lookup: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_LOOKUP_MAX, "lookup");
      e->set = a.str(NFTA_LOOKUP_SET);
      e->sreg = a.be32(NFTA_LOOKUP_SREG);
      e->dreg = a.be32(NFTA_LOOKUP_DREG);
      e->flags = a.be32(NFTA_LOOKUP_FLAGS);
      break;
    }
    case ExprKind::Nat: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_NAT_MAX, "nat");
      e->natType = a.be32(NFTA_NAT_TYPE);
      e->natFamily = a.be32(NFTA_NAT_FAMILY);
      e->regAddrMin = a.be32(NFTA_NAT_REG_ADDR_MIN);
      e->regAddrMax = a.be32(NFTA_NAT_REG_ADDR_MAX);
      e->regProtoMin = a.be32(NFTA_NAT_REG_PROTO_MIN);
      e->regProtoMax = a.be32(NFTA_NAT_REG_PROTO_MAX);
      e->hasFlags = a.has(NFTA_NAT_FLAGS);
      e->flags = a.be32(NFTA_NAT_FLAGS);
      break;
    }
    case ExprKind::Masq: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_MASQ_MAX, "masq");
      e->hasFlags = a.has(NFTA_MASQ_FLAGS);
      e->flags = a.be32(NFTA_MASQ_FLAGS);
      e->regProtoMin = a.be32(NFTA_MASQ_REG_PROTO_MIN);
      e->regProtoMax = a.be32(NFTA_MASQ_REG_PROTO_MAX);
      break;
    }
    case ExprKind::Counter: {
      nl::Attrs a = el.nested(NFTA_EXPR_DATA, NFTA_COUNTER_MAX, "counter");
      e->bytes = Be64(a, NFTA_COUNTER_BYTES);
      e->packets = Be64(a, NFTA_COUNTER_PACKETS);
      break;
    }
    case ExprKind::Unknown:
      e->raw = std::string(rawData);
      break;
  }
}

bool Finish(const nl::Attrs& a, std::string* err) {
  if (a.ok()) return true;
  *err = a.error();
  return false;
}

}  // namespace

void EncodeTable(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Table& t) {
  size_t m = Begin(w, msg, nlFlags, t.family);
  if (!t.name.empty()) w.putString(NFTA_TABLE_NAME, t.name);
  if (t.hasFlags) w.putBe32(NFTA_TABLE_FLAGS, t.flags);
  if (t.handle) PutBe64(w, NFTA_TABLE_HANDLE, t.handle);
  w.end(m);
}

void EncodeChain(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Chain& c) {
  size_t m = Begin(w, msg, nlFlags, c.family);
  w.putString(NFTA_CHAIN_TABLE, c.table);
  if (!c.name.empty()) w.putString(NFTA_CHAIN_NAME, c.name);
  if (c.handle) PutBe64(w, NFTA_CHAIN_HANDLE, c.handle);
  if (c.hasHook) {
    size_t h = w.nestBegin(NFTA_CHAIN_HOOK, true);
    w.putBe32(NFTA_HOOK_HOOKNUM, c.hooknum);
    w.putBe32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(c.priority));
    w.nestEnd(h);
  }
  if (c.hasPolicy) w.putBe32(NFTA_CHAIN_POLICY, c.policy);
  if (!c.type.empty()) w.putString(NFTA_CHAIN_TYPE, c.type);
  w.end(m);
}

void EncodeRule(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Rule& r) {
  size_t m = Begin(w, msg, nlFlags, r.family);
  w.putString(NFTA_RULE_TABLE, r.table);
  if (!r.chain.empty()) w.putString(NFTA_RULE_CHAIN, r.chain);
  if (r.hasHandle) PutBe64(w, NFTA_RULE_HANDLE, r.handle);
  if (r.hasPosition) PutBe64(w, NFTA_RULE_POSITION, r.position);
  if (!r.exprs.empty()) {
    size_t l = w.nestBegin(NFTA_RULE_EXPRESSIONS, true);
    for (const Expr& e : r.exprs) EncodeExpr(w, e);
    w.nestEnd(l);
  }
  if (!r.userdata.empty()) w.putRaw(NFTA_RULE_USERDATA, r.userdata.data(), r.userdata.size());
  w.end(m);
}

void EncodeSet(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const Set& s) {
  size_t m = Begin(w, msg, nlFlags, s.family);
  w.putString(NFTA_SET_TABLE, s.table);
  w.putString(NFTA_SET_NAME, s.name);
  if (msg == NFT_MSG_NEWSET) {
    w.putBe32(NFTA_SET_FLAGS, s.flags);
    w.putBe32(NFTA_SET_KEY_TYPE, s.keyType);
    w.putBe32(NFTA_SET_KEY_LEN, s.keyLen);
  }
  if (s.hasId) w.putBe32(NFTA_SET_ID, s.id);
  w.end(m);
}

void EncodeSetElems(nl::MessageWriter& w, uint8_t msg, uint16_t nlFlags, const SetElems& e) {
  size_t m = Begin(w, msg, nlFlags, e.family);
  w.putString(NFTA_SET_ELEM_LIST_TABLE, e.table);
  w.putString(NFTA_SET_ELEM_LIST_SET, e.set);
  size_t l = w.nestBegin(NFTA_SET_ELEM_LIST_ELEMENTS, true);
  for (const std::string& k : e.keys) {
    size_t el = w.nestBegin(NFTA_LIST_ELEM, true);
    PutData(w, NFTA_SET_ELEM_KEY, k);
    w.nestEnd(el);
  }
  w.nestEnd(l);
  w.end(m);
}

void EncodeDump(nl::MessageWriter& w, uint8_t msg, uint8_t family, const std::string& table,
                const std::string& name) {
  size_t m = Begin(w, msg, NLM_F_DUMP, family);
  // The table/chain/set name attributes share numbers 1 and 2 across GETRULE
  // (NFTA_RULE_TABLE/CHAIN), GETSET (NFTA_SET_TABLE) and GETSETELEM (NFTA_SET_ELEM_LIST_TABLE/SET),
  // GETCHAIN (NFTA_CHAIN_TABLE): nf_tables_api.c reads them as dump filters.
  if (!table.empty()) w.putString(1, table);
  if (!name.empty()) w.putString(2, name);
  w.end(m);
}

bool DecodeTable(const uint8_t* msg, size_t len, Table* out, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_TABLE_MAX, "NFT_MSG_NEWTABLE");
  out->family = m.family;
  out->name = a.str(NFTA_TABLE_NAME);
  out->hasFlags = a.has(NFTA_TABLE_FLAGS);
  out->flags = a.be32(NFTA_TABLE_FLAGS);
  out->use = a.be32(NFTA_TABLE_USE);
  out->handle = Be64(a, NFTA_TABLE_HANDLE);
  return Finish(a, err);
}

bool DecodeChain(const uint8_t* msg, size_t len, Chain* out, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_CHAIN_MAX, "NFT_MSG_NEWCHAIN");
  out->family = m.family;
  out->table = a.str(NFTA_CHAIN_TABLE);
  out->name = a.str(NFTA_CHAIN_NAME);
  out->handle = Be64(a, NFTA_CHAIN_HANDLE);
  if (a.has(NFTA_CHAIN_HOOK)) {
    nl::Attrs h = a.nested(NFTA_CHAIN_HOOK, NFTA_HOOK_MAX, "NFTA_CHAIN_HOOK");
    out->hasHook = true;
    out->hooknum = h.be32(NFTA_HOOK_HOOKNUM);
    out->priority = static_cast<int32_t>(h.be32(NFTA_HOOK_PRIORITY));
  }
  out->hasPolicy = a.has(NFTA_CHAIN_POLICY);
  out->policy = a.be32(NFTA_CHAIN_POLICY);
  out->type = a.str(NFTA_CHAIN_TYPE);
  out->use = a.be32(NFTA_CHAIN_USE);
  return Finish(a, err);
}

bool DecodeRule(const uint8_t* msg, size_t len, Rule* out, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_RULE_MAX, "NFT_MSG_NEWRULE");
  out->family = m.family;
  out->table = a.str(NFTA_RULE_TABLE);
  out->chain = a.str(NFTA_RULE_CHAIN);
  out->hasHandle = a.has(NFTA_RULE_HANDLE);
  out->handle = Be64(a, NFTA_RULE_HANDLE);
  out->hasPosition = a.has(NFTA_RULE_POSITION);
  out->position = Be64(a, NFTA_RULE_POSITION);
  if (a.has(NFTA_RULE_USERDATA)) out->userdata = std::string(a.bytes(NFTA_RULE_USERDATA));
  if (a.has(NFTA_RULE_EXPRESSIONS)) {
    nl::Attrs list = a.nested(NFTA_RULE_EXPRESSIONS, NFTA_LIST_MAX, "NFTA_RULE_EXPRESSIONS");
    list.forEach([&](uint16_t type, const uint8_t* p, size_t l) {
      if (type != NFTA_LIST_ELEM) return;
      Expr e;
      DecodeExpr(p, l, list.errorSink(), &e);
      out->exprs.push_back(std::move(e));
    });
  }
  return Finish(a, err);
}

bool DecodeRuleHandle(const uint8_t* msg, size_t len, uint64_t* handle, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_RULE_MAX, "NFT_MSG_NEWRULE");
  *handle = Be64(a, NFTA_RULE_HANDLE);
  return Finish(a, err);
}

bool DecodeSet(const uint8_t* msg, size_t len, Set* out, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_SET_MAX, "NFT_MSG_NEWSET");
  out->family = m.family;
  out->table = a.str(NFTA_SET_TABLE);
  out->name = a.str(NFTA_SET_NAME);
  out->flags = a.be32(NFTA_SET_FLAGS);
  out->keyType = a.be32(NFTA_SET_KEY_TYPE);
  out->keyLen = a.be32(NFTA_SET_KEY_LEN);
  out->hasId = a.has(NFTA_SET_ID);
  out->id = a.be32(NFTA_SET_ID);
  out->handle = Be64(a, NFTA_SET_HANDLE);
  return Finish(a, err);
}

bool DecodeSetElems(const uint8_t* msg, size_t len, SetElems* out, std::string* err) {
  Msg m;
  if (!Header(msg, len, &m, err)) return false;
  nl::Attrs a(m.attrs, m.attrsLen, NFTA_SET_ELEM_LIST_MAX, "NFT_MSG_NEWSETELEM");
  out->family = m.family;
  out->table = a.str(NFTA_SET_ELEM_LIST_TABLE);
  out->set = a.str(NFTA_SET_ELEM_LIST_SET);
  if (a.has(NFTA_SET_ELEM_LIST_ELEMENTS)) {
    nl::Attrs list = a.nested(NFTA_SET_ELEM_LIST_ELEMENTS, NFTA_LIST_MAX, "NFTA_SET_ELEM_LIST_ELEMENTS");
    list.forEach([&](uint16_t type, const uint8_t* p, size_t l) {
      if (type != NFTA_LIST_ELEM) return;
      nl::Attrs el(p, l, NFTA_SET_ELEM_MAX, "NFTA_LIST_ELEM", list.errorSink());
      out->keys.push_back(DataValue(el, NFTA_SET_ELEM_KEY, "NFTA_SET_ELEM_KEY"));
    });
  }
  return Finish(a, err);
}

}  // namespace lvskit::nft
