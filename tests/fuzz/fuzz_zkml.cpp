// libFuzzer target for the zkML readers: a PTVMBLKP block proof file (ptvm/zkml/block_io.hpp) ->
// its reader, and when it parses, the block or decode-chain verifier against the claim's model;
// any other bytes -> the SafeTensors reader (ptvm/zkml/safetensors.hpp). A reader may only throw
// ptvm::Error(Parse); a verifier must return a verdict, and a rejection must say why.
// Corpus (corpus_zkml/): a d_model 8 block proof made by `tvm prove-block --shape
// d_model=8,q_heads=2,kv_heads=1,head_dim=4,ffn=8,seq_len=2 --seed 1`, its first 4 KiB, and a small
// SafeTensors file of every dtype.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/zkml/block_io.hpp"
#include "ptvm/zkml/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ptvm::zkml;
  const std::span<const uint8_t> bytes(data, size);
  if (is_block_proof_file(bytes)) {
    std::vector<BlockProof> proofs;
    try {
      proofs = block_proofs_from_bytes(bytes);
    } catch (const ptvm::Error& e) {
      if (e.category() != ptvm::ErrorCategory::Parse) std::abort();
      return 0;
    }
    GraphVerdict v;
    if (proofs.size() == 1 && !proofs[0].claim.decode) {
      v = verify_block(proofs[0], proofs[0].claim.model);
    } else {
      DecodeChain chain;
      chain.steps = proofs;
      v = verify_decode(chain, proofs[0].claim.model);
    }
    if (!v.accepted && v.reason.empty()) std::abort();
    return 0;
  }
  try {
    parse_safetensors(bytes, "fuzz input");
  } catch (const ptvm::Error& e) {
    if (e.category() != ptvm::ErrorCategory::Parse) std::abort();
  }
  return 0;
}
