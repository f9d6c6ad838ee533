// FP64 GEMMs of the tensor engine on the GPU (kernels/tensor/dgemm_batched.cu; the cuBLAS path in
// cuda/tensor/). Two implementations of one computation, chosen by TensorGemmPath:
//   OwnKernel  the project's kernels (shared-memory tiles; run under host-sim and natively);
//   Cublas     cuBLAS grouped GEMMs with the project's bias/bilinear kernel between them
//              (ptvm::cuda only: host-sim has no cuBLAS).
//
// Precision: FP64, and exact. Every weight, input, partial sum and product the tensor engine forms
// is an integer whose magnitude TensorModel bounds below 2^53 (ptvm/vm/tensor_engine.hpp), and the
// bounds are sums of absolute values, so every partial sum in any summation order (a tile's, an
// FMA's, cuBLAS's split-K) is an integer below 2^53 too: no operation rounds, and the CPU, the own
// kernel and cuBLAS agree bit for bit. cuBLAS runs in CUBLAS_PEDANTIC_MATH (IEEE FP64, no
// fixed-point emulation).
//
// Layouts are row-major. A "grouped" GEMM multiplies row ranges of one A by per-group matrices:
// group g covers rows [row_begin, row_begin + row_count) of A and C and uses matrix `matrix` of
// the stacked B (and bias). A block of the own kernels handles kGemmTileRows rows of one group;
// plan_gemm_groups numbers those tiles (first_tile), and the launch has one block per tile, so any
// number of rows (machines) and any grouping (pcs) is one launch.
//
// Every launcher is asynchronous on `stream` and checks its launch (PTVM_CHECK_LAUNCH).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

PTVM_GPU_NAMESPACE_BEGIN

inline constexpr uint32_t kGemmTileRows = 32;  // rows of A (machines) per block
// The tensor engine's FFN widths (ptvm/vm/compiler.hpp's kFfnInputs / kFfnOutputs).
inline constexpr uint32_t kTensorFfnInputs = 41;
inline constexpr uint32_t kTensorFfnOutputs = 6;

struct GemmGroup {
  uint32_t row_begin = 0;  // first row of A and C
  uint32_t row_count = 0;  // > 0
  uint32_t matrix = 0;     // index into the stacked B / bias
  uint32_t first_tile = 0;  // set by plan_gemm_groups: tiles of the groups before this one
};
static_assert(sizeof(GemmGroup) == 16);

// Fills first_tile (groups in order) and returns the number of tiles (blocks of a launch).
// Throws ptvm::Error(Usage) for an empty group or a tile count beyond 2^31 - 1.
uint32_t plan_gemm_groups(std::span<GemmGroup> groups);

// Grouped: C[r][j] = sum_t A[r][t] * B[matrix][j][t] + bias[matrix][j] for the rows r of every
// group. A is rows x k, B is [matrices][n][k], bias [matrices][n] (a null bias adds nothing), C
// rows x n. groups: device array of n_groups planned GemmGroup; n_tiles: plan_gemm_groups' result.
// Rows outside every group are left as they are.
void dgemm_nt_grouped(size_t n, size_t k, gptr<const double> a, gptr<const double> b,
                      gptr<const double> bias, gptr<double> c, gptr<const GemmGroup> groups,
                      uint32_t n_groups, uint32_t n_tiles, stream_t stream);

// Strided-batched: batch i has A_i = a + i*m*k (m x k), B_i = b + i*n*k (n x k), bias_i = bias +
// i*n, C_i = c + i*m*n; C_i = A_i B_i^T + bias_i. No descriptors to upload.
void dgemm_nt_strided_batched(size_t batch, size_t m, size_t n, size_t k, gptr<const double> a,
                              gptr<const double> b, gptr<const double> bias, gptr<double> c,
                              stream_t stream);

// The tensor engine's weights on the device, one slice per block (pc), H = hidden:
//   gate_value       [blocks][2H][41]  rows 0..H-1 the gate Wg, rows H..2H-1 the value Wv
//   gate_value_bias  [blocks][2H]      bg then bv
//   output           [blocks][6][H]    Wo
//   output_bias      [blocks][6]       bo
// Gate and value stacked make the cuBLAS path's first GEMM one call per group.
struct TensorFfnWeights {
  gptr<const double> gate_value, gate_value_bias, output, output_bias;
  uint32_t blocks = 0;
  uint32_t hidden = 0;
};

// The fused FFN, one launch for all groups: per row r of group g (block p = g.matrix)
//   Y[r] = ((X[r] Wg_p^T + bg_p) (.) (X[r] Wv_p^T + bv_p)) Wo_p^T + bo_p,
// X rows x 41, Y rows x 6. The hidden activations never leave shared memory.
void tensor_ffn_fused(const TensorFfnWeights& weights, gptr<const double> x, gptr<double> y,
                      gptr<const GemmGroup> groups, uint32_t n_groups, uint32_t n_tiles,
                      stream_t stream);

// Between the cuBLAS GEMMs: Hd[r][j] = (GV[r][j] + bg[j]) * (GV[r][H + j] + bv[j]) and
// Y[r][o] = bo[o] (Y's bias, which the output GEMM then accumulates onto with beta = 1), with the
// block of row r from row_block[r]. GV rows x 2H, Hd rows x H, Y rows x 6.
void tensor_ffn_bias_bilinear(const TensorFfnWeights& weights, gptr<const double> gate_value_out,
                              gptr<double> hidden_out, gptr<double> y,
                              gptr<const uint32_t> row_block, size_t rows, stream_t stream);

enum class TensorGemmPath { OwnKernel, Cublas };
const char* tensor_gemm_path_name(TensorGemmPath path);  // "own FP64 kernel" / "cuBLAS"

// True when this library has the cuBLAS path (ptvm::cuda); false under host-sim.
bool cublas_available();

// One cuBLAS handle bound to one stream (a handle per stream), in CUBLAS_PEDANTIC_MATH with host
// pointer mode. Failing cuBLAS calls throw ptvm::Error(Device) naming file:line, the call and the
// cuBLAS status. Under host-sim the constructor throws ptvm::Error(Usage).
class CublasFfn {
public:
  explicit CublasFfn(stream_t stream);
  ~CublasFfn();
  CublasFfn(const CublasFfn&) = delete;
  CublasFfn& operator=(const CublasFfn&) = delete;

  // Pointers of the two grouped GEMMs' device pointer arrays, 6 x n_groups entries in this order:
  // A, B, C of GV = X Wgv^T, then A, B, C of Y += Hd Wo^T. Computed on the host from the buffers'
  // addresses; the caller uploads them (with the step's other inputs) and passes their device copy
  // to evaluate().
  static void pointer_arrays(const TensorFfnWeights& weights, const double* x,
                             double* gate_value_out, double* hidden_out, double* y,
                             std::span<const GemmGroup> groups, std::span<const void*> out);

  // GV = X Wgv^T (one grouped GEMM over the groups), tensor_ffn_bias_bilinear, Y += Hd Wo^T (one
  // grouped GEMM): 3 launches whatever the rows and groups. groups: the host copy (row counts);
  // device_pointer_arrays: the uploaded pointer_arrays. Asynchronous on the handle's stream.
  void evaluate(const TensorFfnWeights& weights, gptr<const double> x, gptr<double> gate_value_out,
                gptr<double> hidden_out, gptr<double> y, gptr<const uint32_t> row_block,
                size_t rows, std::span<const GemmGroup> groups,
                const void* const* device_pointer_arrays);

private:
  struct Impl;  // the handle and the host arrays of the grouped calls (cuda/tensor/)
  std::unique_ptr<Impl> impl_;
};

PTVM_GPU_NAMESPACE_END
