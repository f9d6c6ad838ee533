// cub::DeviceScan::InclusiveScan over M31 with field addition (one CUB instantiation per file).
#include "cub_common.cuh"

PTVM_GPU_NAMESPACE_BEGIN

void inclusive_scan_add(gptr<const M31> in, gptr<M31> out, size_t n, stream_t stream) {
  if (n == 0) return;
  stream = resolve_stream(stream);
  cub_detail::run_with_temp_storage(
      [&](void* temp, size_t& bytes) {
        return cub::DeviceScan::InclusiveScan(temp, bytes, in.get(), out.get(), cub_detail::FieldAdd{},
                                              n, stream);
      },
      stream);
}

PTVM_GPU_NAMESPACE_END
