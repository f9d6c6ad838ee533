// cuBLASLt int8 GEMMs (ptvm::cuda only; host-sim's twin is int8_gemm_hostsim.cpp).
//
// cuBLASLt is column-major and its int8 tensor-core kernels take the "TN" form (A transposed, B
// not). The row-major C (m x n) = A (m x k) Bt^T, Bt (n x k), is column-major C' (n x m, ldc n)
// = op_T(A') op_N(B') with A' the column-major k x n view of Bt (lda k) and B' the column-major
// k x m view of A (ldb k): both operands k-contiguous, as the Int8GemmEngine API has them.
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/gpu/int8_gemm.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace {

void check_cublaslt(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw ptvm::Error(ptvm::ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) + ": " + call +
                                                     " failed with cuBLAS status " + std::to_string(int(status)));
}
#define PTVM_CUBLASLT_CHECK(call) check_cublaslt((call), #call, __FILE__, __LINE__)

}  // namespace

PTVM_GPU_NAMESPACE_BEGIN
namespace {

class CublasLtInt8Gemm final : public sumcheck::Int8GemmEngine {
 public:
  explicit CublasLtInt8Gemm(stream_t stream) : stream_(stream) { PTVM_CUBLASLT_CHECK(cublasLtCreate(&handle_)); }
  ~CublasLtInt8Gemm() override { cublasLtDestroy(handle_); }
  CublasLtInt8Gemm(const CublasLtInt8Gemm&) = delete;
  CublasLtInt8Gemm& operator=(const CublasLtInt8Gemm&) = delete;

  std::string name() const override { return "cublaslt (int8 tensor cores, int32 accumulation)"; }

  void gemm(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m, size_t k,
            size_t n) override {
    sumcheck::check_int8_gemm_shape(a, bt, c, m, k, n, "cublaslt int8 gemm");
    if (k % 4 != 0 || n % 4 != 0)
      throw Error(ErrorCategory::Usage, "cublaslt int8 gemm: k and n must be multiples of 4 (got k = " +
                                            std::to_string(k) + ", n = " + std::to_string(n) + ")");
    if (m == 0 || n == 0) return;
    auto da = DeviceBuffer<int8_t>::from_host(a, stream_);
    auto dbt = DeviceBuffer<int8_t>::from_host(bt, stream_);
    DeviceBuffer<int32_t> dc(m * n);

    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
    try {
      PTVM_CUBLASLT_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32I, CUDA_R_32I));
      const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
      PTVM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
      PTVM_CUBLASLT_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
      // Layouts describe the stored matrices (before op): A' k x n, B' k x m, C' n x m.
      PTVM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&la, CUDA_R_8I, k, n, int64_t(k)));
      PTVM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8I, k, m, int64_t(k)));
      PTVM_CUBLASLT_CHECK(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32I, n, m, int64_t(n)));
      const int32_t alpha = 1, beta = 0;
      PTVM_CUBLASLT_CHECK(cublasLtMatmul(handle_, op, &alpha, dbt.data(), la, da.data(), lb, &beta, dc.data(), lc,
                                         dc.data(), lc, nullptr, nullptr, 0, stream_));
    } catch (...) {
      destroy(op, la, lb, lc);
      throw;
    }
    destroy(op, la, lb, lc);
    dc.download(c, stream_);
  }

 private:
  static void destroy(cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t la, cublasLtMatrixLayout_t lb,
                      cublasLtMatrixLayout_t lc) {
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (op) cublasLtMatmulDescDestroy(op);
  }

  stream_t stream_;
  cublasLtHandle_t handle_ = nullptr;
};

}  // namespace

std::unique_ptr<sumcheck::Int8GemmEngine> make_gpu_int8_gemm(stream_t stream) {
  return std::make_unique<CublasLtInt8Gemm>(stream);
}
bool gpu_int8_gemm_is_cublaslt() { return true; }

PTVM_GPU_NAMESPACE_END
