// Device kernels of the circle-STARK prover stages (kernels/stark/*.cu), launched by the CUDA
// backend (cuda/backend/). Each launcher is asynchronous on `stream` and checks its launch.
//
// Orders: "bit-reversed" = storage position r holds the value at circle-domain index bitrev(r) of
// CanonicCoset(log).circle_domain() (PROTOCOL.md §2.4); "row order" = row j is
// CanonicCoset(log).at(j). A QM31 column is 4 coordinate M31 columns (SecureColumnView).
#pragma once
#include <cstddef>
#include <cstdint>

#include "ptvm/air/relation.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/field/cm31.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/merkle.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// The 4 coordinate columns of one QM31 column (each `length` values).
struct SecureColumnView {
  gptr<M31> coords[4];
};
struct SecureColumnConstView {
  gptr<const M31> coords[4];
};

// ---- permutations (kernels/stark/permute.cu) --------------------------------------------------
// out[bit-reversed position of row j] = rows[j], on CanonicCoset(log_size).
void rows_to_bitrev(gptr<const M31> rows, gptr<M31> out, uint32_t log_size, stream_t stream);
// rows[j] = evaluations[bit-reversed position of row j].
void bitrev_to_rows(gptr<const M31> evaluations, gptr<M31> rows, uint32_t log_size, stream_t stream);

// Many columns of 2^log_size values in one launch (gridDim.y = columns, split at kMaxGridY).
struct PermuteJob {
  const M31* src;
  M31* dst;
};
void rows_to_bitrev_many(gptr<const PermuteJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream);

// ---- query extraction (kernels/stark/permute.cu) ----------------------------------------------
// One 32-bit word to gather: base[index] (a column value or a word of a Merkle layer).
struct GatherSource {
  const uint32_t* base;
  uint64_t index;
};
// out[i] = sources[i].base[sources[i].index], i < n.
void gather_words(gptr<const GatherSource> sources, gptr<uint32_t> out, size_t n, stream_t stream);

// ---- LogUp (kernels/stark/logup.cu) ------------------------------------------------------------
// The running-sum column of the last LogUp batch from the inclusive prefix sums S of the row
// totals (row order): C(r) = S(r-1) - r * S(N-1)/N (C(0) = 0), written at the bit-reversed
// positions of CanonicCoset(log_rows); claimed_sum[0] = S(N-1).
void logup_running_column(gptr<const QM31> prefix_sums, uint32_t log_rows, SecureColumnView out,
                          gptr<QM31> claimed_sum, stream_t stream);

// The running column on one rank's rows [row0, row0 + 2^block_log) in row order, from the local
// inclusive prefix sums of its row totals: out[i] = before + S_local(i-1) - (row0 + i) * per_row
// (before: the totals of the rows below row0; per_row = S/N of the whole trace).
void logup_running_block(gptr<const QM31> prefix_sums, uint32_t block_log, uint64_t row0, QM31 before, QM31 per_row,
                         SecureColumnView out, stream_t stream);

// Many components' last LogUp batches of one size, one block each (gridDim.y = jobs, split at
// kMaxGridY): row_totals (row order) is scanned in place, then the running column is written to
// out and the claimed sum to claimed_sum[0] (inclusive_scan_add + logup_running_column).
struct LogupRunningJob {
  QM31* row_totals;
  SecureColumnView out;
  QM31* claimed_sum;
};
void logup_running_many(gptr<const LogupRunningJob> jobs, uint32_t n_jobs, uint32_t log_rows, stream_t stream);

// ---- DEEP quotients (kernels/stark/deep.cu) ----------------------------------------------------
// One batch of stark::DeepBatch in device memory; its columns are
// columns[first_column, first_column + n_columns) with coefficients at the same indices.
struct DeviceDeepBatch {
  QM31 a_sum, b_sum, alpha_pow_m;
  CM31 prx, pix, pry, piy;
  uint32_t first_column, n_columns;
};
// out(q) = Horner over batches of N_b(q) / D_b(q) on CanonicCoset(log_size), bit-reversed.
void deep_quotients(uint32_t log_size, gptr<const DeviceDeepBatch> batches, uint32_t n_batches,
                    gptr<const DeviceColumnRef> columns, gptr<const QM31> column_coefficients,
                    SecureColumnView out, stream_t stream);

// The same on one block of the domain (one rank's shard): positions [first_position, first_position
// + 2^block_log) of CanonicCoset(log_size); columns and out hold the block (local index i is
// position first_position + i). first_position is a multiple of 2^block_log.
void deep_quotients_block(uint32_t log_size, uint64_t first_position, uint32_t block_log,
                          gptr<const DeviceDeepBatch> batches, uint32_t n_batches, gptr<const DeviceColumnRef> columns,
                          gptr<const QM31> column_coefficients, SecureColumnView out, stream_t stream);

// Many quotient columns of one size in one launch (gridDim.y = jobs, split at kMaxGridY).
// A column of a DEEP job read once for all the batches it is in (a column opened at two points is
// in two): its uses, each a batch and the column's coefficient in it.
struct DeepColumnUse {
  QM31 coefficient;
  uint32_t batch = 0;
  uint32_t reserved = 0;
};
struct DeepUniqueColumn {
  DeviceColumnRef ref;
  uint32_t first_use = 0, n_uses = 0;
};
inline constexpr uint32_t kMaxDeepBatchesPerPass = 8;
struct DeepQuotientJob {
  gptr<const DeviceDeepBatch> batches;
  uint32_t n_batches;
  gptr<const DeviceColumnRef> columns;
  gptr<const QM31> coefficients;
  SecureColumnView out;
  // When n_unique != 0 and n_batches <= kMaxDeepBatchesPerPass: the same columns once each with
  // their uses (columns/coefficients then unused); the numerators are the same exact sums.
  gptr<const DeepUniqueColumn> unique_columns;
  uint32_t n_unique = 0;
  gptr<const DeepColumnUse> uses;
};
void deep_quotients_many(uint32_t log_size, gptr<const DeepQuotientJob> jobs, uint32_t n_jobs, stream_t stream);

// ---- FRI folds (kernels/stark/fri.cu) ----------------------------------------------------------
// Circle -> line: out[i] = (accumulate ? acc[i] * alpha^2 : 0) + fold_circle_pair(in[2i], in[2i+1])
// for a column on CanonicCoset(log_size); out has 2^(log_size-1) values (may alias acc).
void fri_fold_circle(SecureColumnConstView in, uint32_t log_size, QM31 alpha, bool accumulate,
                     SecureColumnConstView acc, SecureColumnView out, stream_t stream);
// Line -> line on `domain` (bit-reversed): out[i] = fold_line_pair(in[2i], in[2i+1]).
void fri_fold_line(SecureColumnConstView in, circle::LineDomain domain, QM31 alpha,
                   SecureColumnView out, stream_t stream);

// The folds on one block of positions [first_position, first_position + 2^block_log) of the
// column (one rank's shard; first_position a multiple of 2^block_log): in holds the block, out (and
// acc) the 2^(block_log-1) folded values at first_position / 2.
void fri_fold_circle_block(SecureColumnConstView in, uint32_t log_size, uint64_t first_position, uint32_t block_log,
                           QM31 alpha, bool accumulate, SecureColumnConstView acc, SecureColumnView out,
                           stream_t stream);
void fri_fold_line_block(SecureColumnConstView in, circle::LineDomain domain, uint64_t first_position, uint32_t block_log,
                         QM31 alpha, SecureColumnView out, stream_t stream);

// Many folds of one size in one launch (gridDim.y = folds, split at kMaxGridY): per fold its
// input, accumulator (accumulate != 0, circle folds), output, alpha and (line folds) domain.
// leaves = true (fused fold + leaf hashes): each fold also writes the leaf layer of the folded
// layer's Merkle tree to leaf_words (8 words per output position, word-major, the layer
// blake2s_merkle_layer computes over the 4 coordinate columns of `out`), so committing the folded
// layer starts at the layer above the leaves (DeviceMerkleTree::commit_many with leaves).
struct FriFoldJob {
  SecureColumnConstView in, acc;
  SecureColumnView out;
  QM31 alpha;
  circle::LineDomain domain;  // line folds: the domain of `in` (log_size of the launch)
  uint32_t accumulate;
  uint32_t* leaf_words;       // leaves: 8 * 2^(log_size - 1) words
};
void fri_fold_circle_many(gptr<const FriFoldJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream,
                          bool leaves = false);
void fri_fold_line_many(gptr<const FriFoldJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream,
                        bool leaves = false);

// ---- evaluation at a point (kernels/stark/oods.cu) --------------------------------------------
// out[c] = sum_j coeffs_c[j] * w_j with w_j = prod of factors[k] over the set bits k of j
// (PROTOCOL.md §3.1 basis at the point), for n_columns coefficient columns of 2^log_size values.
void evaluate_columns_at_point(gptr<const DeviceColumnRef> columns, uint32_t n_columns,
                               uint32_t log_size, gptr<const QM31> factors, gptr<QM31> out,
                               stream_t stream);

// Columns each at its own point: out[c] = column c (2^log_size coefficients) at the point whose
// log_size basis factors start at factors[columns[c].first_factor]. Entries of one column at
// several points may be placed one after another, the first saying how many (n_points, at most
// kMaxPointsPerColumnPass) and the others 0: the column is then read once for all of them.
// n_points 1 on every entry evaluates each on its own.
inline constexpr uint32_t kMaxPointsPerColumnPass = 4;
struct PointEvalColumn {
  const M31* data;
  uint32_t first_factor;
  uint32_t n_points = 1;
};
void evaluate_columns_at_points(gptr<const PointEvalColumn> columns, uint32_t n_columns, uint32_t log_size,
                                gptr<const QM31> factors, gptr<QM31> out, stream_t stream);

// ---- AIR evaluation (ptvm/gpu/device_air.cuh, instantiated per AIR type) ----------------------
// A writable QM31 column table for the LogUp batches.
struct DeviceBoundary {
  uint32_t selector_column;  // preprocessed column index of the row's selector
  uint32_t main_column;
  M31 value;                 // the public input
};

// Fractions of one component on its trace rows: batch j < B-1 values are written to
// batch_columns[j] (bit-reversed positions), row totals (sum of all batches) to row_totals[r]
// (row order); first_zero_row[0] = min(row with a zero batch denominator).
struct FractionsDeviceArgs {
  uint32_t log_rows = 0;
  gptr<const DeviceColumnRef> preprocessed, main;  // bit-reversed on the trace domain
  gptr<const air::RelationChallenges> challenges;
  uint32_t logup_batches = 0;
  gptr<const SecureColumnView> batch_columns;      // logup_batches - 1 entries
  gptr<QM31> row_totals;
  gptr<uint32_t> first_zero_row;
  // Row-block mode (one rank's rows, single-component launches only), when block_log != 0: the
  // columns hold 2^block_log consecutive rows in row order (fractions read the current row only,
  // as air::Component::interaction_rows); batch columns and row totals are written in that order
  // and first_zero_row is a local row.
  uint32_t block_log = 0;
};

// Composition of one component on CanonicCoset(log_size) (bit-reversed):
// out[pos] = (sum_j coefficients[j] C_j(pos)) * inv_vanishing[pos >> log_rows].
struct CompositionDeviceArgs {
  uint32_t log_rows = 0, log_size = 0;
  gptr<const DeviceColumnRef> preprocessed, main, interaction;
  gptr<const air::RelationChallenges> challenges;
  gptr<const QM31> coefficients;
  QM31 claimed_sum_per_row;
  uint32_t logup_batches = 0;
  gptr<const DeviceBoundary> boundaries;
  uint32_t n_boundaries = 0;
  gptr<const M31> inv_vanishing;
  SecureColumnView out;
  // Block mode (one rank's shard, single-component launches only), when block_log != 0: the
  // positions [block_first, block_first + 2^block_log); every input column holds the block's
  // values and the *_next table's column the value at the next row of each of them (local index
  // i: the next row of local position i, as the exchange delivered it), out holds the block.
  uint64_t block_first = 0;
  uint32_t block_log = 0;
  gptr<const DeviceColumnRef> preprocessed_next, main_next, interaction_next;
};

PTVM_GPU_NAMESPACE_END
