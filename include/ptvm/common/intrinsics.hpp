// Multi-word integer primitives shared by host and device: the one place where inline PTX lives.
// Each function has a portable C++ path (unsigned __int128, used on the host, in host-sim and as
// the reference) and, when compiling device code for a real GPU, a PTX path on 32-bit limbs with
// explicit carry chains. Both paths compute exactly the same integers.
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"

namespace ptvm::intrinsics {

// r[0..3] (little-endian 64-bit words) = (a_hi:a_lo) * (b_hi:b_lo), the full 256-bit product.
PTVM_HD PTVM_FORCEINLINE void mul_wide_u128(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo,
                                            uint64_t b_hi, uint64_t r[4]) {
#if defined(__CUDA_ARCH__)
  const uint32_t a0 = static_cast<uint32_t>(a_lo), a1 = static_cast<uint32_t>(a_lo >> 32);
  const uint32_t a2 = static_cast<uint32_t>(a_hi), a3 = static_cast<uint32_t>(a_hi >> 32);
  const uint32_t b0 = static_cast<uint32_t>(b_lo), b1 = static_cast<uint32_t>(b_lo >> 32);
  const uint32_t b2 = static_cast<uint32_t>(b_hi), b3 = static_cast<uint32_t>(b_hi >> 32);
  uint32_t r0, r1, r2, r3, r4, r5, r6, r7;
  // Product scanning over 32-bit limbs: column k sums a_i * b_j for i + j = k into a 96-bit
  // accumulator (c0, c1, c2). Each 64-bit partial product is added with
  //   mad.lo.cc  c0 += lo(a*b), carry out
  //   madc.hi.cc c1 += hi(a*b) + carry, carry out
  //   addc       c2 += carry
  // then the column's result word is c0 and the accumulator shifts down one word.
  asm("{\n\t"
      ".reg .u32 c0, c1, c2;\n\t"
      "mov.u32 c0, 0;\n\t"
      "mov.u32 c1, 0;\n\t"
      "mov.u32 c2, 0;\n\t"
      // column 0: a0 b0
      "mad.lo.cc.u32 c0, %8, %12, c0;\n\tmadc.hi.cc.u32 c1, %8, %12, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %0, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 1: a0 b1, a1 b0
      "mad.lo.cc.u32 c0, %8, %13, c0;\n\tmadc.hi.cc.u32 c1, %8, %13, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %9, %12, c0;\n\tmadc.hi.cc.u32 c1, %9, %12, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %1, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 2: a0 b2, a1 b1, a2 b0
      "mad.lo.cc.u32 c0, %8, %14, c0;\n\tmadc.hi.cc.u32 c1, %8, %14, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %9, %13, c0;\n\tmadc.hi.cc.u32 c1, %9, %13, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %10, %12, c0;\n\tmadc.hi.cc.u32 c1, %10, %12, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %2, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 3: a0 b3, a1 b2, a2 b1, a3 b0
      "mad.lo.cc.u32 c0, %8, %15, c0;\n\tmadc.hi.cc.u32 c1, %8, %15, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %9, %14, c0;\n\tmadc.hi.cc.u32 c1, %9, %14, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %10, %13, c0;\n\tmadc.hi.cc.u32 c1, %10, %13, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %11, %12, c0;\n\tmadc.hi.cc.u32 c1, %11, %12, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %3, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 4: a1 b3, a2 b2, a3 b1
      "mad.lo.cc.u32 c0, %9, %15, c0;\n\tmadc.hi.cc.u32 c1, %9, %15, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %10, %14, c0;\n\tmadc.hi.cc.u32 c1, %10, %14, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %11, %13, c0;\n\tmadc.hi.cc.u32 c1, %11, %13, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %4, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 5: a2 b3, a3 b2
      "mad.lo.cc.u32 c0, %10, %15, c0;\n\tmadc.hi.cc.u32 c1, %10, %15, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mad.lo.cc.u32 c0, %11, %14, c0;\n\tmadc.hi.cc.u32 c1, %11, %14, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %5, c0;\n\tmov.u32 c0, c1;\n\tmov.u32 c1, c2;\n\tmov.u32 c2, 0;\n\t"
      // column 6: a3 b3; column 7 is what is left in the accumulator (c2 is 0 by the bound)
      "mad.lo.cc.u32 c0, %11, %15, c0;\n\tmadc.hi.cc.u32 c1, %11, %15, c1;\n\taddc.u32 c2, c2, 0;\n\t"
      "mov.u32 %6, c0;\n\tmov.u32 %7, c1;\n\t"
      "}"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3), "=r"(r4), "=r"(r5), "=r"(r6), "=r"(r7)
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1), "r"(b2), "r"(b3));
  r[0] = (static_cast<uint64_t>(r1) << 32) | r0;
  r[1] = (static_cast<uint64_t>(r3) << 32) | r2;
  r[2] = (static_cast<uint64_t>(r5) << 32) | r4;
  r[3] = (static_cast<uint64_t>(r7) << 32) | r6;
#else
  using u128 = unsigned __int128;
  const u128 ll = static_cast<u128>(a_lo) * b_lo, lh = static_cast<u128>(a_lo) * b_hi;
  const u128 hl = static_cast<u128>(a_hi) * b_lo, hh = static_cast<u128>(a_hi) * b_hi;
  // Middle column: three 64-bit terms, so its carry is at most 2.
  const u128 mid = (ll >> 64) + static_cast<uint64_t>(lh) + static_cast<uint64_t>(hl);
  const u128 high = (lh >> 64) + (hl >> 64) + static_cast<uint64_t>(hh) + (mid >> 64);
  r[0] = static_cast<uint64_t>(ll);
  r[1] = static_cast<uint64_t>(mid);
  r[2] = static_cast<uint64_t>(high);
  r[3] = static_cast<uint64_t>(hh >> 64) + static_cast<uint64_t>(high >> 64);
#endif
}

// (r_hi:r_lo) = (a_hi:a_lo) + (b_hi:b_lo) mod 2^128; returns the carry out (0 or 1).
PTVM_HD PTVM_FORCEINLINE uint32_t add_u128(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo,
                                           uint64_t b_hi, uint64_t& r_lo, uint64_t& r_hi) {
#if defined(__CUDA_ARCH__)
  uint32_t r0, r1, r2, r3, carry;
  // Four-limb add with the carry flag chained through addc.cc; the last addc collects the carry.
  asm("add.cc.u32 %0, %5, %9;\n\t"
      "addc.cc.u32 %1, %6, %10;\n\t"
      "addc.cc.u32 %2, %7, %11;\n\t"
      "addc.cc.u32 %3, %8, %12;\n\t"
      "addc.u32 %4, 0, 0;"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3), "=r"(carry)
      : "r"(static_cast<uint32_t>(a_lo)), "r"(static_cast<uint32_t>(a_lo >> 32)),
        "r"(static_cast<uint32_t>(a_hi)), "r"(static_cast<uint32_t>(a_hi >> 32)),
        "r"(static_cast<uint32_t>(b_lo)), "r"(static_cast<uint32_t>(b_lo >> 32)),
        "r"(static_cast<uint32_t>(b_hi)), "r"(static_cast<uint32_t>(b_hi >> 32)));
  r_lo = (static_cast<uint64_t>(r1) << 32) | r0;
  r_hi = (static_cast<uint64_t>(r3) << 32) | r2;
  return carry;
#else
  using u128 = unsigned __int128;
  const u128 a = (static_cast<u128>(a_hi) << 64) | a_lo, b = (static_cast<u128>(b_hi) << 64) | b_lo;
  const u128 s = a + b;
  r_lo = static_cast<uint64_t>(s);
  r_hi = static_cast<uint64_t>(s >> 64);
  return s < a ? 1u : 0u;
#endif
}

// (r_hi:r_lo) = (a_hi:a_lo) - (b_hi:b_lo) mod 2^128; returns the borrow out (0 or 1).
PTVM_HD PTVM_FORCEINLINE uint32_t sub_u128(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo,
                                           uint64_t b_hi, uint64_t& r_lo, uint64_t& r_hi) {
#if defined(__CUDA_ARCH__)
  uint32_t r0, r1, r2, r3, borrow;
  // Four-limb subtract with the borrow chained through subc.cc; the last subc gives 0 or
  // 0xffffffff, whose low bit is the borrow.
  asm("sub.cc.u32 %0, %5, %9;\n\t"
      "subc.cc.u32 %1, %6, %10;\n\t"
      "subc.cc.u32 %2, %7, %11;\n\t"
      "subc.cc.u32 %3, %8, %12;\n\t"
      "subc.u32 %4, 0, 0;"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3), "=r"(borrow)
      : "r"(static_cast<uint32_t>(a_lo)), "r"(static_cast<uint32_t>(a_lo >> 32)),
        "r"(static_cast<uint32_t>(a_hi)), "r"(static_cast<uint32_t>(a_hi >> 32)),
        "r"(static_cast<uint32_t>(b_lo)), "r"(static_cast<uint32_t>(b_lo >> 32)),
        "r"(static_cast<uint32_t>(b_hi)), "r"(static_cast<uint32_t>(b_hi >> 32)));
  r_lo = (static_cast<uint64_t>(r1) << 32) | r0;
  r_hi = (static_cast<uint64_t>(r3) << 32) | r2;
  return borrow & 1u;
#else
  using u128 = unsigned __int128;
  const u128 a = (static_cast<u128>(a_hi) << 64) | a_lo, b = (static_cast<u128>(b_hi) << 64) | b_lo;
  const u128 d = a - b;
  r_lo = static_cast<uint64_t>(d);
  r_hi = static_cast<uint64_t>(d >> 64);
  return a < b ? 1u : 0u;
#endif
}

}  // namespace ptvm::intrinsics
