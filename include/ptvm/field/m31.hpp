// M31: the Mersenne-31 prime field, p = 2^31 - 1. Values are canonical u32 in [0, p) at every
// boundary (zero is 0, never p). Written once for host and device (PTVM_HD).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"

namespace ptvm {

struct M31 {
  static constexpr uint32_t P = 0x7fffffffu;
  uint32_t v = 0;

  constexpr M31() = default;  // defaulted: host and device alike
  // Reduces any u32 (so from_u32(P) == 0). Use from_canonical where >= p must be an error.
  PTVM_HD static constexpr M31 from_u32(uint32_t x) { return raw(reduce32(x)); }
  PTVM_HD static constexpr M31 from_u64(uint64_t x) { return raw(reduce64(x)); }
  PTVM_HD static constexpr M31 from_i64(int64_t x) {
    int64_t r = x % static_cast<int64_t>(P);
    if (r < 0) r += P;
    return raw(static_cast<uint32_t>(r));
  }
  // Caller guarantees x < P.
  PTVM_HD static constexpr M31 raw(uint32_t x) {
    M31 m;
    m.v = x;
    return m;
  }
  PTVM_HD static constexpr bool is_canonical(uint32_t x) { return x < P; }
  // Reads a value that must already be canonical (files, proofs, transcripts): x >= p is an
  // error naming `what`, never a silent reduction. Host only (throws ptvm::Error, category Parse).
  static M31 from_canonical(uint32_t x, const char* what = "M31 value") {
    if (x >= P)
      throw Error(ErrorCategory::Parse, std::string(what) + ": " + std::to_string(x) +
                                            " is not a canonical M31 element (must be < 2^31 - 1)");
    return raw(x);
  }
  // Canonical 4-byte little-endian encoding.
  static constexpr size_t kBytes = 4;
  PTVM_HD constexpr void to_bytes_le(uint8_t* out) const {
    for (int k = 0; k < 4; ++k) out[k] = static_cast<uint8_t>(v >> (8 * k));
  }
  PTVM_HD static constexpr uint32_t load_u32_le(const uint8_t* in) {
    return static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
           static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
  }
  // Inverse of to_bytes_le; an encoding of a value >= p throws (see from_canonical).
  static M31 from_bytes_le(const uint8_t* in, const char* what = "M31 bytes") {
    return from_canonical(load_u32_le(in), what);
  }
  PTVM_HD static constexpr M31 zero() { return raw(0); }
  PTVM_HD static constexpr M31 one() { return raw(1); }

  PTVM_HD static constexpr uint32_t reduce32(uint32_t x) {
    uint32_t t = (x & P) + (x >> 31);
    return t >= P ? t - P : t;
  }
  // Valid for every u64 (two folds), not only for products below p^2.
  PTVM_HD static constexpr uint32_t reduce64(uint64_t x) {
    uint64_t t = (x & P) + (x >> 31);       // < 2^31 + 2^33
    t = (t & P) + (t >> 31);                // < 2^31 + 8
    uint32_t r = static_cast<uint32_t>(t);
    return r >= P ? r - P : r;
  }

  PTVM_HD constexpr uint32_t value() const { return v; }
  PTVM_HD constexpr bool is_zero() const { return v == 0; }

  // s < 2p -> s mod p without a branch: if s < p, s - p wraps above s and the min keeps s.
  // (Branch-free matters: on random data a compare-and-jump mispredicts half the time.)
  PTVM_HD static constexpr uint32_t reduce_once(uint32_t s) {
    const uint32_t r = s - P;
    return r < s ? r : s;
  }
  PTVM_HD friend constexpr M31 operator+(M31 a, M31 b) { return raw(reduce_once(a.v + b.v)); }
  PTVM_HD friend constexpr M31 operator-(M31 a, M31 b) { return raw(reduce_once(a.v + P - b.v)); }
  PTVM_HD friend constexpr M31 operator-(M31 a) { return raw(a.v == 0 ? 0 : P - a.v); }
  PTVM_HD friend constexpr M31 operator*(M31 a, M31 b) {
    uint64_t p = static_cast<uint64_t>(a.v) * b.v;  // < p^2 < 2^62
    return raw(reduce_once(static_cast<uint32_t>((p & P) + (p >> 31))));
  }
  PTVM_HD constexpr M31& operator+=(M31 b) { return *this = *this + b; }
  PTVM_HD constexpr M31& operator-=(M31 b) { return *this = *this - b; }
  PTVM_HD constexpr M31& operator*=(M31 b) { return *this = *this * b; }
  PTVM_HD friend constexpr bool operator==(M31 a, M31 b) { return a.v == b.v; }
  PTVM_HD friend constexpr bool operator!=(M31 a, M31 b) { return a.v != b.v; }

  PTVM_HD constexpr M31 square() const { return *this * *this; }
  PTVM_HD constexpr M31 pow(uint64_t e) const {
    M31 r = one(), b = *this;
    while (e) {
      if (e & 1) r *= b;
      b *= b;
      e >>= 1;
    }
    return r;
  }
  // a^(p-2); inverse(0) == 0 (callers that must not see zero check first).
  PTVM_HD constexpr M31 inverse() const { return pow(P - 2); }
  PTVM_HD constexpr M31 doubled() const { return *this + *this; }
  // Square root: p = 3 (mod 4), so a candidate is a^((p+1)/4) = a^(2^29). Returns false (and
  // leaves *root untouched) when a is a non-residue. The root returned is the one in [0, p/2].
  PTVM_HD constexpr bool sqrt(M31* root) const {
    M31 r = *this;
    for (int k = 0; k < 29; ++k) r = r.square();
    if (r.square() != *this) return false;
    if (r.v > P / 2) r = -r;
    *root = r;
    return true;
  }
};

}  // namespace ptvm
