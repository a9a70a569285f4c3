// Netlink message and attribute codec: pure, no I/O, no N-API.
//
// Mirrors include/uapi/linux/netlink.h (NLMSG_ALIGN, NLA_ALIGN, NLA_HDRLEN, NLA_F_NESTED) and the
// helpers of include/net/netlink.h. Every multi-byte field is written in the byte order the caller
// names: putU16/putU32/putU64 are host order (what the kernel's nla_get_u16 etc. read), putBe16 and
// putBe32 take a host value and write it big-endian (nla_get_be16: IPVS ports, IPv4 netmasks).
//
// Invariants:
//  - MessageWriter always holds a sequence of complete, 4-byte aligned netlink messages once end()
//    has been called for every begin(); nlmsg_seq and nlmsg_pid are left 0 for the transport.
//  - Attrs never reads outside the bytes it was given; a malformed attribute or a getter asked for
//    the wrong size records a sticky error ("IPVS_SVC: attribute 4 is 3 bytes, expected 2") and
//    returns the default. Decoders check ok() once at the end.
#pragma once
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lvskit::nl {

constexpr size_t Align4(size_t n) { return (n + 3) & ~static_cast<size_t>(3); }
constexpr size_t kNlmsgHdrLen = Align4(sizeof(nlmsghdr));  // NLMSG_HDRLEN
constexpr size_t kNlaHdrLen = Align4(sizeof(nlattr));      // NLA_HDRLEN
constexpr uint16_t kNlaTypeMask = static_cast<uint16_t>(NLA_TYPE_MASK);  // strips NLA_F_NESTED/NET_BYTEORDER

// Builds a sequence of netlink messages in one contiguous buffer, ready for one or more sendmsg.
class MessageWriter {
 public:
  // Starts a message and returns its offset in bytes(). Nest begin/end pairs inside.
  size_t begin(uint16_t type, uint16_t flags);
  // Finishes the message started at `msgOffset` (sets nlmsg_len) and counts it.
  void end(size_t msgOffset);
  // Abandons the message started at `msgOffset` (drops its bytes), e.g. after a validation error.
  void abandon(size_t msgOffset);

  // Appends a fixed family header (genlmsghdr, rtmsg, ifinfomsg...), zero-padded to 4 bytes.
  void putHeader(const void* data, size_t len);
  void putGenlHeader(uint8_t cmd, uint8_t version);

  void putRaw(uint16_t type, const void* data, size_t len);
  void putFlag(uint16_t type) { putRaw(type, nullptr, 0); }
  void putU8(uint16_t type, uint8_t v) { putRaw(type, &v, 1); }
  void putU16(uint16_t type, uint16_t v) { putRaw(type, &v, 2); }
  void putU32(uint16_t type, uint32_t v) { putRaw(type, &v, 4); }
  void putS32(uint16_t type, int32_t v) { putRaw(type, &v, 4); }
  void putU64(uint16_t type, uint64_t v) { putRaw(type, &v, 8); }
  void putBe16(uint16_t type, uint16_t hostValue);
  void putBe32(uint16_t type, uint32_t hostValue);
  // NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it).
  void putString(uint16_t type, std::string_view s);

  // Nested attribute: returns a token for nestEnd. `flagNested` sets NLA_F_NESTED (rtnetlink
  // accepts it everywhere; IPVS's old policy parser does too).
  size_t nestBegin(uint16_t type, bool flagNested = false);
  void nestEnd(size_t token);

  // Reserve raw space inside the current message (e.g. rtnexthop arrays); returns offset.
  size_t reserve(size_t len);

  uint8_t* data() { return buf_.data(); }
  const uint8_t* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }
  size_t messageCount() const { return count_; }
  void clear() {
    buf_.clear();
    count_ = 0;
  }

 private:
  std::vector<uint8_t> buf_;
  size_t count_ = 0;
};

// A bounds-checked view of one netlink message inside a buffer.
struct MessageView {
  const nlmsghdr* hdr = nullptr;
  const uint8_t* payload = nullptr;  // after the nlmsghdr
  size_t payloadLen = 0;
};

// Iterates the messages of a datagram. Stops (and sets error) on a header that lies about its
// length; never reads past `len`.
class MessageIterator {
 public:
  MessageIterator(const uint8_t* data, size_t len) : p_(data), left_(len) {}
  bool next(MessageView& out);
  const std::string& error() const { return error_; }

 private:
  const uint8_t* p_;
  size_t left_;
  std::string error_;
};

// Shared sticky error for one decode: nested Attrs report into the same sink.
struct DecodeError {
  std::string message;
  bool ok() const { return message.empty(); }
  void set(std::string m) {
    if (message.empty()) message = std::move(m);
  }
};

// Attributes of one message (or one nest), indexed by type for O(1) lookup. Later duplicates of
// a type win, as in the kernel's nla_parse. Iterate in order with forEach for arrays of nests.
class Attrs {
 public:
  Attrs() = default;
  // `where` names the context for errors, e.g. "IPVS_CMD_ATTR_SERVICE".
  Attrs(const uint8_t* data, size_t len, uint16_t maxType, const char* where,
        std::shared_ptr<DecodeError> err = nullptr);

  bool has(uint16_t type) const { return type < slots_.size() && slots_[type].data != nullptr; }
  size_t length(uint16_t type) const { return has(type) ? slots_[type].len : 0; }

  uint8_t u8(uint16_t type, uint8_t def = 0) const;
  uint16_t u16(uint16_t type, uint16_t def = 0) const;
  uint32_t u32(uint16_t type, uint32_t def = 0) const;
  int32_t s32(uint16_t type, int32_t def = 0) const;
  uint64_t u64(uint16_t type, uint64_t def = 0) const;
  uint16_t be16(uint16_t type, uint16_t def = 0) const;  // returns the host value
  uint32_t be32(uint16_t type, uint32_t def = 0) const;  // returns the host value
  // u32 or u64: IPVS stats and some rtnetlink counters changed width across kernels.
  uint64_t uint(uint16_t type, uint64_t def = 0) const;
  std::string str(uint16_t type) const;  // stops at the first NUL
  // Raw bytes; exact==0 accepts any length, else the length must equal `exact` (or be >=
  // `exact` when atLeast is true).
  std::string_view bytes(uint16_t type, size_t exact = 0, bool atLeast = false) const;
  Attrs nested(uint16_t type, uint16_t maxType, const char* where) const;

  // Calls fn(type, data, len) for every attribute of the nest/message in wire order.
  template <class Fn>
  void forEach(Fn&& fn) const {
    const uint8_t* p = base_;
    size_t left = baseLen_;
    while (left >= kNlaHdrLen) {
      nlattr a;
      std::memcpy(&a, p, sizeof a);
      if (a.nla_len < kNlaHdrLen || a.nla_len > left) break;  // already reported by the ctor
      fn(static_cast<uint16_t>(a.nla_type & kNlaTypeMask), p + kNlaHdrLen, a.nla_len - kNlaHdrLen);
      size_t step = Align4(a.nla_len);
      if (step >= left) break;
      p += step;
      left -= step;
    }
  }

  bool ok() const { return !err_ || err_->ok(); }
  const std::string& error() const;
  std::shared_ptr<DecodeError> errorSink() const { return err_; }
  void fail(const std::string& msg) const;

 private:
  struct Slot {
    const uint8_t* data = nullptr;
    uint16_t len = 0;
  };
  bool sized(uint16_t type, size_t want, const char* what) const;

  std::vector<Slot> slots_;
  const uint8_t* base_ = nullptr;
  size_t baseLen_ = 0;
  const char* where_ = "";
  std::shared_ptr<DecodeError> err_;
};

}  // namespace lvskit::nl
