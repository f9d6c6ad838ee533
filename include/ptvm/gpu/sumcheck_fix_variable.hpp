// Fixing the first variable of sumcheck tables on the device (kernels/sumcheck/fix_variable.cu):
// for each of n_tables tables of 2^n_vars QM31 entries (table j at tables + j * stride), in place,
//   t[x] = t[x] + r (t[x + half] - t[x]),  x < half = 2^(n_vars - 1)   (mle.hpp's fold_pair).
// In place is race-free: thread x alone reads x and x + half and writes x < half.
// Also the M31 variant, which reads an M31 table and writes the folded QM31 table (first round).
#pragma once
#include <cstddef>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

void sumcheck_fix_first_variable(gptr<QM31> tables, size_t stride, size_t n_tables, unsigned n_vars, QM31 r,
                                 stream_t stream);
// out (table j at out + j * out_stride) from M31 tables at in + j * in_stride.
void sumcheck_fix_first_variable_m31(gptr<const M31> in, size_t in_stride, gptr<QM31> out, size_t out_stride,
                                     size_t n_tables, unsigned n_vars, QM31 r, stream_t stream);

PTVM_GPU_NAMESPACE_END
