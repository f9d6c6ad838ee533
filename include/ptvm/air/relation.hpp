// LogUp relations shared by the components of one proof (PROTOCOL.md §12).
//
// A relation is a multiset of tuples (v_0, ..., v_{s-1}) of base-field values. Each tuple maps to
// the QM31 denominator  d = sum_i alpha^i * v_i - z  with the relation's own challenges (z, alpha)
// drawn from the channel after the main trace is committed. A component adds fractions
// multiplicity / d; positive multiplicity means "use", negative means "yield". The sum of all
// fractions of all components (plus the AIR's public terms) must be zero.
#pragma once
#include <cstdint>
#include <string>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::air {

inline constexpr uint32_t kMaxRelationTupleSize = 16;

struct RelationInfo {
  std::string name;
  uint32_t tuple_size = 1;  // 1..kMaxRelationTupleSize
};

// The challenges of one relation, drawn as [z, alpha] = channel.draw_felts(2).
struct RelationChallenges {
  QM31 z;
  QM31 alpha;
  QM31 alpha_powers[kMaxRelationTupleSize];  // alpha^0 .. alpha^(s-1)

  static RelationChallenges from(QM31 z_, QM31 alpha_) {
    RelationChallenges c;
    c.z = z_;
    c.alpha = alpha_;
    QM31 p = QM31::one();
    for (uint32_t i = 0; i < kMaxRelationTupleSize; ++i) {
      c.alpha_powers[i] = p;
      p = p * alpha_;
    }
    return c;
  }

  // d = sum_i alpha^i * v_i - z, for base values (M31) or extension values (QM31).
  template <class F, size_t K>
  PTVM_HD QM31 combine(const F (&values)[K]) const {
    static_assert(K >= 1 && K <= kMaxRelationTupleSize, "relation tuple too long");
    QM31 acc = -z;
    for (size_t i = 0; i < K; ++i) acc += alpha_powers[i] * values[i];
    return acc;
  }
};

}  // namespace ptvm::air
