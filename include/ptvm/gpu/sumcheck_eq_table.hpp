// eq tables on the device (kernels/sumcheck/eq_table.cu): out[x] = scale * eq(point, x) for
// x < 2^n, n = point's length (eq.hpp's order: point[0] pairs with the top index bit). One pass
// that writes each entry once: entry x is scale times n factors (r_i or 1 - r_i), equal in the
// field to the CPU's doubling construction (exact arithmetic, any order).
#pragma once
#include <cstddef>

#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// point: n QM31 in device memory; out: 2^n entries.
void sumcheck_eq_table(gptr<const QM31> point, unsigned n, QM31 scale, gptr<QM31> out, stream_t stream);

PTVM_GPU_NAMESPACE_END
