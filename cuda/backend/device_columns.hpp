// Internal to cuda/backend/: the device column sets and Merkle trees of the CUDA backend, shared by
// the single-proof backend (cuda_backend.cpp) and the lockstep group executor (group_backend.cpp),
// which launches one kernel over the columns of many jobs.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark_kernels.hpp"
#include "ptvm/hash/merkle_walk.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace backend_detail {

inline uint32_t log2_exact(size_t n) {
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Internal, "cuda backend: column length " + std::to_string(n) + " is not a power of two");
  return static_cast<uint32_t>(std::countr_zero(n));
}

// The words sources[i].base[sources[i].index] in one gather launch and one copy (query values,
// Merkle node words, roots; of one job or of a whole group).
inline std::vector<uint32_t> gather_to_host(const std::vector<GatherSource>& sources, stream_t stream) {
  std::vector<uint32_t> words(sources.size());
  if (sources.empty()) return words;
  DeviceBuffer<GatherSource> src = DeviceBuffer<GatherSource>::from_host(sources, stream);
  DeviceBuffer<uint32_t> out(sources.size());
  gather_words(src.cptr(), out.ptr(), sources.size(), stream);
  out.download(std::span<uint32_t>(words), stream);
  return words;
}

class DeviceColumns final : public ColumnSet {
 public:
  std::vector<DeviceBuffer<M31>> cols;
  DeviceColumns() = default;
  size_t n_columns() const override { return cols.size(); }
  uint32_t log_size(size_t c) const override { return log2_exact(cols.at(c).size()); }
  std::vector<M31> to_host(size_t c) const override { return cols.at(c).to_host(); }
  // Query extraction: the few values a decommitment needs, gathered on the device.
  std::vector<M31> gather(size_t c, std::span<const size_t> positions) const override {
    StageScope scope("cuda.gather");
    const DeviceBuffer<M31>& col = cols.at(c);
    std::vector<GatherSource> sources;
    for (size_t p : positions) {
      if (p >= col.size())
        throw Error(ErrorCategory::Internal, "cuda backend: gather position " + std::to_string(p) + " outside a column of " +
                                                 std::to_string(col.size()));
      sources.push_back({reinterpret_cast<const uint32_t*>(col.data()), p});
    }
    const std::vector<uint32_t> host = gather_to_host(sources, nullptr);
    std::vector<M31> out(host.size());
    for (size_t i = 0; i < host.size(); ++i) out[i] = M31::raw(host[i]);
    return out;
  }

  DeviceColumnRef ref(size_t c) const { return {cols.at(c).data(), cols.at(c).size()}; }
  SecureColumnView secure(size_t first = 0) const {
    require_secure(first);
    return {{cols[first].ptr(), cols[first + 1].ptr(), cols[first + 2].ptr(), cols[first + 3].ptr()}};
  }
  SecureColumnConstView secure_const(size_t first = 0) const {
    require_secure(first);
    return {{cols[first].cptr(), cols[first + 1].cptr(), cols[first + 2].cptr(), cols[first + 3].cptr()}};
  }
  // A set of n_columns columns of 2^log_size values (uninitialized).
  static std::unique_ptr<DeviceColumns> make(size_t n_columns, uint32_t log_size) {
    auto out = std::make_unique<DeviceColumns>();
    for (size_t c = 0; c < n_columns; ++c) out->cols.emplace_back(size_t{1} << log_size);
    return out;
  }

 private:
  void require_secure(size_t first) const {
    if (first + 4 > cols.size())
      throw Error(ErrorCategory::Internal, "cuda backend: a QM31 column needs 4 coordinate columns");
    for (size_t k = 1; k < 4; ++k)
      if (cols[first + k].size() != cols[first].size())
        throw Error(ErrorCategory::Internal, "cuda backend: QM31 coordinate columns of different sizes");
  }
};

inline const DeviceColumns& dev(const ColumnSet& s) {
  auto* d = dynamic_cast<const DeviceColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "cuda backend: column set from another backend");
  return *d;
}
inline DeviceColumns& dev(ColumnSet& s) {
  auto* d = dynamic_cast<DeviceColumns*>(&s);
  if (!d) throw Error(ErrorCategory::Internal, "cuda backend: column set from another backend");
  return *d;
}
template <class Kind>
const DeviceColumns& dev(const Columns<Kind>& c) {
  return dev(c.set());
}
template <class Kind>
DeviceColumns& dev(Columns<Kind>& c) {
  return dev(c.set());
}
inline const DeviceColumns& dev(const EvaluationsRef& r) { return dev(r.set()); }

template <class T>
inline DeviceBuffer<T> upload(const std::vector<T>& host, stream_t stream) {
  if (host.empty()) return DeviceBuffer<T>();
  return DeviceBuffer<T>::from_host(std::span<const T>(host), stream);
}

class DeviceTree final : public CommittedTree {
 public:
  // A tree whose root was read by the caller (the group executor reads all roots in one copy).
  DeviceTree(DeviceMerkleTree tree, std::vector<DeviceColumnRef> columns, stream_t stream, const hash::Blake2sHash& root)
      : tree_(std::move(tree)), columns_(std::move(columns)), stream_(stream) {
    init();
    root_ = root;
  }
  DeviceTree(DeviceMerkleTree tree, std::vector<DeviceColumnRef> columns, stream_t stream)
      : tree_(std::move(tree)), columns_(std::move(columns)), stream_(stream) {
    init();
    root_ = tree_.root(stream_);
  }
  hash::Blake2sHash root() const override { return root_; }
  std::vector<uint32_t> column_log_sizes() const override { return log_sizes_; }

  // The walk of hash::MerkleTree::decommit (PROTOCOL.md §9.4) over the device tree: the host
  // plans which node words and column values are opened, one gather kernel extracts them.
  // An opening planned on the host: which words one gather reads, and where each lands.
  struct OpenPlan {
    std::vector<GatherSource> sources;
    std::vector<size_t> hash_words, queried_words, witness_words;
  };
  OpenPlan plan_open(const hash::QueriesPerLogSize& queries) const {
    check_queries(queries);
    OpenPlan plan;
    if (columns_.empty()) return plan;
    // The shared walk plans the opening: each "hash" or "value" it asks for is the index of its
    // first word in `sources`; one gather kernel then reads every planned word.
    hash::detail::merkle_decommit_walk<size_t, size_t>(
        tree_.max_log_size(), queries, by_log_size_,
        [&](uint32_t layer_log_size, size_t child) {
          const DeviceBuffer<uint32_t>& layer = tree_.layer_words(layer_log_size);
          const size_t n_nodes = size_t{1} << layer_log_size;
          const size_t first = plan.sources.size();
          for (size_t i = 0; i < 8; ++i) plan.sources.push_back({layer.data(), i * n_nodes + child});
          return first;
        },
        [&](size_t column, size_t index) {
          plan.sources.push_back({reinterpret_cast<const uint32_t*>(columns_[column].data), index});
          return plan.sources.size() - 1;
        },
        plan.queried_words, plan.hash_words, plan.witness_words);
    return plan;
  }
  // The opening from the gathered words (words[i] = the word of plan.sources[i]).
  static hash::MerkleTree::Opening assemble_opening(const OpenPlan& plan, std::span<const uint32_t> words) {
    hash::MerkleTree::Opening opening;
    for (size_t w : plan.hash_words) opening.decommitment.hash_witness.push_back(hash::Blake2sHash::from_words(&words[w]));
    for (size_t w : plan.queried_words) opening.queried_values.push_back(M31::raw(words[w]));
    for (size_t w : plan.witness_words) opening.decommitment.column_witness.push_back(M31::raw(words[w]));
    return opening;
  }

  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& queries) const override {
    StageScope scope("cuda.open");
    const OpenPlan plan = plan_open(queries);
    return assemble_opening(plan, gather_to_host(plan.sources, stream_));
  }
  const DeviceMerkleTree& device_tree() const { return tree_; }

 private:
  void init() {
    for (const auto& c : columns_) log_sizes_.push_back(log2_exact(c.length));
    by_log_size_.resize(tree_.max_log_size() + 1);
    for (size_t c = 0; c < columns_.size(); ++c) by_log_size_[log_sizes_[c]].push_back(c);
  }
  void check_queries(const hash::QueriesPerLogSize& queries) const {
    for (const auto& [log_size, positions] : queries) {
      if (positions.empty()) continue;
      if (log_size >= by_log_size_.size() || by_log_size_[log_size].empty())
        throw Error(ErrorCategory::Usage, "cuda backend: open: queries at log size " + std::to_string(log_size) +
                                              ", which has no columns");
      for (size_t i = 0; i < positions.size(); ++i) {
        if (positions[i] >= (size_t{1} << log_size) || (i > 0 && positions[i] <= positions[i - 1]))
          throw Error(ErrorCategory::Usage, "cuda backend: open: positions at log size " + std::to_string(log_size) +
                                                " must be strictly increasing and below 2^" + std::to_string(log_size));
      }
    }
  }

  DeviceMerkleTree tree_;
  std::vector<DeviceColumnRef> columns_;
  std::vector<uint32_t> log_sizes_;
  std::vector<std::vector<size_t>> by_log_size_;
  stream_t stream_;
  hash::Blake2sHash root_;
};

}  // namespace backend_detail
PTVM_GPU_NAMESPACE_END
