// make_dual_backend128 (ptvm/stark128/backend.hpp): every operation on a reference and a candidate
// backend, results compared in full; the first difference throws naming operation, column, position.
#include <utility>

#include "ptvm/common/error.hpp"
#include "ptvm/stark128/backend.hpp"

namespace ptvm::stark128 {
namespace {

class DualColumns final : public Columns128 {
 public:
  DualColumns(std::unique_ptr<Columns128> r, std::unique_ptr<Columns128> c) : ref(std::move(r)), cand(std::move(c)) {}
  size_t n_columns() const override { return cand->n_columns(); }
  size_t length(size_t column) const override { return cand->length(column); }
  std::vector<F128> to_host(size_t column) const override { return cand->to_host(column); }
  std::unique_ptr<Columns128> ref, cand;
};

const DualColumns& dual(const Columns128& c) {
  auto* p = dynamic_cast<const DualColumns*>(&c);
  if (!p) throw Error(ErrorCategory::Internal, "stark128 dual backend: columns of another backend");
  return *p;
}

[[noreturn]] void differ(const std::string& op, const std::string& what) {
  throw Error(ErrorCategory::Internal, "stark128 dual backend: " + op + ": the candidate differs from the reference: " +
                                           what);
}

std::string hex(const F128& v) {
  uint8_t b[16];
  v.to_bytes_le(b);
  static const char* d = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 15; i >= 0; --i) {
    s += d[b[i] >> 4];
    s += d[b[i] & 15];
  }
  return s;
}

std::unique_ptr<Columns128> checked(const std::string& op, std::unique_ptr<Columns128> r, std::unique_ptr<Columns128> c) {
  if (r->n_columns() != c->n_columns())
    differ(op, std::to_string(c->n_columns()) + " columns, reference " + std::to_string(r->n_columns()));
  for (size_t k = 0; k < r->n_columns(); ++k) {
    const std::vector<F128> a = r->to_host(k), b = c->to_host(k);
    if (a.size() != b.size())
      differ(op, "column " + std::to_string(k) + " has " + std::to_string(b.size()) + " values, reference " +
                     std::to_string(a.size()));
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i])
        differ(op, "column " + std::to_string(k) + " position " + std::to_string(i) + ": " + hex(b[i]) +
                       ", reference " + hex(a[i]));
  }
  return std::make_unique<DualColumns>(std::move(r), std::move(c));
}

class DualTree final : public Tree128 {
 public:
  DualTree(std::unique_ptr<Tree128> r, std::unique_ptr<Tree128> c) : ref_(std::move(r)), cand_(std::move(c)) {
    if (ref_->root() != cand_->root()) differ("commit", "the roots differ");
  }
  Hash root() const override { return cand_->root(); }
  TreeOpening open(const std::vector<size_t>& positions) const override {
    TreeOpening a = ref_->open(positions), b = cand_->open(positions);
    if (a.values != b.values) differ("open", "the opened values differ");
    if (a.decommitment.hash_witness != b.decommitment.hash_witness) differ("open", "the hash witnesses differ");
    if (a.decommitment.column_witness != b.decommitment.column_witness) differ("open", "the column witnesses differ");
    return b;
  }

 private:
  std::unique_ptr<Tree128> ref_, cand_;
};

class DualBackend128 final : public Backend128 {
 public:
  DualBackend128(std::unique_ptr<Backend128> r, std::unique_ptr<Backend128> c) : ref_(std::move(r)), cand_(std::move(c)) {}
  std::string name() const override { return "dual(" + ref_->name() + "," + cand_->name() + ")"; }

  std::unique_ptr<Columns128> interpolate_rows(const std::vector<const std::vector<F128>*>& rows) override {
    return checked("interpolate_rows", ref_->interpolate_rows(rows), cand_->interpolate_rows(rows));
  }
  std::unique_ptr<Columns128> extend(const Columns128& coefficients, uint32_t log_lde) override {
    const DualColumns& d = dual(coefficients);
    return checked("extend", ref_->extend(*d.ref, log_lde), cand_->extend(*d.cand, log_lde));
  }
  std::vector<F128> evaluate_at_points(const Columns128& coefficients,
                                       std::span<const PointRequest128> requests) override {
    const DualColumns& d = dual(coefficients);
    const std::vector<F128> a = ref_->evaluate_at_points(*d.ref, requests), b = cand_->evaluate_at_points(*d.cand, requests);
    if (a.size() != b.size()) differ("evaluate_at_points", "wrong number of values");
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) differ("evaluate_at_points", "request " + std::to_string(i) + ": " + hex(b[i]) + ", reference " + hex(a[i]));
    return b;
  }
  std::unique_ptr<Tree128> commit(const std::vector<const Columns128*>& sets) override {
    std::vector<const Columns128*> a, b;
    for (const Columns128* s : sets) {
      a.push_back(dual(*s).ref.get());
      b.push_back(dual(*s).cand.get());
    }
    return std::make_unique<DualTree>(ref_->commit(a), cand_->commit(b));
  }
  std::unique_ptr<Columns128> composition(const Air128& air, const CompositionInputs128& in) override {
    CompositionInputs128 a = in, b = in;
    a.preprocessed = dual(*in.preprocessed).ref.get();
    a.main = dual(*in.main).ref.get();
    a.interaction = dual(*in.interaction).ref.get();
    b.preprocessed = dual(*in.preprocessed).cand.get();
    b.main = dual(*in.main).cand.get();
    b.interaction = dual(*in.interaction).cand.get();
    return checked("composition", ref_->composition(air, a), cand_->composition(air, b));
  }
  std::unique_ptr<Columns128> composition_parts(const Columns128& h, uint32_t log_n) override {
    const DualColumns& d = dual(h);
    return checked("composition_parts", ref_->composition_parts(*d.ref, log_n), cand_->composition_parts(*d.cand, log_n));
  }
  std::unique_ptr<Columns128> deep_quotient(uint32_t log_lde, std::span<const F128> points,
                                            std::span<const DeepSample128> samples) override {
    std::vector<DeepSample128> a(samples.begin(), samples.end()), b = a;
    for (size_t i = 0; i < a.size(); ++i) {
      a[i].set = dual(*samples[i].set).ref.get();
      b[i].set = dual(*samples[i].set).cand.get();
    }
    return checked("deep_quotient", ref_->deep_quotient(log_lde, points, a), cand_->deep_quotient(log_lde, points, b));
  }
  std::unique_ptr<Columns128> fri_fold(const Columns128& layer, F128 offset, F128 beta) override {
    const DualColumns& d = dual(layer);
    return checked("fri_fold", ref_->fri_fold(*d.ref, offset, beta), cand_->fri_fold(*d.cand, offset, beta));
  }
  uint64_t grind(const Hash& digest, uint32_t pow_bits) override {
    const uint64_t a = ref_->grind(digest, pow_bits), b = cand_->grind(digest, pow_bits);
    if (a != b) differ("grind", "nonce " + std::to_string(b) + ", reference " + std::to_string(a));
    return b;
  }

 private:
  std::unique_ptr<Backend128> ref_, cand_;
};

}  // namespace

std::unique_ptr<Backend128> make_dual_backend128(std::unique_ptr<Backend128> reference,
                                                 std::unique_ptr<Backend128> candidate) {
  if (!reference || !candidate) throw Error(ErrorCategory::Usage, "make_dual_backend128: a backend is missing");
  return std::make_unique<DualBackend128>(std::move(reference), std::move(candidate));
}

}  // namespace ptvm::stark128
