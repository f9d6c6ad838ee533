// F128: the prime field p = 407 * 2^119 + 1 (the seed's field; p - 1 = 2^119 * 11 * 37).
// Elements are kept in Montgomery form x * 2^128 mod p, canonical (< p) at every boundary, as two
// little-endian 64-bit words. Written once for host and device (PTVM_HD); the 128x128-bit product
// and the 128-bit carry chains come from ptvm/common/intrinsics.hpp (PTX on the GPU, unsigned
// __int128 on the host).
//
// Montgomery reduction: p = 1 (mod 2^64), so -p^-1 = -1 (mod 2^64) and each reduction step's
// multiplier is just -t_i; p's high word is 407 * 2^55.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/common/intrinsics.hpp"

namespace ptvm {

struct F128 {
  static constexpr uint64_t P_LO = 1;
  static constexpr uint64_t P_HI = 0xcb80000000000000ull;  // 407 << 55
  static constexpr uint32_t TWO_ADICITY = 119;
  static constexpr size_t kBytes = 16;

  // Montgomery form, little-endian words.
  uint64_t lo = 0, hi = 0;

  PTVM_HD static constexpr F128 raw_montgomery(uint64_t lo_, uint64_t hi_) {
    F128 r;
    r.lo = lo_;
    r.hi = hi_;
    return r;
  }
  PTVM_HD static constexpr F128 zero() { return F128(); }
  // 2^128 mod p.
  PTVM_HD static constexpr F128 one() {
    return raw_montgomery(0xffffffffffffffffull, 0x347fffffffffffffull);
  }
  // 3 generates the multiplicative group (order p - 1): checked in the tests.
  PTVM_HD static constexpr F128 generator() {
    return raw_montgomery(0xfffffffffffffffdull, 0x9d7fffffffffffffull);
  }
  // 3^407, a primitive 2^119-th root of unity
  // (= 85408008396924667383611388730472331217, also stark-anatomy's constant).
  PTVM_HD static constexpr F128 two_adic_root() {
    return raw_montgomery(0xa88d7256ada5771dull, 0x3cab6ba6970b9a06ull);
  }
  // 2^256 mod p, to enter Montgomery form.
  PTVM_HD static constexpr F128 r_squared() {
    return raw_montgomery(0x5bd53a7f0e778236ull, 0xaaf4ad9a1a6aedc2ull);
  }

  // Is (hi:lo) < p?
  PTVM_HD static constexpr bool is_canonical_words(uint64_t lo_, uint64_t hi_) {
    return hi_ < P_HI || (hi_ == P_HI && lo_ < P_LO);
  }
  PTVM_HD constexpr bool is_zero() const { return lo == 0 && hi == 0; }
  PTVM_HD friend constexpr bool operator==(F128 a, F128 b) { return a.lo == b.lo && a.hi == b.hi; }
  PTVM_HD friend constexpr bool operator!=(F128 a, F128 b) { return !(a == b); }

  // Montgomery reduction of t = (t3:t2:t1:t0) < p * 2^128: returns t * 2^-128 mod p, canonical.
  PTVM_HD static F128 reduce(uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3) {
    using u128 = unsigned __int128;
    // Step 1: m = -t0 makes the low word vanish: t0 + m * P_LO = t0 + m = 2^64 * (t0 != 0).
    uint64_t m = 0 - t0;
    uint64_t carry = t0 != 0;
    u128 s = static_cast<u128>(m) * P_HI + t1 + carry;  // < 2^128 (see (2^64-1)^2 + 2^64)
    t1 = static_cast<uint64_t>(s);
    s = static_cast<u128>(t2) + static_cast<uint64_t>(s >> 64);
    t2 = static_cast<uint64_t>(s);
    s = static_cast<u128>(t3) + static_cast<uint64_t>(s >> 64);
    t3 = static_cast<uint64_t>(s);
    uint64_t t4 = static_cast<uint64_t>(s >> 64);
    // Step 2, one word up.
    m = 0 - t1;
    carry = t1 != 0;
    s = static_cast<u128>(m) * P_HI + t2 + carry;
    t2 = static_cast<uint64_t>(s);
    s = static_cast<u128>(t3) + static_cast<uint64_t>(s >> 64);
    t3 = static_cast<uint64_t>(s);
    t4 += static_cast<uint64_t>(s >> 64);
    // (t4:t3:t2) < 2p: one conditional subtraction.
    uint64_t r_lo, r_hi;
    const uint32_t borrow = intrinsics::sub_u128(t2, t3, P_LO, P_HI, r_lo, r_hi);
    return select(t4 != 0 || !borrow, raw_montgomery(r_lo, r_hi), raw_montgomery(t2, t3));
  }
  // Branch-free choice (a compare-and-jump on field data mispredicts half the time).
  PTVM_HD static constexpr F128 select(bool take_first, F128 first, F128 second) {
    const uint64_t mask = 0 - static_cast<uint64_t>(take_first);
    return raw_montgomery((first.lo & mask) | (second.lo & ~mask), (first.hi & mask) | (second.hi & ~mask));
  }

  PTVM_HD friend F128 operator*(F128 a, F128 b) {
    uint64_t t[4];
    intrinsics::mul_wide_u128(a.lo, a.hi, b.lo, b.hi, t);
    return reduce(t[0], t[1], t[2], t[3]);
  }
  PTVM_HD friend F128 operator+(F128 a, F128 b) {
    uint64_t s_lo, s_hi, r_lo, r_hi;
    const uint32_t carry = intrinsics::add_u128(a.lo, a.hi, b.lo, b.hi, s_lo, s_hi);
    // a + b < 2p < 2^129: take s - p when the sum overflowed 2^128 or is >= p (no borrow); the
    // mod-2^128 wrap gives the right answer in the overflow case.
    const uint32_t borrow = intrinsics::sub_u128(s_lo, s_hi, P_LO, P_HI, r_lo, r_hi);
    return select(carry || !borrow, raw_montgomery(r_lo, r_hi), raw_montgomery(s_lo, s_hi));
  }
  PTVM_HD friend F128 operator-(F128 a, F128 b) {
    uint64_t d_lo, d_hi, r_lo, r_hi;
    const uint32_t borrow = intrinsics::sub_u128(a.lo, a.hi, b.lo, b.hi, d_lo, d_hi);
    intrinsics::add_u128(d_lo, d_hi, P_LO, P_HI, r_lo, r_hi);
    return select(borrow != 0, raw_montgomery(r_lo, r_hi), raw_montgomery(d_lo, d_hi));
  }
  PTVM_HD friend F128 operator-(F128 a) { return F128::zero() - a; }
  PTVM_HD F128& operator+=(F128 b) { return *this = *this + b; }
  PTVM_HD F128& operator-=(F128 b) { return *this = *this - b; }
  PTVM_HD F128& operator*=(F128 b) { return *this = *this * b; }

  PTVM_HD F128 square() const { return *this * *this; }
  PTVM_HD F128 doubled() const { return *this + *this; }
  // this^e for a 128-bit exponent (e_hi:e_lo).
  PTVM_HD F128 pow_words(uint64_t e_lo, uint64_t e_hi) const {
    F128 result = one(), base = *this;
    for (int w = 0; w < 2; ++w) {
      uint64_t e = w == 0 ? e_lo : e_hi;
      for (int bit = 0; bit < 64; ++bit) {
        if (e & 1) result *= base;
        e >>= 1;
        base = base.square();
        if (w == 1 && e == 0) return result;
      }
    }
    return result;
  }
  PTVM_HD F128 pow(uint64_t e) const { return pow_words(e, 0); }
  // this^(p-2); inverse(0) == 0, the convention of every ptvm field.
  PTVM_HD F128 inverse() const { return pow_words(0xffffffffffffffffull, P_HI - 1); }  // p - 2

  // ---- conversions --------------------------------------------------------------------------
  // From a canonical value (hi:lo) < p (caller guarantees it; see from_canonical for checked input).
  PTVM_HD static F128 from_canonical_words_unchecked(uint64_t lo_, uint64_t hi_) {
    return raw_montgomery(lo_, hi_) * r_squared();
  }
  PTVM_HD static F128 from_u64(uint64_t x) { return from_canonical_words_unchecked(x, 0); }
  // Any 128-bit integer, reduced mod p (p > 2^127, so one subtraction suffices).
  PTVM_HD static F128 from_words_reduce(uint64_t lo_, uint64_t hi_) {
    if (!is_canonical_words(lo_, hi_)) intrinsics::sub_u128(lo_, hi_, P_LO, P_HI, lo_, hi_);
    return from_canonical_words_unchecked(lo_, hi_);
  }
  // The canonical value in [0, p) as little-endian words.
  PTVM_HD void to_canonical_words(uint64_t& lo_, uint64_t& hi_) const {
    const F128 c = reduce(lo, hi, 0, 0);
    lo_ = c.lo;
    hi_ = c.hi;
  }
  PTVM_HD void to_bytes_le(uint8_t* out) const {
    uint64_t w[2];
    to_canonical_words(w[0], w[1]);
    for (int k = 0; k < 16; ++k) out[k] = static_cast<uint8_t>(w[k / 8] >> (8 * (k % 8)));
  }
  // Host readers: a value >= p is an error (ptvm::Error, category Parse), never a silent reduction.
  static F128 from_canonical(uint64_t lo_, uint64_t hi_, const char* what = "F128 value") {
    if (!is_canonical_words(lo_, hi_))
      throw Error(ErrorCategory::Parse, std::string(what) +
                                            ": not a canonical F128 element (must be < 407 * 2^119 + 1)");
    return from_canonical_words_unchecked(lo_, hi_);
  }
  static F128 from_bytes_le(const uint8_t* in, const char* what = "F128 bytes") {
    uint64_t w[2] = {0, 0};
    for (int k = 0; k < 16; ++k) w[k / 8] |= static_cast<uint64_t>(in[k]) << (8 * (k % 8));
    return from_canonical(w[0], w[1], what);
  }
#if !defined(__CUDA_ARCH__)
  // Host conveniences on unsigned __int128.
  static F128 from_u128_reduce(unsigned __int128 x) {
    return from_words_reduce(static_cast<uint64_t>(x), static_cast<uint64_t>(x >> 64));
  }
  static F128 from_canonical_u128(unsigned __int128 x, const char* what = "F128 value") {
    return from_canonical(static_cast<uint64_t>(x), static_cast<uint64_t>(x >> 64), what);
  }
  unsigned __int128 to_u128() const {
    uint64_t l, h;
    to_canonical_words(l, h);
    return (static_cast<unsigned __int128>(h) << 64) | l;
  }
  std::string to_decimal() const {
    unsigned __int128 v = to_u128();
    if (v == 0) return "0";
    std::string s;
    while (v) {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    }
    return s;
  }
#endif

  // ---- roots and square roots -----------------------------------------------------------------
  // A primitive 2^log_n-th root of unity (log_n <= 119): the 2^119-th root squared 119 - log_n times.
  PTVM_HD static F128 primitive_root_of_unity(uint32_t log_n) {
    F128 r = two_adic_root();
    for (uint32_t k = log_n; k < TWO_ADICITY; ++k) r = r.square();
    return r;
  }
  // Legendre symbol test: true for 0 and the non-zero squares.
  PTVM_HD bool is_square() const {
    if (is_zero()) return true;
    // (p-1)/2 = 407 * 2^118 = (407 << 54) in the high word.
    return pow_words(0, P_HI >> 1) == one();
  }
  // Tonelli-Shanks with p - 1 = 2^119 * 407 and the non-residue 3 (so c starts at the 2^119-th
  // root of unity 3^407). Returns false for non-squares; otherwise *root^2 == *this. The root
  // returned is the smaller of the two canonical values.
  PTVM_HD bool sqrt(F128* root) const {
    if (is_zero()) {
      *root = zero();
      return true;
    }
    if (!is_square()) return false;
    uint32_t m = TWO_ADICITY;
    F128 c = two_adic_root();
    F128 t = pow(407);
    F128 r = pow(204);  // (407 + 1) / 2
    while (t != one()) {
      // Least i with t^(2^i) == 1 (0 < i < m, guaranteed because this is a square).
      uint32_t i = 0;
      F128 t2 = t;
      while (t2 != one()) {
        t2 = t2.square();
        ++i;
      }
      F128 b = c;
      for (uint32_t k = 0; k + i + 1 < m; ++k) b = b.square();
      m = i;
      c = b.square();
      t *= c;
      r *= b;
    }
    // Pick the smaller canonical representative, so the result is deterministic.
    uint64_t a_lo, a_hi, b_lo, b_hi;
    r.to_canonical_words(a_lo, a_hi);
    (-r).to_canonical_words(b_lo, b_hi);
    *root = (b_hi < a_hi || (b_hi == a_hi && b_lo < a_lo)) ? -r : r;
    return true;
  }
};

}  // namespace ptvm
