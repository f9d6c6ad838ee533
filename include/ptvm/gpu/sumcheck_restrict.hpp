// An M31 matrix restricted by QM31 weights on the device (kernels/sumcheck/restrict.cu), fused
// with the matrix read: the restricted vector comes straight from the M31 matrix and the weight
// (eq) table, no weighted copy of the matrix is made. Row-major rows x cols matrix M:
//   restrict_rows:    out[k] = sum_i weights[i] M[i][k]   (weights: rows, out: cols)
//   restrict_columns: out[k] = sum_j M[k][j] weights[j]   (weights: cols, out: rows)
// Sums are lazy u64 (lazy_dot.hpp), exact, so the bytes match the CPU backend. rows and cols are
// powers of two up to 2^32.
#pragma once
#include <cstddef>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// Row chunks of one column each thread (coalesced along a row), then a short pass summing the
// chunks' partial vectors (chunks * cols QM31 of scratch, allocated here). max_chunks caps the
// chunks (tests use 1: one chunk runs through every weight tile).
void sumcheck_restrict_rows(gptr<const M31> matrix, size_t rows, size_t cols, gptr<const QM31> weights,
                            gptr<QM31> out, stream_t stream, size_t max_chunks = 65535);
// Groups of min(cols, 32) threads per row, striding along the row, summed in shared memory.
void sumcheck_restrict_columns(gptr<const M31> matrix, size_t rows, size_t cols, gptr<const QM31> weights,
                               gptr<QM31> out, stream_t stream);

PTVM_GPU_NAMESPACE_END
