// Data movement of the sharded device backend (ptvm/gpu/sharded_device_backend.hpp), on the device
// (kernels/shard/shard_exchange.cu):
//   - the four-step FFT's transposes between a column's interleaved local layout and the per-rank
//     planar runs of the all-to-all, tiled through shared memory so that both sides move whole
//     32-byte sectors (a plain strided copy touches a sector per value on its strided side);
//   - the place tables of the exchanges (m31_placed_gather's src / dst places), computed on the
//     device from the permutation and (rank, size, log sizes) instead of on the host and uploaded.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ptvm/circle/domain.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// A permutation of the global positions of a column split by blocks over the ranks, as the map
// from a global index to the global index its value comes from (the exchange's `source`):
//   PositionOfRow: j -> the storage position of row j of CanonicCoset(log_size) (bit-reversed
//                  circle-domain order; the LogUp exchange to row ranges);
//   RowOfPosition: its inverse (back to storage blocks);
//   RowOffset:     p -> the position of "row + offset" of the trace domain 2^log_rows evaluated on
//                  the domain 2^log_size (circle::offset_bit_reversed_circle_domain_index; the
//                  composition's next rows).
struct ShardPermutation {
  enum Kind : uint32_t { PositionOfRow = 0, RowOfPosition = 1, RowOffset = 2 };
  uint32_t kind = PositionOfRow;
  uint32_t log_rows = 0, log_size = 0;
  int32_t offset = 0;
  PTVM_HD constexpr size_t operator()(size_t q) const {
    switch (kind) {
      case PositionOfRow:
        return circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(q, log_size), log_size);
      case RowOfPosition:
        return circle::circle_domain_index_to_coset_index(circle::bit_reverse_index(q, log_size), log_size);
      default:
        return circle::offset_bit_reversed_circle_domain_index(q, log_rows, log_size, offset);
    }
  }
};

// circle_fft_layers (ptvm/gpu/circle_fft.hpp) on n_blocks blocks of the same range at once (one
// launch per pass; blockIdx.y = block, split at kMaxGridY): the local layers of the four-step
// transform for all columns of one size. Only the FftColumnIo entries' dst is used (in place).
// Defined with the circle FFT (kernels/fft/circle_fft.cu).
void circle_fft_layers_many(gptr<const FftColumnIo> blocks, uint32_t n_blocks, const FftLayerRange& range, bool inverse,
                            const DeviceTwiddles& twiddles, stream_t stream, const CircleFftTiling& tiling = {});

// One column of a four-step transpose: its 2^(log_ranks) * part local values `interleaved`, seen
// as [k][t] (value k * S + t, S = 2^log_ranks), and its S planar runs planar[t * planar_row + k]
// (k < part) in the all-to-all buffer.
struct ShardTransposeJob {
  M31* interleaved;
  M31* planar;
  uint64_t part;
};
// planar[t * planar_row + k] = interleaved[k * S + t] for every job (one launch; gridDim.y = jobs,
// split at kMaxGridY). max_values: the largest job's S * part.
void shard_interleaved_to_planar(gptr<const ShardTransposeJob> jobs, uint32_t n_jobs, uint32_t log_ranks,
                                 uint64_t planar_row, size_t max_values, stream_t stream);
// interleaved[k * S + t] = planar[t * planar_row + k].
void shard_planar_to_interleaved(gptr<const ShardTransposeJob> jobs, uint32_t n_jobs, uint32_t log_ranks,
                                 uint64_t planar_row, size_t max_values, stream_t stream);

// The exchange place tables, one (target block, owner) pair at a time. For the 2^block_log global
// indices target_first + k of one rank's block, the ones whose source lies in rank `owner`'s block
// (source(target_first + k) >> block_log == owner) are given slots 0, 1, ... in order of k:
// shard_exchange_scan writes into `scan` (2^block_log values) the inclusive prefix count of them
// (so scan[2^block_log - 1] is their count: the caller reads the counts of all its pairs in one
// copy), and shard_exchange_places writes their places from it:
//   ByTarget (unpack; target = this rank):  src_places[k] = {base + slot, count}, dst_places[k] = {k, 0};
//   BySlot (pack; owner = this rank):       src_places[entry_at + slot] = {source(target_first + k) - owner_first, 0},
//                                           dst_places[entry_at + slot] = {base + slot, count}
// (count: the block's values per column, its column stride in the send / receive buffer;
// owner_first = owner << block_log).
enum class PlaceOrder : uint32_t { ByTarget = 0, BySlot = 1 };
struct ExchangePlaceArgs {
  ShardPermutation source;
  uint32_t block_log = 0;
  uint64_t target_first = 0;
  uint32_t owner = 0;
  PlaceOrder order = PlaceOrder::ByTarget;
  uint64_t entry_at = 0, base = 0;
};
void shard_exchange_scan(const ExchangePlaceArgs& args, gptr<M31> scan, stream_t stream);
void shard_exchange_places(const ExchangePlaceArgs& args, uint64_t count, gptr<const M31> scan,
                           gptr<GatherPlace> src_places, gptr<GatherPlace> dst_places, stream_t stream);

PTVM_GPU_NAMESPACE_END
