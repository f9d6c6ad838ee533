// AIR components over F128 for the F128 STARK (statement-v1): the SAME constraint templates as the
// circle STARK (`template <class E> void evaluate(E& e)`, ptvm/air/eval.hpp), run with
// E::F = E::EF = F128. LogUp over F128: a relation's challenges (z, alpha) are F128 elements, a
// tuple's denominator is sum_i alpha^i v_i - z, and each LogUp batch owns ONE F128 interaction
// column (batch j < B-1: c_j = N_j / D_j; the last batch: the running sum C with C(0) = 0 and
// C(r+1) = C(r) + rowtotal(r) - S/N), with the constraints of ptvm/air/logup.hpp (LogupBatcher).
//
// Boundary constraints and selector columns as in ptvm/air/component.hpp: one preprocessed
// selector per distinct boundary row, appended after the AIR's own preprocessed columns, and
// selector_r * (main_c - public_k) after the AIR's constraints; the final odd LogUp batch last.
//
// Values an AIR gives in M31 (its preprocessed columns) are lifted as SIGNED integers: v <= P/2
// stays v, v > P/2 becomes v - P (the VM AIR's values are small integers, negative immediates
// and i16 values included).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/air/eval.hpp"
#include "ptvm/air/logup.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/f128.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::stark128 {

// M31 value as a signed integer lifted to F128.
inline F128 lift_signed(M31 v) {
  if (v.v <= M31::P / 2) return F128::from_u64(v.v);
  return -F128::from_u64(M31::P - v.v);
}
inline std::vector<F128> lift_column(const std::vector<M31>& c) {
  std::vector<F128> out(c.size());
  for (size_t i = 0; i < c.size(); ++i) out[i] = lift_signed(c[i]);
  return out;
}

struct RelationChallenges128 {
  F128 z, alpha;
  F128 alpha_powers[air::kMaxRelationTupleSize];
  static RelationChallenges128 from(F128 z_, F128 alpha_) {
    RelationChallenges128 c;
    c.z = z_;
    c.alpha = alpha_;
    F128 p = F128::one();
    for (uint32_t i = 0; i < air::kMaxRelationTupleSize; ++i) {
      c.alpha_powers[i] = p;
      p = p * alpha_;
    }
    return c;
  }
  template <size_t K>
  PTVM_HD F128 combine(const F128 (&values)[K]) const {
    static_assert(K >= 1 && K <= air::kMaxRelationTupleSize, "relation tuple too long");
    F128 acc = -z;
    for (size_t i = 0; i < K; ++i) acc += alpha_powers[i] * values[i];
    return acc;
  }
};

// S / 2^log_rows.
inline F128 sum_per_row(F128 claimed_sum, uint32_t log_rows) {
  return claimed_sum * F128::from_u64(uint64_t{1} << log_rows).inverse();
}

// Trace rows (row order): the LogUp batches of one row.
struct RowFractionEval128 {
  using F = F128;
  using EF = F128;
  const F128* const* pre_cols;
  const F128* const* main_cols;
  const RelationChallenges128* challenges;
  size_t row, mask;
  F128* numerators;
  F128* denominators;
  air::FractionPairer<F128> pairer;
  static constexpr bool kEvaluatesConstraints = false;

  size_t at(int offset) const { return (row + static_cast<size_t>(offset)) & mask; }
  F main(uint32_t c, int o) const { return main_cols[c][at(o)]; }
  F preprocessed(uint32_t c, int o) const { return pre_cols[c][at(o)]; }
  template <class X>
  void add_constraint(const X&) {}
  void store(uint32_t b, const F128& n, const F128& d) {
    numerators[b] = n;
    denominators[b] = d;
  }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    pairer.add(multiplicity, challenges[relation].combine(values),
               [&](uint32_t b, const F128& n, const F128& d) { store(b, n, d); });
  }
  void finish() {
    pairer.finish([&](uint32_t b, const F128& n, const F128& d) { store(b, n, d); });
  }
};

// Column values of one position of the evaluation domain (the LDE, bit-reversed storage).
struct DomainView128 {
  const F128* const* pre;
  const F128* const* main;
  const F128* const* interaction;  // one per LogUp batch
};

// Random linear combination of all constraints at one domain position (pos; next_pos is the
// storage position of the next row's point).
struct DomainEval128 {
  using F = F128;
  using EF = F128;
  const DomainView128* view;
  const RelationChallenges128* challenges;
  const F128* coefficients;
  F128 claimed_sum_over_rows;
  uint32_t logup_batches;
  size_t pos, next_pos;
  F128 accumulator;
  uint32_t next_constraint = 0;
  air::LogupBatcher<DomainEval128> logup;

  size_t at(int o) const { return o == 0 ? pos : next_pos; }
  F main(uint32_t c, int o) const { return view->main[c][at(o)]; }
  F preprocessed(uint32_t c, int o) const { return view->pre[c][at(o)]; }
  F128 interaction(uint32_t batch, int o) const { return view->interaction[batch][at(o)]; }
  uint32_t n_logup_batches() const { return logup_batches; }
  F128 claimed_sum_per_row() const { return claimed_sum_over_rows; }
  void add_constraint(const F128& c) { accumulator += coefficients[next_constraint++] * c; }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& m, const F (&values)[K]) {
    logup.add(*this, m, challenges[relation].combine(values));
  }
};

// The same combination at one point from sampled values [column * 2 + offset].
struct PointEval128 {
  using F = F128;
  using EF = F128;
  const F128* pre;
  const F128* main_s;
  const F128* interaction_s;
  const RelationChallenges128* challenges;
  const F128* coefficients;
  F128 claimed_sum_over_rows;
  uint32_t logup_batches;
  F128 accumulator;
  uint32_t next_constraint = 0;
  air::LogupBatcher<PointEval128> logup;

  F main(uint32_t c, int o) const { return main_s[c * 2 + o]; }
  F preprocessed(uint32_t c, int o) const { return pre[c * 2 + o]; }
  F128 interaction(uint32_t batch, int o) const { return interaction_s[batch * 2 + o]; }
  uint32_t n_logup_batches() const { return logup_batches; }
  F128 claimed_sum_per_row() const { return claimed_sum_over_rows; }
  void add_constraint(const F128& c) { accumulator += coefficients[next_constraint++] * c; }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& m, const F (&values)[K]) {
    logup.add(*this, m, challenges[relation].combine(values));
  }
};

struct Shape128 {
  uint32_t n_air_constraints = 0;
  uint32_t n_fractions = 0;
  uint32_t n_batches = 0;
  uint32_t n_boundary = 0;
  std::vector<uint32_t> selector_rows;
  uint32_t n_pre_total = 0;
  uint32_t n_constraints() const { return n_air_constraints + n_boundary + n_batches; }
};

// Type-erased component over F128.
class Component128 {
 public:
  virtual ~Component128() = default;
  const air::ComponentInfo& info() const { return info_; }
  const Shape128& shape() const { return shape_; }
  uint32_t log_rows() const { return info_.log_rows; }
  // The AIR's preprocessed columns (lifted) and the boundary selectors, row order.
  virtual std::vector<std::vector<F128>> preprocessed_columns() const = 0;
  // LogUp batches of one row: numerators/denominators[j], j < n_batches.
  virtual void row_batches(const F128* const* pre, const F128* const* main,
                           const RelationChallenges128* challenges, size_t row, F128* num, F128* den) const = 0;
  virtual F128 eval_domain(const DomainView128& view, size_t pos, size_t next_pos, std::span<const F128> pub,
                           const RelationChallenges128* challenges, const F128* coefficients,
                           F128 sum_per_row) const = 0;
  virtual F128 eval_point(const F128* pre, const F128* main, const F128* interaction, std::span<const F128> pub,
                          const RelationChallenges128* challenges, const F128* coefficients,
                          F128 sum_per_row) const = 0;

 protected:
  air::ComponentInfo info_;
  Shape128 shape_;
};

template <class AirT>
class ComponentAdapter128 final : public Component128 {
 public:
  explicit ComponentAdapter128(AirT a) : air_(std::move(a)) {
    info_ = air_.info();
    air::CountingEval counter;
    air_.evaluate(counter);
    if (counter.bad_offset || counter.max_main_column_plus_one > info_.n_main_columns ||
        counter.max_preprocessed_column_plus_one > info_.n_preprocessed_columns)
      throw Error(ErrorCategory::Usage, "component '" + info_.name + "': evaluate() reads undeclared columns or offsets");
    shape_.n_air_constraints = counter.n_constraints;
    shape_.n_fractions = counter.n_fractions;
    shape_.n_batches = (counter.n_fractions + 1) / 2;
    for (const auto& b : info_.boundary_constraints) shape_.selector_rows.push_back(b.row);
    std::sort(shape_.selector_rows.begin(), shape_.selector_rows.end());
    shape_.selector_rows.erase(std::unique(shape_.selector_rows.begin(), shape_.selector_rows.end()),
                               shape_.selector_rows.end());
    shape_.n_boundary = static_cast<uint32_t>(info_.boundary_constraints.size());
    shape_.n_pre_total = info_.n_preprocessed_columns + static_cast<uint32_t>(shape_.selector_rows.size());
    if (info_.max_constraint_degree > 3)
      throw Error(ErrorCategory::Usage, "component '" + info_.name + "': the F128 STARK takes degree <= 3");
  }

  std::vector<std::vector<F128>> preprocessed_columns() const override {
    std::vector<std::vector<F128>> cols;
    if constexpr (air::HasPreprocessedColumns<AirT>) {
      for (const auto& c : air_.preprocessed_columns()) cols.push_back(lift_column(c));
    }
    const size_t n = size_t{1} << info_.log_rows;
    for (uint32_t row : shape_.selector_rows) {
      std::vector<F128> sel(n, F128::zero());
      sel[row] = F128::one();
      cols.push_back(std::move(sel));
    }
    if (cols.size() != shape_.n_pre_total)
      throw Error(ErrorCategory::Internal, "component '" + info_.name + "': wrong number of preprocessed columns");
    return cols;
  }

  void row_batches(const F128* const* pre, const F128* const* main, const RelationChallenges128* challenges,
                   size_t row, F128* num, F128* den) const override {
    RowFractionEval128 e{pre, main, challenges, row, (size_t{1} << info_.log_rows) - 1, num, den, {}};
    air_.evaluate(e);
    e.finish();
  }

  F128 eval_domain(const DomainView128& view, size_t pos, size_t next_pos, std::span<const F128> pub,
                   const RelationChallenges128* challenges, const F128* coefficients,
                   F128 spr) const override {
    DomainEval128 e{&view, challenges, coefficients, spr, shape_.n_batches, pos, next_pos, F128::zero(), 0, {}};
    air_.evaluate(e);
    finish(e, pub);
    return e.accumulator;
  }

  F128 eval_point(const F128* pre, const F128* main, const F128* interaction, std::span<const F128> pub,
                  const RelationChallenges128* challenges, const F128* coefficients,
                  F128 spr) const override {
    PointEval128 e{pre, main, interaction, challenges, coefficients, spr, shape_.n_batches, F128::zero(), 0, {}};
    air_.evaluate(e);
    finish(e, pub);
    return e.accumulator;
  }

  const AirT& air() const { return air_; }

 private:
  template <class E>
  void finish(E& e, std::span<const F128> pub) const {
    for (const auto& b : info_.boundary_constraints) {
      const size_t sel = std::lower_bound(shape_.selector_rows.begin(), shape_.selector_rows.end(), b.row) -
                         shape_.selector_rows.begin();
      const F128 selector = e.preprocessed(info_.n_preprocessed_columns + static_cast<uint32_t>(sel), 0);
      e.add_constraint(selector * (e.main(b.main_column, 0) - pub[b.public_input]));
    }
    e.logup.finalize(e);
  }
  AirT air_;
};

template <class AirT>
std::shared_ptr<const Component128> make_component128(AirT a) {
  return std::make_shared<ComponentAdapter128<AirT>>(std::move(a));
}

// Everything one F128 proof is about.
struct Air128 {
  std::vector<std::shared_ptr<const Component128>> components;
  std::vector<uint32_t> relation_tuple_sizes;
  uint32_t n_public_inputs = 0;
};

}  // namespace ptvm::stark128
