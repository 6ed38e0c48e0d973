// Little-endian encoding of the `.kiln` sections: a growing writer and a bounds-checked reader.
// The reader never reads past its span; every failure is one line naming the section and the
// byte offset, because the bytes may come from a corrupt or hostile file.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ir/error.h"

namespace kiln::artifact {

class ByteWriter {
 public:
  void u32(uint32_t v) { put(&v, 4); }
  void u64(uint64_t v) { put(&v, 8); }
  void i32(int32_t v) { put(&v, 4); }
  void i64(int64_t v) { put(&v, 8); }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    put(s.data(), s.size());
  }
  void bytes(const void* p, size_t n) { put(p, n); }
  void pad_to(uint64_t alignment) {
    buf_.resize((buf_.size() + alignment - 1) / alignment * alignment, 0);
  }
  size_t size() const { return buf_.size(); }
  std::vector<uint8_t>& buffer() { return buf_; }

 private:
  static_assert(std::endian::native == std::endian::little,
                "the .kiln writer assumes little-endian");
  void put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  // `what` names the span in errors, e.g. "'m.kiln': SIGNATURE section".
  ByteReader(const uint8_t* data, uint64_t size, std::string what)
      : data_(data), size_(size), what_(std::move(what)) {}

  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  int32_t i32() { return get<int32_t>(); }
  int64_t i64() { return get<int64_t>(); }
  std::string str(uint32_t max_bytes) {
    const uint64_t at = pos_;
    const uint32_t n = u32();
    if (n > max_bytes)
      fail(what_, ": string at byte ", at, " claims ", n, " bytes (limit ", max_bytes, ")");
    need(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  // The next n bytes, in place (valid as long as the span is).
  const uint8_t* take(uint64_t n) {
    need(n);
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  // A count of items each at least `min_item_bytes` long: refuses counts the rest cannot hold.
  uint32_t count(uint64_t min_item_bytes, const char* items) {
    const uint64_t at = pos_;
    const uint32_t n = u32();
    if (min_item_bytes && n > remaining() / min_item_bytes) {
      fail(what_, ": ", n, " ", items, " at byte ", at, " cannot fit in the ", remaining(),
           " bytes left");
    }
    return n;
  }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  const std::string& what() const { return what_; }
  void expect_end() {
    if (pos_ != size_) fail(what_, ": ", size_ - pos_, " unexpected trailing bytes");
  }

 private:
  void need(uint64_t n) {
    if (n > size_ - pos_) fail(what_, ": truncated at byte ", pos_, " (needs ", n, " more bytes)");
  }
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string what_;
};

}  // namespace kiln::artifact
