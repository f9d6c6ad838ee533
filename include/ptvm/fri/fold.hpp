// The FRI pair folds as PTVM_HD formulas, for the specs, the CPU backends and kernels alike.
// The circle STARK's unnormalized folds (circle by y, line by x) are stark::fold_circle_pair and
// stark::fold_line_pair (ptvm/stark/fri_math.hpp); the multiplicative coset's halved fold is here.
#pragma once
#include "ptvm/common/hd.hpp"
#include "ptvm/field/f128.hpp"

namespace ptvm::fri {

// f(x), f(-x) -> (f(x) + f(-x)) / 2 + alpha (f(x) - f(-x)) / (2x); half = 1/2, x_inverse = 1/x.
PTVM_HD inline F128 fold_coset_pair(const F128& f_x, const F128& f_neg_x, const F128& x_inverse,
                                    const F128& alpha, const F128& half) {
  return (f_x + f_neg_x) * half + alpha * (f_x - f_neg_x) * half * x_inverse;
}

}  // namespace ptvm::fri
