// FP64 GEMMs of the tensor engine (declared in ptvm/gpu/tensor_gemm.hpp): the grouped and the
// strided-batched C = A B^T + bias, the fused FFN (gate and value GEMMs, their product, the output
// GEMM in one launch) and the bias/bilinear step between the cuBLAS GEMMs.
//
// Exactness: all values are integers below 2^53 (TensorModel's bound, a sum of absolute values, so
// every partial sum is below it too); fma and the additions never round, whatever the order.
//
// Tiling: a block owns kGemmTileRows = 32 rows of one group (plan_gemm_groups numbers the tiles;
// thread 0 finds its group by binary search over first_tile and shares it). Global reads are
// row-contiguous ranges read by consecutive threads (coalesced); the tiles are reused from shared
// memory by every output of the block.
#include "../common/field_access.cuh"

#include <cmath>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/tensor_gemm.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;
constexpr uint32_t kTile = gpu::kGemmTileRows;  // rows per block; also the GEMM's column and k tile
constexpr uint32_t kPad = kTile + 1;           // shared row stride of the GEMM tiles
constexpr uint32_t kIn = gpu::kTensorFfnInputs;
constexpr uint32_t kOut = gpu::kTensorFfnOutputs;
constexpr uint32_t kHiddenChunk = 32;  // hidden units per pass of the fused FFN
static_assert(kTile * kTile == 4 * kThreads, "the GEMM block: 16 x 16 threads, 2 x 2 outputs each");
static_assert(kTile * kOut <= kThreads, "the fused FFN: one thread per output of the tile");

__device__ PTVM_FORCEINLINE uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

// The rows of the block's tile: first row, row count and matrix, in shared memory for the block.
struct TileRows {
  uint32_t row_begin, rows, matrix;
};

// groups non-null: the grouped layout (binary search for the last group with first_tile <= tile);
// else strided-batched: m rows per batch, tiles_per_batch tiles each.
__device__ TileRows find_tile(gptr<const gpu::GemmGroup> groups, uint32_t n_groups, uint32_t m,
                              uint32_t tiles_per_batch) {
  PTVM_SHARED(uint32_t, info, 3);
  if (threadIdx.x == 0) {
    const uint32_t tile = blockIdx.x;
    if (groups) {
      uint32_t lo = 0, hi = n_groups - 1;
      while (lo < hi) {
        const uint32_t mid = (lo + hi + 1) / 2;
        if (groups.load(mid).first_tile <= tile)
          lo = mid;
        else
          hi = mid - 1;
      }
      const gpu::GemmGroup g = groups.load(lo);
      const uint32_t t = tile - g.first_tile;
      info[0] = g.row_begin + t * kTile;
      info[1] = min_u32(kTile, g.row_count - t * kTile);
      info[2] = g.matrix;
    } else {
      const uint32_t batch = tile / tiles_per_batch, t = tile % tiles_per_batch;
      info[0] = batch * m + t * kTile;
      info[1] = min_u32(kTile, m - t * kTile);
      info[2] = batch;
    }
  }
  __syncthreads();
  return TileRows{info[0], info[1], info[2]};  // called once per block: info is never rewritten
}

// C tile (32 rows of the tile x 32 columns from blockIdx.y) = A B_matrix^T + bias_matrix.
// 16 x 16 threads, each 2 x 2 outputs (rows ty, ty + 16; columns tx, tx + 16); k in chunks of 32.
__global__ void dgemm_nt_kernel(uint32_t n, uint32_t k, gptr<const double> a, gptr<const double> b,
                                gptr<const double> bias, gptr<double> c,
                                gptr<const gpu::GemmGroup> groups, uint32_t n_groups, uint32_t m,
                                uint32_t tiles_per_batch) {
  PTVM_SHARED(double, a_tile, kTile * kPad);
  PTVM_SHARED(double, b_tile, kTile * kPad);
  const TileRows tile = find_tile(groups, n_groups, m, tiles_per_batch);
  const uint32_t col0 = blockIdx.y * kTile;
  const uint32_t tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const size_t b_base = static_cast<size_t>(tile.matrix) * n;  // first row of B_matrix
  double acc[2][2] = {{0, 0}, {0, 0}};
  for (uint32_t k0 = 0; k0 < k; k0 += kTile) {
    const uint32_t kc = min_u32(kTile, k - k0);
    for (uint32_t e = threadIdx.x; e < kTile * kTile; e += kThreads) {
      const uint32_t r = e / kTile, kk = e % kTile;
      a_tile[r * kPad + kk] = r < tile.rows && kk < kc
                                  ? a.load((static_cast<size_t>(tile.row_begin) + r) * k + k0 + kk)
                                  : 0.0;
      const uint32_t col = col0 + r;
      b_tile[r * kPad + kk] = col < n && kk < kc ? b.load((b_base + col) * k + k0 + kk) : 0.0;
    }
    __syncthreads();
    for (uint32_t kk = 0; kk < kc; ++kk)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j)
          acc[i][j] =
              fma(a_tile[(ty + 16 * i) * kPad + kk], b_tile[(tx + 16 * j) * kPad + kk], acc[i][j]);
    __syncthreads();
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      const uint32_t r = ty + 16 * i, col = col0 + tx + 16 * j;
      if (r >= tile.rows || col >= n) continue;
      const double add = bias ? bias.load(static_cast<size_t>(tile.matrix) * n + col) : 0.0;
      c.store((static_cast<size_t>(tile.row_begin) + r) * n + col, acc[i][j] + add);
    }
}

// The fused FFN of one tile: X rows in shared memory; per chunk of 32 hidden units the gate and
// value rows, their biases and the output columns are staged, the chunk's Hd = G (.) V is formed
// in shared memory and folded into the tile's 32 x 6 outputs (one thread each).
__global__ void tensor_ffn_fused_kernel(gpu::TensorFfnWeights w, gptr<const double> x,
                                        gptr<double> y, gptr<const gpu::GemmGroup> groups,
                                        uint32_t n_groups) {
  PTVM_SHARED(double, x_tile, kTile * kIn);
  PTVM_SHARED(double, gv_tile, 2 * kHiddenChunk * kIn);  // gate rows, then value rows
  PTVM_SHARED(double, gv_bias, 2 * kHiddenChunk);
  PTVM_SHARED(double, out_tile, kOut * kHiddenChunk);
  PTVM_SHARED(double, hidden_tile, kTile * kHiddenChunk);
  const TileRows tile = find_tile(groups, n_groups, 0, 1);
  const uint32_t H = w.hidden;
  const size_t block = tile.matrix;
  for (uint32_t e = threadIdx.x; e < tile.rows * kIn; e += kThreads)
    x_tile[e] = x.load(static_cast<size_t>(tile.row_begin) * kIn + e);
  // Thread t < rows * 6 owns output (t / 6, t % 6).
  const uint32_t out_row = threadIdx.x / kOut, out_col = threadIdx.x % kOut;
  const bool owns_output = threadIdx.x < tile.rows * kOut;
  double acc = 0;
  for (uint32_t h0 = 0; h0 < H; h0 += kHiddenChunk) {
    const uint32_t hc = min_u32(kHiddenChunk, H - h0);
    for (uint32_t e = threadIdx.x; e < 2 * kHiddenChunk * kIn; e += kThreads) {
      const uint32_t half = e / (kHiddenChunk * kIn), rest = e % (kHiddenChunk * kIn);
      // Rows h0 .. h0 + hc of the gate (half 0) or the value (half 1) are contiguous.
      if (rest < hc * kIn)
        gv_tile[e] = w.gate_value.load((block * 2 * H + half * H + h0) * kIn + rest);
    }
    for (uint32_t e = threadIdx.x; e < 2 * kHiddenChunk; e += kThreads) {
      const uint32_t half = e / kHiddenChunk, j = e % kHiddenChunk;
      if (j < hc) gv_bias[e] = w.gate_value_bias.load(block * 2 * H + half * H + h0 + j);
    }
    for (uint32_t e = threadIdx.x; e < kOut * kHiddenChunk; e += kThreads) {
      const uint32_t o = e / kHiddenChunk, j = e % kHiddenChunk;
      if (j < hc) out_tile[e] = w.output.load((block * kOut + o) * H + h0 + j);
    }
    __syncthreads();
    for (uint32_t e = threadIdx.x; e < kTile * kHiddenChunk; e += kThreads) {
      const uint32_t r = e / kHiddenChunk, j = e % kHiddenChunk;
      if (r >= tile.rows || j >= hc) continue;
      double g = gv_bias[j], v = gv_bias[kHiddenChunk + j];
      for (uint32_t i = 0; i < kIn; ++i) {
        const double xi = x_tile[r * kIn + i];
        g = fma(xi, gv_tile[j * kIn + i], g);
        v = fma(xi, gv_tile[(kHiddenChunk + j) * kIn + i], v);
      }
      hidden_tile[r * kHiddenChunk + j] = g * v;  // the bilinear product
    }
    __syncthreads();
    if (owns_output)
      for (uint32_t j = 0; j < hc; ++j)
        acc =
            fma(hidden_tile[out_row * kHiddenChunk + j], out_tile[out_col * kHiddenChunk + j], acc);
    __syncthreads();  // the next chunk overwrites the staged tiles
  }
  if (owns_output)
    y.store((static_cast<size_t>(tile.row_begin) + out_row) * kOut + out_col,
            acc + w.output_bias.load(block * kOut + out_col));
}

// Hd = (GV_gate + bg) (.) (GV_value + bv) per element; then Y = bo per row (beta = 1 follows).
__global__ void tensor_ffn_bias_bilinear_kernel(gpu::TensorFfnWeights w, gptr<const double> gv,
                                                gptr<double> hidden, gptr<double> y,
                                                gptr<const uint32_t> row_block, size_t rows) {
  const size_t H = w.hidden;
  for (size_t e = grid_thread_index(); e < rows * H; e += grid_thread_count()) {
    const size_t r = e / H, j = e % H;
    const size_t block = row_block.load(r);
    const double g = gv.load(r * 2 * H + j) + w.gate_value_bias.load(block * 2 * H + j);
    const double v = gv.load(r * 2 * H + H + j) + w.gate_value_bias.load(block * 2 * H + H + j);
    hidden.store(e, g * v);
  }
  for (size_t e = grid_thread_index(); e < rows * kOut; e += grid_thread_count()) {
    const size_t r = e / kOut, o = e % kOut;
    y.store(e, w.output_bias.load(static_cast<size_t>(row_block.load(r)) * kOut + o));
  }
}

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCategory::Usage, what);
}

constexpr size_t kMaxGridX = 2147483647u;
constexpr size_t kMaxGridY = 65535u;

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

uint32_t plan_gemm_groups(std::span<GemmGroup> groups) {
  size_t tiles = 0;
  for (GemmGroup& g : groups) {
    require(g.row_count > 0, "plan_gemm_groups: a group without rows");
    g.first_tile = static_cast<uint32_t>(tiles);
    tiles += (g.row_count + kTile - 1) / kTile;
    require(tiles <= kMaxGridX, "plan_gemm_groups: more than 2^31 - 1 tiles");
  }
  return static_cast<uint32_t>(tiles);
}

void dgemm_nt_grouped(size_t n, size_t k, gptr<const double> a, gptr<const double> b,
                      gptr<const double> bias, gptr<double> c, gptr<const GemmGroup> groups,
                      uint32_t n_groups, uint32_t n_tiles, stream_t stream) {
  if (n == 0 || n_tiles == 0) return;
  require(n_groups > 0 && groups, "dgemm_nt_grouped: tiles without groups");
  require((n + kTile - 1) / kTile <= kMaxGridY && k <= UINT32_MAX,
          "dgemm_nt_grouped: n = " + std::to_string(n) + " beyond " +
              std::to_string(kMaxGridY * kTile));
  const dim3 grid(n_tiles, static_cast<unsigned>((n + kTile - 1) / kTile));
  PTVM_LAUNCH(dgemm_nt_kernel, grid, kThreads, 0, stream)(
      static_cast<uint32_t>(n), static_cast<uint32_t>(k), a, b, bias, c, groups, n_groups, 0u, 1u);
  PTVM_CHECK_LAUNCH("dgemm_nt_kernel");
}

void dgemm_nt_strided_batched(size_t batch, size_t m, size_t n, size_t k, gptr<const double> a,
                              gptr<const double> b, gptr<const double> bias, gptr<double> c,
                              stream_t stream) {
  if (batch == 0 || m == 0 || n == 0) return;
  const size_t tiles_per_batch = (m + kTile - 1) / kTile;
  require(batch * tiles_per_batch <= kMaxGridX && batch * m <= UINT32_MAX && k <= UINT32_MAX,
          "dgemm_nt_strided_batched: " + std::to_string(batch) + " x " + std::to_string(m) +
              " rows is too many");
  require((n + kTile - 1) / kTile <= kMaxGridY,
          "dgemm_nt_strided_batched: n = " + std::to_string(n) + " beyond " +
              std::to_string(kMaxGridY * kTile));
  const dim3 grid(static_cast<unsigned>(batch * tiles_per_batch),
                  static_cast<unsigned>((n + kTile - 1) / kTile));
  PTVM_LAUNCH(dgemm_nt_kernel, grid, kThreads, 0, stream)(
      static_cast<uint32_t>(n), static_cast<uint32_t>(k), a, b, bias, c, gptr<const GemmGroup>(), 0u,
      static_cast<uint32_t>(m), static_cast<uint32_t>(tiles_per_batch));
  PTVM_CHECK_LAUNCH("dgemm_nt_kernel");
}

void tensor_ffn_fused(const TensorFfnWeights& weights, gptr<const double> x, gptr<double> y,
                      gptr<const GemmGroup> groups, uint32_t n_groups, uint32_t n_tiles,
                      stream_t stream) {
  if (n_tiles == 0) return;
  require(n_groups > 0 && groups, "tensor_ffn_fused: tiles without groups");
  PTVM_LAUNCH(tensor_ffn_fused_kernel, n_tiles, kThreads, 0, stream)(weights, x, y, groups, n_groups);
  PTVM_CHECK_LAUNCH("tensor_ffn_fused_kernel");
}

void tensor_ffn_bias_bilinear(const TensorFfnWeights& weights, gptr<const double> gate_value_out,
                              gptr<double> hidden_out, gptr<double> y,
                              gptr<const uint32_t> row_block, size_t rows, stream_t stream) {
  if (rows == 0) return;
  const size_t work = rows * (weights.hidden > kOut ? weights.hidden : kOut);
  const unsigned blocks = grid_stride_blocks(work, kThreads);
  PTVM_LAUNCH(tensor_ffn_bias_bilinear_kernel, blocks, kThreads, 0, stream)(
      weights, gate_value_out, hidden_out, y, row_block, rows);
  PTVM_CHECK_LAUNCH("tensor_ffn_bias_bilinear_kernel");
}

const char* tensor_gemm_path_name(TensorGemmPath path) {
  return path == TensorGemmPath::Cublas ? "cuBLAS" : "own FP64 kernel";
}

PTVM_GPU_NAMESPACE_END
