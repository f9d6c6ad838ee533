// One trace across devices: the sharded backend of ptvm/shard/sharded_backend.hpp with every rank's
// shard resident in device memory and its stages run by the project's kernels (issue #12; README
// "One trace across ranks", cuda/README.md "Sharded device backend"). Built into ptvm::cuda (one
// rank per GPU) and ptvm::hostsim (each rank a simulated device).
//
// The protocol is the CPU sharded backend's, shared with it (host/shard/): the same layouts
// (block, cyclic, replicated), the same four-step FFT with one all-to-all per call, the same
// Merkle subtree per rank joined at the top (shard::ShardedTree), OODS partial sums, the same
// gather points; so its proofs are byte-identical to the CPU backend's, the single-device CUDA
// backend's and the CPU sharded backend's.
//
// On the device: the FFT's local layers (circle_fft_layers_many: all columns of a size at once)
// and its transposes (ptvm/gpu/shard_exchange.hpp), the Merkle subtree (DeviceMerkleTree), the constraint evaluation on a
// block with its next rows exchanged (the composition kernels in block mode), the DEEP quotients and
// FRI folds on a block, OODS partial sums (evaluate_columns_at_point). Data moves between ranks
// through the Communicator's device collectives when it has them (NCCL); otherwise (host-sim,
// where device memory is host memory; or CUDA ranks over the thread / MPI communicator) through
// its host collectives. The proof of work runs on the devices (interleaved nonce windows per
// round). The four-step transposes are tiled (shard_interleaved_to_planar and its inverse), the
// exchanges' place tables are computed on the device (shard_exchange_scan / _places), the trace blocks
// are uploaded through pinned staging on the device pipeline's copy stream, and the constraint
// kernels read the next rows where the exchange left them.
#pragma once
#include <cstdint>
#include <memory>

#include "ptvm/backend.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/gpu/config.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// What one rank sent to the others (the communication model of bench/comm/shard_bench).
struct ShardTrafficStats {
  uint64_t all_to_all_calls = 0, all_gather_calls = 0;
  uint64_t device_bytes_sent = 0;  // bytes of device buffers this rank sent to other ranks
  uint64_t host_bytes_sent = 0;    // small host collectives (roots, sums, openings, host stages)
  uint64_t host_stage_calls = 0;   // stages run by the CPU sharded code on this rank's block
};

class ShardedDeviceBackend : public Backend {
 public:
  virtual ShardTrafficStats traffic() const = 0;
  // The registry of AIR device kernels this rank evaluates constraints and fractions with: AIRs
  // register there as with any CUDA backend (the VM's: vmair::register_device_airs(registry)).
  virtual CudaBackend& air_registry() = 0;
};

// Nonces each rank's device searches per proof-of-work round: the single device's window
// (2^(pow_bits+1), at least 2^12, at most 2^26) split over the ranks.
inline uint64_t shard_grind_window(uint32_t pow_bits, int ranks) {
  const uint32_t log_window = pow_bits + 1 < 12 ? 12 : pow_bits + 1 > 26 ? 26 : pow_bits + 1;
  uint32_t log_ranks = 0;
  while ((1 << log_ranks) < ranks) ++log_ranks;
  return uint64_t{1} << (log_window > log_ranks + 8 ? log_window - log_ranks : 8);
}

// The backend of one rank on the calling thread's current device (CUDA: select it first, e.g.
// cudaSetDevice(device)). `comm` must outlive it; comm.size() must be a valid shard count
// (shard::shard_log). Throws ptvm::Error (Device) when no device is visible.
std::unique_ptr<ShardedDeviceBackend> make_sharded_device_backend(comm::Communicator& comm);
// One rank that owns its (in-process, size 1) communicator: the backend's code paths on whole
// domains, for the backend conformance suite.
std::unique_ptr<ShardedDeviceBackend> make_single_rank_sharded_device_backend();

PTVM_GPU_NAMESPACE_END
