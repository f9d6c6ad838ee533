// Host-sim's int8 GEMM engine: host-sim has no cuBLASLt, so it is the CPU reference GEMM, named
// so (see ptvm/gpu/int8_gemm.hpp).
#include "ptvm/gpu/int8_gemm.hpp"

#include <string>

PTVM_GPU_NAMESPACE_BEGIN
namespace {

class HostsimInt8Gemm final : public sumcheck::Int8GemmEngine {
 public:
  std::string name() const override { return "cpu (host-sim has no cuBLASLt: the CPU reference GEMM)"; }
  void gemm(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m, size_t k,
            size_t n) override {
    cpu_->gemm(a, bt, c, m, k, n);
  }

 private:
  std::unique_ptr<sumcheck::Int8GemmEngine> cpu_ = sumcheck::make_cpu_int8_gemm();
};

}  // namespace

std::unique_ptr<sumcheck::Int8GemmEngine> make_gpu_int8_gemm(stream_t) { return std::make_unique<HostsimInt8Gemm>(); }
bool gpu_int8_gemm_is_cublaslt() { return false; }

PTVM_GPU_NAMESPACE_END
