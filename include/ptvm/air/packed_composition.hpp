// The CPU's packed constraint evaluation (host only) and make_component, which builds the
// type-erased Component of an AIR with it. Included by ptvm/air/component.hpp in host code.
#pragma once
#if defined(__CUDACC__)
#error "ptvm/air/packed_composition.hpp is host code: nvcc translation units use the device evaluators"
#endif
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>
#include <span>

#include "ptvm/air/component.hpp"
#include "ptvm/air/packed.hpp"

namespace ptvm::air {

// composition_on_domain on 16 consecutive storage positions at a time, for every component
// (LogUp batches included): the AIR's evaluate() with F = PackedM31, EF = PackedQM31. The lanes
// share one 1/V value when log_rows >= 4 and read their own otherwise.
template <class AirT>
size_t packed_composition(const ComponentAdapter<AirT>& component, const DomainColumns& columns,
                          std::span<const M31> public_inputs, std::span<const RelationChallenges> challenges,
                          std::span<const QM31> coefficients, QM31 sum_per_row, std::span<const M31> inv_vanishing,
                          size_t begin, size_t end, M31* const out[4]) {
  const uint32_t log_rows = component.log_rows();
  size_t pos = begin;
  for (; pos + PackedM31::kLanes <= end; pos += PackedM31::kLanes) {
    PackedDomainEval e{columns.preprocessed.data(),
                       columns.main.data(),
                       columns.interaction.data(),
                       challenges.data(),
                       coefficients.data(),
                       sum_per_row,
                       component.shape().n_logup_batches,
                       columns.next_position,
                       pos,
                       PackedQM31{},
                       0,
                       {}};
    component.air().evaluate(e);
    component.add_boundary_and_logup(e, public_inputs);
    PackedM31 w;
    for (size_t i = 0; i < PackedM31::kLanes; ++i) w.v[i] = inv_vanishing[(pos + i) >> log_rows].v;
    for (int k = 0; k < 4; ++k) (e.accumulator.c[k] * w).store(out[k] + pos);
  }
  return pos;
}

// interaction_rows on blocks of 16 rows: the batches of every block (PackedTraceEval), their
// denominators inverted together over the whole range (Montgomery's trick with 16 independent
// lanes, one scalar inversion per lane), the values written to the columns with vector stores.
template <class AirT>
size_t packed_interaction(const ComponentAdapter<AirT>& component, std::span<const M31* const> preprocessed,
                          std::span<const M31* const> main, std::span<const RelationChallenges> challenges,
                          size_t row_begin, size_t row_end, M31* const* batch_columns, QM31* row_totals,
                          size_t* zero_row) {
  constexpr size_t kLanes = PackedM31::kLanes;
  const size_t nb = component.shape().n_logup_batches;
  const size_t n_blocks = (row_end - row_begin) / kLanes;
  if (n_blocks == 0 || nb == 0) return row_begin;
  const size_t n_rows = size_t{1} << component.log_rows();
  std::vector<PackedQM31> num(n_blocks * nb), den(n_blocks * nb), prefix(n_blocks * nb);
  for (size_t blk = 0; blk < n_blocks; ++blk) {
    PackedTraceEval e{preprocessed.data(), main.data(), challenges.data(), n_rows, row_begin + blk * kLanes,
                      num.data() + blk * nb, den.data() + blk * nb, {}};
    component.air().evaluate(e);
    e.finish();
  }
  // Zero denominators: the smallest such row.
  for (size_t i = 0; i < den.size(); ++i)
    for (size_t l = 0; l < kLanes; ++l)
      if (den[i].lane(l).is_zero()) *zero_row = std::min(*zero_row, row_begin + (i / nb) * kLanes + l);
  if (*zero_row != SIZE_MAX) return row_end;
  PackedQM31 acc(QM31::one());
  for (size_t i = 0; i < den.size(); ++i) {
    prefix[i] = acc;
    acc = acc * den[i];
  }
  PackedQM31 inv;
  for (size_t l = 0; l < kLanes; ++l) {
    const QM31 x = acc.lane(l).inverse();
    for (int k = 0; k < 4; ++k) inv.c[k].v[l] = x.coord(k).v;
  }
  for (size_t i = den.size(); i-- > 0;) {
    const PackedQM31 d = den[i];
    den[i] = prefix[i] * inv;  // now 1 / den[i]
    inv = inv * d;
  }
  for (size_t blk = 0; blk < n_blocks; ++blk) {
    const size_t row = row_begin + blk * kLanes;
    PackedQM31 total;
    for (size_t j = 0; j < nb; ++j) {
      const PackedQM31 v = num[blk * nb + j] * den[blk * nb + j];
      if (j + 1 < nb)
        for (int k = 0; k < 4; ++k) v.c[k].store(batch_columns[4 * j + k] + row);
      total += v;
    }
    for (size_t l = 0; l < kLanes; ++l) row_totals[row - row_begin + l] = total.lane(l);
  }
  return row_begin + n_blocks * kLanes;
}

template <class AirT>
std::shared_ptr<const Component> make_component(AirT air) {
  return std::make_shared<ComponentAdapter<AirT>>(std::move(air), &packed_composition<AirT>,
                                                  &packed_interaction<AirT>);
}

}  // namespace ptvm::air
