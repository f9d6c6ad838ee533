// Test helpers per field: random elements, edge values, an independent big-integer reference for
// multiplication, canonical-encoding fixtures. The references use unsigned/signed __int128
// schoolbook arithmetic on plain integers, not the field code under test.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ptvm/field/f128.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::test {

// Seed for every randomized test: PTVM_TEST_SEED from the environment, else a fixed default.
inline uint64_t test_seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("PTVM_TEST_SEED");
    return env ? std::strtoull(env, nullptr, 0) : 0x9e3779b97f4a7c15ull;
  }();
  return seed;
}

inline bool large_tests() {
  const char* env = std::getenv("PTVM_LARGE_TESTS");
  return env && std::string(env) == "1";
}

inline uint32_t mod_p(__int128 x) {
  __int128 r = x % static_cast<__int128>(M31::P);
  if (r < 0) r += M31::P;
  return static_cast<uint32_t>(r);
}

template <class F>
struct FieldOps;

template <>
struct FieldOps<M31> {
  static M31 random(std::mt19937_64& rng) {
    return M31::raw(static_cast<uint32_t>(rng() % M31::P));
  }
  static bool is_canonical(M31 a) { return a.v < M31::P; }
  static M31 reference_mul(M31 a, M31 b) {
    return M31::raw(static_cast<uint32_t>((static_cast<unsigned __int128>(a.v) * b.v) % M31::P));
  }
  static M31 reference_add(M31 a, M31 b) { return M31::raw(mod_p(__int128{a.v} + b.v)); }
  static std::vector<M31> edge_values() {
    return {M31::raw(0), M31::raw(1), M31::raw(2), M31::raw(M31::P - 1), M31::raw(M31::P - 2),
            M31::raw(1u << 30), M31::raw((1u << 30) - 1)};
  }
  static void check_known_encoding() {
    uint8_t b[4];
    M31::raw(M31::P - 1).to_bytes_le(b);
    EXPECT_EQ(b[0], 0xfe);
    EXPECT_EQ(b[1], 0xff);
    EXPECT_EQ(b[2], 0xff);
    EXPECT_EQ(b[3], 0x7f);
  }
  static std::vector<std::vector<uint8_t>> non_canonical_encodings() {
    return {{0xff, 0xff, 0xff, 0x7f}, {0xff, 0xff, 0xff, 0xff}, {0x00, 0x00, 0x00, 0x80}};
  }
};

// Coordinates over the basis {1, i} / {1, i, u, iu}, reduced with i^2 = -1 and u^2 = 2 + i.
inline void add_basis_term(__int128 r[4], __int128 coef, int alpha, int beta) {
  if (beta >= 2) {
    add_basis_term(r, 2 * coef, alpha, beta - 2);
    add_basis_term(r, coef, alpha + 1, beta - 2);
    return;
  }
  if (alpha >= 2) {
    add_basis_term(r, -coef, alpha - 2, beta);
    return;
  }
  r[alpha + 2 * beta] += coef;
}

inline void reference_product(const uint32_t* x, const uint32_t* y, int n_coords, uint32_t* out) {
  __int128 r[4] = {0, 0, 0, 0};
  for (int p = 0; p < n_coords; ++p)
    for (int q = 0; q < n_coords; ++q)
      add_basis_term(r, static_cast<__int128>(x[p]) * y[q], (p & 1) + (q & 1), (p >> 1) + (q >> 1));
  for (int k = 0; k < n_coords; ++k) out[k] = mod_p(r[k]);
}

template <>
struct FieldOps<CM31> {
  static CM31 random(std::mt19937_64& rng) {
    return CM31(FieldOps<M31>::random(rng), FieldOps<M31>::random(rng));
  }
  static bool is_canonical(CM31 a) { return a.a.v < M31::P && a.b.v < M31::P; }
  static CM31 reference_mul(CM31 a, CM31 b) {
    uint32_t x[2] = {a.a.v, a.b.v}, y[2] = {b.a.v, b.b.v}, r[2];
    reference_product(x, y, 2, r);
    return CM31::from_u32(r[0], r[1]);
  }
  static CM31 reference_add(CM31 a, CM31 b) {
    return CM31::from_u32(mod_p(__int128{a.a.v} + b.a.v), mod_p(__int128{a.b.v} + b.b.v));
  }
  static std::vector<CM31> edge_values() {
    std::vector<CM31> out;
    for (uint32_t a : {0u, 1u, M31::P - 1})
      for (uint32_t b : {0u, 1u, M31::P - 1}) out.push_back(CM31::from_u32(a, b));
    return out;
  }
  static void check_known_encoding() {
    uint8_t b[8];
    CM31::from_u32(1, M31::P - 1).to_bytes_le(b);
    const uint8_t expected[8] = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0x7f};
    for (int k = 0; k < 8; ++k) EXPECT_EQ(b[k], expected[k]) << k;
  }
  static std::vector<std::vector<uint8_t>> non_canonical_encodings() {
    return {{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}, {0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}};
  }
};

template <>
struct FieldOps<QM31> {
  static QM31 random(std::mt19937_64& rng) {
    return QM31(FieldOps<CM31>::random(rng), FieldOps<CM31>::random(rng));
  }
  static bool is_canonical(QM31 a) {
    return FieldOps<CM31>::is_canonical(a.x0) && FieldOps<CM31>::is_canonical(a.x1);
  }
  static QM31 reference_mul(QM31 a, QM31 b) {
    uint32_t x[4], y[4], r[4];
    for (int k = 0; k < 4; ++k) x[k] = a.coord(k).v, y[k] = b.coord(k).v;
    reference_product(x, y, 4, r);
    return QM31::from_u32(r[0], r[1], r[2], r[3]);
  }
  static QM31 reference_add(QM31 a, QM31 b) {
    return QM31(FieldOps<CM31>::reference_add(a.x0, b.x0), FieldOps<CM31>::reference_add(a.x1, b.x1));
  }
  static std::vector<QM31> edge_values() {
    std::vector<QM31> out;
    const uint32_t vals[3] = {0u, 1u, M31::P - 1};
    for (int m = 0; m < 81; ++m) {
      int t = m;
      uint32_t w[4];
      for (int k = 0; k < 4; ++k, t /= 3) w[k] = vals[t % 3];
      out.push_back(QM31::from_u32(w[0], w[1], w[2], w[3]));
    }
    return out;
  }
  static void check_known_encoding() {
    uint8_t b[16];
    QM31::from_u32(1, 2, 3, M31::P - 1).to_bytes_le(b);
    const uint8_t expected[16] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xfe, 0xff, 0xff, 0x7f};
    for (int k = 0; k < 16; ++k) EXPECT_EQ(b[k], expected[k]) << k;
  }
  static std::vector<std::vector<uint8_t>> non_canonical_encodings() {
    std::vector<std::vector<uint8_t>> out;
    for (int word = 0; word < 4; ++word) {
      std::vector<uint8_t> e(16, 0);
      e[4 * word + 0] = 0xff, e[4 * word + 1] = 0xff, e[4 * word + 2] = 0xff, e[4 * word + 3] = 0x7f;
      out.push_back(e);
    }
    return out;
  }
};

// ---- F128: reference arithmetic on plain 128-bit integers (no Montgomery form) -----------------
using u128 = unsigned __int128;
inline constexpr u128 kF128P = (static_cast<u128>(F128::P_HI) << 64) | F128::P_LO;

inline u128 ref_add(u128 a, u128 b) { return a >= kF128P - b ? a - (kF128P - b) : a + b; }
inline u128 ref_sub(u128 a, u128 b) { return a >= b ? a - b : a + (kF128P - b); }
// Double-and-add modular multiplication (p > 2^127, so sums are formed without overflow).
inline u128 ref_mul(u128 a, u128 b) {
  u128 r = 0;
  for (int bit = 127; bit >= 0; --bit) {
    r = ref_add(r, r);
    if ((b >> bit) & 1) r = ref_add(r, a);
  }
  return r;
}
inline u128 ref_pow(u128 a, u128 e) {
  u128 r = 1;
  for (int bit = 127; bit >= 0; --bit) {
    r = ref_mul(r, r);
    if ((e >> bit) & 1) r = ref_mul(r, a);
  }
  return r;
}
inline u128 parse_u128(const char* s) {
  u128 v = 0;
  for (; *s; ++s) v = v * 10 + static_cast<unsigned>(*s - '0');
  return v;
}

template <>
struct FieldOps<F128> {
  static F128 random(std::mt19937_64& rng) {
    const u128 x = (static_cast<u128>(rng()) << 64) | rng();
    return F128::from_canonical_u128(x % kF128P);
  }
  static bool is_canonical(F128 a) { return F128::is_canonical_words(a.lo, a.hi); }
  static F128 reference_mul(F128 a, F128 b) {
    return F128::from_canonical_u128(ref_mul(a.to_u128(), b.to_u128()));
  }
  static F128 reference_add(F128 a, F128 b) {
    return F128::from_canonical_u128(ref_add(a.to_u128(), b.to_u128()));
  }
  static std::vector<F128> edge_values() {
    std::vector<F128> out;
    for (u128 v : {u128{0}, u128{1}, u128{2}, kF128P - 1, kF128P - 2, u128{1} << 64, (u128{1} << 64) - 1,
                   u128{1} << 127, (u128{1} << 127) - 1, kF128P >> 1, (kF128P >> 1) + 1})
      out.push_back(F128::from_canonical_u128(v));
    return out;
  }
  static void check_known_encoding() {
    uint8_t b[16];
    F128::from_canonical_u128(kF128P - 1).to_bytes_le(b);
    // p - 1 = 0xcb80 followed by 112 zero bits.
    for (int k = 0; k < 14; ++k) EXPECT_EQ(b[k], 0) << k;
    EXPECT_EQ(b[14], 0x80);
    EXPECT_EQ(b[15], 0xcb);
    F128::from_u64(0x0102030405060708ull).to_bytes_le(b);
    EXPECT_EQ(b[0], 0x08);
    EXPECT_EQ(b[7], 0x01);
    EXPECT_EQ(b[8], 0x00);
  }
  static std::vector<std::vector<uint8_t>> non_canonical_encodings() {
    std::vector<std::vector<uint8_t>> out;
    for (u128 v : {kF128P, kF128P + 1, ~u128{0}, static_cast<u128>(F128::P_HI + 1) << 64}) {
      std::vector<uint8_t> e(16);
      for (int k = 0; k < 16; ++k) e[k] = static_cast<uint8_t>(v >> (8 * k));
      out.push_back(e);
    }
    return out;
  }
};

}  // namespace ptvm::test
