// Relabelling a component: the same AIR placed in a larger Air (several statements proven in one
// proof) with its relations and public inputs moved to where the larger Air keeps them.
//
// Relabelled<T> wraps an AIR type T (ptvm/air/component.hpp) and changes three things only:
//   * relation r of T's fractions becomes relation_map[r] of the Air (T's evaluate() is run
//     against a RelabelEval, which forwards every call to the real evaluator but maps the
//     relation index of add_fraction);
//   * boundary constraint k of T reads public input k + public_offset;
//   * the component's name gets a prefix (messages say which statement a component belongs to).
// Columns, constraints, their order and degrees are T's. Two statements whose components use
// different relation indices cannot balance each other's lookups: each relation has its own
// challenges (z, alpha), so the LogUp sum vanishes only if every relation balances on its own
// (PROTOCOL.md §12). Relations that are sound to share (a byte range table) may map to one index.
#pragma once
#include <array>
#include <concepts>
#include <span>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::air {

inline constexpr uint32_t kMaxRelabelledRelations = 8;

// The evaluator T's evaluate() sees: every member forwards to E, add_fraction maps its relation.
template <class E>
struct RelabelEval {
  using F = typename E::F;
  using EF = typename E::EF;
  E& inner;
  const uint32_t* relation_map;

  PTVM_HD PTVM_FORCEINLINE F main(uint32_t column, int offset) { return inner.main(column, offset); }
  PTVM_HD PTVM_FORCEINLINE F preprocessed(uint32_t column, int offset) { return inner.preprocessed(column, offset); }
  template <class X>
  PTVM_HD PTVM_FORCEINLINE void add_constraint(const X& c) {
    inner.add_constraint(c);
  }
  template <class Mult, size_t K>
  PTVM_HD PTVM_FORCEINLINE void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    inner.add_fraction(relation_map[relation], multiplicity, values);
  }
};

// What the device evaluates for T (ptvm/gpu/device_air.cuh's rule, restated here so that this
// header stays host-only): T::DeviceEval when T declares one, else T itself.
template <class T>
struct InnerDeviceEval {
  using type = T;
  static const T& of(const T& air) { return air; }
};
template <class T>
  requires requires(const T& air) {
    typename T::DeviceEval;
    { air.device_eval() } -> std::same_as<typename T::DeviceEval>;
  }
struct InnerDeviceEval<T> {
  using type = typename T::DeviceEval;
  static type of(const T& air) { return air.device_eval(); }
};

template <class T>
struct Relabelled {
  // The device's view: T's device evaluator and the relation map, trivially copyable when T's
  // evaluator is (the name prefix and T's host-only data stay on the host).
  struct DeviceEval {
    typename InnerDeviceEval<T>::type inner;
    uint32_t relation_map[kMaxRelabelledRelations];
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      RelabelEval<E> r{e, relation_map};
      inner.evaluate(r);
    }
  };

  T air;
  std::array<uint32_t, kMaxRelabelledRelations> relation_map{};  // T's relation r -> the Air's
  uint32_t n_mapped_relations = 0;                               // entries of relation_map in use
  uint32_t public_offset = 0;
  std::string name_prefix;

  ComponentInfo info() const {
    ComponentInfo i = air.info();
    i.name = name_prefix + i.name;
    for (auto& b : i.boundary_constraints) b.public_input += public_offset;
    return i;
  }

  std::vector<std::vector<M31>> preprocessed_columns() const
    requires HasPreprocessedColumns<T>
  {
    return air.preprocessed_columns();
  }

  DeviceEval device_eval() const {
    DeviceEval d{InnerDeviceEval<T>::of(air), {}};
    for (uint32_t r = 0; r < kMaxRelabelledRelations; ++r) d.relation_map[r] = relation_map[r];
    return d;
  }

  template <class E>
  PTVM_HD void evaluate(E& e) const {
    RelabelEval<E> r{e, relation_map.data()};
    air.evaluate(r);
  }
};

// Relabelled{air, map, offset, prefix}, checking the map: T must not use a relation outside it.
template <class T>
Relabelled<T> relabel(T air, std::span<const uint32_t> relation_map, uint32_t public_offset, std::string name_prefix) {
  if (relation_map.size() > kMaxRelabelledRelations)
    throw Error(ErrorCategory::Usage, "relabel: at most " + std::to_string(kMaxRelabelledRelations) + " relations");
  CountingEval counter;
  air.evaluate(counter);
  if (counter.max_relation_plus_one > relation_map.size())
    throw Error(ErrorCategory::Usage, "relabel: component '" + air.info().name + "' uses relation " +
                                          std::to_string(counter.max_relation_plus_one - 1) +
                                          ", which the relation map does not cover");
  Relabelled<T> out{std::move(air), {}, static_cast<uint32_t>(relation_map.size()), public_offset, std::move(name_prefix)};
  for (size_t r = 0; r < relation_map.size(); ++r) out.relation_map[r] = relation_map[r];
  return out;
}

}  // namespace ptvm::air
