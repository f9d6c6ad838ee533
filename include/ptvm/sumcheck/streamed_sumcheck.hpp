// The product sumcheck of sumcheck.hpp with its factors given as a function of the position
// instead of tables: the prover's memory for the largest sumchecks of a proof (LogUp-GKR's
// layers next to the input, the join before a weight opening), which would otherwise hold
// several QM31 tables as large as the model.
//
// The first `streamed_rounds` rounds are computed from the function alone: round i's polynomial
// needs f_j(r_0..r_{i-1}, X, x'') = sum_{b in {0,1}^i} eq(r, b) f_j(b, X, x''), which one pass
// over the positions gives (chunk by chunk, 2^(i+1) calls of `fill` per chunk of x''); with an
// eq factor eq(z_{i+1..}, x'') comes from two tables of ~2^(m/2) entries each. After them the
// tables restricted to (r_0..r_{k-1}) (2^(n-k) entries each) are materialised in one more pass
// and handed to the backend for the remaining rounds (the eq prefix prod_{j<k} eq(z_j, r_j)
// applied to their polynomials). The round polynomials are the same field elements as those of
// prove_product_sumcheck on the full tables (exact arithmetic), so the transcript and the proof
// are byte for byte the same; only the prover's time (k + 1 passes of `fill`) and memory
// (2^(n-k) entries per factor instead of 2^n) change.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "ptvm/field/qm31.hpp"
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/round.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"

namespace ptvm::sumcheck {

// fill(begin, end, columns): columns[j][0 .. end - begin) = f_j(begin .. end - 1) for every
// factor j (mle.hpp's order: the first variable is the index's top bit). Called with ranges of
// at most 2^12 entries that never cross a multiple of their own length, from several threads at
// once (the passes are split over the library's pool): fill must be safe to call concurrently.
using FactorFill = std::function<void(size_t begin, size_t end, QM31* const* columns)>;

// streamed_rounds is capped at n_vars - 1 (at least one round runs on the backend's tables).
// eq_point: z (n_vars coordinates) or empty, as in prove_product_sumcheck.
ProductSumcheckProverOutput prove_product_sumcheck_streamed(const ProductShape& shape, uint32_t n_vars,
                                                            std::span<const QM31> eq_point,
                                                            const FactorFill& fill, uint32_t streamed_rounds,
                                                            Blake2sChannel& channel,
                                                            SumcheckBackend& backend = default_sumcheck_backend(),
                                                            const QM31* claim_override = nullptr);

// The prover's default bound on a streamed sumcheck's tables for 2^n_vars positions: at most
// 2^max(20, n_vars - 6) entries (a QM31 table then takes at most 1/4 byte per position; the
// price is max(0, n_vars - 20 or 6) more passes of the factor function). Small sumchecks are
// not streamed.
constexpr uint32_t default_max_table_log(uint32_t n_vars) { return n_vars > 26 ? n_vars - 6 : 20; }

// The number of streamed rounds that leaves tables of at most 2^max_table_log entries.
constexpr uint32_t streamed_rounds_for(uint32_t n_vars, uint32_t max_table_log) {
  return n_vars > max_table_log ? n_vars - max_table_log : 0;
}

}  // namespace ptvm::sumcheck
