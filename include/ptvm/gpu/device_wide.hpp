// Device-wide prefix sums and reductions over M31 / QM31 columns, in natural order.
// CUDA: CUB (one instantiation per file in cuda/cub/); host-sim: host loops (cuda/hostsim/), whose
// profile entries are modeled as one coalesced read of the input and one write of the output.
#pragma once
#include <cstddef>

#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// out[i] = in[0] + ... + in[i], i < n. out may alias in.
void inclusive_scan_add(gptr<const M31> in, gptr<M31> out, size_t n, stream_t stream);
void inclusive_scan_add(gptr<const QM31> in, gptr<QM31> out, size_t n, stream_t stream);
// result[0] = in[0] + ... + in[n - 1] (zero for n == 0).
void reduce_add(gptr<const M31> in, gptr<M31> result, size_t n, stream_t stream);
void reduce_add(gptr<const QM31> in, gptr<QM31> result, size_t n, stream_t stream);

PTVM_GPU_NAMESPACE_END
