// The tensor-code multilinear commitment (see ptvm/sumcheck/mle_commitment.hpp).
#include "ptvm/sumcheck/mle_commitment.hpp"

#include <algorithm>
#include <exception>
#include <string>

#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/lde.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/lazy_dot.hpp"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::sumcheck {
namespace {

constexpr uint32_t kMaxVars = 40;
constexpr uint32_t kMaxCodeLog = 30;
// A verifier draws n_queries distinct positions: a bound keeps a forged commitment from asking
// for millions (the sampling and the opened values grow with it; 148 give ~100 bits).
constexpr uint32_t kMaxQueries = 1024;

std::optional<std::string> check_params(const MleCommitment& c) {
  if (c.n_vars == 0 || c.n_vars > kMaxVars) return "mle commitment: " + std::to_string(c.n_vars) + " variables";
  if (c.log_rows >= c.n_vars) return "mle commitment: log_rows " + std::to_string(c.log_rows) + " leaves no column variable";
  if (c.log_blowup == 0 || c.log_cols() + c.log_blowup > kMaxCodeLog)
    return "mle commitment: code of log size " + std::to_string(c.log_cols() + c.log_blowup) + " (blowup log " +
           std::to_string(c.log_blowup) + ")";
  if (c.n_queries == 0 || c.n_queries > kMaxQueries || c.n_queries > (uint64_t{1} << (c.log_cols() + c.log_blowup)))
    return "mle commitment: " + std::to_string(c.n_queries) + " queries for a code of log size " +
           std::to_string(c.log_cols() + c.log_blowup);
  return std::nullopt;
}

// Encodes the four coordinate vectors of QM31 rows (each of 2^b) with the row code.
std::vector<std::vector<M31>> encode_qm31_rows(std::span<const std::vector<QM31>* const> rows, uint32_t log_blowup,
                                               const circle::TwiddleTree& tree, unsigned n_threads) {
  std::vector<std::vector<M31>> coords;
  for (const auto* row : rows)
    for (int c = 0; c < 4; ++c) {
      std::vector<M31> v(row->size());
      for (size_t j = 0; j < row->size(); ++j) v[j] = (*row)[j].coord(c);
      coords.push_back(std::move(v));
    }
  return circle::extend_columns_bitrev(coords, log_blowup, tree, n_threads);
}

QM31 qm31_at(const std::vector<std::vector<M31>>& encoded, size_t row, size_t position) {
  return QM31::from_m31(encoded[4 * row][position], encoded[4 * row + 1][position], encoded[4 * row + 2][position],
                        encoded[4 * row + 3][position]);
}

}  // namespace

void mix_commitment(hash::Blake2sChannel& channel, const MleCommitment& c) {
  const uint32_t words[4] = {c.n_vars, c.log_rows, c.log_blowup, c.n_queries};
  channel.mix_u32s(words);
  channel.mix_root(c.root);
}

uint32_t default_log_rows(uint32_t n_vars) {
  if (n_vars <= 1) return 0;
  const uint32_t a = n_vars / 2 >= 2 ? n_vars / 2 - 2 : 0;
  return a < n_vars ? a : n_vars - 1;
}

CommittedMle CommittedMle::with_parameters(std::vector<M31> table, uint32_t log_rows, const MleCommitmentParams& params,
                                           const char* who) {
  CommittedMle m;
  m.commitment_.n_vars = log2_table_size(table.size(), who);
  m.commitment_.log_rows = log_rows;
  m.commitment_.log_blowup = params.log_blowup;
  m.commitment_.n_queries = params.n_queries;
  if (auto bad = check_params(m.commitment_)) throw Error(ErrorCategory::Usage, *bad);
  m.table_ = std::move(table);
  return m;
}

CommittedMle CommittedMle::commit(std::vector<M31> table, uint32_t log_rows, const MleCommitmentParams& params,
                                  unsigned n_threads, MleEncodingStorage storage) {
  CommittedMle m = with_parameters(std::move(table), log_rows, params, "CommittedMle::commit");
  m.n_threads_ = n_threads;
  if (storage == MleEncodingStorage::Recomputed) {
    // The leaf hashes (merkle_hash.hpp: the leaf prefix's state, then the rows' values 16 at a
    // time) accumulated over the row batches; the encoding is never held whole.
    const size_t rows = size_t{1} << log_rows;
    const size_t leaves = size_t{1} << (m.commitment_.log_cols() + m.commitment_.log_blowup);
    std::vector<uint32_t> state(8 * leaves);
    for (size_t j = 0; j < leaves; ++j)
      for (int i = 0; i < 8; ++i) state[8 * j + i] = hash::merkle_leaf_initial_state(i);
    m.for_each_encoded_batch([&](size_t first, const std::vector<std::vector<M31>>& batch) {
      uint32_t block[16];
      for (size_t g = 0; g < batch.size(); g += 16) {
        const size_t k = std::min<size_t>(16, batch.size() - g);
        const uint64_t t = 64 + 4 * uint64_t(first + g + k);
        const bool last = first + g + 16 >= rows;
        for (size_t j = 0; j < leaves; ++j) {
          for (size_t i = 0; i < 16; ++i) block[i] = i < k ? batch[g + i][j].v : 0;
          hash::blake2s_compress(&state[8 * j], block, t, last);
        }
      }
    });
    std::vector<hash::Blake2sHash> hashes(leaves);
    for (size_t j = 0; j < leaves; ++j) hashes[j] = hash::Blake2sHash::from_words(&state[8 * j]);
    std::vector<uint32_t>().swap(state);
    m.tree_ = std::make_unique<hash::MerkleTree>(hash::MerkleTree::from_leaf_hashes(hashes, rows));
  } else {
    m.encoded_rows_ = m.encode_rows();
    std::vector<std::span<const M31>> columns(m.encoded_rows_.begin(), m.encoded_rows_.end());
    m.tree_ = std::make_unique<hash::MerkleTree>(hash::MerkleTree::commit(columns, n_threads));
  }
  m.commitment_.root = m.tree_->root();
  return m;
}

CommittedMle::CommittedMle() = default;
CommittedMle::~CommittedMle() = default;
CommittedMle::CommittedMle(CommittedMle&&) noexcept = default;
CommittedMle& CommittedMle::operator=(CommittedMle&&) noexcept = default;

CommittedMle CommittedMle::commit_on(Backend& stark, std::vector<M31> table, uint32_t log_rows,
                                     const MleCommitmentParams& params) {
  CommittedMle m = with_parameters(std::move(table), log_rows, params, "CommittedMle::commit_on");
  const size_t rows = size_t{1} << log_rows, cols = size_t{1} << m.commitment_.log_cols();
  const uint32_t b = m.commitment_.log_cols();
  // A row is the bit-reversed values of its polynomial on CanonicCoset(b); upload_rows takes trace
  // row order (trace row j at storage position bit_reverse(coset_index_to_circle_domain_index(j))),
  // so each row goes up in that order.
  std::vector<uint32_t> position(cols);
  for (size_t j = 0; j < cols; ++j)
    position[j] = uint32_t(circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, b), b));
  std::vector<std::vector<M31>> natural(rows, std::vector<M31>(cols));
  for (size_t i = 0; i < rows; ++i) {
    const M31* row = m.table_.data() + i * cols;
    for (size_t j = 0; j < cols; ++j) natural[i][j] = row[position[j]];
  }
  Evaluations encoded;
  {
    const Evaluations values = stark.upload_rows(natural);
    std::vector<std::vector<M31>>().swap(natural);
    const Coefficients coefficients = stark.interpolate(values);
    encoded = stark.evaluate(coefficients, m.commitment_.log_blowup);
  }
  m.backend_tree_ = stark.commit({EvaluationsRef(encoded)});
  m.backend_encoding_ = encoded.storage();
  m.commitment_.root = m.backend_tree_->root();
  return m;
}

void CommittedMle::for_each_encoded_batch(
    const std::function<void(size_t, const std::vector<std::vector<M31>>&)>& f) const {
  const size_t rows = size_t{1} << commitment_.log_rows, cols = size_t{1} << commitment_.log_cols();
  const size_t code = cols << commitment_.log_blowup;
  // Batches of a multiple of 16 rows (whole Blake2s blocks of each leaf) of ~2^23 encoded values.
  const size_t batch_rows = std::min(rows, std::max<size_t>(16, (size_t{1} << 23) / code));
  const auto tree = circle::precompute_twiddles_for_log(commitment_.log_cols() + commitment_.log_blowup);
  std::vector<std::vector<M31>> row_values(batch_rows);
  for (size_t first = 0; first < rows; first += batch_rows) {
    for (size_t i = 0; i < batch_rows; ++i)
      row_values[i].assign(table_.begin() + (first + i) * cols, table_.begin() + (first + i + 1) * cols);
    f(first, circle::extend_columns_bitrev(row_values, commitment_.log_blowup, tree, n_threads_));
  }
}

// Every row of the table encoded with the row code (the same values at commit and at open).
std::vector<std::vector<M31>> CommittedMle::encode_rows() const {
  const size_t rows = size_t{1} << commitment_.log_rows, cols = size_t{1} << commitment_.log_cols();
  std::vector<std::vector<M31>> row_values(rows);
  for (size_t i = 0; i < rows; ++i) row_values[i].assign(table_.begin() + i * cols, table_.begin() + (i + 1) * cols);
  const auto tree = circle::precompute_twiddles_for_log(commitment_.log_cols() + commitment_.log_blowup);
  return circle::extend_columns_bitrev(row_values, commitment_.log_blowup, tree, n_threads_);
}

QM31 CommittedMle::evaluate(std::span<const QM31> point) const {
  return evaluate_mle_by_rows(table_, point, n_threads_);
}

MleOpeningProof CommittedMle::open(std::span<const QM31> point, QM31 value, hash::Blake2sChannel& channel,
                                   SumcheckBackend& backend, const std::vector<QM31>* evaluation_row,
                                   const ResidentMatrix* table_on_backend) const {
  const MleCommitment& c = commitment_;
  if (point.size() != c.n_vars)
    throw Error(ErrorCategory::Usage, "CommittedMle::open: a point of " + std::to_string(point.size()) +
                                          " coordinates for " + std::to_string(c.n_vars) + " variables");
  const size_t rows = size_t{1} << c.log_rows, cols = size_t{1} << c.log_cols();
  channel.mix_felts(point);
  channel.mix_felts(std::span<const QM31>(&value, 1));
  const std::vector<QM31> rho = c.log_rows > 0 ? channel.draw_felts(c.log_rows) : std::vector<QM31>{};
  std::unique_ptr<ResidentMatrix> uploaded;
  if (!table_on_backend) {
    uploaded = backend.upload_matrix(table_);
    table_on_backend = uploaded.get();
  } else if (table_on_backend->size() != table_.size()) {
    throw Error(ErrorCategory::Usage, "CommittedMle::open: resident values of " + std::to_string(table_on_backend->size()) +
                                          " entries for a table of " + std::to_string(table_.size()));
  }
  MleOpeningProof proof;
  proof.proximity_row = backend.restrict_rows(*table_on_backend, 0, rows, cols, backend.eq_table(rho, QM31::one()));
  if (evaluation_row) {
    if (evaluation_row->size() != cols) throw Error(ErrorCategory::Usage, "CommittedMle::open: evaluation row of the wrong size");
    proof.evaluation_row = *evaluation_row;
  } else {
    proof.evaluation_row =
        backend.restrict_rows(*table_on_backend, 0, rows, cols, backend.eq_table(point.first(c.log_rows), QM31::one()));
  }
  channel.mix_felts(proof.proximity_row);
  channel.mix_felts(proof.evaluation_row);
  const uint32_t code_log = c.log_cols() + c.log_blowup;
  const std::vector<size_t> positions = channel.draw_distinct_queries(code_log, c.n_queries);
  hash::QueriesPerLogSize queries;
  queries[code_log] = positions;
  hash::MerkleTree::Opening opening;
  if (backend_tree_) {  // commit_on: the backend opens its tree
    opening = backend_tree_->open(queries);
  } else if (encoded_rows_.empty()) {  // MleEncodingStorage::Recomputed: the opened columns, batch by batch
    std::vector<M31> opened(positions.size() * rows);
    for_each_encoded_batch([&](size_t first, const std::vector<std::vector<M31>>& batch) {
      for (size_t q = 0; q < positions.size(); ++q)
        for (size_t i = 0; i < batch.size(); ++i) opened[q * rows + first + i] = batch[i][positions[q]];
    });
    opening = tree_->decommit_values(queries, [&](size_t row, size_t position) {
      const auto it = std::lower_bound(positions.begin(), positions.end(), position);
      if (it == positions.end() || *it != position)
        throw Error(ErrorCategory::Internal, "CommittedMle::open: an unopened column was read");
      return opened[size_t(it - positions.begin()) * rows + row];
    });
  } else {
    const std::vector<std::span<const M31>> columns(encoded_rows_.begin(), encoded_rows_.end());
    opening = tree_->decommit(queries, columns);
  }
  proof.queried_values = std::move(opening.queried_values);
  proof.decommitment = std::move(opening.decommitment);
  (void)channel.draw_felt();  // gamma, the verifier's (the transcripts stay in step)
  return proof;
}

std::optional<std::string> verify_mle_opening(const MleCommitment& c, std::span<const QM31> point, QM31 value,
                                              const MleOpeningProof& proof, hash::Blake2sChannel& channel) {
  try {
    if (auto bad = check_params(c)) return bad;
    if (point.size() != c.n_vars)
      return "mle opening: a point of " + std::to_string(point.size()) + " coordinates for " +
             std::to_string(c.n_vars) + " variables";
    const size_t rows = size_t{1} << c.log_rows, cols = size_t{1} << c.log_cols();
    if (proof.proximity_row.size() != cols || proof.evaluation_row.size() != cols)
      return "mle opening: rows of " + std::to_string(proof.proximity_row.size()) + " and " +
             std::to_string(proof.evaluation_row.size()) + " entries, expected " + std::to_string(cols);
    if (!all_canonical(proof.proximity_row) || !all_canonical(proof.evaluation_row))
      return std::string("mle opening: a row value is not canonical");
    channel.mix_felts(point);
    channel.mix_felts(std::span<const QM31>(&value, 1));
    const std::vector<QM31> rho = c.log_rows > 0 ? channel.draw_felts(c.log_rows) : std::vector<QM31>{};
    channel.mix_felts(proof.proximity_row);
    channel.mix_felts(proof.evaluation_row);
    // The value from the evaluation row: v = <u_eval, eq(z_col)> = MLE(u_eval)(z_col).
    if (evaluate_mle<QM31>(proof.evaluation_row, point.subspan(c.log_rows)) != value)
      return std::string("mle opening: the evaluation row does not give the claimed value");
    const uint32_t code_log = c.log_cols() + c.log_blowup;
    // The opened values' count first (the n_queries positions drawn next are distinct).
    if (proof.queried_values.size() != uint64_t{c.n_queries} * rows)
      return "mle opening: " + std::to_string(proof.queried_values.size()) + " opened values, expected " +
             std::to_string(uint64_t{c.n_queries} * rows);
    const std::vector<size_t> positions = channel.draw_distinct_queries(code_log, c.n_queries);
    if (proof.queried_values.size() != positions.size() * rows)
      return "mle opening: " + std::to_string(proof.queried_values.size()) + " opened values, expected " +
             std::to_string(positions.size() * rows);
    for (M31 x : proof.queried_values)
      if (!M31::is_canonical(x.v)) return std::string("mle opening: an opened value is not canonical");
    hash::QueriesPerLogSize queries;
    queries[code_log] = positions;
    hash::MerkleVerifier merkle(c.root, std::vector<uint32_t>(rows, code_log));
    if (auto bad = merkle.verify(queries, proof.queried_values, proof.decommitment))
      return "mle opening: merkle: " + *bad;
    // The rows' codewords at the opened columns against the columns' combinations, both checks
    // joined by gamma (drawn after everything they depend on is fixed): one row encoding.
    const QM31 gamma = channel.draw_felt();
    std::vector<QM31> joined_row(cols);
    for (size_t j = 0; j < cols; ++j) joined_row[j] = proof.proximity_row[j] + gamma * proof.evaluation_row[j];
    const auto tree = circle::precompute_twiddles_for_log(code_log);
    const std::vector<QM31>* rows_to_encode[1] = {&joined_row};
    const auto encoded = encode_qm31_rows(rows_to_encode, c.log_blowup, tree, 1);
    std::vector<QM31> weights = eq_table(rho);
    const std::vector<QM31> w_eval = eq_table(point.first(c.log_rows));
    for (size_t i = 0; i < rows; ++i) weights[i] += gamma * w_eval[i];
    for (size_t q = 0; q < positions.size(); ++q) {
      const M31* column = proof.queried_values.data() + q * rows;
      uint64_t acc[4] = {0, 0, 0, 0};
      for (size_t i = 0; i < rows; ++i) lazy_accumulate(acc, weights[i], column[i]);
      if (qm31_at(encoded, 0, positions[q]) != lazy_finish(acc))
        return "mle opening: column " + std::to_string(positions[q]) + " fails the row check";
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string("mle opening: ") + e.what();
  }
}

}  // namespace ptvm::sumcheck
