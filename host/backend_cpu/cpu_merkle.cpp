// Merkle commitments (BLAKE2s, ptvm/hash/merkle.hpp).
#include "cpu_backend_impl.hpp"

namespace ptvm::backend_cpu {

std::unique_ptr<CommittedTree> CpuBackend::commit(const std::vector<EvaluationsRef>& sets) {
  std::vector<std::span<const M31>> spans;
  for (const EvaluationsRef& s : sets)
    for (const auto& c : host(s).cols) spans.emplace_back(c);
  return std::make_unique<HostTree>(hash::MerkleTree::commit(std::move(spans), configured_thread_count()));
}

}  // namespace ptvm::backend_cpu
