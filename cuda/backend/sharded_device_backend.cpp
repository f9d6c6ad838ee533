// The sharded device backend (ptvm/gpu/sharded_device_backend.hpp): the CPU sharded backend's
// protocol (host/shard/: layouts, four-step FFT, ShardedTree, gather points) with this rank's
// shard in device memory and its stages on the project's kernels.
#include "ptvm/gpu/sharded_device_backend.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>

#include "../../host/shard/shard_columns.hpp"
#include "../../host/shard/sharded_backend_impl.hpp"
#include "../../host/shard/sharded_tree.hpp"
#include "device_columns.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/device_wide.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/pow.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/shard_exchange.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {
using namespace backend_detail;
using shard::Geometry;
using shard::Layout;

struct DevCol {
  uint32_t log_size = 0;
  Layout layout = Layout::Block;
  DeviceBuffer<M31> local;
};

class ShardedDeviceBackendImpl;

class DevShardColumns final : public ColumnSet {
 public:
  DevShardColumns(ShardedDeviceBackendImpl& b, const Geometry& g) : backend(&b), geometry(g) {}
  ShardedDeviceBackendImpl* backend;
  Geometry geometry;
  std::vector<DevCol> cols;
  size_t n_columns() const override { return cols.size(); }
  uint32_t log_size(size_t c) const override { return cols.at(c).log_size; }
  std::vector<M31> to_host(size_t c) const override;
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override;
};

const DevShardColumns& dsh(const ColumnSet& s) {
  auto* d = dynamic_cast<const DevShardColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "sharded device backend: column set from another backend");
  return *d;
}
DevShardColumns& dsh(ColumnSet& s) {
  auto* d = dynamic_cast<DevShardColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "sharded device backend: column set from another backend");
  return *d;
}
template <class Kind>
const DevShardColumns& dsh(const Columns<Kind>& c) {
  return dsh(c.set());
}
template <class Kind>
DevShardColumns& dsh(Columns<Kind>& c) {
  return dsh(c.set());
}
const DevShardColumns& dsh(const EvaluationsRef& r) { return dsh(r.set()); }

DeviceBuffer<M31> copy_range(const DeviceBuffer<M31>& src, size_t begin, size_t len, stream_t stream) {
  DeviceBuffer<M31> out(len);
  if (len) copy_device_to_device(out.data(), src.data() + begin, len * sizeof(M31), stream);
  return out;
}

shard::ShardColumn host_column(const DevCol& c, stream_t stream) {
  shard::ShardColumn h;
  h.log_size = c.log_size;
  h.layout = c.layout;
  h.local.resize(c.local.size());
  c.local.download(std::span<M31>(h.local.data(), h.local.size()), stream);
  return h;
}

// The device subtree of a sharded commitment (shard::ShardedTree joins the ranks' roots).
class DeviceSubtree final : public shard::LocalSubtree {
 public:
  DeviceSubtree(const Geometry& g, const std::vector<const DevCol*>& columns, stream_t stream) : stream_(stream) {
    std::vector<DeviceColumnRef> refs;
    for (const DevCol* c : columns) {
      if (c->layout == Layout::Replicated) {
        replicated_.push_back(c->local.to_host(stream));
        if (c->log_size < g.s) {
          blocks_.push_back(nullptr);
          continue;
        }
        blocks_.push_back(c->local.data() + g.block_begin(c->log_size));
      } else {
        replicated_.emplace_back();
        blocks_.push_back(c->local.data());
      }
      refs.push_back({blocks_.back(), uint64_t{1} << (c->log_size - g.s)});
    }
    tree_ = std::make_unique<DeviceMerkleTree>(DeviceMerkleTree::commit(refs, stream));
  }
  hash::Blake2sHash root() const override { return tree_->root(stream_); }
  std::vector<hash::Blake2sHash> nodes(const std::vector<std::pair<uint32_t, size_t>>& reads) const override {
    std::vector<GatherSource> sources;
    for (const auto& [layer, index] : reads) {
      const DeviceBuffer<uint32_t>& words = tree_->layer_words(layer);
      const size_t n_nodes = size_t{1} << layer;
      for (size_t i = 0; i < 8; ++i) sources.push_back({words.data(), i * n_nodes + index});
    }
    const std::vector<uint32_t> words = gather(sources);
    std::vector<hash::Blake2sHash> out;
    for (size_t r = 0; r < reads.size(); ++r) out.push_back(hash::Blake2sHash::from_words(&words[8 * r]));
    return out;
  }
  std::vector<M31> values(const std::vector<std::pair<uint32_t, size_t>>& reads) const override {
    std::vector<GatherSource> sources;
    for (const auto& [column, index] : reads)
      sources.push_back({reinterpret_cast<const uint32_t*>(blocks_.at(column)), index});
    const std::vector<uint32_t> words = gather(sources);
    std::vector<M31> out;
    for (uint32_t w : words) out.push_back(M31::raw(w));
    return out;
  }
  M31 replicated_value(size_t column, size_t index) const override { return replicated_.at(column).at(index); }

 private:
  std::vector<uint32_t> gather(const std::vector<GatherSource>& sources) const {
    std::vector<uint32_t> out(sources.size());
    if (sources.empty()) return out;
    DeviceBuffer<GatherSource> src = upload(sources, stream_);
    DeviceBuffer<uint32_t> words(sources.size());
    gather_words(src.cptr(), words.ptr(), sources.size(), stream_);
    words.download(std::span<uint32_t>(out), stream_);
    return out;
  }
  stream_t stream_;
  std::vector<const M31*> blocks_;
  std::vector<std::vector<M31>> replicated_;
  std::unique_ptr<DeviceMerkleTree> tree_;
};

class ShardedDeviceBackendImpl : public ShardedDeviceBackend {
 public:
  explicit ShardedDeviceBackendImpl(comm::Communicator& comm)
      : geometry_(comm), cuda_(make_cuda_backend()), host_(std::make_unique<shard::ShardedBackend>(comm)) {}
  std::string name() const override { return "sharded-device"; }
  ShardTrafficStats traffic() const override { return stats_; }
  CudaBackend& air_registry() override { return *cuda_; }
  const Geometry& geometry() const { return geometry_; }
  stream_t stream() const { return stream_; }

  // ---- device collectives -----------------------------------------------------------------------
  // values_per_rank M31 values to (from) every rank: send and recv hold size() blocks.
  void all_to_all(const M31* send, M31* recv, size_t values_per_rank) {
    collective(send, recv, values_per_rank, true);
  }
  void all_gather(const M31* send, M31* recv, size_t values_per_rank) {
    collective(send, recv, values_per_rank, false);
  }

  // ---- host stages: the CPU sharded code on this rank's block -------------------------------------
  template <class Kind>
  Columns<Kind> to_host_set(const DevShardColumns& d) {
    auto out = std::make_unique<shard::ShardColumns>(geometry_);
    for (const auto& c : d.cols) out->cols.push_back(host_column(c, stream_));
    return Columns<Kind>(std::move(out));
  }
  std::unique_ptr<DevShardColumns> to_device_set(const shard::ShardColumns& h) {
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    for (const auto& c : h.cols)
      out->cols.push_back({c.log_size, c.layout,
                           c.local.empty() ? DeviceBuffer<M31>()
                                           : DeviceBuffer<M31>::from_host(std::span<const M31>(c.local), stream_)});
    return out;
  }
  template <class Kind>
  Columns<Kind> from_host_result(const Columns<Kind>& r) {
    ++stats_.host_stage_calls;
    return Columns<Kind>(to_device_set(shard::shard(r)));
  }

  // ---- whole columns: the single-device backend's kernels on columns every rank holds whole ----
  // (replicated: too small to split; or one rank).
  bool whole(const DevShardColumns& d) const {
    if (geometry_.size == 1) return true;
    for (const auto& c : d.cols)
      if (c.layout != Layout::Replicated) return false;
    return true;
  }
  template <class Kind>
  Columns<Kind> whole_set(const DevShardColumns& d) {
    auto out = std::make_unique<DeviceColumns>();
    for (const auto& c : d.cols) out->cols.push_back(copy_range(c.local, 0, c.local.size(), stream_));
    return Columns<Kind>(std::move(out));
  }
  // A result of the single-device backend: each column as evaluation_layout says (this rank's
  // block when it can be split).
  template <class Kind>
  Columns<Kind> from_whole(Columns<Kind> r) {
    DeviceColumns& d = dev(r);
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    for (auto& b : d.cols) {
      const uint32_t L = log2_exact(b.size());
      const Layout layout = geometry_.evaluation_layout(L);
      if (layout == Layout::Block && geometry_.size > 1)
        out->cols.push_back({L, layout, copy_range(b, geometry_.block_begin(L), b.size() >> geometry_.s, stream_)});
      else
        out->cols.push_back({L, layout, std::move(b)});
    }
    return Columns<Kind>(std::move(out));
  }

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override {
    StageScope scope("sharded.upload_rows");
    // The CPU sharded backend picks this rank's positions; the block goes to the device through
    // the pinned staging slots of the device's pipeline on its copy stream (DevicePipeline: double
    // buffered, so the host fills one slot while the copy engine drains the other).
    auto host = host_->upload_rows(rows);
    const shard::ShardColumns& h = shard::shard(host);
    DevicePipeline& pipeline = cuda_->pipeline();
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    for (const auto& c : h.cols) {
      DeviceBuffer<M31> local(c.local.size());
      pipeline.upload(local.data(), c.local.data(), c.local.size() * sizeof(M31), pipeline.compute());
      out->cols.push_back({c.log_size, c.layout, std::move(local)});
    }
    // The kernels of the later stages run on this backend's stream: the blocks are in place first.
    synchronize(pipeline.compute());
    return Evaluations(std::move(out));
  }

  std::vector<M31> to_host_rows(const Evaluations& set, size_t column) override {
    const std::vector<M31> storage = set.to_host(column);
    const uint32_t n = log2_exact(storage.size());
    std::vector<M31> rows(storage.size());
    for (size_t j = 0; j < rows.size(); ++j)
      rows[j] = storage[circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n)];
    return rows;
  }

  Coefficients interpolate(const Evaluations& evaluations) override {
    StageScope scope("sharded.interpolate");
    const DevShardColumns& in = dsh(evaluations);
    uint32_t max_log = 2;
    for (const auto& c : in.cols) max_log = std::max(max_log, c.log_size);
    const DeviceTwiddles& tw = twiddles(max_log);
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    out->cols.resize(in.cols.size());
    std::vector<size_t> split;
    for (size_t c = 0; c < in.cols.size(); ++c) {
      const DevCol& col = in.cols[c];
      if (col.layout == Layout::Block && geometry_.size > 1) {
        out->cols[c] = {col.log_size, Layout::Cyclic, copy_range(col.local, 0, col.local.size(), stream_)};
        split.push_back(c);
      } else if (col.layout != Layout::Cyclic) {
        // Whole on this rank (replicated, or one rank): the plain transform.
        out->cols[c] = {col.log_size, geometry_.size > 1 ? Layout::Replicated : Layout::Cyclic,
                        DeviceBuffer<M31>(col.local.size())};
        circle_interpolate_bitrev(col.local.cptr(), out->cols[c].local.ptr(), col.log_size, tw, stream_);
      } else {
        throw Error(ErrorCategory::Internal, "sharded interpolate: column " + std::to_string(c) + " holds coefficients");
      }
    }
    four_step(*out, split, 0, /*inverse=*/true, tw);
    return Coefficients(std::move(out));
  }

  Evaluations evaluate(const Coefficients& coefficients, uint32_t log_extension) override {
    StageScope scope("sharded.evaluate");
    const DevShardColumns& in = dsh(coefficients);
    uint32_t max_log = 2;
    for (const auto& c : in.cols) max_log = std::max(max_log, c.log_size + log_extension);
    const DeviceTwiddles& tw = twiddles(max_log);
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    out->cols.resize(in.cols.size());
    std::vector<size_t> split;
    for (size_t c = 0; c < in.cols.size(); ++c) {
      const DevCol& col = in.cols[c];
      const uint32_t L = col.log_size + log_extension;
      if (col.layout == Layout::Cyclic && geometry_.size > 1) {
        // Coefficient j S + r of the zero-padded 2^L vector: the local prefix, then zeros.
        DeviceBuffer<M31> work(size_t{1} << (L - geometry_.s));
        copy_device_to_device(work.data(), col.local.data(), col.local.size_bytes(), stream_);
        memset_device(work.data() + col.local.size(), 0, work.size_bytes() - col.local.size_bytes(), stream_);
        out->cols[c] = {L, Layout::Block, std::move(work)};
        split.push_back(c);
      } else if (col.layout == Layout::Replicated || geometry_.size == 1) {
        DeviceBuffer<M31> full(size_t{1} << L);
        circle_evaluate_bitrev(col.local.cptr(), col.local.size(), full.ptr(), L, tw, stream_);
        const Layout layout = geometry_.evaluation_layout(L);
        if (layout == Layout::Replicated || geometry_.size == 1) {
          out->cols[c] = {L, layout, std::move(full)};
        } else {
          const size_t m = size_t{1} << (L - geometry_.s);
          out->cols[c] = {L, Layout::Block, copy_range(full, geometry_.block_begin(L), m, stream_)};
        }
      } else {
        throw Error(ErrorCategory::Internal, "sharded evaluate: column " + std::to_string(c) + " holds evaluations");
      }
    }
    four_step(*out, split, log_extension, /*inverse=*/false, tw);
    return Evaluations(std::move(out));
  }

  std::vector<QM31> evaluate_at_points(const Coefficients& coefficients,
                                       std::span<const PointEvaluationRequest> requests) override {
    StageScope scope("sharded.evaluate_at_points");
    const DevShardColumns& in = dsh(coefficients);
    const Geometry& g = geometry_;
    // Rank r holds coefficients j = i S + r: b_j = b_r(factors < s) * b'_i(factors s..), so each
    // rank sums its own on the device and the partial sums are added up (as the CPU sharded code).
    std::vector<QM31> partial(requests.size(), QM31::zero());
    std::map<std::pair<std::array<uint32_t, 8>, uint32_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& p = requests[i].point;
      std::array<uint32_t, 8> key = {p.x.x0.a.v, p.x.x0.b.v, p.x.x1.a.v, p.x.x1.b.v,
                                     p.y.x0.a.v, p.y.x0.b.v, p.y.x1.a.v, p.y.x1.b.v};
      groups[{key, in.cols.at(requests[i].column).log_size}].push_back(i);
    }
    for (const auto& [key, members] : groups) {
      const uint32_t log = key.second;
      const auto& point = requests[members[0]].point;
      std::vector<QM31> factors{point.y};
      QM31 x = point.x;
      for (uint32_t k = 1; k < log; ++k) {
        factors.push_back(x);
        x = x * x + x * x - QM31::one();
      }
      factors.resize(log);
      // Split columns: the local sum over factors s..; whole ones: rank 0 sums them all.
      std::vector<size_t> split, whole;
      for (size_t m : members)
        (in.cols[requests[m].column].layout == Layout::Cyclic && g.size > 1 ? split : whole).push_back(m);
      auto run = [&](const std::vector<size_t>& which, uint32_t first_factor, QM31 low) {
        if (which.empty()) return;
        std::vector<DeviceColumnRef> refs;
        for (size_t m : which) {
          const DevCol& c = in.cols[requests[m].column];
          refs.push_back({c.local.data(), c.local.size()});
        }
        std::vector<QM31> f(factors.begin() + first_factor, factors.end());
        if (f.empty()) f.push_back(QM31::zero());  // a single coefficient: no factor is read
        DeviceBuffer<DeviceColumnRef> table = upload(refs, stream_);
        DeviceBuffer<QM31> factor_buffer = upload(f, stream_);
        DeviceBuffer<QM31> values(which.size());
        evaluate_columns_at_point(table.cptr(), static_cast<uint32_t>(which.size()), log - first_factor,
                                  factor_buffer.cptr(), values.ptr(), stream_);
        const std::vector<QM31> host = values.to_host(stream_);
        for (size_t k = 0; k < which.size(); ++k) partial[which[k]] = low * host[k];
      };
      QM31 low = QM31::one();
      for (uint32_t k = 0; k < g.s && k < log; ++k)
        if ((g.rank >> k) & 1) low = low * factors[k];
      run(split, g.s, low);
      if (g.rank == 0 || g.size == 1) run(whole, 0, QM31::one());
    }
    if (g.size == 1) return partial;
    comm::Bytes mine;
    for (const QM31& v : partial)
      for (int k = 0; k < 4; ++k) {
        const M31 c = v.coord(k);
        shard::append_values(mine, &c, 1);
      }
    stats_.host_bytes_sent += mine.size() * (g.size - 1);
    std::vector<comm::Bytes> parts = g.comm->all_gather(mine);
    std::vector<QM31> out(requests.size(), QM31::zero());
    for (int q = 0; q < g.size; ++q) {
      if (parts[q].size() != requests.size() * 4 * sizeof(M31))
        throw Error(ErrorCategory::Internal, "sharded evaluate_at_points: bad block from rank " + std::to_string(q));
      for (size_t i = 0; i < requests.size(); ++i) {
        M31 c[4];
        std::memcpy(c, parts[q].data() + i * 4 * sizeof(M31), sizeof c);
        out[i] += QM31::from_m31(c[0], c[1], c[2], c[3]);
      }
    }
    return out;
  }

  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override {
    StageScope scope("sharded.commit");
    std::vector<const DevCol*> refs;
    bool any_block = false;
    uint32_t largest = 0;
    for (const EvaluationsRef& s : sets)
      for (const auto& c : dsh(s).cols) {
        if (c.layout == Layout::Cyclic)
          throw Error(ErrorCategory::Internal, "sharded commit: coefficients cannot be committed");
        refs.push_back(&c);
        any_block = any_block || c.layout == Layout::Block;
        largest = std::max(largest, c.log_size);
      }
    if (!committed_) shard::check_first_commit(geometry_, !refs.empty(), largest);
    committed_ = true;
    if (!any_block || geometry_.size == 1) {
      // Every column whole on every rank: every rank builds the same device tree.
      std::vector<DeviceColumnRef> whole;
      for (const DevCol* c : refs) whole.push_back({c->local.data(), c->local.size()});
      DeviceMerkleTree tree = DeviceMerkleTree::commit(whole, stream_);
      return std::make_unique<DeviceTree>(std::move(tree), std::move(whole), stream_);
    }
    std::vector<uint32_t> logs;
    std::vector<Layout> layouts;
    for (const DevCol* c : refs) {
      logs.push_back(c->log_size);
      layouts.push_back(c->layout);
    }
    auto local = std::make_unique<DeviceSubtree>(geometry_, refs, stream_);
    stats_.host_bytes_sent += 32 * (geometry_.size - 1);
    ++stats_.all_gather_calls;
    return std::make_unique<shard::ShardedTree>(geometry_, std::move(logs), std::move(layouts), std::move(local));
  }

  Interaction logup_interaction(const air::Component& component, const Evaluations& preprocessed,
                                const Evaluations& main, std::span<const air::RelationChallenges> challenges) override;

  SecureEvaluations eval_composition(const air::Component& component, const CompositionInputs& in) override;

  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override {
    auto& d = dsh(dst);
    const auto& s = dsh(src);
    if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
    for (size_t c = 0; c < d.cols.size(); ++c) {
      if (d.cols[c].log_size != s.cols[c].log_size || d.cols[c].layout != s.cols[c].layout)
        throw Error(ErrorCategory::Internal, "add_assign: size or layout mismatch");
      m31_columns_apply(ColumnOp::Add, d.cols[c].local.cptr(), s.cols[c].local.cptr(), d.cols[c].local.ptr(),
                        d.cols[c].local.size(), stream_);
    }
  }

  Coefficients slice(const Coefficients& set, size_t first, size_t count) override {
    const auto& s = dsh(set);
    if (first + count > s.cols.size()) throw Error(ErrorCategory::Internal, "slice out of range");
    auto out = std::make_unique<DevShardColumns>(*this, geometry_);
    for (size_t c = first; c < first + count; ++c)
      out->cols.push_back({s.cols[c].log_size, s.cols[c].layout,
                           copy_range(s.cols[c].local, 0, s.cols[c].local.size(), stream_)});
    return Coefficients(std::move(out));
  }

  Coefficients coefficient_slice(const Coefficients& coefficients, size_t begin, uint32_t log_size) override {
    const auto& s = dsh(coefficients);
    const Geometry& g = geometry_;
    const size_t len = size_t{1} << log_size;
    bool local = true;
    for (const auto& c : s.cols) {
      if (begin + len > (size_t{1} << c.log_size))
        throw Error(ErrorCategory::Internal, "coefficient_slice out of range");
      local = local && (g.size == 1 || (c.layout == Layout::Cyclic && begin % g.size == 0 &&
                                         log_size >= shard::min_sharded_log_size(g.s)));
    }
    if (!local) {
      return from_host_result(host_->coefficient_slice(to_host_set<column_kind::Coefficient>(s), begin, log_size));
    }
    auto out = std::make_unique<DevShardColumns>(*this, g);
    for (const auto& c : s.cols)
      out->cols.push_back({log_size, c.layout, copy_range(c.local, begin >> g.s, len >> g.s, stream_)});
    return Coefficients(std::move(out));
  }

  SecureEvaluations deep_quotients(uint32_t log_size, const std::vector<DeepQuotientBatch>& batches) override;
  LineEvaluations fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                  const LineEvaluations* accumulate_into) override;
  LineEvaluations fri_fold_line(const LineEvaluations& line, const circle::LineDomain& domain,
                                const QM31& alpha) override;

  uint64_t grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) override {
    StageScope scope("sharded.grind");
    const Geometry& g = geometry_;
    if (g.size == 1) return cuda_->grind(channel, pow_bits);
    // Rounds on the device: rank r searches the r-th window of each round, the windows together
    // as many nonces as the single device's window (2^(bits+1): a hit in a round with probability
    // 86%); the smallest hit of the first round with any is the smallest nonce overall (windows
    // increase with rank and round), so every rank returns what one device's search returns.
    const uint64_t window = shard_grind_window(pow_bits, g.size);
    const hash::Blake2sHash digest = channel.digest();
    for (uint64_t round = 0;; ++round) {
      const uint64_t begin = (round * g.size + g.rank) * window;
      const uint64_t found = blake2s_grind_window(digest, pow_bits, begin, window, stream_);
      comm::ByteWriter w;
      w.u64(found);
      stats_.host_bytes_sent += 8 * (g.size - 1);
      ++stats_.all_gather_calls;
      const std::vector<comm::Bytes> all = g.comm->all_gather(w.take());
      uint64_t best = UINT64_MAX;
      for (int q = 0; q < g.size; ++q) {
        comm::ByteReader r(all[q], "sharded grind: rank " + std::to_string(q) + "'s nonce");
        best = std::min(best, r.u64());
      }
      if (best != UINT64_MAX) return best;
    }
  }

 private:
  void collective(const M31* send, M31* recv, size_t per_rank, bool to_all);
  // Variable-size all-to-all of M31 values (offsets and counts in values, one entry per rank).
  void all_to_all_v(const M31* send, const std::vector<size_t>& send_at, const std::vector<size_t>& send_count,
                    M31* recv, const std::vector<size_t>& recv_at, const std::vector<size_t>& recv_count);
  void four_step(DevShardColumns& cols, const std::vector<size_t>& split, uint32_t extension, bool inverse,
                 const DeviceTwiddles& tw);
  void strided(const std::vector<StridedCopy>& copies);
  void transpose(const std::vector<ShardTransposeJob>& jobs, bool to_planar, uint64_t planar_row, size_t max_values);
  std::vector<DeviceBuffer<M31>> exchange(const std::string& key, uint32_t block_log,
                                          const std::vector<const M31*>& columns, const ShardPermutation& source);
  std::unique_ptr<DevShardColumns> qm31_from_block(uint32_t log_size, std::array<DeviceBuffer<M31>, 4>&& part);

  const DeviceTwiddles& twiddles(uint32_t max_domain_log) {
    if (!twiddles_ || twiddles_->max_domain_log() < max_domain_log)
      twiddles_ = std::make_unique<DeviceTwiddles>(
          DeviceTwiddles{circle::CanonicCoset{std::max<uint32_t>(max_domain_log, 2)}.half_coset()});
    return *twiddles_;
  }

  Geometry geometry_;
  std::unique_ptr<CudaBackend> cuda_;               // the AIR kernel registry
  std::unique_ptr<shard::ShardedBackend> host_;     // host stages (same communicator, same order)
  std::unique_ptr<DeviceTwiddles> twiddles_;
  stream_t stream_ = nullptr;
  bool committed_ = false;
  ShardTrafficStats stats_;
  struct ExchangePlaces {  // for one permutation and column count
    DeviceBuffer<GatherPlace> pack_src, pack_dst, unpack_src, unpack_dst;
    size_t n_send = 0, n_keep = 0, send_total = 0, recv_total = 0;
    std::vector<size_t> send_count, recv_count;  // values per column to / from each rank
    std::vector<size_t> send_at, recv_at;
  };
  std::map<std::string, std::map<size_t, ExchangePlaces>> plans_;
};

void ShardedDeviceBackendImpl::collective(const M31* send, M31* recv, size_t per_rank, bool to_all) {
  const Geometry& g = geometry_;
  comm::Communicator& c = *g.comm;
  const size_t bytes = per_rank * sizeof(M31);
  ++(to_all ? stats_.all_to_all_calls : stats_.all_gather_calls);
  stats_.device_bytes_sent += bytes * (to_all ? g.size - 1 : g.size - 1);
  if (c.device_buffers()) {
    // NCCL: enqueued on the stream, ordered with the kernels around it.
    if (to_all)
      c.all_to_all_device(send, recv, bytes, stream_);
    else
      c.all_gather_device(send, recv, bytes, stream_);
    return;
  }
  // Host collectives carry the blocks: under host-sim device memory is host memory; on CUDA
  // ranks without NCCL they are staged through the host.
  synchronize(stream_);
  const size_t blocks = to_all ? size_t(g.size) : 1;
  std::vector<uint8_t> staged(blocks * bytes);
#if defined(PTVM_HOSTSIM)
  if (!staged.empty()) std::memcpy(staged.data(), send, staged.size());
#else
  copy_to_host(staged.data(), send, staged.size(), stream_);
  synchronize(stream_);
#endif
  std::vector<comm::Bytes> received;
  if (to_all) {
    std::vector<comm::Bytes> out(g.size);
    for (int t = 0; t < g.size; ++t) out[t].assign(staged.begin() + t * bytes, staged.begin() + (t + 1) * bytes);
    received = c.all_to_all(out);
  } else {
    received = c.all_gather(staged);
  }
  std::vector<uint8_t> joined(size_t(g.size) * bytes);
  for (int q = 0; q < g.size; ++q) {
    if (received[q].size() != bytes)
      throw Error(ErrorCategory::Internal, "sharded device collective: rank " + std::to_string(q) + " sent " +
                                               std::to_string(received[q].size()) + " bytes, expected " +
                                               std::to_string(bytes));
    if (bytes) std::memcpy(joined.data() + q * bytes, received[q].data(), bytes);
  }
#if defined(PTVM_HOSTSIM)
  if (!joined.empty()) std::memcpy(recv, joined.data(), joined.size());
#else
  copy_to_device(recv, joined.data(), joined.size(), stream_);
  synchronize(stream_);
#endif
}

void ShardedDeviceBackendImpl::all_to_all_v(const M31* send, const std::vector<size_t>& send_at,
                                            const std::vector<size_t>& send_count, M31* recv,
                                            const std::vector<size_t>& recv_at, const std::vector<size_t>& recv_count) {
  const Geometry& g = geometry_;
  comm::Communicator& c = *g.comm;
  ++stats_.all_to_all_calls;
  for (int t = 0; t < g.size; ++t)
    if (t != g.rank) stats_.device_bytes_sent += send_count[t] * sizeof(M31);
  std::vector<size_t> sa(g.size), sb(g.size), ra(g.size), rb(g.size);
  for (int t = 0; t < g.size; ++t) {
    sa[t] = send_at[t] * sizeof(M31);
    sb[t] = send_count[t] * sizeof(M31);
    ra[t] = recv_at[t] * sizeof(M31);
    rb[t] = recv_count[t] * sizeof(M31);
  }
  if (c.device_buffers()) {
    c.all_to_all_v_device(send, sa, sb, recv, ra, rb, stream_);
    return;
  }
  synchronize(stream_);
  std::vector<comm::Bytes> out(g.size);
  for (int t = 0; t < g.size; ++t) {
    out[t].resize(sb[t]);
    if (!sb[t]) continue;
#if defined(PTVM_HOSTSIM)
    std::memcpy(out[t].data(), reinterpret_cast<const uint8_t*>(send) + sa[t], sb[t]);
#else
    copy_to_host(out[t].data(), reinterpret_cast<const uint8_t*>(send) + sa[t], sb[t], stream_);
#endif
  }
  synchronize(stream_);
  const std::vector<comm::Bytes> received = c.all_to_all(out);
  for (int q = 0; q < g.size; ++q) {
    if (received[q].size() != rb[q])
      throw Error(ErrorCategory::Internal, "sharded device exchange: rank " + std::to_string(q) + " sent " +
                                               std::to_string(received[q].size()) + " bytes, expected " +
                                               std::to_string(rb[q]));
    if (!rb[q]) continue;
#if defined(PTVM_HOSTSIM)
    std::memcpy(reinterpret_cast<uint8_t*>(recv) + ra[q], received[q].data(), rb[q]);
#else
    copy_to_device(reinterpret_cast<uint8_t*>(recv) + ra[q], received[q].data(), rb[q], stream_);
#endif
  }
  synchronize(stream_);
}

void ShardedDeviceBackendImpl::strided(const std::vector<StridedCopy>& copies) {
  if (copies.empty()) return;
  size_t most = 0;
  for (const auto& c : copies) most = std::max<size_t>(most, c.rows * c.cols);
  DeviceBuffer<StridedCopy> table = upload(copies, stream_);
  m31_strided_copy_many(table.cptr(), static_cast<uint32_t>(copies.size()), most, stream_);
  synchronize(stream_);  // the table dies on return
}

void ShardedDeviceBackendImpl::transpose(const std::vector<ShardTransposeJob>& jobs, bool to_planar,
                                         uint64_t planar_row, size_t max_values) {
  if (jobs.empty()) return;
  DeviceBuffer<ShardTransposeJob> table = upload(jobs, stream_);
  const uint32_t n = static_cast<uint32_t>(jobs.size());
  if (to_planar)
    shard_interleaved_to_planar(table.cptr(), n, geometry_.s, planar_row, max_values, stream_);
  else
    shard_planar_to_interleaved(table.cptr(), n, geometry_.s, planar_row, max_values, stream_);
  synchronize(stream_);  // the table dies on return
}

// Moves values between ranks by a permutation of the global positions of a split column (all
// columns of 2^block_log local values, the same permutation): local index i of the result holds
// the value at global position source(first + i). Both sides order a sender's values by the
// receiver's local index, so no index travels; each rank-to-rank block holds exactly its values,
// column by column (a variable-size device all-to-all: grouped ncclSend/ncclRecv; each rank
// knows what every peer sends it from the permutation alone); the values that stay on the rank
// are copied on the device, not sent. The place tables depend only on the permutation, the
// geometry and the column count: they are computed on the device (shard_exchange_scan and
// shard_exchange_places: a flag pass, a scan and a place pass per peer and direction, the counts
// read in one copy per direction) once per `key` and column count; nothing per value crosses PCIe.
std::vector<DeviceBuffer<M31>> ShardedDeviceBackendImpl::exchange(const std::string& key, uint32_t block_log,
                                                                  const std::vector<const M31*>& columns,
                                                                  const ShardPermutation& source) {
  const Geometry& g = geometry_;
  const size_t m = size_t{1} << block_log, first = size_t(g.rank) << block_log;
  const size_t C = columns.size(), S = g.size;
  const uint32_t me = static_cast<uint32_t>(g.rank);
  auto& places = plans_[key][C];
  if (!places.pack_src.size()) {
    places.pack_src = DeviceBuffer<GatherPlace>(m);
    places.pack_dst = DeviceBuffer<GatherPlace>(m);
    places.unpack_src = DeviceBuffer<GatherPlace>(m);
    places.unpack_dst = DeviceBuffer<GatherPlace>(m);
    // The prefix counts of every pair of a side first (S scans), their S counts in one copy.
    DeviceBuffer<M31> scans(m * S);
    auto side = [&](bool receive) {
      std::vector<ExchangePlaceArgs> args(S);
      std::vector<GatherSource> last(S);
      for (uint32_t q = 0; q < S; ++q) {
        ExchangePlaceArgs& a = args[q];
        a.source = source;
        a.block_log = block_log;
        a.target_first = receive ? first : size_t{q} << block_log;
        a.owner = receive ? q : me;
        a.order = receive ? PlaceOrder::ByTarget : PlaceOrder::BySlot;
        shard_exchange_scan(a, scans.ptr().offset(q * m), stream_);
        last[q] = {reinterpret_cast<const uint32_t*>(scans.data() + q * m), m - 1};
      }
      DeviceBuffer<GatherSource> table = upload(last, stream_);
      DeviceBuffer<uint32_t> words(S);
      gather_words(table.cptr(), words.ptr(), S, stream_);
      const std::vector<uint32_t> counts = words.to_host(stream_);
      return std::make_pair(std::move(args), std::vector<size_t>(counts.begin(), counts.end()));
    };
    std::vector<uint32_t> order;  // the peers in rank order, this rank last
    for (uint32_t t = 0; t < S; ++t)
      if (t != me) order.push_back(t);
    order.push_back(me);
    // Receive side: the values of my block whose source is rank o's arrive in o's block of the
    // receive buffer (the kept ones after all received blocks), in the order of my index.
    std::vector<size_t> send_count(S), recv_count(S), send_at(S), recv_at(S + 1);
    {
      auto [args, counts] = side(true);
      recv_count = counts;
      size_t rat = 0;
      for (uint32_t o : order) {
        args[o].base = rat;
        (o == me ? recv_at[S] : recv_at[o]) = rat;
        shard_exchange_places(args[o], recv_count[o], scans.cptr().offset(o * m), places.unpack_src.ptr(),
                              places.unpack_dst.ptr(), stream_);
        if (o != me) rat += recv_count[o] * C;
      }
    }
    // Send side: what rank t's block takes from mine, in the order of t's index; rank t's block of
    // the send buffer holds its values column by column; the kept ones go to the receive buffer.
    size_t at = 0, entries = 0;
    {
      auto [args, counts] = side(false);
      send_count = counts;
      for (uint32_t t : order) {
        args[t].entry_at = entries;
        args[t].base = t == me ? recv_at[S] : at;
        shard_exchange_places(args[t], send_count[t], scans.cptr().offset(t * m), places.pack_src.ptr(),
                              places.pack_dst.ptr(), stream_);
        if (t != me) {
          at += send_count[t] * C;
          entries += send_count[t];
        }
      }
    }
    synchronize(stream_);  // the scans die here
    if (send_count[me] != recv_count[me] || entries + send_count[me] != m)
      throw Error(ErrorCategory::Internal, "sharded exchange '" + key + "': the kept values do not match");
    size_t prefix = 0;
    for (size_t t = 0; t < S; ++t) {
      send_at[t] = prefix;
      if (t != me) prefix += send_count[t] * C;
    }
    places.n_send = entries;
    places.n_keep = send_count[me];
    places.send_count = send_count;
    places.recv_count = recv_count;
    places.send_at = send_at;
    places.recv_at = recv_at;
    places.send_total = at;
    places.recv_total = recv_at[S] + recv_count[me] * C;
  }
  DeviceBuffer<M31> send(std::max<size_t>(places.send_total, 1)), recv(std::max<size_t>(places.recv_total, 1));
  std::vector<ColumnPair> send_pairs, keep_pairs, unpack_pairs;
  std::vector<DeviceBuffer<M31>> out;
  for (size_t c = 0; c < C; ++c) {
    send_pairs.push_back({send.data(), columns[c]});
    keep_pairs.push_back({recv.data(), columns[c]});
    out.emplace_back(m);
    unpack_pairs.push_back({out.back().data(), recv.data()});
  }
  if (C > 0) {
    DeviceBuffer<ColumnPair> st = upload(send_pairs, stream_), kt = upload(keep_pairs, stream_);
    m31_placed_gather(st.cptr(), static_cast<uint32_t>(C), places.pack_src.cptr(), places.pack_dst.cptr(),
                      places.n_send, stream_);
    if (places.n_keep)
      m31_placed_gather(kt.cptr(), static_cast<uint32_t>(C), places.pack_src.cptr().offset(places.n_send),
                        places.pack_dst.cptr().offset(places.n_send), places.n_keep, stream_);
    synchronize(stream_);
  }
  std::vector<size_t> send_count(S), recv_count(S);
  for (size_t t = 0; t < S; ++t) {
    send_count[t] = t == me ? 0 : places.send_count[t] * C;
    recv_count[t] = t == me ? 0 : places.recv_count[t] * C;
  }
  std::vector<size_t> recv_at(places.recv_at.begin(), places.recv_at.begin() + S);
  all_to_all_v(send.data(), places.send_at, send_count, recv.data(), recv_at, recv_count);
  if (C > 0) {
    DeviceBuffer<ColumnPair> table = upload(unpack_pairs, stream_);
    m31_placed_gather(table.cptr(), static_cast<uint32_t>(C), places.unpack_src.cptr(), places.unpack_dst.cptr(), m,
                      stream_);
    synchronize(stream_);
  }
  return out;
}

// The four-step transform of the split columns `split` of `cols` (inverse: block values ->
// cyclic coefficients, in place; forward: zero-padded cyclic coefficients of log_size - extension
// -> block values of log_size), the steps of shard::interpolate_block_to_cyclic /
// evaluate_cyclic_to_block on the device: local layers, one all-to-all, local layers.
void ShardedDeviceBackendImpl::four_step(DevShardColumns& cols, const std::vector<size_t>& split, uint32_t extension,
                                         bool inverse, const DeviceTwiddles& tw) {
  if (split.empty()) return;  // every rank has the same columns: no collective
  const Geometry& g = geometry_;
  const int S = g.size;
  const uint32_t s = g.s;
  for (size_t c : split) {
    const uint32_t L = cols.cols[c].log_size;  // the transform's size (values side)
    if (L - extension < shard::min_sharded_log_size(s))
      throw Error(ErrorCategory::Usage, "sharded FFT: a column of 2^" + std::to_string(L - extension) +
                                            " values cannot be split across " + std::to_string(S) + " ranks");
  }
  // Per-rank block of the all-to-all: every column's part (m / S values), in column order.
  std::vector<size_t> offset;
  size_t P = 0;
  for (size_t c : split) {
    offset.push_back(P);
    P += (size_t{1} << (cols.cols[c].log_size - s)) >> s;
  }
  // The local layers run for all split columns of one size at once (one launch per pass).
  std::map<uint32_t, std::vector<FftColumnIo>> by_size;
  for (size_t c : split) by_size[cols.cols[c].log_size].push_back({nullptr, 0, cols.cols[c].local.data()});
  std::vector<DeviceBuffer<FftColumnIo>> tables;  // alive until the stream passes them
  auto local_layers = [&](bool first_step) {
    for (const auto& [L, blocks] : by_size) {
      FftLayerRange r;
      if (first_step && inverse)  // layers 0 .. L-s-1 inside the block (global positions r m + i)
        r = {L, L - s, uint64_t(g.rank), 0, L - s, false, M31::one()};
      else if (first_step)  // forward: layers L-1 .. s on the cyclic index (a 2^(L-s) line transform)
        r = {L - s, L - s, 0, 0, L - s, true, M31::one()};
      else if (inverse)  // layers L-s .. L-1 on the cyclic index, and 2^-L
        r = {L - s, L - s, 0, L - 2 * s, L - s, true, M31::raw(1u << (31 - L))};
      else  // forward: layers s-1 .. 0 inside the block
        r = {L, L - s, uint64_t(g.rank), 0, s, false, M31::one()};
      tables.push_back(upload(blocks, stream_));
      circle_fft_layers_many(tables.back().cptr(), static_cast<uint32_t>(blocks.size()), r, inverse, tw, stream_);
    }
  };
  // Step 1 (local layers).
  local_layers(true);
  // Step 2: the transpose, one all-to-all for all columns. The strided side of each (the block
  // read as [k][t] before the inverse's send, the block written as [k][t] after the forward's
  // receive) goes through the tiled transposes; the other side is a copy of contiguous runs.
  DeviceBuffer<M31> send(P * S), recv(P * S);
  std::vector<StridedCopy> pack, unpack;
  std::vector<ShardTransposeJob> transposes;
  size_t most = 0;
  for (size_t i = 0; i < split.size(); ++i) {
    DevCol& col = cols.cols[split[i]];
    const size_t m = col.local.size(), part = m / S;
    most = std::max(most, m);
    if (inverse) {
      // Position r m + t + k S goes to rank t (its cyclic index r part + k).
      transposes.push_back({col.local.data(), send.data() + offset[i], part});
      unpack.push_back({recv.data() + offset[i], col.local.data(), uint64_t(S), part, P, 1, part, 1});
    } else {
      // Cyclic index t part + k goes to rank t (its position k S + sender).
      pack.push_back({col.local.data(), send.data() + offset[i], uint64_t(S), part, part, 1, P, 1});
      transposes.push_back({col.local.data(), recv.data() + offset[i], part});
    }
  }
  if (inverse) transpose(transposes, /*to_planar=*/true, P, most);
  strided(pack);
  all_to_all(send.data(), recv.data(), P);
  strided(unpack);
  if (!inverse) transpose(transposes, /*to_planar=*/false, P, most);
  // Steps 3-4 (local layers).
  local_layers(false);
  synchronize(stream_);  // the column tables die on return
}

// The LogUp interaction trace (shard::ShardedBackend::logup_interaction's protocol): rank r takes
// rows [r R, (r+1) R) (one exchange brings them, in row order), computes its batch values and row
// totals with the fractions kernel, scans them on the device, all-gathers the ranks' totals for
// the prefix below its rows and the claimed sum, writes the running column of its rows, and one
// exchange takes the interaction columns back to storage blocks.
Backend::Interaction ShardedDeviceBackendImpl::logup_interaction(const air::Component& component,
                                                                 const Evaluations& preprocessed,
                                                                 const Evaluations& main,
                                                                 std::span<const air::RelationChallenges> challenges) {
  StageScope scope("sharded.logup_interaction");
  const Geometry& g = geometry_;
  const auto& shape = component.shape();
  const uint32_t n = component.log_rows();
  const DevShardColumns& pre = dsh(preprocessed);
  const DevShardColumns& mc = dsh(main);
  bool split = g.size > 1 && g.evaluation_layout(n) == Layout::Block && shape.n_fractions > 0;
  for (const DevShardColumns* set : {&pre, &mc})
    for (const auto& c : set->cols) split = split && c.layout == Layout::Block && c.log_size == n;
  if (!split && whole(pre) && whole(mc)) {
    // Whole on every rank (a component too small to split, or one rank): the device kernels.
    Interaction r = cuda_->logup_interaction(component, whole_set<column_kind::Evaluation>(pre),
                                             whole_set<column_kind::Evaluation>(mc), challenges);
    return {from_whole(std::move(r.columns)), r.claimed_sum};
  }
  if (!split) {
    // No fractions: the CPU sharded code (nothing to compute).
    Interaction r = host_->logup_interaction(component, to_host_set<column_kind::Evaluation>(pre),
                                             to_host_set<column_kind::Evaluation>(mc), challenges);
    return {from_host_result(r.columns), r.claimed_sum};
  }
  const DeviceAirKernels& kernels = cuda_->air_kernels(component);
  const uint32_t block_log = n - g.s;
  const size_t R = size_t{1} << block_log, row0 = size_t(g.rank) * R;
  std::vector<const M31*> inputs;
  for (const DevShardColumns* set : {&pre, &mc})
    for (const auto& c : set->cols) inputs.push_back(c.local.data());
  // Storage blocks -> row ranges: position p goes to row_of_position(p).
  std::vector<DeviceBuffer<M31>> rows =
      exchange("to rows " + std::to_string(n), block_log, inputs, {ShardPermutation::PositionOfRow, n, n, 0});
  std::vector<DeviceColumnRef> pre_refs, main_refs;
  for (size_t c = 0; c < rows.size(); ++c)
    (c < pre.cols.size() ? pre_refs : main_refs).push_back({rows[c].data(), R});
  const uint32_t batches = shape.n_logup_batches;
  std::vector<DeviceBuffer<M31>> cols;
  for (size_t k = 0; k < 4 * size_t{batches}; ++k) cols.emplace_back(R);
  std::vector<SecureColumnView> batch_views;
  for (uint32_t j = 0; j + 1 < batches; ++j)
    batch_views.push_back({{cols[4 * j].ptr(), cols[4 * j + 1].ptr(), cols[4 * j + 2].ptr(), cols[4 * j + 3].ptr()}});
  DeviceBuffer<SecureColumnView> batch_table = upload(batch_views, stream_);
  DeviceBuffer<DeviceColumnRef> pre_table = upload(pre_refs, stream_), main_table = upload(main_refs, stream_);
  DeviceBuffer<air::RelationChallenges> challenge_buffer =
      upload(std::vector<air::RelationChallenges>(challenges.begin(), challenges.end()), stream_);
  DeviceBuffer<QM31> row_totals(R), prefix(R);
  DeviceBuffer<uint32_t> first_zero_row(1);
  first_zero_row.memset(0xff, stream_);
  FractionsDeviceArgs args;
  args.log_rows = n;
  args.preprocessed = pre_table.cptr();
  args.main = main_table.cptr();
  args.challenges = challenge_buffer.cptr();
  args.logup_batches = batches;
  args.batch_columns = batch_table.cptr();
  args.row_totals = row_totals.ptr();
  args.first_zero_row = first_zero_row.ptr();
  args.block_log = block_log;
  kernels.trace_fractions(component, args, stream_);
  inclusive_scan_add(row_totals.cptr(), prefix.ptr(), R, stream_);
  uint32_t zero_local = 0;
  first_zero_row.download(std::span<uint32_t>(&zero_local, 1), stream_);
  QM31 mine;
  prefix.download(std::span<QM31>(&mine, 1), stream_, R - 1);
  const uint64_t zero_row = zero_local == UINT32_MAX ? UINT64_MAX : row0 + zero_local;
  // Every rank's total and first zero-denominator row, on every rank.
  comm::Bytes msg;
  for (int k = 0; k < 4; ++k) {
    const M31 v = mine.coord(k);
    shard::append_values(msg, &v, 1);
  }
  {
    comm::ByteWriter w;
    w.u64(zero_row);
    const comm::Bytes z = w.take();
    msg.insert(msg.end(), z.begin(), z.end());
  }
  stats_.host_bytes_sent += msg.size() * (g.size - 1);
  const std::vector<comm::Bytes> all = g.comm->all_gather(msg);
  QM31 before, total;
  uint64_t first_zero = UINT64_MAX;
  for (int q = 0; q < g.size; ++q) {
    if (all[q].size() != 4 * sizeof(M31) + 8)
      throw Error(ErrorCategory::Internal, "sharded LogUp: bad totals from rank " + std::to_string(q));
    M31 c[4];
    std::memcpy(c, all[q].data(), sizeof c);
    const QM31 t = QM31::from_m31(c[0], c[1], c[2], c[3]);
    if (q < g.rank) before += t;
    total += t;
    comm::ByteReader r(std::span<const uint8_t>(all[q]).subspan(4 * sizeof(M31)), "sharded LogUp zero row");
    first_zero = std::min(first_zero, r.u64());
  }
  if (first_zero != UINT64_MAX)
    throw Error(ErrorCategory::Runtime, "component '" + component.info().name + "': LogUp denominator is zero at row " +
                                            std::to_string(first_zero) + " (a tuple equals the challenge)");
  const size_t last = 4 * (size_t{batches} - 1);
  logup_running_block(prefix.cptr(), block_log, row0, before, air::logup_sum_per_row(total, n),
                      {{cols[last].ptr(), cols[last + 1].ptr(), cols[last + 2].ptr(), cols[last + 3].ptr()}}, stream_);
  synchronize(stream_);
  // Row ranges -> storage blocks.
  std::vector<const M31*> back;
  for (const auto& c : cols) back.push_back(c.data());
  std::vector<DeviceBuffer<M31>> blocks =
      exchange("to positions " + std::to_string(n), block_log, back, {ShardPermutation::RowOfPosition, n, n, 0});
  auto out = std::make_unique<DevShardColumns>(*this, g);
  for (auto& c : blocks) out->cols.push_back({n, Layout::Block, std::move(c)});
  return {SecureEvaluations(std::move(out)), total};
}

SecureEvaluations ShardedDeviceBackendImpl::eval_composition(const air::Component& component,
                                                             const CompositionInputs& in) {
  StageScope scope("sharded.eval_composition");
  const Geometry& g = geometry_;
  const uint32_t n = component.log_rows();
  std::vector<const DevCol*> inputs;
  for (const Evaluations* set : {in.preprocessed, in.main, in.interaction})
    if (set)
      for (const auto& c : dsh(*set).cols) inputs.push_back(&c);
  if (inputs.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without columns");
  const uint32_t e = inputs[0]->log_size;
  bool local = g.size > 1 && g.evaluation_layout(e) == Layout::Block;
  for (const DevCol* c : inputs) local = local && c->layout == Layout::Block && c->log_size == e;
  if (!local && (!in.preprocessed || whole(dsh(*in.preprocessed))) && whole(dsh(*in.main)) &&
      (!in.interaction || whole(dsh(*in.interaction)))) {
    // Whole on every rank (a component too small to split, or one rank): the device kernels.
    Evaluations pre, main, inter;
    if (in.preprocessed) pre = whole_set<column_kind::Evaluation>(dsh(*in.preprocessed));
    main = whole_set<column_kind::Evaluation>(dsh(*in.main));
    if (in.interaction) inter = whole_set<column_kind::Evaluation>(dsh(*in.interaction));
    CompositionInputs w = in;
    w.preprocessed = in.preprocessed ? &pre : nullptr;
    w.main = &main;
    w.interaction = in.interaction ? &inter : nullptr;
    return from_whole(cuda_->eval_composition(component, w));
  }
  if (!local) {
    // Mixed layouts (not made by the prover): the CPU sharded code.
    Evaluations pre, main, inter;
    if (in.preprocessed) pre = to_host_set<column_kind::Evaluation>(dsh(*in.preprocessed));
    main = to_host_set<column_kind::Evaluation>(dsh(*in.main));
    if (in.interaction) inter = to_host_set<column_kind::Evaluation>(dsh(*in.interaction));
    CompositionInputs h = in;
    h.preprocessed = in.preprocessed ? &pre : nullptr;
    h.main = &main;
    h.interaction = in.interaction ? &inter : nullptr;
    return from_host_result(host_->eval_composition(component, h));
  }
  const DeviceAirKernels& kernels = cuda_->air_kernels(component);
  // The next rows of the inputs the constraints read there (shape().next_row_inputs;
  // shard::ShardedBackend::eval_composition's exchange): local position i gets the value at
  // next(a + i); the value at q goes to the owner of prev(q).
  const size_t m = size_t{1} << (e - g.s), a = g.block_begin(e);
  const uint32_t block_log = e - g.s;
  const std::vector<const DevCol*> at_next = air::next_row_inputs(component, inputs);
  std::vector<const M31*> input_data;
  for (const DevCol* c : at_next) input_data.push_back(c->local.data());
  std::vector<DeviceBuffer<M31>> next_values;
  if (!at_next.empty())  // the same on every rank: one component
    next_values = exchange("next " + std::to_string(n) + " " + std::to_string(e), block_log, input_data,
                           {ShardPermutation::RowOffset, n, e, 1});
  // The kernels read each input's block and, for those, its next rows where the exchange left
  // them; the other inputs' next-row references are empty (a read of one is out of bounds).
  std::vector<DeviceColumnRef> pre_refs, main_refs, inter_refs, pre_next, main_next, inter_next;
  {
    size_t c = 0;
    auto take = [&](const Evaluations* set, std::vector<DeviceColumnRef>& now, std::vector<DeviceColumnRef>& next) {
      if (!set) return;
      for (size_t k = 0; k < set->n_columns(); ++k, ++c) {
        now.push_back({inputs[c]->local.data(), m});
        const size_t j = std::find(at_next.begin(), at_next.end(), inputs[c]) - at_next.begin();
        next.push_back(j < at_next.size() ? DeviceColumnRef{next_values[j].data(), m} : DeviceColumnRef{nullptr, 0});
      }
    };
    take(in.preprocessed, pre_refs, pre_next);
    take(in.main, main_refs, main_next);
    take(in.interaction, inter_refs, inter_next);
  }
  DeviceBuffer<DeviceColumnRef> pre_table = upload(pre_refs, stream_), main_table = upload(main_refs, stream_),
                                inter_table = upload(inter_refs, stream_), pre_next_table = upload(pre_next, stream_),
                                main_next_table = upload(main_next, stream_),
                                inter_next_table = upload(inter_next, stream_);
  DeviceBuffer<air::RelationChallenges> challenge_buffer =
      upload(std::vector<air::RelationChallenges>(in.challenges.begin(), in.challenges.end()), stream_);
  if (in.coefficients.size() < component.shape().n_constraints())
    throw Error(ErrorCategory::Internal, "eval_composition: fewer coefficients than constraints");
  DeviceBuffer<QM31> coefficients = upload(std::vector<QM31>(in.coefficients.begin(), in.coefficients.end()), stream_);
  const auto& info = component.info();
  const auto& selector_rows = component.shape().selector_rows;
  std::vector<DeviceBoundary> boundaries;
  for (const auto& b : info.boundary_constraints) {
    if (b.public_input >= in.public_inputs.size())
      throw Error(ErrorCategory::Usage, "component '" + info.name + "': boundary constraint names public input " +
                                            std::to_string(b.public_input) + " of " +
                                            std::to_string(in.public_inputs.size()));
    const size_t sel = std::lower_bound(selector_rows.begin(), selector_rows.end(), b.row) - selector_rows.begin();
    boundaries.push_back(
        {info.n_preprocessed_columns + static_cast<uint32_t>(sel), b.main_column, in.public_inputs[b.public_input]});
  }
  DeviceBuffer<DeviceBoundary> boundary_buffer = upload(boundaries, stream_);
  const std::vector<M31> inv_vanishing = backend_cpu::composition_inv_vanishing(n, e);
  DeviceBuffer<M31> inv_vanishing_buffer = upload(std::vector<M31>(inv_vanishing.begin(), inv_vanishing.end()), stream_);

  auto out = std::make_unique<DevShardColumns>(*this, g);
  for (int k = 0; k < 4; ++k) out->cols.push_back({e, Layout::Block, DeviceBuffer<M31>(m)});
  CompositionDeviceArgs args;
  args.log_rows = n;
  args.log_size = e;
  args.preprocessed = pre_table.cptr();
  args.main = main_table.cptr();
  args.interaction = inter_table.cptr();
  args.challenges = challenge_buffer.cptr();
  args.coefficients = coefficients.cptr();
  args.claimed_sum_per_row = air::logup_sum_per_row(in.claimed_sum, n);
  args.logup_batches = component.shape().n_logup_batches;
  args.boundaries = boundary_buffer.cptr();
  args.n_boundaries = static_cast<uint32_t>(boundaries.size());
  args.inv_vanishing = inv_vanishing_buffer.cptr();
  args.out = {{out->cols[0].local.ptr(), out->cols[1].local.ptr(), out->cols[2].local.ptr(), out->cols[3].local.ptr()}};
  args.block_first = a;
  args.block_log = block_log;
  args.preprocessed_next = pre_next_table.cptr();
  args.main_next = main_next_table.cptr();
  args.interaction_next = inter_next_table.cptr();
  kernels.composition(component, args, stream_);
  synchronize(stream_);  // the tables die on return
  return SecureEvaluations(std::move(out));
}

SecureEvaluations ShardedDeviceBackendImpl::deep_quotients(uint32_t log_size,
                                                           const std::vector<DeepQuotientBatch>& batches) {
  StageScope scope("sharded.deep_quotients");
  const Geometry& g = geometry_;
  bool local = g.size > 1 && g.evaluation_layout(log_size) == Layout::Block;
  for (const auto& b : batches)
    for (const auto& ref : b.columns) {
      const DevCol& c = dsh(ref.set).cols.at(ref.column);
      local = local && c.layout == Layout::Block && c.log_size == log_size;
    }
  bool all_whole = true;
  for (const auto& b : batches)
    for (const auto& ref : b.columns) all_whole = all_whole && whole(dsh(ref.set));
  if (!local && all_whole) {
    // Whole on every rank (columns too small to split, or one rank): the device kernel.
    std::map<const ColumnSet*, Evaluations> copies;
    std::vector<DeepQuotientBatch> w = batches;
    for (auto& b : w)
      for (auto& ref : b.columns) {
        auto& slot = copies[&ref.set.set()];
        if (!slot) slot = whole_set<column_kind::Evaluation>(dsh(ref.set));
        ref.set = slot;
      }
    return from_whole(cuda_->deep_quotients(log_size, w));
  }
  if (!local) {
    // Mixed layouts (not made by the prover): the CPU sharded code.
    std::map<const ColumnSet*, Evaluations> host;
    std::vector<DeepQuotientBatch> host_batches = batches;
    for (auto& b : host_batches)
      for (auto& ref : b.columns) {
        auto& slot = host[&ref.set.set()];
        if (!slot) slot = to_host_set<column_kind::Evaluation>(dsh(ref.set));
        ref.set = slot;
      }
    return from_host_result(host_->deep_quotients(log_size, host_batches));
  }
  const uint32_t block_log = log_size - g.s;
  std::vector<DeviceDeepBatch> device_batches;
  std::vector<DeviceColumnRef> refs;
  std::vector<QM31> coefficients;
  for (const auto& batch : batches) {
    const auto& co = batch.coefficients;
    if (co.column_coefficients.size() != batch.columns.size())
      throw Error(ErrorCategory::Internal, "deep_quotients: coefficient count differs from column count");
    DeviceDeepBatch b;
    b.a_sum = co.a_sum;
    b.b_sum = co.b_sum;
    b.alpha_pow_m = co.alpha_pow_m;
    b.prx = co.prx;
    b.pix = co.pix;
    b.pry = co.pry;
    b.piy = co.piy;
    b.first_column = static_cast<uint32_t>(refs.size());
    b.n_columns = static_cast<uint32_t>(batch.columns.size());
    for (size_t k = 0; k < batch.columns.size(); ++k) {
      const DevCol& c = dsh(batch.columns[k].set).cols.at(batch.columns[k].column);
      refs.push_back({c.local.data(), c.local.size()});
      coefficients.push_back(co.column_coefficients[k]);
    }
    device_batches.push_back(b);
  }
  DeviceBuffer<DeviceDeepBatch> batch_buffer = upload(device_batches, stream_);
  DeviceBuffer<DeviceColumnRef> table = upload(refs, stream_);
  DeviceBuffer<QM31> coefficient_buffer = upload(coefficients, stream_);
  auto out = std::make_unique<DevShardColumns>(*this, g);
  for (int k = 0; k < 4; ++k) out->cols.push_back({log_size, Layout::Block, DeviceBuffer<M31>(size_t{1} << block_log)});
  deep_quotients_block(log_size, g.block_begin(log_size), block_log, batch_buffer.cptr(),
                       static_cast<uint32_t>(device_batches.size()), table.cptr(), coefficient_buffer.cptr(),
                       {{out->cols[0].local.ptr(), out->cols[1].local.ptr(), out->cols[2].local.ptr(),
                         out->cols[3].local.ptr()}},
                       stream_);
  synchronize(stream_);
  return SecureEvaluations(std::move(out));
}

// A QM31 column of log `log_size` from this rank's block `part` of it: block when it can be split,
// else all-gathered whole onto every rank (FRI layers that fit one rank).
std::unique_ptr<DevShardColumns> ShardedDeviceBackendImpl::qm31_from_block(uint32_t log_size,
                                                                           std::array<DeviceBuffer<M31>, 4>&& part) {
  auto out = std::make_unique<DevShardColumns>(*this, geometry_);
  if (geometry_.evaluation_layout(log_size) == Layout::Block) {
    for (int k = 0; k < 4; ++k) out->cols.push_back({log_size, Layout::Block, std::move(part[k])});
    return out;
  }
  for (int k = 0; k < 4; ++k) {
    DeviceBuffer<M31> whole(part[k].size() * geometry_.size);
    all_gather(part[k].data(), whole.data(), part[k].size());
    out->cols.push_back({log_size, Layout::Replicated, std::move(whole)});
  }
  return out;
}

LineEvaluations ShardedDeviceBackendImpl::fri_fold_circle(const SecureEvaluations& column, const QM31& alpha,
                                                          const LineEvaluations* accumulate_into) {
  StageScope scope("sharded.fri_fold_circle");
  const DevShardColumns& in = dsh(column);
  const Geometry& g = geometry_;
  if (in.cols.size() != 4) throw Error(ErrorCategory::Internal, "sharded FRI: not a QM31 column");
  const uint32_t n = in.cols[0].log_size;
  if (n < 1) throw Error(ErrorCategory::Internal, "fri_fold_circle: column too small");
  if (in.cols[0].layout == Layout::Replicated) {
    // A layer that fits one rank: every rank folds it whole (the single-device kernel).
    const DevShardColumns* acc = accumulate_into ? &dsh(*accumulate_into) : nullptr;
    if (acc && (acc->cols.size() != 4 || acc->cols[0].log_size != n - 1 || acc->cols[0].layout != Layout::Replicated))
      throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
    auto out = std::make_unique<DevShardColumns>(*this, g);
    for (int k = 0; k < 4; ++k) out->cols.push_back({n - 1, Layout::Replicated, DeviceBuffer<M31>(size_t{1} << (n - 1))});
    const SecureColumnConstView in_view{{in.cols[0].local.cptr(), in.cols[1].local.cptr(), in.cols[2].local.cptr(),
                                         in.cols[3].local.cptr()}};
    SecureColumnConstView acc_view = in_view;
    if (acc)
      acc_view = {{acc->cols[0].local.cptr(), acc->cols[1].local.cptr(), acc->cols[2].local.cptr(),
                   acc->cols[3].local.cptr()}};
    gpu::fri_fold_circle(in_view, n, alpha, acc != nullptr, acc_view,
                         {{out->cols[0].local.ptr(), out->cols[1].local.ptr(), out->cols[2].local.ptr(),
                           out->cols[3].local.ptr()}},
                         stream_);
    return LineEvaluations(std::move(out));
  }
  const size_t m = in.cols[0].local.size(), a = g.block_begin(n);
  const bool out_split = g.evaluation_layout(n - 1) == Layout::Block;
  const DevShardColumns* acc = accumulate_into ? &dsh(*accumulate_into) : nullptr;
  if (acc && (acc->cols.size() != 4 || acc->cols[0].log_size != n - 1 ||
              acc->cols[0].layout != (out_split ? Layout::Block : Layout::Replicated)))
    throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
  // The accumulator's values at this block's folded positions (a / 2 onward when it is whole).
  const size_t acc_at = acc && !out_split ? a / 2 : 0;
  std::array<DeviceBuffer<M31>, 4> part;
  for (auto& p : part) p = DeviceBuffer<M31>(m / 2);
  SecureColumnConstView in_view{{in.cols[0].local.cptr(), in.cols[1].local.cptr(), in.cols[2].local.cptr(),
                                 in.cols[3].local.cptr()}};
  SecureColumnConstView acc_view = in_view;
  if (acc)
    for (int k = 0; k < 4; ++k)
      acc_view.coords[k] = gptr<const M31>(acc->cols[k].local.data() + acc_at, m / 2);
  fri_fold_circle_block(in_view, n, a, n - g.s, alpha, acc != nullptr, acc_view,
                        {{part[0].ptr(), part[1].ptr(), part[2].ptr(), part[3].ptr()}}, stream_);
  return LineEvaluations(qm31_from_block(n - 1, std::move(part)));
}

LineEvaluations ShardedDeviceBackendImpl::fri_fold_line(const LineEvaluations& line,
                                                        const circle::LineDomain& domain, const QM31& alpha) {
  StageScope scope("sharded.fri_fold_line");
  const DevShardColumns& in = dsh(line);
  const Geometry& g = geometry_;
  if (in.cols.size() != 4) throw Error(ErrorCategory::Internal, "sharded FRI: not a QM31 column");
  const uint32_t d = in.cols[0].log_size;
  if (d != domain.log_size() || d < 1) throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
  if (in.cols[0].layout == Layout::Replicated) {
    auto out = std::make_unique<DevShardColumns>(*this, g);
    for (int k = 0; k < 4; ++k) out->cols.push_back({d - 1, Layout::Replicated, DeviceBuffer<M31>(size_t{1} << (d - 1))});
    gpu::fri_fold_line({{in.cols[0].local.cptr(), in.cols[1].local.cptr(), in.cols[2].local.cptr(),
                         in.cols[3].local.cptr()}},
                       domain, alpha,
                       {{out->cols[0].local.ptr(), out->cols[1].local.ptr(), out->cols[2].local.ptr(),
                         out->cols[3].local.ptr()}},
                       stream_);
    return LineEvaluations(std::move(out));
  }
  const size_t m = in.cols[0].local.size();
  std::array<DeviceBuffer<M31>, 4> part;
  for (auto& p : part) p = DeviceBuffer<M31>(m / 2);
  fri_fold_line_block({{in.cols[0].local.cptr(), in.cols[1].local.cptr(), in.cols[2].local.cptr(),
                        in.cols[3].local.cptr()}},
                      domain, g.block_begin(d), d - g.s, alpha,
                      {{part[0].ptr(), part[1].ptr(), part[2].ptr(), part[3].ptr()}}, stream_);
  return LineEvaluations(qm31_from_block(d - 1, std::move(part)));
}

std::vector<M31> DevShardColumns::to_host(size_t c) const {
  const shard::ShardColumn h = host_column(cols.at(c), backend->stream());
  std::vector<shard::Column> full = shard::full_columns(geometry, {&h});
  return std::vector<M31>(full[0].begin(), full[0].end());
}

// Values at `positions` (storage order), gathered on the device by their owners and all-gathered
// (the FRI witnesses): shard::ShardColumns::gather's protocol, the owned values read by a gather
// kernel instead of downloading the block.
std::vector<M31> DevShardColumns::gather(size_t c, std::span<const size_t> positions) const {
  const DevCol& col = cols.at(c);
  const size_t n = size_t{1} << col.log_size;
  for (size_t p : positions)
    if (p >= n) throw Error(ErrorCategory::Internal, "sharded gather: position " + std::to_string(p) + " out of range");
  const bool whole = col.layout == Layout::Replicated || geometry.size == 1;
  auto owner = [&](size_t p) {
    return whole ? geometry.rank
                 : col.layout == Layout::Block ? geometry.block_owner(col.log_size, p) : static_cast<int>(p % geometry.size);
  };
  auto local_index = [&](size_t p) {
    return whole ? p : col.layout == Layout::Block ? p - geometry.block_begin(col.log_size) : p >> geometry.s;
  };
  std::vector<GatherSource> sources;
  for (size_t p : positions)
    if (owner(p) == geometry.rank)
      sources.push_back({reinterpret_cast<const uint32_t*>(col.local.data()), local_index(p)});
  std::vector<uint32_t> mine(sources.size());
  if (!sources.empty()) {
    const stream_t stream = backend->stream();
    DeviceBuffer<GatherSource> table = upload(sources, stream);
    DeviceBuffer<uint32_t> words(sources.size());
    gather_words(table.cptr(), words.ptr(), sources.size(), stream);
    words.download(std::span<uint32_t>(mine), stream);
  }
  std::vector<M31> out(positions.size());
  if (whole) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = M31::raw(mine[i]);
    return out;
  }
  comm::Bytes bytes(mine.size() * sizeof(uint32_t));
  if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<comm::Bytes> parts = geometry.comm->all_gather(bytes);
  std::vector<size_t> next(geometry.size, 0);
  for (size_t i = 0; i < positions.size(); ++i) {
    const int q = owner(positions[i]);
    if (parts[q].size() < (next[q] + 1) * sizeof(M31))
      throw Error(ErrorCategory::Internal, "sharded gather: short block from rank " + std::to_string(q));
    std::memcpy(&out[i], parts[q].data() + next[q]++ * sizeof(M31), sizeof(M31));
  }
  return out;
}

}  // namespace

std::unique_ptr<ShardedDeviceBackend> make_sharded_device_backend(comm::Communicator& comm) {
  if (!device_available())
    throw Error(ErrorCategory::Device, "sharded device backend: no CUDA device is visible (" + device_description() + ")");
  return std::make_unique<ShardedDeviceBackendImpl>(comm);
}

namespace {
// The communicator is a base before the backend, so it is made first and destroyed last.
struct OwnedCommunicator {
  std::unique_ptr<comm::Communicator> owned = std::move(comm::make_thread_communicators(1).at(0));
};
class SingleRankShardedDeviceBackend final : private OwnedCommunicator, public ShardedDeviceBackendImpl {
 public:
  SingleRankShardedDeviceBackend() : OwnedCommunicator(), ShardedDeviceBackendImpl(*owned) {}
};
}  // namespace

std::unique_ptr<ShardedDeviceBackend> make_single_rank_sharded_device_backend() {
  if (!device_available())
    throw Error(ErrorCategory::Device, "sharded device backend: no CUDA device is visible (" + device_description() + ")");
  return std::make_unique<SingleRankShardedDeviceBackend>();
}

PTVM_GPU_NAMESPACE_END
