// Circle FFT over M31 on the CPU (PROTOCOL.md 3.2-3.4).
//
// Layout: iterative radix-2, twiddles indexed by butterfly block (stwo's layout), so every layer
// reads one contiguous twiddle slice. Cache blocking: the layers whose butterflies stay inside a
// block of 2^kBlockLog values (the low layers, including the circle layer) run block by block
// while the block is in L1; the high layers run as full passes, two layers per pass (radix 4).
// The per-layer kernels live in fft_kernels.hpp (portable) and are specialised for AVX-512 there.
#include "ptvm/circle/fft.hpp"

#include <algorithm>
#include <string>

#include "fft_kernels.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/batch_inverse.hpp"

namespace ptvm::circle {
namespace {

uint32_t log2_of_power_of_two(size_t n, const char* fn, const char* what) {
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + what + " has " + std::to_string(n) +
                                          " elements, expected a power of two");
  uint32_t log = 0;
  while ((size_t{1} << log) < n) ++log;
  return log;
}

void check_tree_serves(const TwiddleTree& tree, uint32_t domain_log, const char* fn) {
  const uint32_t root_log = tree.root_coset.log_size;
  if (tree.twiddles.size() != (size_t{1} << root_log) || tree.itwiddles.size() != tree.twiddles.size())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": twiddle tree is malformed (" +
                                          std::to_string(tree.twiddles.size()) +
                                          " twiddles for a root coset of log " +
                                          std::to_string(root_log) + ")");
  if (domain_log < 1 || domain_log > root_log + 1)
    throw Error(ErrorCategory::Usage,
                std::string(fn) + ": domain of log " + std::to_string(domain_log) +
                    " is not served by a twiddle tree of max domain log " +
                    std::to_string(root_log + 1));
  const Coset expected = CanonicCoset{domain_log}.half_coset();
  if (tree.root_coset.repeated_double(root_log + 1 - domain_log) != expected)
    throw Error(ErrorCategory::Usage,
                std::string(fn) + ": twiddle tree root coset is not a canonic half coset "
                                  "(use precompute_twiddles(CanonicCoset(m).half_coset()))");
}

// Line-layer twiddle slices of one transform, indexed by layer.
struct LayerTwiddles {
  const uint32_t* line[32] = {};  // line[l] for 1 <= l <= n-1
  uint32_t small_circle[2] = {};  // circle-layer twiddles for n <= 2
};

LayerTwiddles layer_twiddles(const std::vector<M31>& buf, uint32_t root_log, uint32_t n, bool inverse) {
  LayerTwiddles t;
  const uint32_t* base = reinterpret_cast<const uint32_t*>(buf.data());
  for (uint32_t l = 1; l < n; ++l) t.line[l] = base + line_twiddle_offset(root_log, n, l);
  if (n <= 2) {
    for (size_t h = 0; h < (size_t{1} << (n - 1)); ++h) {
      M31 tw = circle_twiddle_direct(n, h);
      t.small_circle[h] = (inverse ? tw.inverse() : tw).v;
    }
  }
  return t;
}

void evaluate_inplace(uint32_t* v, uint32_t n, const LayerTwiddles& tw) {
  const size_t size = size_t{1} << n;
  if (n <= 2) {
    for (uint32_t l = n - 1; l >= 1; --l) kernels::line_layer_forward(v, 0, size, l, tw.line[l]);
    kernels::circle_layer_forward_small(v, size, tw.small_circle);
    return;
  }
  if (n < 5) {  // below the 32-value chunk of the low-layer kernel
    for (uint32_t l = n - 1; l >= 1; --l) kernels::line_layer_forward(v, 0, size, l, tw.line[l]);
    kernels::circle_layer_forward(v, 0, size, tw.line[1]);
    return;
  }
  const uint32_t block_log = std::min(n, kernels::kBlockLog);
  // High layers: full passes, two layers at a time where possible.
  uint32_t l = n - 1;
  while (l >= block_log) {
    if (l - 1 >= block_log) {
      kernels::layers_forward_radix4(v, 0, size, l, tw.line[l], tw.line[l - 1]);
      l -= 2;
    } else {
      kernels::layer_forward(v, 0, size, l, tw.line[l]);
      l -= 1;
    }
  }
  // The remaining layers block by block, while the block is in L1; layers 4..0 per 32 values.
  const size_t block = size_t{1} << block_log;
  for (size_t begin = 0; begin < size; begin += block) {
    uint32_t k = block_log - 1;
    while (k >= 5) {
      if (k - 1 >= 5) {
        kernels::layers_forward_radix4(v, begin, begin + block, k, tw.line[k], tw.line[k - 1]);
        k -= 2;
      } else {
        kernels::layer_forward(v, begin, begin + block, k, tw.line[k]);
        k -= 1;
      }
    }
    kernels::low_layers_forward(v, begin, begin + block, tw.line);
  }
}

void interpolate_inplace(uint32_t* v, uint32_t n, const LayerTwiddles& itw) {
  const size_t size = size_t{1} << n;
  // 2^-n = 2^(31-n) mod p, since 2^31 = 1. Folded into the last layer where it is cheap.
  const uint32_t scale = 1u << (31 - n);
  if (n <= 2) {
    kernels::circle_layer_inverse_small(v, size, itw.small_circle);
    for (uint32_t l = 1; l < n; ++l) kernels::line_layer_inverse(v, 0, size, l, itw.line[l]);
    kernels::scale(v, size, scale);
    return;
  }
  if (n < 5) {
    kernels::circle_layer_inverse(v, 0, size, itw.line[1]);
    for (uint32_t l = 1; l < n; ++l) kernels::line_layer_inverse(v, 0, size, l, itw.line[l]);
    kernels::scale(v, size, scale);
    return;
  }
  const uint32_t block_log = std::min(n, kernels::kBlockLog);
  const size_t block = size_t{1} << block_log;
  for (size_t begin = 0; begin < size; begin += block) {
    kernels::low_layers_inverse(v, begin, begin + block, itw.line, n == 5 ? scale : 1u);
    uint32_t k = 5;
    while (k < block_log) {
      if (k + 1 < block_log) {
        kernels::layers_inverse_radix4(v, begin, begin + block, k, itw.line[k], itw.line[k + 1],
                                       k + 2 == n ? scale : 1u);
        k += 2;
      } else {
        kernels::layer_inverse(v, begin, begin + block, k, itw.line[k]);
        if (k + 1 == n) kernels::scale(v + begin, block, scale);
        k += 1;
      }
    }
  }
  uint32_t l = block_log;
  while (l < n) {
    if (l + 1 < n) {
      kernels::layers_inverse_radix4(v, 0, size, l, itw.line[l], itw.line[l + 1],
                                     l + 2 == n ? scale : 1u);
      l += 2;
    } else {
      kernels::layer_inverse(v, 0, size, l, itw.line[l]);
      kernels::scale(v, size, scale);
      l += 1;
    }
  }
}

}  // namespace

TwiddleTree precompute_twiddles(const Coset& root_coset) {
  if (root_coset.log_size > 30)
    throw Error(ErrorCategory::Usage, "precompute_twiddles: root coset log size " +
                                          std::to_string(root_coset.log_size) + " exceeds 30");
  TwiddleTree tree;
  tree.root_coset = root_coset;
  const size_t len = root_coset.size();
  tree.twiddles.reserve(len);
  Coset coset = root_coset;
  for (uint32_t k = 0; k < root_coset.log_size; ++k) {
    const size_t start = tree.twiddles.size();
    const size_t half = coset.size() / 2;
    CirclePoint<M31> p = coset.initial();
    const CirclePoint<M31> step = coset.step();
    for (size_t i = 0; i < half; ++i) {
      tree.twiddles.push_back(p.x);
      p = p + step;
    }
    bit_reverse(std::span<M31>(tree.twiddles).subspan(start, half));
    coset = coset.doubled();
  }
  tree.twiddles.push_back(M31::one());
  tree.itwiddles.resize(len);
  batch_inverse<M31>(tree.twiddles, tree.itwiddles);
  return tree;
}

TwiddleTree precompute_twiddles_for_log(uint32_t max_domain_log) {
  if (max_domain_log < 1 || max_domain_log > 31)
    throw Error(ErrorCategory::Usage, "precompute_twiddles_for_log: log " +
                                          std::to_string(max_domain_log) + " not in [1, 31]");
  return precompute_twiddles(CanonicCoset{max_domain_log}.half_coset());
}

void circle_evaluate_bitrev_inplace(std::span<M31> data, const TwiddleTree& tree) {
  const char* fn = "circle_evaluate_bitrev";
  const uint32_t n = log2_of_power_of_two(data.size(), fn, "values");
  check_tree_serves(tree, n, fn);
  LayerTwiddles tw = layer_twiddles(tree.twiddles, tree.root_coset.log_size, n, false);
  evaluate_inplace(reinterpret_cast<uint32_t*>(data.data()), n, tw);
}

void circle_interpolate_bitrev_inplace(std::span<M31> data, const TwiddleTree& tree) {
  const char* fn = "circle_interpolate_bitrev";
  const uint32_t n = log2_of_power_of_two(data.size(), fn, "values");
  check_tree_serves(tree, n, fn);
  LayerTwiddles itw = layer_twiddles(tree.itwiddles, tree.root_coset.log_size, n, true);
  interpolate_inplace(reinterpret_cast<uint32_t*>(data.data()), n, itw);
}

void circle_evaluate_bitrev(std::span<const M31> coeffs, std::span<M31> values_bitrev,
                            const TwiddleTree& tree) {
  const char* fn = "circle_evaluate_bitrev";
  log2_of_power_of_two(coeffs.size(), fn, "coeffs");
  log2_of_power_of_two(values_bitrev.size(), fn, "values");
  if (coeffs.size() > values_bitrev.size())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + std::to_string(coeffs.size()) +
                                          " coefficients do not fit " +
                                          std::to_string(values_bitrev.size()) + " values");
  if (coeffs.data() != values_bitrev.data()) std::copy(coeffs.begin(), coeffs.end(), values_bitrev.begin());
  std::fill(values_bitrev.begin() + coeffs.size(), values_bitrev.end(), M31::zero());
  circle_evaluate_bitrev_inplace(values_bitrev, tree);
}

void circle_interpolate_bitrev(std::span<const M31> values_bitrev, std::span<M31> coeffs,
                               const TwiddleTree& tree) {
  const char* fn = "circle_interpolate_bitrev";
  log2_of_power_of_two(values_bitrev.size(), fn, "values");
  if (coeffs.size() != values_bitrev.size())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": " + std::to_string(values_bitrev.size()) +
                                          " values but " + std::to_string(coeffs.size()) +
                                          " coefficient slots");
  if (coeffs.data() != values_bitrev.data()) std::copy(values_bitrev.begin(), values_bitrev.end(), coeffs.begin());
  circle_interpolate_bitrev_inplace(coeffs, tree);
}

}  // namespace ptvm::circle
