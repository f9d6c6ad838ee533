// Coset NTTs over F128 of many columns at once (declared in ptvm/gpu/f128_ntt.hpp): the passes of
// f128_ntt.cu (twist, bit reversal, radix-2 Cooley-Tukey layers with the shared PTVM_HD butterfly)
// with blockIdx.y picking the column, so a batch costs log n + 3 launches, not that per column.
#include <algorithm>
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/f128_ntt.hpp"
#include "ptvm/ntt/ntt.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

using gpu::F128NttColumn;
constexpr unsigned kThreads = 256;

// Column y's input (n_in values), its output (2^log_n), its scratch row.
PTVM_HD PTVM_FORCEINLINE gptr<const F128> input(const F128NttColumn& c) { return gptr<const F128>(c.in, c.n_in); }
PTVM_HD PTVM_FORCEINLINE gptr<F128> output(const F128NttColumn& c, size_t n) { return gptr<F128>(c.out, n); }

// output[i] = src[i] * scale * offset^i: src = the column's input (from_input; 0 at i >= n_in) or
// its scratch row.
__global__ void twist_many_kernel(gptr<const F128NttColumn> cols, gptr<const F128> scratch, size_t n, F128 offset,
                                  F128 scale, bool from_input) {
  const F128NttColumn c = cols.load(blockIdx.y);
  const size_t row = static_cast<size_t>(blockIdx.y) * n;
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const F128 v = from_input ? (i < c.n_in ? input(c).load(i) : F128::zero()) : scratch.load(row + i);
    output(c, n).store(i, v * scale * offset.pow(i));
  }
}

// to_scratch: scratch[bitrev(i)] = output[i]; else output[bitrev(i)] = scratch[i]. from_input
// (with to_scratch): read the column's input (n_in == n) instead of its output.
__global__ void bit_reverse_many_kernel(gptr<const F128NttColumn> cols, gptr<F128> scratch, size_t n, uint32_t log_n,
                                        bool to_scratch, bool from_input) {
  const F128NttColumn c = cols.load(blockIdx.y);
  const size_t row = static_cast<size_t>(blockIdx.y) * n;
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const size_t r = circle::bit_reverse_index(i, log_n);
    if (to_scratch) scratch.store(row + r, from_input ? input(c).load(i) : output(c, n).load(i));
    else output(c, n).store(r, scratch.load(row + i));
  }
}

// One layer over every scratch row (f128_ntt.cu's ct_layer_kernel, row blockIdx.y).
__global__ void ct_layer_many_kernel(gptr<F128> scratch, gptr<const F128> powers, size_t n, size_t half) {
  const size_t stride = n / (2 * half);
  const size_t row = static_cast<size_t>(blockIdx.y) * n;
  for (size_t t = grid_thread_index(); t < n / 2; t += grid_thread_count()) {
    const size_t j = t % half, base = row + (t / half) * 2 * half + j;
    F128 a = scratch.load(base), b = scratch.load(base + half);
    ntt::ct_butterfly(a, b, powers.load(j * stride));
    scratch.store(base, a);
    scratch.store(base + half, b);
  }
}

void declare(const char* kernel, uint64_t muls) {
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops(kernel, muls * hostsim::kF128MulOps);
#else
  (void)kernel;
  (void)muls;
#endif
}

void layers(gptr<F128> scratch, gptr<const F128> powers, size_t n, uint32_t log_n, uint32_t count,
            gpu::stream_t stream) {
  for (size_t half = 1; half < n; half *= 2) {
    PTVM_LAUNCH(ct_layer_many_kernel, dim3(gpu::grid_stride_blocks(n / 2, kThreads, 132 * 16 / count + 1), count),
                kThreads, 0, stream)(scratch, powers, n, half);
    PTVM_CHECK_LAUNCH("ct_layer_many_kernel");
  }
  declare("ct_layer_many_kernel", uint64_t{count} * (n / 2) * log_n);
}

// Batches of at most 65535 columns and 2^24 scratch values.
template <class Body>
void batches(std::span<const F128NttColumn> cols, uint32_t log_n, const char* fn, gpu::stream_t stream, Body&& body) {
  const size_t n = size_t{1} << log_n;
  const size_t per = std::max<size_t>(1, std::min<size_t>(65535, (size_t{1} << 24) / n));
  for (size_t first = 0; first < cols.size(); first += per) {
    const size_t count = std::min(per, cols.size() - first);
    gpu::DeviceBuffer<F128NttColumn> table = gpu::DeviceBuffer<F128NttColumn>::from_host(cols.subspan(first, count), stream);
    gpu::DeviceBuffer<F128> scratch(count * n);
    body(table.cptr(), scratch.ptr(), static_cast<uint32_t>(count));
    gpu::synchronize(stream);  // the table and scratch die here
  }
  (void)fn;
}

void check_many(std::span<const F128NttColumn> cols, uint32_t log_n, const gpu::DeviceNttRoots& roots, bool exact,
                const char* fn) {
  if (log_n > 30 || roots.log_n != log_n)
    throw Error(ErrorCategory::Usage, std::string(fn) + ": transform of log " + std::to_string(log_n) +
                                          " with roots of log " + std::to_string(roots.log_n));
  const uint64_t n = uint64_t{1} << log_n;
  for (size_t i = 0; i < cols.size(); ++i)
    if (cols[i].n_in > n || (exact && cols[i].n_in != n) || !cols[i].out || (cols[i].n_in && !cols[i].in))
      throw Error(ErrorCategory::Usage, std::string(fn) + ": column " + std::to_string(i) + " has " +
                                            std::to_string(cols[i].n_in) + " inputs for a transform of " +
                                            std::to_string(n));
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void f128_coset_evaluate_many(std::span<const F128NttColumn> columns, uint32_t log_n, F128 offset,
                              const DeviceNttRoots& roots, bool bit_reversed_output, stream_t stream) {
  check_many(columns, log_n, roots, false, "f128_coset_evaluate_many");
  const size_t n = size_t{1} << log_n;
  StageScope stage("f128_coset_evaluate_many", 2 * n * columns.size() * sizeof(F128));
  batches(columns, log_n, "f128_coset_evaluate_many", stream,
          [&](gptr<const F128NttColumn> table, gptr<F128> scratch, uint32_t count) {
            const unsigned blocks = grid_stride_blocks(n, kThreads, 132 * 16 / count + 1);
            // twist into the output, bit-reverse it into the scratch rows, the layers there.
            PTVM_LAUNCH(twist_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, offset,
                                                                                   F128::one(), true);
            PTVM_CHECK_LAUNCH("twist_many_kernel");
            declare("twist_many_kernel", uint64_t{count} * n * (2 * uint64_t{log_n} + 2));
            PTVM_LAUNCH(bit_reverse_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, log_n,
                                                                                         true, false);
            PTVM_CHECK_LAUNCH("bit_reverse_many_kernel");
            layers(scratch, roots.powers.cptr(), n, log_n, count, stream);
            // scratch rows: the values in natural order; to the output bit-reversed, or as they are
            // (a twist by offset 1, scale 1).
            if (bit_reversed_output) {
              PTVM_LAUNCH(bit_reverse_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, log_n,
                                                                                           false, false);
              PTVM_CHECK_LAUNCH("bit_reverse_many_kernel");
            } else {
              PTVM_LAUNCH(twist_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, F128::one(),
                                                                                     F128::one(), false);
              PTVM_CHECK_LAUNCH("twist_many_kernel");
            }
          });
}

void f128_coset_interpolate_many(std::span<const F128NttColumn> columns, uint32_t log_n, F128 offset,
                                 const DeviceNttRoots& roots, stream_t stream) {
  check_many(columns, log_n, roots, true, "f128_coset_interpolate_many");
  if (offset.is_zero()) throw Error(ErrorCategory::Usage, "f128_coset_interpolate_many: zero coset offset");
  const size_t n = size_t{1} << log_n;
  StageScope stage("f128_coset_interpolate_many", 2 * n * columns.size() * sizeof(F128));
  const F128 n_inv = F128::from_u64(n).inverse(), offset_inv = offset.inverse();
  batches(columns, log_n, "f128_coset_interpolate_many", stream,
          [&](gptr<const F128NttColumn> table, gptr<F128> scratch, uint32_t count) {
            const unsigned blocks = grid_stride_blocks(n, kThreads, 132 * 16 / count + 1);
            PTVM_LAUNCH(bit_reverse_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, log_n,
                                                                                         true, true);
            PTVM_CHECK_LAUNCH("bit_reverse_many_kernel");
            layers(scratch, roots.inverse_powers.cptr(), n, log_n, count, stream);
            // c_i = (1/n) offset^-i * (inverse DFT)_i
            PTVM_LAUNCH(twist_many_kernel, dim3(blocks, count), kThreads, 0, stream)(table, scratch, n, offset_inv,
                                                                                   n_inv, false);
            PTVM_CHECK_LAUNCH("twist_many_kernel");
            declare("twist_many_kernel", uint64_t{count} * n * (2 * uint64_t{log_n} + 2));
          });
}

PTVM_GPU_NAMESPACE_END
