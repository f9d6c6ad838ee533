// Proof-of-work grinding on the device (kernels/pow/blake2s_grind.cu): the smallest nonce whose
// PoW hash (PROTOCOL.md §14, ptvm variant; ptvm/hash/pow.hpp) has at least pow_bits trailing
// zeros, i.e. exactly what hash::Blake2sChannel::grind returns for the same digest.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/gpu/config.hpp"
#include "ptvm/hash/blake2s.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// Searches nonces in consecutive windows of nonces_per_launch (one launch each) and returns after
// the first window that holds a valid nonce: its smallest one. pow_bits <= hash::Blake2sChannel::kMaxGrindBits,
// otherwise ptvm::Error (Usage).
uint64_t blake2s_grind(const hash::Blake2sHash& channel_digest, uint32_t pow_bits, stream_t stream,
                       uint64_t nonces_per_launch = uint64_t{1} << 26);

// One window: the smallest valid nonce in [first, first + count), or UINT64_MAX when it holds none
// (one launch, one device -> host copy; the sharded device backend's ranks search interleaved
// windows). An empty or overflowing window is a ptvm::Error (Usage).
uint64_t blake2s_grind_window(const hash::Blake2sHash& channel_digest, uint32_t pow_bits, uint64_t first,
                              uint64_t count, stream_t stream);

// The same for many digests (at most 65535): one launch per window over all of them; result j is
// blake2s_grind(digests[j], ...) (a digest found in an earlier window keeps its nonce: windows
// increase, so the first window with a hit holds the smallest).
std::vector<uint64_t> blake2s_grind_many(std::span<const hash::Blake2sHash> digests, uint32_t pow_bits,
                                         stream_t stream, uint64_t nonces_per_launch = uint64_t{1} << 26);

PTVM_GPU_NAMESPACE_END
