// The core of ptvm's strict binary readers: little-endian fields read from a byte span, every read
// bounded by the bytes left. A short read calls Owner::fail(field, why), so each format (circle
// STARK, F128 STARK, ...) keeps its own error prefix and names the field that was being read.
// Owner derives from LeReader<Owner> (CRTP) and adds its format's composite fields.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm {

template <class Owner>
class LeReader {
 public:
  explicit LeReader(std::span<const uint8_t> in) : in_(in) {}

  size_t position() const { return pos_; }
  size_t left() const { return in_.size() - pos_; }
  std::span<const uint8_t> input() const { return in_; }

  void need(size_t n, const std::string& field) {
    if (left() < n)
      owner().fail(field, "truncated (needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                              ", " + std::to_string(left()) + " left)");
  }
  std::span<const uint8_t> take(size_t n, const std::string& field) {
    need(n, field);
    const std::span<const uint8_t> s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint32_t u32(const std::string& field) {
    const auto s = take(4, field);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(s[i]) << (8 * i);
    return v;
  }
  uint64_t u64(const std::string& field) {
    const auto s = take(8, field);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(s[i]) << (8 * i);
    return v;
  }
  M31 m31(const std::string& field) {
    const uint32_t v = u32(field);
    if (v >= M31::P)
      owner().fail(field, "non-canonical M31 value " + std::to_string(v) + " at offset " + std::to_string(pos_ - 4));
    return M31::raw(v);
  }
  QM31 qm31(const std::string& field) {
    const M31 a = m31(field), b = m31(field), c = m31(field), d = m31(field);
    return QM31::from_m31(a, b, c, d);
  }
  // A fixed-size byte field (a digest) copied into `out`.
  template <size_t N>
  void bytes(uint8_t (&out)[N], const std::string& field) {
    std::memcpy(out, take(N, field).data(), N);
  }

 private:
  Owner& owner() { return static_cast<Owner&>(*this); }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

}  // namespace ptvm
