// The cuBLAS path of the tensor engine's FFN (ptvm::cuda only; host-sim's twin is
// cublas_ffn_hostsim.cpp): two cublasDgemmGroupedBatched calls, one group per pc group, with the
// bias and bilinear kernel of kernels/tensor/dgemm_batched.cu between them.
//
// cuBLAS is column-major; a row-major [rows][cols] matrix is its column-major transpose. So the
// row-major C = A B^T (A: rows x k, B: n x k) is, column-major, C^T (n x rows) = op_T(B') op_N(A')
// with B' the k x n column-major view of B (ld k) and A' the k x rows view of A (ld k):
//   GV = X Wgv^T:  m = 2H, n = rows_g, k = 41, A = Wgv_p (lda 41), B = X_g (ldb 41), C = GV_g (ldc
//   2H) Y += Hd Wo^T:  m = 6,  n = rows_g, k = H,  A = Wo_p (lda H),   B = Hd_g (ldb H), C = Y_g
//   (ldc 6)
#include <cublas_v2.h>

#include <climits>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/tensor_gemm.hpp"

namespace {

// The one checking macro for cuBLAS calls: a failing call throws ptvm::Error (Device) naming
// file:line, the call's text and cuBLAS's status.
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw ptvm::Error(ptvm::ErrorCategory::Device,
                    std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                        cublasGetStatusName(status) + ": " + cublasGetStatusString(status));
}
#define PTVM_CUBLAS_CHECK(call) check_cublas((call), #call, __FILE__, __LINE__)

}  // namespace

PTVM_GPU_NAMESPACE_BEGIN

struct CublasFfn::Impl {
  cublasHandle_t handle = nullptr;
  stream_t stream{};
  // Host arrays of the grouped calls (one entry per group), reused across steps.
  std::vector<cublasOperation_t> trans_t, trans_n;
  std::vector<int> m_gv, m_out, n, k_gv, k_out, ld_gv_a, ld_gv_c, ld_out_a, ld_out_c, group_size;
  std::vector<double> one, zero;
};

bool cublas_available() { return true; }

CublasFfn::CublasFfn(stream_t stream) : impl_(std::make_unique<Impl>()) {
  impl_->stream = stream;
  PTVM_CUBLAS_CHECK(cublasCreate(&impl_->handle));
  try {
    PTVM_CUBLAS_CHECK(cublasSetStream(impl_->handle, stream));
    // IEEE FP64 only (no fixed-point emulation): exactness rests on plain FP64 FMAs.
    PTVM_CUBLAS_CHECK(cublasSetMathMode(impl_->handle, CUBLAS_PEDANTIC_MATH));
    PTVM_CUBLAS_CHECK(cublasSetPointerMode(impl_->handle, CUBLAS_POINTER_MODE_HOST));
  } catch (...) {
    cublasDestroy(impl_->handle);
    throw;
  }
}

CublasFfn::~CublasFfn() {
  if (impl_ && impl_->handle)
    cublasDestroy(impl_->handle);  // a destructor never throws
}

void CublasFfn::evaluate(const TensorFfnWeights& weights, gptr<const double> x,
                         gptr<double> gate_value_out, gptr<double> hidden_out, gptr<double> y,
                         gptr<const uint32_t> row_block, size_t rows,
                         std::span<const GemmGroup> groups,
                         const void* const* device_pointer_arrays) {
  (void)x;  // reached through the pointer arrays
  if (rows == 0 || groups.empty()) return;
  const size_t g = groups.size();
  const size_t H = weights.hidden;
  if (g > INT_MAX || 2 * H > INT_MAX)
    throw Error(ErrorCategory::Usage, "cuBLAS tensor FFN: " + std::to_string(g) +
                                          " groups / hidden " + std::to_string(H) +
                                          " beyond cuBLAS's int sizes");
  Impl& s = *impl_;
  auto fill = [g](auto& v, auto value) { v.assign(g, value); };
  fill(s.trans_t, CUBLAS_OP_T);
  fill(s.trans_n, CUBLAS_OP_N);
  fill(s.m_gv, static_cast<int>(2 * H));
  fill(s.m_out, static_cast<int>(kTensorFfnOutputs));
  fill(s.k_gv, static_cast<int>(kTensorFfnInputs));
  fill(s.k_out, static_cast<int>(H));
  fill(s.ld_gv_a, static_cast<int>(kTensorFfnInputs));
  fill(s.ld_gv_c, static_cast<int>(2 * H));
  fill(s.ld_out_a, static_cast<int>(H));
  fill(s.ld_out_c, static_cast<int>(kTensorFfnOutputs));
  fill(s.group_size, 1);
  fill(s.one, 1.0);
  fill(s.zero, 0.0);
  s.n.resize(g);
  for (size_t i = 0; i < g; ++i) {
    if (groups[i].row_count > INT_MAX)
      throw Error(ErrorCategory::Usage, "cuBLAS tensor FFN: a group beyond 2^31 rows");
    s.n[i] = static_cast<int>(groups[i].row_count);
  }
  const auto* arrays = reinterpret_cast<const double* const*>(device_pointer_arrays);
  auto* out_arrays =
      const_cast<double* const*>(reinterpret_cast<const double* const*>(device_pointer_arrays));
  const int count = static_cast<int>(g);
  // GV = X Wgv^T (gate and value side by side, no bias yet).
  PTVM_CUBLAS_CHECK(cublasDgemmGroupedBatched(
      s.handle, s.trans_t.data(), s.trans_n.data(), s.m_gv.data(), s.n.data(), s.k_gv.data(),
      s.one.data(), arrays, s.ld_gv_a.data(), arrays + g, s.ld_gv_a.data(), s.zero.data(),
      out_arrays + 2 * g, s.ld_gv_c.data(), count, s.group_size.data()));
  // Hd = (GV_gate + bg) (.) (GV_value + bv); Y = bo.
  tensor_ffn_bias_bilinear(weights, gptr<const double>(gate_value_out), hidden_out, y, row_block,
                           rows, s.stream);
  // Y += Hd Wo^T.
  PTVM_CUBLAS_CHECK(cublasDgemmGroupedBatched(
      s.handle, s.trans_t.data(), s.trans_n.data(), s.m_out.data(), s.n.data(), s.k_out.data(),
      s.one.data(), arrays + 3 * g, s.ld_out_a.data(), arrays + 4 * g, s.k_out.data(), s.one.data(),
      out_arrays + 5 * g, s.ld_out_c.data(), count, s.group_size.data()));
}

PTVM_GPU_NAMESPACE_END
