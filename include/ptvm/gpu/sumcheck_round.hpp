// The sumcheck round sum on the device (kernels/sumcheck/sumcheck_round.cu): the values at
// 0..n_points-1 of round.hpp's round polynomial (optionally eq-weighted) for n_tables tables of
// 2^n_vars QM31 entries each, table j at tables + j * stride (mle.hpp's order). One pass over the tables; each block sums its points in
// shared memory and the host adds the block sums (exact, so the bytes match the CPU backend).
#pragma once
#include <cstddef>
#include <vector>

#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/sumcheck/round.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// Returns the n_points sums sum_{x'} w(x') g(X, x'), X < n_points, after they are on the host;
// w = weights[x'] (2^(n_vars - 1) entries: eq(z_{i+1..}, .) of an eq-weighted round), or 1 where
// weights is null. n_vars >= 1; shape.n_factors == n_tables; n_points <= kMaxDegree + 1.
std::vector<QM31> sumcheck_round(gptr<const QM31> tables, size_t stride, size_t n_tables, unsigned n_vars,
                                 const sumcheck::ProductShape& shape, uint32_t n_points, gptr<const QM31> weights,
                                 stream_t stream);

PTVM_GPU_NAMESPACE_END
