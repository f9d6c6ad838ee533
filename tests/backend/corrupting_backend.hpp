// A backend that is wrong in exactly one place, for the tests of the dual backend's reports (and
// to check by hand that the conformance suite catches a wrong operation): every operation forwarded
// to a CPU backend, one value of one call changed.
#pragma once
#include <memory>
#include <string>

#include "ptvm/backend.hpp"
#include "ptvm/circle/domain.hpp"

namespace ptvm::backend_testing {

// A tree whose root has one bit flipped, or whose openings have one queried value changed.
class CorruptTree final : public CommittedTree {
 public:
  CorruptTree(std::unique_ptr<CommittedTree> inner, bool corrupt_root) : inner_(std::move(inner)), root_(corrupt_root) {}
  hash::Blake2sHash root() const override {
    hash::Blake2sHash r = inner_->root();
    if (root_) r.bytes[7] ^= 0x10;
    return r;
  }
  std::vector<uint32_t> column_log_sizes() const override { return inner_->column_log_sizes(); }
  hash::MerkleTree::Opening open(const hash::QueriesPerLogSize& q) const override {
    auto o = inner_->open(q);
    if (!root_ && o.queried_values.size() > 2) o.queried_values[2] += M31::one();
    return o;
  }

 private:
  std::unique_ptr<CommittedTree> inner_;
  bool root_;
};

// Forwards every operation to a CPU backend; the n-th call of operation `op` (counting from 0)
// gets one value changed: column `column`, bit-reversed position `row` of a column-set result,
// or the scalar result (evaluate_at_points, grind, claimed sum, root, openings).
class CorruptingBackend final : public Backend {
 public:
  CorruptingBackend(std::string op, size_t column, size_t row, int nth = 0)
      : op_(std::move(op)), column_(column), row_(row), nth_(nth) {}
  std::string name() const override { return "corrupt"; }

  Evaluations upload_rows(const std::vector<std::vector<M31>>& rows) override {
    return maybe("upload_rows", inner_->upload_rows(rows));
  }
  std::vector<M31> to_host_rows(const Evaluations& s, size_t c) override {
    std::vector<M31> v = inner_->to_host_rows(s, c);
    if (hit("to_host_rows") && c == column_) v.at(row_) += M31::one();
    return v;
  }
  Coefficients interpolate(const Evaluations& e) override { return maybe("interpolate", inner_->interpolate(e)); }
  Evaluations evaluate(const Coefficients& c, uint32_t ext) override {
    return maybe("evaluate", inner_->evaluate(c, ext));
  }
  std::vector<QM31> evaluate_at_points(const Coefficients& c, std::span<const PointEvaluationRequest> r) override {
    std::vector<QM31> v = inner_->evaluate_at_points(c, r);
    if (v.size() > row_ && hit("evaluate_at_points")) v[row_] += QM31::one();
    return v;
  }
  std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& sets) override {
    auto t = inner_->commit(sets);
    if (hit("commit")) return std::make_unique<CorruptTree>(std::move(t), true);
    if (hit("open")) return std::make_unique<CorruptTree>(std::move(t), false);
    return t;
  }
  Interaction logup_interaction(const air::Component& comp, const Evaluations& pre, const Evaluations& main,
                                std::span<const air::RelationChallenges> ch) override {
    Interaction i = inner_->logup_interaction(comp, pre, main, ch);
    if (hit("logup_claimed_sum")) i.claimed_sum += QM31::one();
    i.columns = maybe("logup_interaction", std::move(i.columns));
    return i;
  }
  SecureEvaluations eval_composition(const air::Component& comp, const CompositionInputs& in) override {
    return maybe("eval_composition", inner_->eval_composition(comp, in));
  }
  void add_assign(SecureEvaluations& dst, const SecureEvaluations& src) override {
    inner_->add_assign(dst, src);
    if (hit("add_assign")) {
      // Changes dst in place: add 1 at (column, row) through a one-hot column set.
      std::vector<std::vector<M31>> rows;
      for (size_t c = 0; c < dst.n_columns(); ++c) rows.emplace_back(size_t{1} << dst.log_size(c), M31::zero());
      const uint32_t n = dst.log_size(column_);
      for (size_t j = 0; j < rows[column_].size(); ++j)
        if (circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n) == row_)
          rows[column_][j] = M31::one();
      inner_->add_assign(dst, SecureEvaluations::from_coordinates(inner_->upload_rows(rows)));
    }
  }
  Coefficients slice(const Coefficients& s, size_t first, size_t count) override {
    return maybe("slice", inner_->slice(s, first, count));
  }
  Coefficients coefficient_slice(const Coefficients& c, size_t begin, uint32_t log) override {
    return maybe("coefficient_slice", inner_->coefficient_slice(c, begin, log));
  }
  SecureEvaluations deep_quotients(uint32_t log, const std::vector<DeepQuotientBatch>& b) override {
    return maybe("deep_quotients", inner_->deep_quotients(log, b));
  }
  LineEvaluations fri_fold_circle(const SecureEvaluations& c, const QM31& a, const LineEvaluations* acc) override {
    return maybe("fri_fold_circle", inner_->fri_fold_circle(c, a, acc));
  }
  LineEvaluations fri_fold_line(const LineEvaluations& l, const circle::LineDomain& d, const QM31& a) override {
    return maybe("fri_fold_line", inner_->fri_fold_line(l, d, a));
  }
  uint64_t grind(const hash::Blake2sChannel& ch, uint32_t bits) override {
    const uint64_t n = inner_->grind(ch, bits);
    return hit("grind") ? n + 1 : n;
  }
  bool corrupted() const { return done_; }

 private:
  bool hit(const std::string& op) {
    if (done_ || op != op_ || seen_++ != nth_) return false;
    done_ = true;
    return true;
  }
  // The set re-uploaded with one value changed (storage position row_ of column column_), as the
  // kind it was.
  template <class Kind>
  Columns<Kind> maybe(const std::string& op, Columns<Kind> s) {
    if (op != op_ || done_ || column_ >= s.n_columns() || row_ >= (size_t{1} << s.log_size(column_))) return s;
    if (!hit(op)) return s;
    std::vector<std::vector<M31>> rows;
    for (size_t c = 0; c < s.n_columns(); ++c) {
      std::vector<M31> storage = s.to_host(c);
      if (c == column_) storage[row_] += M31::one();
      const uint32_t n = s.log_size(c);
      std::vector<M31> r(storage.size());
      for (size_t j = 0; j < r.size(); ++j)
        r[j] = storage[circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, n), n)];
      rows.push_back(std::move(r));
    }
    return Columns<Kind>(inner_->upload_rows(rows).storage());
  }

  std::unique_ptr<Backend> inner_ = make_cpu_backend();
  std::string op_;
  size_t column_, row_;
  int nth_, seen_ = 0;
  bool done_ = false;
};

}  // namespace ptvm::backend_testing
