// The F128 STARK's CUDA backend (ptvm/gpu/stark128_backend.hpp): columns in device memory, the
// kernels of ptvm/gpu/stark128_kernels.hpp, the F128 coset NTT and the BLAKE2b Merkle tree.
#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "../../host/stark128/protocol.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/f128_ntt.hpp"
#include "ptvm/gpu/merkle_blake2b.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/stark128_backend.hpp"
#include "ptvm/gpu/stark128_kernels.hpp"
#include "ptvm/hash/merkle_walk.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace {

using stark128::Backend128;
using stark128::Columns128;
using stark128::Tree128;

uint32_t log2_exact(size_t n, const char* what) {
  if (n == 0 || (n & (n - 1)))
    throw Error(ErrorCategory::Usage, std::string("stark128 cuda backend: ") + what + ": length " + std::to_string(n) +
                                          " is not a power of two");
  uint32_t k = 0;
  while ((size_t{1} << k) < n) ++k;
  return k;
}

class DeviceColumns128 final : public Columns128 {
 public:
  size_t n_columns() const override { return cols.size(); }
  size_t length(size_t column) const override { return cols.at(column).size(); }
  std::vector<F128> to_host(size_t column) const override { return cols.at(column).to_host(); }
  DeviceF128ColumnRef ref(size_t column) const {
    const DeviceBuffer<F128>& b = cols.at(column);
    return {b.data(), b.size()};
  }
  std::vector<DeviceBuffer<F128>> cols;
};

const DeviceColumns128& dev(const Columns128& c) {
  auto* p = dynamic_cast<const DeviceColumns128*>(&c);
  if (!p) throw Error(ErrorCategory::Internal, "stark128 cuda backend: columns of another backend");
  return *p;
}

F128 f128_from_words(const uint32_t* w) {
  F128 v;
  static_assert(sizeof(F128) == 16);
  std::memcpy(static_cast<void*>(&v), w, 16);
  return v;
}

class DeviceTree128 final : public Tree128 {
 public:
  explicit DeviceTree128(std::vector<const DeviceColumns128*> sets) {
    for (const DeviceColumns128* s : sets)
      for (size_t c = 0; c < s->n_columns(); ++c) columns_.push_back(&s->cols[c]);
    for (const auto* c : columns_)
      if (c->size() != columns_[0]->size())
        throw Error(ErrorCategory::Usage, "stark128 cuda backend: commit: columns of different lengths");
    log_size_ = columns_.empty() ? 0 : log2_exact(columns_[0]->size(), "commit");
    // The leaves hash canonical bytes: each column's canonical image, for the commitment only.
    const size_t n = columns_.empty() ? 0 : columns_[0]->size();
    DeviceBuffer<uint32_t> canonical(4 * n * columns_.size());
    std::vector<DeviceF128ColumnRef> in;
    std::vector<DeviceValueColumnRef> refs;
    for (size_t c = 0; c < columns_.size(); ++c) {
      in.push_back({columns_[c]->data(), n});
      refs.push_back({canonical.data() + 4 * n * c, n});
    }
    f128_to_canonical(in, canonical.ptr(), nullptr);
    tree_ = DeviceBlake2bMerkleTree::commit(refs, 4, nullptr);
    const std::vector<uint32_t> words = tree_.layer_words(0).to_host();
    for (int i = 0; i < 8; ++i)
      for (int b = 0; b < 4; ++b) root_.bytes[4 * i + b] = static_cast<uint8_t>(words[i] >> (8 * b));
  }
  stark128::Hash root() const override { return root_; }

  // The decommitment walk (ptvm/hash/merkle_walk.hpp) run twice: once to list the nodes and values
  // it reads, gathered on the device in one launch and one download, then with them.
  stark128::TreeOpening open(const std::vector<size_t>& positions) const override {
    if (columns_.empty()) throw Error(ErrorCategory::Usage, "stark128 cuda backend: open: a tree without columns");
    const size_t n = size_t{1} << log_size_;
    for (size_t i = 0; i < positions.size(); ++i)
      if (positions[i] >= n || (i > 0 && positions[i] <= positions[i - 1]))
        throw Error(ErrorCategory::Usage, "stark128 cuda backend: open: positions must be ascending, distinct, < " +
                                              std::to_string(n));
    hash::QueriesPerLogSize q;
    q[log_size_] = positions;
    std::vector<std::vector<size_t>> by_log(log_size_ + 1);
    for (size_t c = 0; c < columns_.size(); ++c) by_log[log_size_].push_back(c);
    std::vector<DeviceWordRef> refs;
    std::vector<F128> v0, v1;
    std::vector<stark128::Hash> h0;
    hash::detail::merkle_decommit_walk(
        log_size_, q, by_log,
        [&](uint32_t layer, size_t index) {
          const DeviceBuffer<uint32_t>& words = tree_.layer_words(layer);
          const size_t nodes = size_t{1} << layer;
          for (size_t i = 0; i < 8; ++i) refs.push_back({words.data(), words.size(), i * nodes + index});
          return stark128::Hash{};
        },
        [&](size_t column, size_t index) {
          const DeviceBuffer<F128>& col = *columns_[column];
          for (size_t i = 0; i < 4; ++i)
            refs.push_back({reinterpret_cast<const uint32_t*>(col.data()), 4 * col.size(), 4 * index + i});
          return F128::zero();
        },
        v0, h0, v1);
    const std::vector<uint32_t> got = gather_words(refs, nullptr);
    size_t at = 0;
    stark128::TreeOpening o;
    hash::detail::merkle_decommit_walk(
        log_size_, q, by_log,
        [&](uint32_t, size_t) {
          stark128::Hash h;
          for (int i = 0; i < 8; ++i)
            for (int b = 0; b < 4; ++b) h.bytes[4 * i + b] = static_cast<uint8_t>(got[at + i] >> (8 * b));
          at += 8;
          return h;
        },
        [&](size_t, size_t) {
          const F128 v = f128_from_words(got.data() + at);
          at += 4;
          return v;
        },
        o.values, o.decommitment.hash_witness, o.decommitment.column_witness);
    return o;
  }

 private:
  std::vector<const DeviceBuffer<F128>*> columns_;  // the caller keeps the column sets alive
  uint32_t log_size_ = 0;
  DeviceBlake2bMerkleTree tree_;
  stark128::Hash root_;
};

class CudaBackend128 final : public Backend128 {
 public:
  CudaBackend128() : air_kernels_(vm_air128_kernels()) {
    for (const auto& k : example_air128_kernels()) air_kernels_.push_back(k);
  }
  std::string name() const override { return "cuda"; }

  // Columns grouped by length, each group in one batched transform (f128_coset_interpolate_many).
  std::unique_ptr<Columns128> interpolate_rows(const std::vector<const std::vector<F128>*>& rows) override {
    StageScope stage("stark128.interpolate_rows");
    auto out = std::make_unique<DeviceColumns128>();
    std::vector<DeviceBuffer<F128>> values;
    std::map<uint32_t, std::vector<F128NttColumn>> by_log;
    for (const auto* r : rows) {
      const uint32_t log_n = log2_exact(r->size(), "interpolate_rows");
      values.push_back(DeviceBuffer<F128>::from_host(*r));
      out->cols.emplace_back(r->size());
      by_log[log_n].push_back({values.back().data(), r->size(), out->cols.back().data()});
    }
    for (const auto& [log_n, cols] : by_log) f128_coset_interpolate_many(cols, log_n, F128::one(), roots(log_n), nullptr);
    return out;
  }

  std::unique_ptr<Columns128> extend(const Columns128& coefficients, uint32_t log_lde) override {
    StageScope stage("stark128.extend");
    const DeviceColumns128& in = dev(coefficients);
    const size_t nb = size_t{1} << log_lde;
    auto out = std::make_unique<DeviceColumns128>();
    std::vector<F128NttColumn> cols;
    for (const auto& c : in.cols) {
      if (c.size() > nb) throw Error(ErrorCategory::Usage, "stark128 cuda backend: extend: more coefficients than points");
      out->cols.emplace_back(nb);
      cols.push_back({c.data(), c.size(), out->cols.back().data()});
    }
    f128_coset_evaluate_many(cols, log_lde, stark128::detail::lde_offset(), roots(log_lde), true, nullptr);
    return out;
  }

  std::vector<F128> evaluate_at_points(const Columns128& coefficients,
                                       std::span<const stark128::PointRequest128> requests) override {
    StageScope stage("stark128.evaluate_at_points");
    const DeviceColumns128& in = dev(coefficients);
    std::vector<F128PointRequest> r;
    for (const auto& q : requests) r.push_back({in.ref(q.column), q.point});
    return f128_evaluate_at_points(r, nullptr);
  }

  std::unique_ptr<Tree128> commit(const std::vector<const Columns128*>& sets) override {
    StageScope stage("stark128.commit");
    std::vector<const DeviceColumns128*> s;
    for (const Columns128* c : sets) s.push_back(&dev(*c));
    return std::make_unique<DeviceTree128>(std::move(s));
  }

  std::unique_ptr<Columns128> composition(const stark128::Air128& air,
                                          const stark128::CompositionInputs128& in) override {
    StageScope stage("stark128.composition");
    const size_t nb = size_t{1} << in.log_lde;
    const DeviceColumns128& pre = dev(*in.preprocessed);
    const DeviceColumns128& main = dev(*in.main);
    const DeviceColumns128& inter = dev(*in.interaction);
    auto out = std::make_unique<DeviceColumns128>();
    out->cols.emplace_back(nb);
    out->cols[0].memset(0);  // canonical zero is all-zero bytes
    DeviceBuffer<stark128::RelationChallenges128> challenges =
        DeviceBuffer<stark128::RelationChallenges128>::from_host(in.challenges);
    DeviceBuffer<F128> pub = DeviceBuffer<F128>::from_host(in.public_inputs.empty() ? std::span<const F128>(&zero_, 1)
                                                                                    : in.public_inputs);
    for (size_t c = 0; c < air.components.size(); ++c) {
      const auto& comp = *air.components[c];
      const Device128AirKernels* k = nullptr;
      for (const auto& cand : air_kernels_)
        if (cand.matches(comp)) k = &cand;
      if (!k)
        throw Error(ErrorCategory::Usage, "stark128 cuda backend: component '" + comp.info().name +
                                              "': no device kernels for its AIR type");
      auto table = [&](const DeviceColumns128& set, uint32_t first, uint32_t count) {
        std::vector<DeviceF128ColumnRef> refs;
        for (uint32_t i = 0; i < count; ++i) refs.push_back(set.ref(first + i));
        if (refs.empty()) refs.push_back({nullptr, 0});  // a table is never empty
        return DeviceBuffer<DeviceF128ColumnRef>::from_host(refs);
      };
      const auto& shape = comp.shape();
      DeviceBuffer<DeviceF128ColumnRef> tp = table(pre, in.pre_offset[c], shape.n_pre_total);
      DeviceBuffer<DeviceF128ColumnRef> tm = table(main, in.main_offset[c], comp.info().n_main_columns);
      DeviceBuffer<DeviceF128ColumnRef> ti = table(inter, in.inter_offset[c], shape.n_batches);
      DeviceBuffer<F128> coeffs =
          DeviceBuffer<F128>::from_host(in.coefficients.subspan(in.constraint_offset[c], shape.n_constraints()));
      DeviceBuffer<F128> van = DeviceBuffer<F128>::from_host(stark128::detail::vanishing_inverses(in.log_lde, comp.log_rows()));
      std::vector<DeviceBoundary128> bounds;
      for (const auto& b : comp.info().boundary_constraints) {
        const size_t sel = std::lower_bound(shape.selector_rows.begin(), shape.selector_rows.end(), b.row) -
                           shape.selector_rows.begin();
        bounds.push_back({comp.info().n_preprocessed_columns + static_cast<uint32_t>(sel), b.main_column,
                          b.public_input});
        if (b.public_input >= in.public_inputs.size())
          throw Error(ErrorCategory::Usage, "stark128 cuda backend: component '" + comp.info().name +
                                                "': a boundary constraint names a missing public input");
      }
      if (bounds.empty()) bounds.push_back({0, 0, 0});
      DeviceBuffer<DeviceBoundary128> tb = DeviceBuffer<DeviceBoundary128>::from_host(bounds);
      Composition128Args a;
      a.preprocessed = tp.cptr();
      a.main = tm.cptr();
      a.interaction = ti.cptr();
      a.challenges = challenges.cptr();
      a.coefficients = coeffs.cptr();
      a.van_inv = van.cptr();
      a.boundaries = tb.cptr();
      a.public_inputs = pub.cptr();
      a.sum_per_row = stark128::sum_per_row(in.claimed_sums[c], comp.log_rows());
      a.n_boundaries = static_cast<uint32_t>(comp.info().boundary_constraints.size());
      a.logup_batches = shape.n_batches;
      a.log_lde = in.log_lde;
      a.log_rows = comp.log_rows();
      a.h = out->cols[0].ptr();
      k->add_composition(comp, a, nullptr);
    }
    return out;
  }

  std::unique_ptr<Columns128> composition_parts(const Columns128& hc, uint32_t log_n) override {
    StageScope stage("stark128.composition_parts");
    const DeviceBuffer<F128>& h = dev(hc).cols.at(0);
    const uint32_t log_lde = log2_exact(h.size(), "composition_parts");
    const size_t n = size_t{1} << log_n;
    if (log_n + 1 > log_lde) throw Error(ErrorCategory::Usage, "stark128 cuda backend: composition_parts: domain too small");
    DeviceBuffer<F128> natural(h.size()), coeffs(h.size());
    f128_bit_reverse(h.cptr(), natural.ptr(), log_lde, nullptr);
    f128_coset_interpolate_natural(natural.cptr(), coeffs.ptr(), log_lde, stark128::detail::lde_offset(), roots(log_lde),
                                   nullptr);
    auto out = std::make_unique<DeviceColumns128>();
    for (int part = 0; part < 2; ++part) {
      DeviceBuffer<F128> p(n);
      f128_copy(coeffs.cptr(), part * n, p.ptr(), n, nullptr);
      out->cols.push_back(std::move(p));
    }
    synchronize(nullptr);
    return out;
  }

  std::unique_ptr<Columns128> deep_quotient(uint32_t log_lde, std::span<const F128> points,
                                            std::span<const stark128::DeepSample128> samples) override {
    StageScope stage("stark128.deep_quotient");
    const size_t nb = size_t{1} << log_lde;
    std::vector<uint32_t> used;
    for (const auto& s : samples)
      if (std::find(used.begin(), used.end(), s.point) == used.end()) used.push_back(s.point);
    std::vector<F128DeepSample> table;
    std::vector<F128DeepPoint> pts;
    for (uint32_t p : used) {
      if (p >= points.size()) throw Error(ErrorCategory::Usage, "stark128 cuda backend: deep_quotient: point index");
      F128DeepPoint dp{points[p], F128::zero(), static_cast<uint32_t>(table.size()), 0};
      for (const auto& s : samples)
        if (s.point == p) {
          const DeviceColumns128& set = dev(*s.set);
          if (set.length(s.column) != nb)
            throw Error(ErrorCategory::Usage, "stark128 cuda backend: deep_quotient: column length");
          dp.offset += s.weight * s.value;
          table.push_back({set.ref(s.column), s.weight});
          ++dp.count;
        }
      pts.push_back(dp);
    }
    auto out = std::make_unique<DeviceColumns128>();
    out->cols.emplace_back(nb);
    f128_deep_quotient(log_lde, table, pts, out->cols[0].ptr(), nullptr);
    return out;
  }

  std::unique_ptr<Columns128> fri_fold(const Columns128& layer, F128 offset, F128 beta) override {
    StageScope stage("stark128.fri_fold");
    const DeviceBuffer<F128>& in = dev(layer).cols.at(0);
    const uint32_t log_m = log2_exact(in.size(), "fri_fold");
    if (log_m == 0) throw Error(ErrorCategory::Usage, "stark128 cuda backend: fri_fold: a layer of one value");
    auto out = std::make_unique<DeviceColumns128>();
    out->cols.emplace_back(in.size() / 2);
    f128_fri_fold(in.cptr(), log_m, offset, beta, out->cols[0].ptr(), nullptr);
    return out;
  }

  // pow_bits = 0: every nonce is valid and 0 is the smallest (no launch).
  uint64_t grind(const stark128::Hash& digest, uint32_t pow_bits) override {
    if (pow_bits == 0) return 0;
    StageScope stage("stark128.grind");
    return f128_pow_grind(digest, pow_bits, nullptr);
  }

 private:
  const DeviceNttRoots& roots(uint32_t log_n) {
    auto it = roots_.find(log_n);
    if (it == roots_.end()) it = roots_.emplace(log_n, DeviceNttRoots::upload(log_n)).first;
    return it->second;
  }
  std::vector<Device128AirKernels> air_kernels_;
  std::map<uint32_t, DeviceNttRoots> roots_;
  F128 zero_ = F128::zero();
};

}  // namespace

std::unique_ptr<stark128::Backend128> make_stark128_cuda_backend() { return std::make_unique<CudaBackend128>(); }

std::unique_ptr<stark128::Backend128> make_stark128_backend(std::string_view name) {
  if (name == "cuda") return make_stark128_cuda_backend();
  if (name == "dual") return stark128::make_dual_backend128(stark128::make_cpu_backend128(), make_stark128_cuda_backend());
  throw Error(ErrorCategory::Usage, "make_stark128_backend: unknown backend '" + std::string(name) +
                                        "' (known: cuda, dual)");
}

PTVM_GPU_NAMESPACE_END
