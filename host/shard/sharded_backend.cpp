// The sharded backend (ptvm/shard/sharded_backend.hpp): ptvm::Backend over this rank's shard.
// The math is the CPU backend's, run on the rank's part: the FFT layer kernels
// (four_step_fft.cpp), the Merkle hasher over the local subtree (sharded_merkle.cpp), the LogUp
// rows (sharded_logup.cpp), the constraint, DEEP and FRI code (sharded_stages.cpp). Columns too
// small to split are whole on every rank, and stages on them run the CPU backend itself there
// (`Gathered` in the code).
#include <map>

#include "shard_columns.hpp"
#include "sharded_backend_impl.hpp"

namespace ptvm::shard {

ShardedBackend::ShardedBackend(comm::Communicator& comm)
    : geometry_(comm), cpu_(make_cpu_backend()) {}

const circle::TwiddleTree& ShardedBackend::twiddles(uint32_t max_domain_log) {
  if (!twiddles_ || twiddles_->max_domain_log() < max_domain_log)
    twiddles_ = std::make_unique<circle::TwiddleTree>(
        circle::precompute_twiddles_for_log(std::max<uint32_t>(max_domain_log, 2)));
  return *twiddles_;
}

Evaluations ShardedBackend::upload_rows(const std::vector<std::vector<M31>>& rows) {
  const Geometry& g = geometry_;
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(rows.size());
  for (size_t c = 0; c < rows.size(); ++c) {
    const uint32_t n = backend_cpu::log2_exact(rows[c].size());
    ShardColumn& sc = out->cols[c];
    sc.log_size = n;
    // Columns too small to split (a program table next to a long execution trace) are held
    // whole by every rank.
    sc.layout = g.evaluation_layout(n);
    const size_t begin = sc.layout == Layout::Block ? g.block_begin(n) : 0,
                 m = g.local_size(n, sc.layout);
    sc.local.resize(m);
    // Row j is stored at bitrev(domain index of coset index j) (PROTOCOL.md §2.4-2.5).
    for (size_t j = 0; j < rows[c].size(); ++j) {
      const size_t p =
          circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n);
      if (p - begin < m)
        sc.local[p - begin] = rows[c][j];
    }
  }
  return Evaluations(std::move(out));
}

std::vector<M31> ShardedBackend::to_host_rows(const Evaluations& set, size_t column) {
  const std::vector<M31> storage = set.to_host(column);
  const uint32_t n = backend_cpu::log2_exact(storage.size());
  std::vector<M31> rows(storage.size());
  for (size_t j = 0; j < rows.size(); ++j)
    rows[j] =
        storage[circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n)];
  return rows;
}

Coefficients ShardedBackend::interpolate(const Evaluations& evaluations) {
  const ShardColumns& in = shard(evaluations);
  const Geometry& g = geometry_;
  // Split columns through the four-step transform (one all-to-all for all of them); columns
  // held whole by every rank through the plain one, locally.
  std::vector<std::span<const M31>> spans;
  std::vector<uint32_t> logs;
  std::vector<size_t> split;
  uint32_t max_log = 1;
  for (const auto& c : in.cols)
    max_log = std::max(max_log, c.log_size);
  const circle::TwiddleTree& tree = twiddles(max_log);
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(in.cols.size());
  for (size_t c = 0; c < in.cols.size(); ++c) {
    const ShardColumn& col = in.cols[c];
    if (col.layout == Layout::Block) {
      spans.emplace_back(col.local.data(), col.local.size());
      logs.push_back(col.log_size);
      split.push_back(c);
    } else if (col.layout == Layout::Replicated) {
      out->cols[c] = {col.log_size, Layout::Replicated, Column(col.local.size())};
      circle::circle_interpolate_bitrev(col.local, out->cols[c].local, tree);
    } else {
      throw Error(ErrorCategory::Internal,
                  "sharded interpolate: column " + std::to_string(c) + " holds coefficients");
    }
  }
  std::vector<std::vector<M31>> coeffs = interpolate_block_to_cyclic(*g.comm, spans, logs, tree);
  for (size_t i = 0; i < split.size(); ++i)
    out->cols[split[i]] = {logs[i], Layout::Cyclic, Column(coeffs[i].begin(), coeffs[i].end())};
  return Coefficients(std::move(out));
}

Evaluations ShardedBackend::evaluate(const Coefficients& coefficients, uint32_t log_extension) {
  const ShardColumns& in = shard(coefficients);
  const Geometry& g = geometry_;
  std::vector<std::span<const M31>> spans;
  std::vector<uint32_t> logs;
  std::vector<size_t> split;
  uint32_t max_log = 1;
  for (const auto& c : in.cols)
    max_log = std::max(max_log, c.log_size + log_extension);
  const circle::TwiddleTree& tree = twiddles(max_log);
  auto out = std::make_unique<ShardColumns>(g);
  out->cols.resize(in.cols.size());
  for (size_t c = 0; c < in.cols.size(); ++c) {
    const ShardColumn& col = in.cols[c];
    const uint32_t L = col.log_size + log_extension;
    if (col.layout == Layout::Cyclic) {
      spans.emplace_back(col.local.data(), col.local.size());
      logs.push_back(col.log_size);
      split.push_back(c);
    } else if (col.layout == Layout::Replicated) {
      // Whole coefficients: the whole evaluation, locally, and this rank's block of it.
      Column full(size_t{1} << L);
      circle::circle_evaluate_bitrev(col.local, full, tree);
      const Layout layout = g.evaluation_layout(L);
      out->cols[c] = {L, layout,
                      layout == Layout::Replicated ? std::move(full) : local_part(g, full, layout)};
    } else {
      throw Error(ErrorCategory::Internal,
                  "sharded evaluate: column " + std::to_string(c) + " holds evaluations");
    }
  }
  std::vector<std::vector<M31>> values =
      evaluate_cyclic_to_block(*g.comm, spans, logs, log_extension, tree);
  for (size_t i = 0; i < split.size(); ++i)
    out->cols[split[i]] = {logs[i] + log_extension, Layout::Block,
                           Column(values[i].begin(), values[i].end())};
  return Evaluations(std::move(out));
}

std::vector<QM31>
ShardedBackend::evaluate_at_points(const Coefficients& coefficients,
                                   std::span<const PointEvaluationRequest> requests) {
  const ShardColumns& in = shard(coefficients);
  const Geometry& g = geometry_;
  // p(point) = sum_j c_j b_j(point), b_j = prod of factors [y, x, pi(x), ...] selected by the bits
  // of j (PROTOCOL.md §3.1). Rank r holds j = i S + r: b_j = b_r(low factors) * b'_i(factors s..),
  // so each rank sums its own coefficients and the partial sums are added up (exact, any order).
  std::vector<QM31> partial(requests.size(), QM31::zero());
  std::map<std::pair<std::array<uint32_t, 8>, uint32_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& p = requests[i].point;
    std::array<uint32_t, 8> key = {p.x.x0.a.v, p.x.x0.b.v, p.x.x1.a.v, p.x.x1.b.v,
                                   p.y.x0.a.v, p.y.x0.b.v, p.y.x1.a.v, p.y.x1.b.v};
    groups[{key, in.cols.at(requests[i].column).log_size}].push_back(i);
  }
  for (const auto& group : groups) {
    const uint32_t log = group.first.second;
    const std::vector<size_t>& members = group.second;
    const auto& point = requests[members[0]].point;
    std::vector<QM31> factors;
    factors.push_back(point.y);
    QM31 x = point.x;
    for (uint32_t k = 1; k < log; ++k) {
      factors.push_back(x);
      x = x * x + x * x - QM31::one();
    }
    for (size_t m : members) {
      const ShardColumn& col = in.cols[requests[m].column];
      if (col.layout != Layout::Cyclic || g.size == 1) {
        // Whole coefficients (replicated): rank 0 adds them all.
        if (g.rank != 0 && g.size > 1)
          continue;
        partial[m] = circle::circle_eval_at_point<QM31>(col.local.data(), log, point);
        continue;
      }
      QM31 low = QM31::one();
      for (uint32_t k = 0; k < g.s; ++k)
        if ((g.rank >> k) & 1)
          low = low * factors[k];
      // b'_i over the factors s .. log-1, built by doubling as the CPU backend does.
      const size_t m_local = col.local.size();
      std::vector<QM31> weights(m_local);
      weights[0] = QM31::one();
      for (uint32_t k = g.s; k < log; ++k) {
        const size_t half = size_t{1} << (k - g.s);
        for (size_t j = 0; j < half; ++j)
          weights[half + j] = weights[j] * factors[k];
      }
      QM31 acc = QM31::zero();
      for (size_t i = 0; i < m_local; ++i)
        acc += weights[i] * col.local[i];
      partial[m] = low * acc;
    }
  }
  if (g.size == 1)
    return partial;
  comm::Bytes mine;
  for (const QM31& v : partial)
    for (int k = 0; k < 4; ++k) {
      const M31 c = v.coord(k);
      append_values(mine, &c, 1);
    }
  std::vector<comm::Bytes> parts = g.comm->all_gather(mine);
  std::vector<QM31> out(requests.size(), QM31::zero());
  for (int q = 0; q < g.size; ++q) {
    if (parts[q].size() != requests.size() * 4 * sizeof(M31))
      throw Error(ErrorCategory::Internal,
                  "sharded evaluate_at_points: bad block from rank " + std::to_string(q));
    for (size_t i = 0; i < requests.size(); ++i) {
      M31 c[4];
      std::memcpy(c, parts[q].data() + i * 4 * sizeof(M31), sizeof c);
      out[i] += QM31::from_m31(c[0], c[1], c[2], c[3]);
    }
  }
  return out;
}

void ShardedBackend::add_assign(SecureEvaluations& dst, const SecureEvaluations& src) {
  auto& d = shard(dst);
  const auto& s = shard(src);
  if (d.cols.size() != s.cols.size())
    throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
  for (size_t c = 0; c < d.cols.size(); ++c) {
    if (d.cols[c].log_size != s.cols[c].log_size || d.cols[c].layout != s.cols[c].layout)
      throw Error(ErrorCategory::Internal, "add_assign: size or layout mismatch");
    for (size_t i = 0; i < d.cols[c].local.size(); ++i)
      d.cols[c].local[i] += s.cols[c].local[i];
  }
}

Coefficients ShardedBackend::slice(const Coefficients& set, size_t first, size_t count) {
  const auto& s = shard(set);
  if (first + count > s.cols.size())
    throw Error(ErrorCategory::Internal, "slice out of range");
  auto out = std::make_unique<ShardColumns>(geometry_);
  out->cols.assign(s.cols.begin() + first, s.cols.begin() + first + count);
  return Coefficients(std::move(out));
}

Coefficients ShardedBackend::coefficient_slice(const Coefficients& coefficients, size_t begin,
                                               uint32_t log_size) {
  const auto& s = shard(coefficients);
  const Geometry& g = geometry_;
  auto out = std::make_unique<ShardColumns>(g);
  for (const auto& c : s.cols) {
    const size_t len = size_t{1} << log_size;
    if (begin + len > (size_t{1} << c.log_size))
      throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
    if (c.layout == Layout::Cyclic && begin % g.size == 0 &&
        log_size >= min_sharded_log_size(g.s)) {
      // Coefficients begin + i S + r, i < len / S: a local range (begin is a multiple of S).
      const size_t from = begin >> g.s;
      out->cols.push_back({log_size, Layout::Cyclic,
                           Column(c.local.begin() + from, c.local.begin() + from + (len >> g.s))});
    } else {
      std::vector<Column> full = full_columns(g, {&c});
      Column part(full[0].begin() + begin, full[0].begin() + begin + len);
      const Layout layout =
          g.s == 0 || log_size >= min_sharded_log_size(g.s) ? Layout::Cyclic : Layout::Replicated;
      out->cols.push_back({log_size, layout, local_part(g, part, layout)});
    }
  }
  return Coefficients(std::move(out));
}

uint64_t ShardedBackend::grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) {
  const Geometry& g = geometry_;
  if (g.size == 1)
    return cpu_->grind(channel, pow_bits);
  // Rounds of kChunk nonces per rank, rank r taking the r-th chunk of the round; the smallest hit
  // of the first round with any hit is the smallest nonce overall (chunks increase with rank).
  constexpr uint64_t kChunk = uint64_t{1} << 16;
  for (uint64_t round = 0;; ++round) {
    const uint64_t begin = (round * g.size + g.rank) * kChunk;
    const uint64_t found =
        channel.grind_range(pow_bits, begin, begin + kChunk).value_or(UINT64_MAX);
    comm::ByteWriter w;
    w.u64(found);
    std::vector<comm::Bytes> all = g.comm->all_gather(w.take());
    uint64_t best = UINT64_MAX;
    for (int q = 0; q < g.size; ++q) {
      comm::ByteReader r(all[q], "sharded grind: rank " + std::to_string(q) + "'s nonce");
      best = std::min(best, r.u64());
    }
    if (best != UINT64_MAX)
      return best;
  }
}

std::unique_ptr<Backend> make_sharded_backend(comm::Communicator& comm) {
  return std::make_unique<ShardedBackend>(comm);
}

namespace {
// The communicator is a base before ShardedBackend, so it is made first and destroyed last.
struct OwnedCommunicator {
  std::unique_ptr<comm::Communicator> owned = std::move(comm::make_thread_communicators(1).at(0));
};
class SingleRankShardedBackend final : private OwnedCommunicator, public ShardedBackend {
public:
  SingleRankShardedBackend() : OwnedCommunicator(), ShardedBackend(*owned) {}
};
} // namespace

std::unique_ptr<Backend> make_single_rank_sharded_backend() {
  return std::make_unique<SingleRankShardedBackend>();
}

} // namespace ptvm::shard
