// Proof of work (the channel's grinding, on the library thread pool).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

uint64_t CpuBackend::grind(const hash::Blake2sChannel& channel, uint32_t pow_bits) {
  return channel.grind(pow_bits, configured_thread_count());
}

}  // namespace ptvm::backend_cpu
