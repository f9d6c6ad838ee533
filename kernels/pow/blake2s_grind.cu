// Proof-of-work search (declared in ptvm/gpu/pow.hpp): each thread tests nonces of a window with
// the shared PTVM_HD pow_nonce_is_valid and keeps the smallest valid one with one atomicMin; the
// host scans windows in increasing order, so the first window with a hit holds the answer.
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/gpu/merkle.hpp"
#include "ptvm/gpu/pow.hpp"
#include "ptvm/gpu/runtime.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/pow.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kGrindThreads = 256;

struct PowPrefix {
  uint32_t words[8];
};

__global__ void blake2s_grind_kernel(PowPrefix prefixed, uint32_t pow_bits, uint64_t first,
                                     uint64_t count, gptr<uint64_t> best) {
  uint64_t found = ~uint64_t{0};
  for (uint64_t i = grid_thread_index(); i < count; i += grid_thread_count()) {
    if (hash::pow_nonce_is_valid(prefixed.words, first + i, pow_bits)) {
      found = first + i;  // increasing within a thread: the first hit is the thread's smallest
      break;
    }
  }
  if (found != ~uint64_t{0}) gpu::atomic_min_u64(best, 0, found);
}

// One window for many digests: job blockIdx.y, its prefixed digest and best nonce.
__global__ void blake2s_grind_many_kernel(gptr<const PowPrefix> prefixed, uint32_t pow_bits, uint64_t first,
                                          uint64_t count, gptr<uint64_t> best) {
  const PowPrefix p = prefixed.load(blockIdx.y);
  uint64_t found = ~uint64_t{0};
  for (uint64_t i = grid_thread_index(); i < count; i += grid_thread_count()) {
    if (hash::pow_nonce_is_valid(p.words, first + i, pow_bits)) {
      found = first + i;
      break;
    }
  }
  if (found != ~uint64_t{0}) gpu::atomic_min_u64(best, blockIdx.y, found);
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

namespace {
void check_grind_bits(uint32_t pow_bits, const char* who) {
  if (pow_bits > hash::Blake2sChannel::kMaxGrindBits)
    throw Error(ErrorCategory::Usage, std::string(who) + ": pow_bits " + std::to_string(pow_bits) + " above " +
                                          std::to_string(hash::Blake2sChannel::kMaxGrindBits));
}
// One window [first, first + count): the smallest valid nonce in it, or ~0.
uint64_t grind_one_window(const PowPrefix& prefixed, uint32_t pow_bits, uint64_t first, uint64_t count,
                          DeviceBuffer<uint64_t>& best, stream_t stream) {
  const unsigned blocks = grid_stride_blocks(count, kGrindThreads, 132 * 32);
  best.memset(0xff, stream);
  PTVM_LAUNCH(blake2s_grind_kernel, blocks, kGrindThreads, 0, stream)(prefixed, pow_bits, first, count, best.ptr());
  PTVM_CHECK_LAUNCH("blake2s_grind_kernel");
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("blake2s_grind_kernel", count * hostsim::kBlake2sCompressionOps);
#endif
  uint64_t result = 0;
  best.download(std::span<uint64_t>(&result, 1), stream);
  return result;
}
}  // namespace

uint64_t blake2s_grind(const hash::Blake2sHash& channel_digest, uint32_t pow_bits, stream_t stream,
                       uint64_t nonces_per_launch) {
  check_grind_bits(pow_bits, "blake2s_grind");
  if (nonces_per_launch == 0)
    throw Error(ErrorCategory::Usage, "blake2s_grind: nonces_per_launch must be positive");
  PowPrefix prefixed;
  hash::pow_prefixed_digest(channel_digest.words().data(), pow_bits, prefixed.words);
  DeviceBuffer<uint64_t> best(1);
  for (uint64_t first = 0;; first += nonces_per_launch) {
    const uint64_t result = grind_one_window(prefixed, pow_bits, first, nonces_per_launch, best, stream);
    if (result != ~uint64_t{0}) return result;
    if (first > ~uint64_t{0} - nonces_per_launch)
      throw Error(ErrorCategory::Internal, "blake2s_grind: nonce space exhausted");
  }
}

uint64_t blake2s_grind_window(const hash::Blake2sHash& channel_digest, uint32_t pow_bits, uint64_t first,
                              uint64_t count, stream_t stream) {
  check_grind_bits(pow_bits, "blake2s_grind_window");
  if (count == 0 || first > ~uint64_t{0} - count)
    throw Error(ErrorCategory::Usage, "blake2s_grind_window: empty or overflowing window");
  PowPrefix prefixed;
  hash::pow_prefixed_digest(channel_digest.words().data(), pow_bits, prefixed.words);
  DeviceBuffer<uint64_t> best(1);
  return grind_one_window(prefixed, pow_bits, first, count, best, stream);
}

std::vector<uint64_t> blake2s_grind_many(std::span<const hash::Blake2sHash> digests, uint32_t pow_bits,
                                         stream_t stream, uint64_t nonces_per_launch) {
  if (pow_bits > hash::Blake2sChannel::kMaxGrindBits)
    throw Error(ErrorCategory::Usage, "blake2s_grind_many: pow_bits " + std::to_string(pow_bits) +
                                          " above " + std::to_string(hash::Blake2sChannel::kMaxGrindBits));
  if (nonces_per_launch == 0)
    throw Error(ErrorCategory::Usage, "blake2s_grind_many: nonces_per_launch must be positive");
  std::vector<uint64_t> result(digests.size(), ~uint64_t{0});
  if (digests.empty()) return result;
  if (digests.size() > kMaxGridY) throw Error(ErrorCategory::Usage, "blake2s_grind_many: more than 65535 digests");
  std::vector<PowPrefix> prefixes(digests.size());
  for (size_t j = 0; j < digests.size(); ++j)
    hash::pow_prefixed_digest(digests[j].words().data(), pow_bits, prefixes[j].words);
  DeviceBuffer<PowPrefix> prefix_buffer = DeviceBuffer<PowPrefix>::from_host(prefixes, stream);
  DeviceBuffer<uint64_t> best(digests.size());
  best.memset(0xff, stream);
  const uint32_t count = static_cast<uint32_t>(digests.size());
  const unsigned blocks = grid_stride_blocks(nonces_per_launch, kGrindThreads, 132 * 32 / count + 1);
  // Every window searches all digests (those already found keep their smaller nonce: atomicMin),
  // until every digest has a nonce.
  for (uint64_t first = 0;; first += nonces_per_launch) {
    PTVM_LAUNCH(blake2s_grind_many_kernel, dim3(blocks, count), kGrindThreads, 0, stream)(
        prefix_buffer.cptr(), pow_bits, first, nonces_per_launch, best.ptr());
    PTVM_CHECK_LAUNCH("blake2s_grind_many_kernel");
#if defined(PTVM_HOSTSIM)
    hostsim::declare_kernel_ops("blake2s_grind_many_kernel", nonces_per_launch * count * hostsim::kBlake2sCompressionOps);
#endif
    best.download(std::span<uint64_t>(result), stream);
    bool all = true;
    for (uint64_t r : result) all = all && r != ~uint64_t{0};
    if (all) return result;
    if (first > ~uint64_t{0} - nonces_per_launch)
      throw Error(ErrorCategory::Internal, "blake2s_grind_many: nonce space exhausted");
  }
}

PTVM_GPU_NAMESPACE_END
