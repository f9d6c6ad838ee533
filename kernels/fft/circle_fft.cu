// Circle FFT passes over M31 (declared in ptvm/gpu/circle_fft.hpp; algorithm: Circle STARKs paper,
// Haböck-Levit-Papini 2024, Sections 3-4; layout and twiddles: PROTOCOL.md 3.2-3.4).
//
// A pass handles layers [lo, hi) of a transform of 2^n values. Value index g splits into
// high (bits >= hi), row (bits lo..hi-1, the butterfly dimension) and column (bits < lo). A tile is
// one high part, `width` consecutive columns and all 2^(hi-lo) rows, stored row-major in shared
// memory; layer l pairs rows r and r + 2^(l-lo) inside blocks of 2^(l-lo+1) rows, with the line
// twiddle of entry g >> (l + 1) of the layer's slice, i.e. entry (high << (hi-l-1)) + block of
// the slice: a contiguous piece per tile, computed in shared memory (no twiddle reads). The circle
// layer (l = 0, inner pass only) takes its twiddles from line layer 1's piece
// (circle_twiddle_from_line) or, for n <= 2, from arguments.
#include <algorithm>
#include <string>
#include <vector>

#include "../common/field_access.cuh"
#include "ptvm/circle/fft.hpp"
#include "ptvm/gpu/circle_fft.hpp"
#include "ptvm/gpu/shard_exchange.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif
#if !defined(PTVM_HOSTSIM)
#include "ptvm/gpu/cuda_check.hpp"
#endif

namespace ptvm::kernels {
namespace {

struct FftPass {
  uint32_t n = 0;         // log of the transform size
  uint32_t root_log = 0;  // log size of the twiddle tree's root coset
  uint32_t lo = 0, hi = 0;
  uint32_t width_log = 0;  // log of the columns per tile
  bool inverse = false;
  // Block passes (circle_fft_layers): layer 0 is a line layer (line_only), and the tiles cover the
  // block whose first high part is high_base and whose first global index is index_base.
  bool line_only = false;
  size_t high_base = 0, index_base = 0;
  M31 scale = M31::one();           // multiplies every value on store (1/N on the last inverse pass)
  M31 small_circle[2] = {};         // circle-layer twiddles for n <= 2
  // Forward passes compute the lowest line layer's twiddle piece instead of reading it. Entry r
  // of that layer's slice is x(A + S * bitrev(r)) (A, S: initial and step index of the layer's
  // coset); a tile's piece is x(Q + S' * bitrev_m(i)) with Q = A + S * bitrev_{n-hi}(high),
  // S' = S * 2^(n-hi), m = hi - lowest - 1.
  circle::CirclePoint<M31> initial_point;      // A
  circle::CirclePoint<M31> high_powers[29];    // S * 2^b, b < n - hi (<= 31 - 3)
  circle::CirclePoint<M31> step_powers[14];    // S' * 2^j, j < m (<= 13 by check_tiling)
};

// Where layer l's twiddle piece starts in shared memory: pieces of 1, 2, 4, ... entries for
// l = hi-1, hi-2, ..., packed.
__device__ PTVM_FORCEINLINE uint32_t piece_offset(uint32_t hi, uint32_t l) {
  return (1u << (hi - l - 1)) - 1;
}

// The twiddle pieces of tile `high` of pass p in `twiddles` (shared memory), computed from points;
// `scratch` (shared, 2^(hi - lo + width_log) entries) is clobbered. Ends with a barrier.
__device__ PTVM_FORCEINLINE void fft_tile_twiddles(const FftPass& p, size_t high, M31* twiddles, M31* scratch) {
  const uint32_t lowest_line = p.line_only || p.lo > 1 ? p.lo : 1;
  // Twiddles are computed, not read: the lowest line layer's piece from points (FftPass), the
  // higher layers by the doubling map x -> 2x^2 - 1, slice_{l+1}[k] = 2 slice_l[2k]^2 - 1 (layer
  // l+1's coset is layer l's doubled; in bit-reversed order its entry k is the double of entry
  // 2k). The inverse transform then inverts them (itwiddles[i] = twiddles[i]^-1).
  if (lowest_line < p.hi) {
    // Points U[i] = Q + S' * bitrev_m(i), built by adding S' * 2^(m-1-j) to the first 2^j points
    // (bitrev_m(i + 2^j) = bitrev_m(i) + 2^(m-1-j)); y-coordinates wait in the scratch area.
    const uint32_t m = p.hi - lowest_line - 1;
    M31* xs = twiddles + piece_offset(p.hi, lowest_line);
    M31* ys = scratch;
    if (threadIdx.x == 0) {
      circle::CirclePoint<M31> q = p.initial_point;
      const size_t rb = circle::bit_reverse_index(high, p.n - p.hi);
      for (uint32_t b = 0; b < p.n - p.hi; ++b)
        if ((rb >> b) & 1) q = q + p.high_powers[b];
      xs[0] = q.x;
      ys[0] = q.y;
    }
    __syncthreads();
    for (uint32_t j = 0; j < m; ++j) {
      const uint32_t half = 1u << j;
      for (uint32_t i = threadIdx.x; i < half; i += blockDim.x) {
        const circle::CirclePoint<M31> u =
            circle::CirclePoint<M31>{xs[i], ys[i]} + p.step_powers[m - 1 - j];
        xs[half + i] = u.x;
        ys[half + i] = u.y;
      }
      __syncthreads();
    }
    for (uint32_t l = lowest_line + 1; l < p.hi; ++l) {
      const uint32_t count = 1u << (p.hi - l - 1);
      const M31* below = twiddles + piece_offset(p.hi, l - 1);
      for (uint32_t i = threadIdx.x; i < count; i += blockDim.x) {
        const M31 x = below[2 * i];
        twiddles[piece_offset(p.hi, l) + i] = (x * x).doubled() - M31::one();
      }
      __syncthreads();
    }
    if (p.inverse) {
      // Batch inversion (Montgomery's trick) over a contiguous run per thread: one inversion and
      // three products per twiddle. A zero would spoil the run's product, so that run falls back
      // to one inversion per entry (M31::inverse(0) == 0, as the host tree has it).
      const uint32_t total = (1u << (p.hi - lowest_line)) - 1;
      const uint32_t run = (total + blockDim.x - 1) / blockDim.x;
      const uint32_t begin = threadIdx.x * run;
      const uint32_t end = begin + run < total ? begin + run : total;
      if (begin < end) {
        M31* prefix = ys + begin;
        M31 acc = M31::one();
        for (uint32_t i = begin; i < end; ++i) {
          prefix[i - begin] = acc;
          acc *= twiddles[i];
        }
        if (acc.is_zero()) {
          for (uint32_t i = begin; i < end; ++i) twiddles[i] = twiddles[i].inverse();
        } else {
          M31 inv = acc.inverse();  // 1 / (t_begin ... t_{end-1})
          for (uint32_t i = end; i-- > begin;) {
            const M31 t = twiddles[i];
            twiddles[i] = inv * prefix[i - begin];
            inv *= t;
          }
        }
      }
    }
  }
  __syncthreads();
}

// The layers of pass p on one loaded tile `values` (shared memory) of high part `high` with its
// twiddle pieces; every layer ends with a barrier.
__device__ PTVM_FORCEINLINE void fft_tile_butterflies(const FftPass& p, M31* values, const M31* twiddles, size_t high) {
  const uint32_t tile_size = 1u << (p.hi - p.lo + p.width_log);
  const uint32_t width_mask = (1u << p.width_log) - 1;
  const uint32_t lowest_line = p.line_only || p.lo > 1 ? p.lo : 1;
  const uint32_t butterflies = tile_size / 2;
  auto line_layer = [&](uint32_t l) {
    const uint32_t shift = l - p.lo;  // row distance of the pair is 2^shift
    const M31* piece = twiddles + piece_offset(p.hi, l);
    for (uint32_t b = threadIdx.x; b < butterflies; b += blockDim.x) {
      const uint32_t column = b & width_mask, q = b >> p.width_log;
      const uint32_t block = q >> shift, row0 = (block << (shift + 1)) | (q & ((1u << shift) - 1));
      const uint32_t e0 = (row0 << p.width_log) | column, e1 = e0 + (1u << (shift + p.width_log));
      if (p.inverse)
        circle::ibutterfly(values[e0], values[e1], piece[block]);
      else
        circle::butterfly(values[e0], values[e1], piece[block]);
    }
    __syncthreads();
  };
  auto circle_layer = [&] {  // lo == 0, width 1: pairs (2b, 2b+1)
    const M31* line1 = twiddles + piece_offset(p.hi, 1);
    for (uint32_t b = threadIdx.x; b < butterflies; b += blockDim.x) {
      M31 t;
      if (p.n <= 2) {
        t = p.small_circle[b];
      } else if (p.hi < 3) {
        // A block pass of fewer than 3 layers (the last step of a four-step transform over 2 or 4
        // ranks) has no line-1 pair to derive the twiddle from: the direct definition.
        t = circle::circle_twiddle_direct(p.n, ((high << p.hi) | (2 * b)) >> 1);
        if (p.inverse) t = t.inverse();
      } else {
        t = circle::circle_twiddle_from_line(line1, b);
      }
      if (p.inverse)
        circle::ibutterfly(values[2 * b], values[2 * b + 1], t);
      else
        circle::butterfly(values[2 * b], values[2 * b + 1], t);
    }
    __syncthreads();
  };

  if (!p.inverse) {
    for (uint32_t l = p.hi - 1; l >= lowest_line && l < p.hi; --l) line_layer(l);
    if (p.lo == 0 && !p.line_only) circle_layer();
  } else {
    if (p.lo == 0 && !p.line_only) circle_layer();
    for (uint32_t l = lowest_line; l < p.hi; ++l) line_layer(l);
  }
}

// One tile of a pass: reads src (values at indices >= n_src are zero), writes dst (src == dst in
// place; the tile reads and writes the same indices, so a first pass may be out of place).
__device__ PTVM_FORCEINLINE void fft_pass_tile(gptr<const M31> src, size_t n_src, gptr<M31> data, const FftPass& p) {
  PTVM_DYNAMIC_SHARED(M31, smem);
  const uint32_t rows_log = p.hi - p.lo;
  const uint32_t tile_log = rows_log + p.width_log;
  const uint32_t tile_size = 1u << tile_log;
  M31* values = smem;
  M31* twiddles = smem + tile_size;
  const uint32_t groups_log = p.lo - p.width_log;  // column groups per high part
  const size_t tile = blockIdx.x;
  const size_t high = p.high_base + (tile >> groups_log);
  const size_t column0 = (tile & ((size_t{1} << groups_log) - 1)) << p.width_log;
  const uint32_t width_mask = (1u << p.width_log) - 1;
  auto global_index = [&](uint32_t e) {
    return ((high << p.hi) | (static_cast<size_t>(e >> p.width_log) << p.lo) | (column0 + (e & width_mask))) -
           p.index_base;
  };
  fft_tile_twiddles(p, high, twiddles, values);  // the value area is loaded afterwards
  for (uint32_t e = threadIdx.x; e < tile_size; e += blockDim.x) {
    const size_t g = global_index(e);
    values[e] = g < n_src ? src.load(g) : M31::zero();
  }
  __syncthreads();
  fft_tile_butterflies(p, values, twiddles, high);
  for (uint32_t e = threadIdx.x; e < tile_size; e += blockDim.x)
    data.store(global_index(e), values[e] * p.scale);
}

__global__ void circle_fft_pass_kernel(gptr<M31> data, FftPass p) {
  fft_pass_tile(data, size_t{1} << p.n, data, p);
}

// The same pass over many columns: column blockIdx.y of the table.
__global__ void circle_fft_pass_many_kernel(gptr<const gpu::FftColumnIo> columns, bool first_pass, FftPass p) {
  const gpu::FftColumnIo io = columns.load(blockIdx.y);
  const size_t n = size_t{1} << p.n;
  const gptr<M31> dst(io.dst, n);
  if (first_pass && io.src)
    fft_pass_tile(gptr<const M31>(io.src, io.n_src), io.n_src, dst, p);
  else
    fft_pass_tile(dst, n, dst, p);
}

// The last forward pass (layers 0..hi-1 on contiguous tiles of 2^hi positions) of all columns of
// a tree (tree blockIdx.y of the table) fused with the leaf hashes of the rows it produces: the
// tile's twiddles are computed once for all the tree's columns; kLeafChunk columns at a time are
// transformed into their own slab of shared memory and stored, then every thread absorbs the
// chunk's values of its rows into its rows' BLAKE2s states (one compression per row and chunk, as
// blake2s_merkle_layer hashes a leaf: the leaf prefix state, 16 values per block, the last block
// flagged). The LDE is written once and never re-read for the leaves.
constexpr uint32_t kLeafTileLog = 11;  // 2^11 rows per tile, 1024 threads, 2 rows each
constexpr uint32_t kLeafChunk = 16;    // values per BLAKE2s block
constexpr uint32_t kLeafRows = 2;      // rows per thread (tile = 2 x threads)

__global__ void circle_evaluate_leaves_many_kernel(gptr<const gpu::FftColumnIo> columns, gptr<const gpu::LdeLeafTree> trees,
                                                   bool first_pass, FftPass p) {
  PTVM_DYNAMIC_SHARED(M31, smem);
  const gpu::LdeLeafTree tree = trees.load(blockIdx.y);
  const uint32_t tile_size = 1u << p.hi;  // lo == 0, width 1
  M31* slabs = smem;                      // kLeafChunk x tile_size
  M31* twiddles = smem + kLeafChunk * tile_size;
  const size_t n = size_t{1} << p.n;
  const size_t base = static_cast<size_t>(blockIdx.x) << p.hi;
  fft_tile_twiddles(p, blockIdx.x, twiddles, slabs);
  uint32_t h[kLeafRows][8];
  for (uint32_t r = 0; r < kLeafRows; ++r)
    for (int i = 0; i < 8; ++i) h[r][i] = hash::merkle_leaf_initial_state(i);
  uint64_t t = 64;  // the prefix block is folded into the initial state
  for (uint32_t chunk = 0; chunk < tree.n_columns; chunk += kLeafChunk) {
    const uint32_t k = tree.n_columns - chunk < kLeafChunk ? tree.n_columns - chunk : kLeafChunk;
    for (uint32_t c = 0; c < k; ++c) {
      const gpu::FftColumnIo io = columns.load(tree.first_column + chunk + c);
      M31* values = slabs + c * tile_size;
      const gptr<M31> dst(io.dst, n);
      if (first_pass && io.src) {
        const gptr<const M31> src(io.src, io.n_src);
        for (uint32_t e = threadIdx.x; e < tile_size; e += blockDim.x)
          values[e] = base + e < io.n_src ? src.load(base + e) : M31::zero();
      } else {
        for (uint32_t e = threadIdx.x; e < tile_size; e += blockDim.x) values[e] = dst.load(base + e);
      }
      __syncthreads();
      fft_tile_butterflies(p, values, twiddles, blockIdx.x);
      for (uint32_t e = threadIdx.x; e < tile_size; e += blockDim.x) dst.store(base + e, values[e]);
    }
    t += 4ull * k;
    const bool last = chunk + k == tree.n_columns;
    for (uint32_t r = 0; r < kLeafRows; ++r) {
      const uint32_t row = threadIdx.x + r * blockDim.x;
      if (row >= tile_size) continue;
      uint32_t block[16];
      for (uint32_t i = 0; i < 16; ++i) block[i] = i < k ? slabs[i * tile_size + row].v : 0;
      hash::blake2s_compress(h[r], block, t, last);
    }
    __syncthreads();  // the slabs are read before the next chunk overwrites them
  }
  const gptr<uint32_t> leaves(tree.leaf_words, 8 * n);
  for (uint32_t r = 0; r < kLeafRows; ++r) {
    const uint32_t row = threadIdx.x + r * blockDim.x;
    if (row >= tile_size) continue;
    for (int i = 0; i < 8; ++i) leaves.store(static_cast<size_t>(i) * n + base + row, h[r][i]);
  }
}

void check_transform(uint32_t log_size, const gpu::DeviceTwiddles& tw, const char* fn) {
  if (log_size < 1 || log_size > tw.max_domain_log())
    throw Error(ErrorCategory::Usage, std::string(fn) + ": domain of log " +
                                          std::to_string(log_size) +
                                          " is not served by device twiddles of max domain log " +
                                          std::to_string(tw.max_domain_log()));
  if (tw.root_coset.repeated_double(tw.root_coset.log_size + 1 - log_size) !=
      circle::CanonicCoset{log_size}.half_coset())
    throw Error(ErrorCategory::Usage, std::string(fn) +
                                          ": twiddle root coset is not a canonic half coset");
}

void check_tiling(const gpu::CircleFftTiling& t) {
  if (t.inner_log < 3 || t.inner_log > 13 || t.outer_layers < 1 || t.outer_width < 1 ||
      (t.outer_width & (t.outer_width - 1)) || t.outer_width > 8 ||
      (t.outer_width << t.outer_layers) > 16384)
    throw Error(ErrorCategory::Usage, "CircleFftTiling: inner_log " + std::to_string(t.inner_log) +
                                          ", outer_layers " + std::to_string(t.outer_layers) +
                                          ", outer_width " + std::to_string(t.outer_width) +
                                          " outside the supported shapes");
}

// The pass over one column (data) or over n_many columns of a table (many).
void run_pass(gptr<M31> data, gptr<const gpu::FftColumnIo> many, uint32_t n_many, bool first_pass, FftPass p,
              gpu::stream_t stream, uint32_t block_log) {
  const uint32_t tile_log = p.hi - p.lo + p.width_log;
  const size_t tiles = size_t{1} << (block_log - tile_log);
  const uint32_t threads = tile_log >= 11 ? 1024u : (1u << tile_log) / 2;
  const uint32_t lowest_line = p.line_only || p.lo > 1 ? p.lo : 1;
  const size_t twiddle_count = p.hi > lowest_line ? (size_t{1} << (p.hi - lowest_line)) : 1;
  const size_t smem = ((size_t{1} << tile_log) + twiddle_count) * sizeof(M31);
#if !defined(PTVM_HOSTSIM)
  if (smem > 48 * 1024)  // above the default dynamic shared memory limit: opt in
  {
    PTVM_CUDA_CHECK(cudaFuncSetAttribute(circle_fft_pass_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
    PTVM_CUDA_CHECK(cudaFuncSetAttribute(circle_fft_pass_many_kernel,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
  }
#endif
  if (n_many == 0) {
    PTVM_LAUNCH(circle_fft_pass_kernel, static_cast<unsigned>(tiles), threads, smem, stream)(data, p);
    PTVM_CHECK_LAUNCH("circle_fft_pass_kernel");
    return;
  }
  for (uint32_t first = 0; first < n_many; first += gpu::kMaxGridY) {
    const uint32_t count = n_many - first < gpu::kMaxGridY ? n_many - first : gpu::kMaxGridY;
    PTVM_LAUNCH(circle_fft_pass_many_kernel, dim3(static_cast<unsigned>(tiles), count), threads, smem, stream)(
        many.offset(first), first_pass, p);
    PTVM_CHECK_LAUNCH("circle_fft_pass_many_kernel");
  }
}

// The passes of a transform of 2^n values, from the top layers down (forward order).
struct PassRange {
  uint32_t lo, hi;
};
std::vector<PassRange> plan_passes(uint32_t n, const gpu::CircleFftTiling& t) {
  std::vector<PassRange> passes;
  uint32_t hi = n;
  while (hi > t.inner_log) {
    uint32_t lo = hi - t.inner_log > t.outer_layers ? hi - t.outer_layers : t.inner_log;
    passes.push_back({lo, hi});
    hi = lo;
  }
  passes.push_back({0, hi});
  return passes;
}

FftPass base_pass(uint32_t n, const gpu::DeviceTwiddles& tw, bool inverse) {
  FftPass base;
  base.n = n;
  base.root_log = tw.root_coset.log_size;
  base.inverse = inverse;
  if (n <= 2)
    for (size_t h = 0; h < (size_t{1} << (n - 1)); ++h) {
      const M31 t = circle::circle_twiddle_direct(n, h);
      base.small_circle[h] = inverse ? t.inverse() : t;
    }
  return base;
}

// The twiddle points of a pass whose lowest line layer is `lowest_line` (FftPass).
void set_pass_points(FftPass& p, const gpu::DeviceTwiddles& tw, uint32_t lowest_line) {
  if (lowest_line >= p.hi) return;
  const circle::Coset layer_coset = tw.root_coset.repeated_double(tw.root_coset.log_size - p.n + lowest_line);
  const circle::PointIndex step = layer_coset.step_index;
  p.initial_point = layer_coset.initial_index.to_point();
  for (uint32_t b = 0; b < p.n - p.hi; ++b) p.high_powers[b] = (step * (1u << b)).to_point();
  const circle::PointIndex tile_step = step * (1u << (p.n - p.hi));
  for (uint32_t j = 0; j + 1 < p.hi - lowest_line; ++j) p.step_powers[j] = (tile_step * (1u << j)).to_point();
}

// Pass `range` of a transform of 2^base.n values (last: the last pass of an inverse transform
// carries the 1/N).
FftPass make_pass(const FftPass& base, PassRange range, const gpu::CircleFftTiling& tiling, const gpu::DeviceTwiddles& tw,
                  bool last) {
  const uint32_t n = base.n;
  FftPass p = base;
  p.lo = range.lo;
  p.hi = range.hi;
  uint32_t width = p.lo == 0 ? 1 : tiling.outer_width;
  while (width > (1u << p.lo)) width /= 2;
  p.width_log = 0;
  while ((1u << p.width_log) < width) ++p.width_log;
  if (base.inverse && last) p.scale = M31::raw(1u << (31 - n));  // 2^-n = 2^(31-n)
  set_pass_points(p, tw, p.lo > 1 ? p.lo : 1);
  return p;
}

void transform(gptr<M31> data, gptr<const gpu::FftColumnIo> many, uint32_t n_many, uint32_t n,
               const gpu::DeviceTwiddles& tw, gpu::stream_t stream, const gpu::CircleFftTiling& tiling, bool inverse) {
  check_tiling(tiling);
  const FftPass base = base_pass(n, tw, inverse);
  std::vector<PassRange> passes = plan_passes(n, tiling);
  if (inverse) std::reverse(passes.begin(), passes.end());
  gpu::StageScope stage(inverse ? "circle_interpolate_bitrev" : "circle_evaluate_bitrev",
                        2 * (uint64_t{4} << n) * (n_many ? n_many : 1));
  for (size_t i = 0; i < passes.size(); ++i)
    run_pass(data, many, n_many, i == 0, make_pass(base, passes[i], tiling, tw, i + 1 == passes.size()), stream, n);
}


}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

DeviceTwiddles DeviceTwiddles::upload(const circle::TwiddleTree& tree, stream_t) {
  const size_t n = size_t{1} << tree.root_coset.log_size;
  if (tree.twiddles.size() != n || tree.itwiddles.size() != n)
    throw Error(ErrorCategory::Usage, "DeviceTwiddles::upload: malformed twiddle tree (" +
                                          std::to_string(tree.twiddles.size()) +
                                          " twiddles for a root coset of log " +
                                          std::to_string(tree.root_coset.log_size) + ")");
  DeviceTwiddles d;
  d.root_coset = tree.root_coset;
  return d;
}

void circle_evaluate_bitrev_inplace(gptr<M31> data, uint32_t log_size, const DeviceTwiddles& tw,
                                    stream_t stream, const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_evaluate_bitrev_inplace");
  transform(data, {}, 0, log_size, tw, stream, tiling, false);
}

void circle_interpolate_bitrev_inplace(gptr<M31> data, uint32_t log_size, const DeviceTwiddles& tw,
                                       stream_t stream, const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_interpolate_bitrev_inplace");
  transform(data, {}, 0, log_size, tw, stream, tiling, true);
}

void circle_evaluate_bitrev(gptr<const M31> coeffs, size_t n_coeffs, gptr<M31> values,
                            uint32_t log_size, const DeviceTwiddles& tw, stream_t stream,
                            const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_evaluate_bitrev");
  const size_t n = size_t{1} << log_size;
  if (n_coeffs > n)
    throw Error(ErrorCategory::Usage, "circle_evaluate_bitrev: " + std::to_string(n_coeffs) +
                                          " coefficients for " + std::to_string(n) + " values");
  copy_device_to_device(values.get(), coeffs.get(), n_coeffs * sizeof(M31), stream);
  memset_device(values.get() + n_coeffs, 0, (n - n_coeffs) * sizeof(M31), stream);
  transform(values, {}, 0, log_size, tw, stream, tiling, false);
}

void circle_interpolate_bitrev(gptr<const M31> values, gptr<M31> coeffs, uint32_t log_size,
                               const DeviceTwiddles& tw, stream_t stream,
                               const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_interpolate_bitrev");
  copy_device_to_device(coeffs.get(), values.get(), (size_t{1} << log_size) * sizeof(M31), stream);
  transform(coeffs, {}, 0, log_size, tw, stream, tiling, true);
}

namespace {
// circle_fft_layers on one block (many empty) or on the n_many blocks of a column table.
void fft_layers(gptr<M31> block, gptr<const FftColumnIo> many, uint32_t n_many, const FftLayerRange& r, bool inverse,
                const DeviceTwiddles& tw, stream_t stream, const CircleFftTiling& tiling) {
  check_tiling(tiling);
  if (r.n < 3 || r.n > tw.max_domain_log() || r.block_log > r.n || r.hi > r.block_log || r.lo >= r.hi ||
      (r.block >> (r.n - r.block_log)) != 0 || (r.line_only && r.n + 1 > tw.max_domain_log()))
    throw Error(ErrorCategory::Usage, "circle_fft_layers: layers [" + std::to_string(r.lo) + ", " +
                                          std::to_string(r.hi) + ") of a 2^" + std::to_string(r.n) +
                                          " transform on block " + std::to_string(r.block) + " of 2^" +
                                          std::to_string(r.block_log) + " values (twiddles up to 2^" +
                                          std::to_string(tw.max_domain_log()) + ")");
  // Passes from the top layer down (forward order): outer passes of up to outer_layers layers, and
  // for a range starting at layer 0 an inner pass of up to inner_log layers.
  std::vector<PassRange> passes;
  for (uint32_t h = r.hi; h > r.lo;) {
    uint32_t l;
    if (r.lo == 0 && h <= tiling.inner_log)
      l = 0;
    else {
      const uint32_t floor = r.lo == 0 ? tiling.inner_log : r.lo;
      l = h > floor + tiling.outer_layers ? h - tiling.outer_layers : floor;
    }
    passes.push_back({l, h});
    h = l;
  }
  if (inverse) std::reverse(passes.begin(), passes.end());
  gpu::StageScope stage(inverse ? "circle_fft_layers_inverse" : "circle_fft_layers_forward",
                        2 * (uint64_t{4} << r.block_log) * (n_many ? n_many : 1));
  for (size_t i = 0; i < passes.size(); ++i) {
    FftPass p;
    p.n = r.n;
    p.root_log = tw.root_coset.log_size;
    p.inverse = inverse;
    p.line_only = r.line_only;
    p.lo = passes[i].lo;
    p.hi = passes[i].hi;
    p.high_base = static_cast<size_t>(r.block) << (r.block_log - p.hi);
    p.index_base = static_cast<size_t>(r.block) << r.block_log;
    uint32_t width = p.lo == 0 ? 1 : tiling.outer_width;
    while (width > (1u << p.lo)) width /= 2;
    p.width_log = 0;
    while ((1u << p.width_log) < width) ++p.width_log;
    if (i + 1 == passes.size()) p.scale = r.scale;
    set_pass_points(p, tw, r.line_only || p.lo > 1 ? p.lo : 1);
    run_pass(block, many, n_many, false, p, stream, r.block_log);
  }
}

}  // namespace

void circle_fft_layers(gptr<M31> block, const FftLayerRange& r, bool inverse, const DeviceTwiddles& tw,
                       stream_t stream, const CircleFftTiling& tiling) {
  fft_layers(block, {}, 0, r, inverse, tw, stream, tiling);
}

void circle_fft_layers_many(gptr<const FftColumnIo> blocks, uint32_t n_blocks, const FftLayerRange& r, bool inverse,
                            const DeviceTwiddles& tw, stream_t stream, const CircleFftTiling& tiling) {
  if (n_blocks == 0) return;
  fft_layers(gptr<M31>(), blocks, n_blocks, r, inverse, tw, stream, tiling);
}

void circle_transform_many(gptr<const FftColumnIo> columns, uint32_t n_columns, uint32_t log_size, bool inverse,
                           const DeviceTwiddles& tw, stream_t stream, const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_transform_many");
  if (n_columns == 0) return;
  transform(gptr<M31>(), columns, n_columns, log_size, tw, stream, tiling, inverse);
}

void circle_evaluate_leaves_many(std::span<const FftColumnIo> columns, std::span<const LdeLeafTree> trees, uint32_t log_size,
                                 const DeviceTwiddles& tw, stream_t stream, const CircleFftTiling& tiling) {
  check_transform(log_size, tw, "circle_evaluate_leaves_many");
  check_tiling(tiling);
  if (trees.empty()) return;
  uint64_t compressions = 0;
  for (size_t t = 0; t < trees.size(); ++t) {
    const LdeLeafTree& tree = trees[t];
    if (tree.n_columns == 0 || tree.first_column + uint64_t{tree.n_columns} > columns.size())
      throw Error(ErrorCategory::Usage, "circle_evaluate_leaves_many: tree " + std::to_string(t) + " names columns [" +
                                            std::to_string(tree.first_column) + ", " +
                                            std::to_string(uint64_t{tree.first_column} + tree.n_columns) + ") of " +
                                            std::to_string(columns.size()) + " (at least one)");
    compressions += (tree.n_columns + kLeafChunk - 1) / kLeafChunk;
  }
  const uint32_t n = log_size;
  gpu::StageScope stage("circle_evaluate_leaves", (uint64_t{4} * 2 * columns.size() + 32 * trees.size()) << n);
  DeviceBuffer<FftColumnIo> column_table = DeviceBuffer<FftColumnIo>::from_host(columns, stream);
  DeviceBuffer<LdeLeafTree> tree_table = DeviceBuffer<LdeLeafTree>::from_host(trees, stream);
  // The outer passes as in circle_transform_many (one launch each over every column), then the last
  // pass, fused, on tiles of at most 2^kLeafTileLog rows.
  CircleFftTiling t = tiling;
  t.inner_log = std::min(t.inner_log, kLeafTileLog);
  const FftPass base = base_pass(n, tw, false);
  const std::vector<PassRange> passes = plan_passes(n, t);
  const uint32_t n_columns = static_cast<uint32_t>(columns.size());
  for (size_t i = 0; i + 1 < passes.size(); ++i)
    run_pass(gptr<M31>(), column_table.cptr(), n_columns, i == 0, make_pass(base, passes[i], t, tw, false), stream, n);
  const FftPass p = make_pass(base, passes.back(), t, tw, false);
  const size_t tile_size = size_t{1} << p.hi;
  const size_t tiles = size_t{1} << (n - p.hi);
  const unsigned threads = static_cast<unsigned>(tile_size / kLeafRows);
  const uint32_t lowest_line = p.lo > 1 ? p.lo : 1;
  const size_t twiddle_count = p.hi > lowest_line ? (size_t{1} << (p.hi - lowest_line)) : 1;
  const size_t smem = (kLeafChunk * tile_size + twiddle_count) * sizeof(M31);
#if !defined(PTVM_HOSTSIM)
  if (smem > 48 * 1024)
    PTVM_CUDA_CHECK(cudaFuncSetAttribute(circle_evaluate_leaves_many_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
#endif
  const uint32_t n_trees = static_cast<uint32_t>(trees.size());
  for (uint32_t first = 0; first < n_trees; first += kMaxGridY) {
    const uint32_t count = n_trees - first < kMaxGridY ? n_trees - first : kMaxGridY;
    PTVM_LAUNCH(circle_evaluate_leaves_many_kernel, dim3(static_cast<unsigned>(tiles), count), threads, smem, stream)(
        column_table.cptr(), tree_table.cptr().offset(first), passes.size() == 1, p);
    PTVM_CHECK_LAUNCH("circle_evaluate_leaves_many_kernel");
  }
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("circle_evaluate_leaves_many_kernel", (compressions << n) * hostsim::kBlake2sCompressionOps);
#else
  (void)compressions;
#endif
  synchronize_before_free(stream);  // the tables die on return
}

PTVM_GPU_NAMESPACE_END
