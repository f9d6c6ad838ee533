// cub::DeviceReduce::Reduce over QM31 with field addition (one CUB instantiation per file).
#include "cub_common.cuh"

PTVM_GPU_NAMESPACE_BEGIN

void reduce_add(gptr<const QM31> in, gptr<QM31> result, size_t n, stream_t stream) {
  stream = resolve_stream(stream);
  cub_detail::run_with_temp_storage(
      [&](void* temp, size_t& bytes) {
        return cub::DeviceReduce::Reduce(temp, bytes, in.get(), result.get(), n,
                                         cub_detail::FieldAdd{}, QM31::zero(), stream);
      },
      stream);
}

PTVM_GPU_NAMESPACE_END
