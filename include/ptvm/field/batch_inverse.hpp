// Batch inversion by Montgomery's trick: n inverses for one field inversion and ~3n
// multiplications. Works for every field type with zero(), one(), is_zero(), inverse() and *.
//
// Zeros are handled explicitly: a zero input gives a zero output (the same convention as
// F::inverse(), which maps 0 to 0), and it does not poison the other elements' inverses.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"

namespace ptvm {

// Core loop on raw pointers, usable from device code. `prefix` is scratch of n elements and may
// alias `out` but not `in`. Returns nothing; out[i] = in[i]^-1, or 0 where in[i] == 0.
template <class F>
PTVM_HD void batch_inverse_raw(const F* in, F* out, F* prefix, size_t n) {
  // prefix[i] = product of the non-zero in[0..i) (exclusive), so the backward pass can peel one
  // factor at a time off the inverse of the total.
  F acc = F::one();
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;
    if (!in[i].is_zero()) acc = acc * in[i];
  }
  F inv = acc.inverse();  // acc is a product of non-zero elements, so it is non-zero
  for (size_t i = n; i-- > 0;) {
    if (in[i].is_zero()) {
      out[i] = F::zero();
      continue;
    }
    F x = in[i];
    out[i] = prefix[i] * inv;  // (prod_{<i})^-1 * ... = in[i]^-1
    inv = inv * x;
  }
}

// out[i] = in[i]^-1 (0 where in[i] == 0). `in` and `out` must have the same length; they may be
// the same span (in-place), which costs one temporary copy of the input.
template <class F>
void batch_inverse(std::span<const F> in, std::span<F> out) {
  if (in.size() != out.size())
    throw Error(ErrorCategory::Usage, "batch_inverse: input has " + std::to_string(in.size()) +
                                          " elements but output has " + std::to_string(out.size()));
  const size_t n = in.size();
  if (n == 0) return;
  const bool overlaps = in.data() < out.data() + n && out.data() < in.data() + n;
  if (overlaps) {
    std::vector<F> copy(in.begin(), in.end());
    batch_inverse_raw(copy.data(), out.data(), out.data(), n);
  } else {
    batch_inverse_raw(in.data(), out.data(), out.data(), n);
  }
}

template <class F>
std::vector<F> batch_inverse(std::span<const F> in) {
  std::vector<F> out(in.size());
  batch_inverse<F>(in, std::span<F>(out));
  return out;
}

}  // namespace ptvm
