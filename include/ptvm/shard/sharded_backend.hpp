// One trace across ranks: a ptvm::Backend over a row shard of every column (README "One trace
// across ranks", issue #12).
//
// SPMD: every rank runs the unchanged prover core (ptvm/stark/prover.hpp) with its own
// ShardedBackend over the same Communicator; every result the prover reads (Merkle roots, sampled
// values, openings, the last FRI layer, the proof-of-work nonce) is made identical on all ranks by
// collectives, so each rank's Fiat-Shamir transcript is the same and every rank holds the same
// proof (rank 0 writes it). The proof is byte-identical to the single-rank CPU backend's.
//
// Layouts of a column of 2^n values over S = 2^s ranks (rank r), by storage position p:
//   block       evaluations (bit-reversed, as every backend stores them): rank r holds
//               p in [r 2^(n-s), (r+1) 2^(n-s)), in order;
//   cyclic      coefficients: rank r holds p = j S + r at local index j;
//   replicated  every rank holds the whole column (FRI layers once they fit one rank).
// The circle FFT is a four-step transform with one all-to-all per call (all columns together):
// the IFFT runs its low n-s layers on the block, transposes to cyclic, and runs its top s layers
// there; the FFT runs its top layers on the cyclic (zero-padded) coefficients, transposes to
// block and runs its low s layers. Columns need n >= min_sharded_log_size(s).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::shard {

// The largest shard count accepted (2^6 ranks).
inline constexpr int kMaxShards = 64;

// log2 of a valid shard count; ptvm::Error(Usage) naming `what` (e.g. "--shards") when `shards`
// is not a power of two in [1, kMaxShards].
uint32_t shard_log(int shards, const char* what);

// Smallest column log size that S = 2^s ranks can shard: both phases of the four-step FFT need
// n - s >= s, and the circle layer works on blocks of 8 values (n - s >= 3). 0 for s = 0.
inline constexpr uint32_t min_sharded_log_size(uint32_t s) {
  return s == 0 ? 0 : (2 * s > s + 3 ? 2 * s : s + 3);
}

// The four-step circle FFT on the local parts of columns (collective over comm; every rank
// passes the same number of columns and the same log sizes). Orders as ptvm/circle/fft.hpp:
// values bit-reversed on CanonicCoset(n), coefficients in the b_j basis.
//   interpolate: block values of log_sizes[c] -> cyclic coefficients (2^(n-s) per rank each);
//   evaluate:    cyclic coefficients of log_sizes[c] -> block values of log_sizes[c] + extension.
// `tree` must serve the largest domain. One all_to_all per call.
std::vector<std::vector<M31>> interpolate_block_to_cyclic(
    comm::Communicator& comm, const std::vector<std::span<const M31>>& values_block,
    const std::vector<uint32_t>& log_sizes, const circle::TwiddleTree& tree);
std::vector<std::vector<M31>> evaluate_cyclic_to_block(
    comm::Communicator& comm, const std::vector<std::span<const M31>>& coefficients_cyclic,
    const std::vector<uint32_t>& log_sizes, uint32_t extension, const circle::TwiddleTree& tree);

// The backend of one rank. `comm` must outlive it; every rank of comm makes its own and calls it
// in the same order (the prover core does). comm.size() must be a valid shard count.
std::unique_ptr<Backend> make_sharded_backend(comm::Communicator& comm);
// One rank that owns its (in-process, size 1) communicator: the sharded backend's code paths on a
// whole domain, for the backend conformance suite.
std::unique_ptr<Backend> make_single_rank_sharded_backend();

} // namespace ptvm::shard
