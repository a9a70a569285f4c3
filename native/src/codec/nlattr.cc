#include "codec/nlattr.h"

#include <arpa/inet.h>

namespace lvskit::nl {

size_t MessageWriter::begin(uint16_t type, uint16_t flags) {
  size_t off = buf_.size();
  buf_.resize(off + kNlmsgHdrLen, 0);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(kNlmsgHdrLen);
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  std::memcpy(buf_.data() + off, &h, sizeof h);
  return off;
}

void MessageWriter::end(size_t msgOffset) {
  uint32_t len = static_cast<uint32_t>(buf_.size() - msgOffset);
  std::memcpy(buf_.data() + msgOffset + offsetof(nlmsghdr, nlmsg_len), &len, sizeof len);
  ++count_;
}

void MessageWriter::abandon(size_t msgOffset) { buf_.resize(msgOffset); }

void MessageWriter::putHeader(const void* data, size_t len) {
  size_t off = buf_.size();
  buf_.resize(off + Align4(len), 0);
  if (len) std::memcpy(buf_.data() + off, data, len);
}

void MessageWriter::putGenlHeader(uint8_t cmd, uint8_t version) {
  // struct genlmsghdr { u8 cmd; u8 version; u16 reserved; } (include/uapi/linux/genetlink.h)
  uint8_t h[4] = {cmd, version, 0, 0};
  putHeader(h, sizeof h);
}

void MessageWriter::putRaw(uint16_t type, const void* data, size_t len) {
  size_t off = buf_.size();
  buf_.resize(off + kNlaHdrLen + Align4(len), 0);
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(kNlaHdrLen + len);
  a.nla_type = type;
  std::memcpy(buf_.data() + off, &a, sizeof a);
  if (len) std::memcpy(buf_.data() + off + kNlaHdrLen, data, len);
}

void MessageWriter::putBe16(uint16_t type, uint16_t hostValue) {
  uint16_t v = htons(hostValue);
  putRaw(type, &v, 2);
}

void MessageWriter::putBe32(uint16_t type, uint32_t hostValue) {
  uint32_t v = htonl(hostValue);
  putRaw(type, &v, 4);
}

void MessageWriter::putString(uint16_t type, std::string_view s) {
  size_t off = buf_.size();
  size_t len = s.size() + 1;
  buf_.resize(off + kNlaHdrLen + Align4(len), 0);
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(kNlaHdrLen + len);
  a.nla_type = type;
  std::memcpy(buf_.data() + off, &a, sizeof a);
  if (!s.empty()) std::memcpy(buf_.data() + off + kNlaHdrLen, s.data(), s.size());
}

size_t MessageWriter::nestBegin(uint16_t type, bool flagNested) {
  size_t off = buf_.size();
  buf_.resize(off + kNlaHdrLen, 0);
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(kNlaHdrLen);
  a.nla_type = static_cast<uint16_t>(type | (flagNested ? NLA_F_NESTED : 0));
  std::memcpy(buf_.data() + off, &a, sizeof a);
  return off;
}

void MessageWriter::nestEnd(size_t token) {
  uint16_t len = static_cast<uint16_t>(buf_.size() - token);
  std::memcpy(buf_.data() + token + offsetof(nlattr, nla_len), &len, sizeof len);
}

size_t MessageWriter::reserve(size_t len) {
  size_t off = buf_.size();
  buf_.resize(off + Align4(len), 0);
  return off;
}

bool MessageIterator::next(MessageView& out) {
  if (left_ < sizeof(nlmsghdr)) {
    if (left_ != 0 && error_.empty())
      error_ = "netlink datagram has " + std::to_string(left_) + " trailing bytes";
    return false;
  }
  nlmsghdr h;
  std::memcpy(&h, p_, sizeof h);
  if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > left_) {
    error_ = "netlink message length " + std::to_string(h.nlmsg_len) + " does not fit the " +
             std::to_string(left_) + " bytes left in the datagram";
    left_ = 0;
    return false;
  }
  out.hdr = reinterpret_cast<const nlmsghdr*>(p_);
  out.payload = p_ + kNlmsgHdrLen;
  out.payloadLen = h.nlmsg_len >= kNlmsgHdrLen ? h.nlmsg_len - kNlmsgHdrLen : 0;
  size_t step = Align4(h.nlmsg_len);
  if (step >= left_) {
    left_ = 0;
  } else {
    p_ += step;
    left_ -= step;
  }
  return true;
}

Attrs::Attrs(const uint8_t* data, size_t len, uint16_t maxType, const char* where,
             std::shared_ptr<DecodeError> err)
    : base_(data), baseLen_(len), where_(where), err_(err ? std::move(err) : std::make_shared<DecodeError>()) {
  slots_.resize(static_cast<size_t>(maxType) + 1);
  const uint8_t* p = data;
  size_t left = len;
  while (left >= kNlaHdrLen) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < kNlaHdrLen || a.nla_len > left) {
      fail("attribute of type " + std::to_string(a.nla_type & kNlaTypeMask) + " claims " +
           std::to_string(a.nla_len) + " bytes with " + std::to_string(left) + " left");
      return;
    }
    uint16_t type = a.nla_type & kNlaTypeMask;
    // Types above maxType are newer kernel attributes this build does not know: skip them,
    // as the kernel's own parsers skip unknown attributes.
    if (type <= maxType) {
      slots_[type].data = p + kNlaHdrLen;
      slots_[type].len = static_cast<uint16_t>(a.nla_len - kNlaHdrLen);
    }
    size_t step = Align4(a.nla_len);
    if (step >= left) break;
    p += step;
    left -= step;
  }
}

const std::string& Attrs::error() const {
  static const std::string kNone;
  return err_ ? err_->message : kNone;
}

void Attrs::fail(const std::string& msg) const {
  if (err_) err_->set(std::string(where_) + ": " + msg);
}

bool Attrs::sized(uint16_t type, size_t want, const char* what) const {
  if (!has(type)) return false;
  if (slots_[type].len != want) {
    fail("attribute " + std::to_string(type) + " is " + std::to_string(slots_[type].len) +
         " bytes, expected a " + what + " of " + std::to_string(want));
    return false;
  }
  return true;
}

uint8_t Attrs::u8(uint16_t type, uint8_t def) const {
  if (!sized(type, 1, "u8")) return def;
  return slots_[type].data[0];
}

uint16_t Attrs::u16(uint16_t type, uint16_t def) const {
  if (!sized(type, 2, "u16")) return def;
  uint16_t v;
  std::memcpy(&v, slots_[type].data, 2);
  return v;
}

uint32_t Attrs::u32(uint16_t type, uint32_t def) const {
  if (!sized(type, 4, "u32")) return def;
  uint32_t v;
  std::memcpy(&v, slots_[type].data, 4);
  return v;
}

int32_t Attrs::s32(uint16_t type, int32_t def) const {
  if (!sized(type, 4, "s32")) return def;
  int32_t v;
  std::memcpy(&v, slots_[type].data, 4);
  return v;
}

uint64_t Attrs::u64(uint16_t type, uint64_t def) const {
  if (!sized(type, 8, "u64")) return def;
  uint64_t v;
  std::memcpy(&v, slots_[type].data, 8);
  return v;
}

uint16_t Attrs::be16(uint16_t type, uint16_t def) const {
  if (!sized(type, 2, "be16")) return def;
  uint16_t v;
  std::memcpy(&v, slots_[type].data, 2);
  return ntohs(v);
}

uint32_t Attrs::be32(uint16_t type, uint32_t def) const {
  if (!sized(type, 4, "be32")) return def;
  uint32_t v;
  std::memcpy(&v, slots_[type].data, 4);
  return ntohl(v);
}

uint64_t Attrs::uint(uint16_t type, uint64_t def) const {
  if (!has(type)) return def;
  if (slots_[type].len == 4) return u32(type);
  if (slots_[type].len == 8) return u64(type);
  fail("attribute " + std::to_string(type) + " is " + std::to_string(slots_[type].len) +
       " bytes, expected a u32 or u64");
  return def;
}

std::string Attrs::str(uint16_t type) const {
  if (!has(type)) return {};
  const char* s = reinterpret_cast<const char*>(slots_[type].data);
  size_t n = 0;
  while (n < slots_[type].len && s[n] != '\0') ++n;
  return std::string(s, n);
}

std::string_view Attrs::bytes(uint16_t type, size_t exact, bool atLeast) const {
  if (!has(type)) return {};
  size_t len = slots_[type].len;
  if (exact && (atLeast ? len < exact : len != exact)) {
    fail("attribute " + std::to_string(type) + " is " + std::to_string(len) + " bytes, expected " +
         (atLeast ? "at least " : "") + std::to_string(exact));
    return {};
  }
  return std::string_view(reinterpret_cast<const char*>(slots_[type].data), len);
}

Attrs Attrs::nested(uint16_t type, uint16_t maxType, const char* where) const {
  if (!has(type)) return Attrs(nullptr, 0, maxType, where, err_);
  return Attrs(slots_[type].data, slots_[type].len, maxType, where, err_);
}

}  // namespace lvskit::nl
