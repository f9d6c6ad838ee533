// Host-sim has no cuBLAS: the cuBLAS path of the tensor FFN (cublas_ffn_cuda.cpp in ptvm::cuda) is
// refused with a clear error; the project's own FP64 kernel (TensorGemmPath::OwnKernel) runs here.
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/tensor_gemm.hpp"

PTVM_GPU_NAMESPACE_BEGIN

struct CublasFfn::Impl {};

bool cublas_available() { return false; }

CublasFfn::CublasFfn(stream_t /*stream*/) {
  throw Error(ErrorCategory::Usage, "the cuBLAS tensor path needs the CUDA runtime (ptvm::cuda); "
                                    "host-sim runs the own FP64 kernel");
}

CublasFfn::~CublasFfn() = default;

void CublasFfn::evaluate(const TensorFfnWeights&, gptr<const double>, gptr<double>, gptr<double>,
                         gptr<double>, gptr<const uint32_t>, size_t, std::span<const GemmGroup>,
                         const void* const*) {
  throw Error(ErrorCategory::Internal, "CublasFfn::evaluate under host-sim");  // no object can exist
}

PTVM_GPU_NAMESPACE_END
