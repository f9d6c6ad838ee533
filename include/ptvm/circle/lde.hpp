// Low-degree extension of many M31 columns (circle FFT), multithreaded across columns.
#pragma once
#include <cstdint>
#include <vector>

#include "ptvm/circle/fft.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::circle {

// Each column holds the values of a polynomial on CanonicCoset(n) (n >= 1, its own per column),
// BIT-REVERSED; the result holds the same polynomial's values on CanonicCoset(n + log_blowup),
// BIT-REVERSED. The tree must serve log n + log_blowup. n_threads = 0 means
// std::thread::hardware_concurrency() (never more threads than columns). Throws ptvm::Error(Usage)
// on a bad column size or a tree that is too small, before any work starts.
std::vector<std::vector<M31>> extend_columns_bitrev(const std::vector<std::vector<M31>>& values_bitrev,
                                                    uint32_t log_blowup, const TwiddleTree& tree,
                                                    unsigned n_threads = 0);

}  // namespace ptvm::circle
