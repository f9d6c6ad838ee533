// Element-wise M31 / QM31 column operations on device columns (kernels/field/column_ops.cu).
//
// Columns are in whatever order the caller keeps them (the operations are element-wise, so order is
// preserved). A QM31 column is an array of QM31 (16 bytes each, coordinates a, b, c, d). Outputs may
// alias inputs. Every launcher is asynchronous on `stream` and checks its launch.
//
// A batch is n_columns columns of column_length elements in one allocation; element i of column c
// lives at c * column_stride + i (column_stride >= column_length).
#pragma once
#include <cstddef>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/merkle.hpp"

PTVM_GPU_NAMESPACE_BEGIN

enum class ColumnOp { Add, Sub, Mul };

// out[i] = a[i] op b[i], i < n.
void m31_columns_apply(ColumnOp op, gptr<const M31> a, gptr<const M31> b, gptr<M31> out, size_t n,
                       stream_t stream);
void qm31_columns_apply(ColumnOp op, gptr<const QM31> a, gptr<const QM31> b, gptr<QM31> out,
                        size_t n, stream_t stream);
// out[i] = a[i] * scalar.
void m31_column_scale(gptr<const M31> a, M31 scalar, gptr<M31> out, size_t n, stream_t stream);
void qm31_column_scale(gptr<const QM31> a, QM31 scalar, gptr<QM31> out, size_t n, stream_t stream);
// out[i] = a[i] * b[i] with a QM31 column and an M31 column.
void qm31_column_mul_m31(gptr<const QM31> a, gptr<const M31> b, gptr<QM31> out, size_t n,
                         stream_t stream);

// Batch: out_c[i] = a_c[i] op b_c[i] for every column c of three batches with the same layout.
void m31_batch_apply(ColumnOp op, gptr<const M31> a, gptr<const M31> b, gptr<M31> out,
                     size_t n_columns, size_t column_length, size_t column_stride, stream_t stream);
// Random linear combination of a batch: acc[i] += sum_c coefficients[c] * column_c[i].
void qm31_accumulate_m31_batch(gptr<QM31> acc, gptr<const M31> columns, gptr<const QM31> coefficients,
                               size_t n_columns, size_t column_length, size_t column_stride,
                               stream_t stream);

// dst += src for n_pairs pairs of columns of n elements in one launch (gridDim.y = pairs, split at
// kMaxGridY).
struct ColumnPair {
  M31* dst;
  const M31* src;
};
void m31_add_many(gptr<const ColumnPair> pairs, uint32_t n_pairs, size_t n, stream_t stream);

// A 2-D strided copy of M31 values: dst[r * dst_row + c * dst_col] = src[r * src_row + c * src_col]
// for r < rows, c < cols (the transposes of the four-step FFT across ranks: packing a column's
// values for each rank into one send buffer and unpacking what arrived). Copies must not overlap.
struct StridedCopy {
  const M31* src;
  M31* dst;
  uint64_t rows, cols;
  uint64_t src_row, src_col, dst_row, dst_col;
};
// n_copies copies of at most max_values = rows * cols values each, in one launch (gridDim.y =
// copies, split at kMaxGridY).
void m31_strided_copy_many(gptr<const StridedCopy> copies, uint32_t n_copies, size_t max_values, stream_t stream);

// A gather of many columns by one table of places (the exchanges of the sharded device backend:
// packing each rank's values, column by column, for a variable-size all-to-all and unpacking what
// arrived): for i < n, with s = src_places[i], d = dst_places[i], every column c < n_columns: dst_c[d.at + c * d.column_stride] = src_c[s.at + c * s.column_stride]
// (columns[c] = {dst_c, src_c}). One thread moves element i of every column, so the places are
// read once per element.
struct GatherPlace {
  uint64_t at, column_stride;
};
void m31_placed_gather(gptr<const ColumnPair> columns, uint32_t n_columns, gptr<const GatherPlace> src_places,
                       gptr<const GatherPlace> dst_places, size_t n, stream_t stream);

PTVM_GPU_NAMESPACE_END
