// The GPU side of the package, built once per GPU component found (linked with ptvm::hostsim or
// ptvm::cuda, and the VM side's ptvm::vm_hostsim or ptvm::vm_cuda): the runtime this program links reports itself; when kernels can run (always under
// host-sim) a program is proven with the CUDA backend and verified on the CPU.
#include <ptvm/ptvm.hpp>
#include <ptvm/gpu/cuda_backend.hpp>
#include <ptvm/gpu/runtime.hpp>
#include <ptvm/gpu/vmair_device.hpp>

#include <cstdio>
#include <exception>
#include <memory>

int main() {
  try {
    std::printf("runtime: %s, kernels can run: %s\n", ptvm::gpu::runtime_name(),
                ptvm::gpu::device_available() ? "yes" : "no");
    if (!ptvm::gpu::device_available()) {
      std::printf("gpu consumer: no device, linked only\n");
      return 0;
    }
    std::printf("device: %s\n", ptvm::gpu::device_description().c_str());
    std::unique_ptr<ptvm::gpu::CudaBackend> backend = ptvm::gpu::make_cuda_backend();
    ptvm::vmair::register_device_airs(*backend);  // the VM side registers its AIR (ptvm::vm_<component>)
    ptvm::vmair::ProveOptions options;
    options.profile = ptvm::vmair::profile_by_name("fast-test-insecure");
    options.backend = backend.get();
    const auto proved = ptvm::vmair::prove_program(ptvm::vm::assemble_source("LOADI 3\nADD 4\nPUSH\nHALT\n"), options);
    ptvm::vmair::VerifyOptions verify;
    verify.min_security_bits = 0;
    const ptvm::stark::Verdict verdict = ptvm::vmair::verify_proof(proved.claim, proved.proof, verify);
    std::printf("gpu consumer: proof %s%s\n", verdict.accepted ? "accepted" : "rejected: ", verdict.reason.c_str());
    return verdict.accepted ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu consumer: FAILED: %s\n", e.what());
    return 1;
  }
}
