// The CPU's packed constraint evaluation (host only) and make_component, which builds the
// type-erased Component of an AIR with it. Included by ptvm/air/component.hpp in host code.
#pragma once
#if defined(__CUDACC__)
#error "ptvm/air/packed_composition.hpp is host code: nvcc translation units use the device evaluators"
#endif
#include <memory>
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

template <class AirT>
std::shared_ptr<const Component> make_component(AirT air) {
  return std::make_shared<ComponentAdapter<AirT>>(std::move(air), &packed_composition<AirT>);
}

}  // namespace ptvm::air
