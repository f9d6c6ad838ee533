// Element-wise M31 / QM31 column operations (declared in ptvm/gpu/column_ops.hpp).
// Grid-stride loops, one element per thread per step: every warp request covers 32 consecutive
// elements, so M31 requests touch 4 sectors and QM31 requests 16, all bytes used.
#include "ptvm/gpu/column_ops.hpp"

#include <string>

#include "../common/field_access.cuh"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

template <class F>
__device__ PTVM_FORCEINLINE F apply_op(gpu::ColumnOp op, F x, F y) {
  switch (op) {
    case gpu::ColumnOp::Add: return x + y;
    case gpu::ColumnOp::Sub: return x - y;
    default: return x * y;
  }
}

__global__ void m31_columns_kernel(gpu::ColumnOp op, gptr<const M31> a, gptr<const M31> b,
                                   gptr<M31> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    out.store(i, apply_op(op, a.load(i), b.load(i)));
}

__global__ void qm31_columns_kernel(gpu::ColumnOp op, gptr<const QM31> a, gptr<const QM31> b,
                                    gptr<QM31> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    store_qm31(out, i, apply_op(op, load_qm31(a, i), load_qm31(b, i)));
}

__global__ void m31_scale_kernel(gptr<const M31> a, M31 scalar, gptr<M31> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    out.store(i, a.load(i) * scalar);
}

__global__ void qm31_scale_kernel(gptr<const QM31> a, QM31 scalar, gptr<QM31> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    store_qm31(out, i, load_qm31(a, i) * scalar);
}

__global__ void qm31_mul_m31_kernel(gptr<const QM31> a, gptr<const M31> b, gptr<QM31> out,
                                    size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    store_qm31(out, i, load_qm31(a, i) * b.load(i));
}

// dst_c += src_c for column c = blockIdx.y of the table.
__global__ void m31_add_many_kernel(gptr<const gpu::ColumnPair> pairs, size_t n) {
  const gpu::ColumnPair p = pairs.load(blockIdx.y);
  const gptr<M31> dst(p.dst, n);
  const gptr<const M31> src(p.src, n);
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) dst.store(i, dst.load(i) + src.load(i));
}

// Copy blockIdx.y of the table, value i = r * cols + c.
__global__ void m31_strided_copy_many_kernel(gptr<const gpu::StridedCopy> copies) {
  const gpu::StridedCopy j = copies.load(blockIdx.y);
  const size_t n = j.rows * j.cols;
  if (n == 0) return;
  const gptr<const M31> src(j.src, (j.rows - 1) * j.src_row + (j.cols - 1) * j.src_col + 1);
  const gptr<M31> dst(j.dst, (j.rows - 1) * j.dst_row + (j.cols - 1) * j.dst_col + 1);
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const size_t r = i / j.cols, c = i % j.cols;
    dst.store(r * j.dst_row + c * j.dst_col, src.load(r * j.src_row + c * j.src_col));
  }
}

__global__ void m31_placed_gather_kernel(gptr<const gpu::ColumnPair> columns, uint32_t n_columns,
                                         gptr<const gpu::GatherPlace> src_places, gptr<const gpu::GatherPlace> dst_places,
                                         size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const gpu::GatherPlace s = src_places.load(i), d = dst_places.load(i);
    for (uint32_t c = 0; c < n_columns; ++c) {
      const gpu::ColumnPair pair = columns.load(c);
      gptr<M31>(pair.dst).store(d.at + c * d.column_stride, gptr<const M31>(pair.src).load(s.at + c * s.column_stride));
    }
  }
}

// blockIdx.y strides over columns, x over rows.
__global__ void m31_batch_kernel(gpu::ColumnOp op, gptr<const M31> a, gptr<const M31> b,
                                 gptr<M31> out, size_t n_columns, size_t length, size_t stride) {
  for (size_t c = blockIdx.y; c < n_columns; c += gridDim.y)
    for (size_t i = grid_thread_index(); i < length; i += grid_thread_count()) {
      size_t at = c * stride + i;
      out.store(at, apply_op(op, a.load(at), b.load(at)));
    }
}

__global__ void qm31_accumulate_m31_batch_kernel(gptr<QM31> acc, gptr<const M31> columns,
                                                 gptr<const QM31> coefficients, size_t n_columns,
                                                 size_t length, size_t stride) {
  for (size_t i = grid_thread_index(); i < length; i += grid_thread_count()) {
    QM31 sum = load_qm31(gptr<const QM31>(acc), i);
    for (size_t c = 0; c < n_columns; ++c)
      sum += load_qm31(coefficients, c) * columns.load(c * stride + i);
    store_qm31(acc, i, sum);
  }
}

void require_layout(size_t n_columns, size_t length, size_t stride, const char* who) {
  if (n_columns > 0 && length > stride)
    throw Error(ErrorCategory::Usage, std::string(who) + ": column_length " +
                                          std::to_string(length) + " exceeds column_stride " +
                                          std::to_string(stride));
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void m31_columns_apply(ColumnOp op, gptr<const M31> a, gptr<const M31> b, gptr<M31> out, size_t n,
                       stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(m31_columns_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(op, a, b, out, n);
  PTVM_CHECK_LAUNCH("m31_columns_kernel");
}

void qm31_columns_apply(ColumnOp op, gptr<const QM31> a, gptr<const QM31> b, gptr<QM31> out,
                        size_t n, stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(qm31_columns_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(op, a, b, out, n);
  PTVM_CHECK_LAUNCH("qm31_columns_kernel");
}

void m31_column_scale(gptr<const M31> a, M31 scalar, gptr<M31> out, size_t n, stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(m31_scale_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, scalar, out, n);
  PTVM_CHECK_LAUNCH("m31_scale_kernel");
}

void qm31_column_scale(gptr<const QM31> a, QM31 scalar, gptr<QM31> out, size_t n, stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(qm31_scale_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, scalar, out, n);
  PTVM_CHECK_LAUNCH("qm31_scale_kernel");
}

void qm31_column_mul_m31(gptr<const QM31> a, gptr<const M31> b, gptr<QM31> out, size_t n,
                         stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(qm31_mul_m31_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(a, b, out, n);
  PTVM_CHECK_LAUNCH("qm31_mul_m31_kernel");
}

void m31_batch_apply(ColumnOp op, gptr<const M31> a, gptr<const M31> b, gptr<M31> out,
                     size_t n_columns, size_t column_length, size_t column_stride, stream_t stream) {
  require_layout(n_columns, column_length, column_stride, "m31_batch_apply");
  if (n_columns == 0 || column_length == 0) return;
  dim3 grid(grid_stride_blocks(column_length, kThreads, 64),
            static_cast<unsigned>(n_columns < 65535 ? n_columns : 65535));
  PTVM_LAUNCH(m31_batch_kernel, grid, kThreads, 0, stream)(op, a, b, out, n_columns, column_length, column_stride);
  PTVM_CHECK_LAUNCH("m31_batch_kernel");
}

void qm31_accumulate_m31_batch(gptr<QM31> acc, gptr<const M31> columns, gptr<const QM31> coefficients,
                               size_t n_columns, size_t column_length, size_t column_stride,
                               stream_t stream) {
  require_layout(n_columns, column_length, column_stride, "qm31_accumulate_m31_batch");
  if (n_columns == 0 || column_length == 0) return;
  PTVM_LAUNCH(qm31_accumulate_m31_batch_kernel, grid_stride_blocks(column_length, kThreads), kThreads, 0, stream)(
      acc, columns, coefficients, n_columns, column_length, column_stride);
  PTVM_CHECK_LAUNCH("qm31_accumulate_m31_batch_kernel");
}

void m31_add_many(gptr<const ColumnPair> pairs, uint32_t n_pairs, size_t n, stream_t stream) {
  for (uint32_t first = 0; first < n_pairs; first += kMaxGridY) {
    const uint32_t count = n_pairs - first < kMaxGridY ? n_pairs - first : kMaxGridY;
    PTVM_LAUNCH(m31_add_many_kernel, dim3(grid_stride_blocks(n, kThreads, 132 * 16 / count + 1), count), kThreads, 0,
                stream)(pairs.offset(first), n);
    PTVM_CHECK_LAUNCH("m31_add_many_kernel");
  }
}

void m31_strided_copy_many(gptr<const StridedCopy> copies, uint32_t n_copies, size_t max_values, stream_t stream) {
  for (uint32_t first = 0; first < n_copies; first += kMaxGridY) {
    const uint32_t count = n_copies - first < kMaxGridY ? n_copies - first : kMaxGridY;
    PTVM_LAUNCH(m31_strided_copy_many_kernel, dim3(grid_stride_blocks(max_values, kThreads, 132 * 16 / count + 1), count),
                kThreads, 0, stream)(copies.offset(first));
    PTVM_CHECK_LAUNCH("m31_strided_copy_many_kernel");
  }
}

void m31_placed_gather(gptr<const ColumnPair> columns, uint32_t n_columns, gptr<const GatherPlace> src_places,
                       gptr<const GatherPlace> dst_places, size_t n, stream_t stream) {
  if (n == 0 || n_columns == 0) return;
  PTVM_LAUNCH(m31_placed_gather_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      columns, n_columns, src_places, dst_places, n);
  PTVM_CHECK_LAUNCH("m31_placed_gather_kernel");
}

PTVM_GPU_NAMESPACE_END
