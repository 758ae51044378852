// Little binary writer/reader used by the event and snapshot codecs:
// LEB128 varints, fixed little-endian u32, length-prefixed strings.
// Formats built on it are described in docs/event-format.md and
// docs/snapshot-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ctxd::engine {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void Varint(uint64_t v) {
    if (v < 0x80) return U8(static_cast<uint8_t>(v));  // most lengths and counts
    LongVarint(v);
  }
  void SignedVarint(int64_t v);  // zigzag
  void Fixed32(uint32_t v);
  void Str(std::string_view s);
  std::string* out() { return out_; }

 private:
  void LongVarint(uint64_t v);

  std::string* out_;
};

// Each read returns false (and leaves the reader failed) on truncated or
// malformed input; nothing reads past the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v);
  bool Varint(uint64_t* v) {
    if (!in_.empty() && static_cast<uint8_t>(in_[0]) < 0x80) {  // most lengths and counts
      *v = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      return true;
    }
    return LongVarint(v);
  }
  bool SignedVarint(int64_t* v);
  bool Fixed32(uint32_t* v);
  bool Str(std::string* s) {
    uint64_t size;
    if (!Varint(&size)) return false;
    if (size > in_.size()) return Fail();
    s->assign(in_.data(), size);
    in_.remove_prefix(size);
    return true;
  }
  // A string without copying it: a view into the input.
  bool View(std::string_view* s) {
    uint64_t size;
    if (!Varint(&size)) return false;
    if (size > in_.size()) return Fail();
    *s = in_.substr(0, size);
    in_.remove_prefix(size);
    return true;
  }
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }
  bool failed() const { return failed_; }

 private:
  bool LongVarint(uint64_t* v);
  bool Fail();

  std::string_view in_;
  bool failed_ = false;
};

}  // namespace ctxd::engine
