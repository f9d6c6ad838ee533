// Proving and verifying TVM runs: the claim, the circle-STARK proof of the VM AIR, and the proof
// file ({"format": "ptvm-tvm-proof/1", "claim": {...}, "proof": {...}}).
//
// prove_program first runs the transformer engine with the native interpreter in lockstep and
// refuses (ptvm::Error Divergence) on the first step where they differ; the witness is the
// recorded ExecutionTrace. verify_proof never throws on any claim/proof pair: it checks the
// claim (versions, scope, attention mode, identities recomputed, statement consistency, profile
// and security bits) and then the STARK with the claim digest as public inputs.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/trace.hpp"
#include "ptvm/vmair/claim.hpp"

namespace ptvm::vmair {

inline constexpr std::string_view kProofFileFormat = "ptvm-tvm-proof/1";

struct ProveOptions {
  uint64_t max_steps = vm::kDefaultMaxSteps;
  // nullopt: automatic, "vm-small" for runs of at most 2^12 steps, "default" above (see
  // ptvm/vmair/profiles.hpp); both give 96 conjectured bits.
  std::optional<stark::Profile> profile;
  int layers = 1;             // transformer banks
  bool lockstep = true;       // run transformer + native in lockstep (false: native only; tests)
  Backend* backend = nullptr; // nullptr: a CPU backend
  stark::ProgressFn progress;  // optional: called as each prover stage starts (see stark::prove)
  // The CPU prover's memory is bounded before it starts: a run whose estimate
  // (estimated_prover_bytes) is above this is refused with a Usage error naming both figures,
  // instead of failing later in an allocation. 0: this machine's physical memory.
  uint64_t max_memory_bytes = 0;
};

// Peak host memory of proving `statement` under `profile` with the CPU backend, estimated from
// the trace size: measured at about 3.2 KB per trace row at blowup 2 (830 MB for 2^18 steps of
// the default profile, 214 MB for 2^16), scaled with the blowup; an estimate, not a bound.
uint64_t estimated_prover_bytes(const VmStatement& statement, const stark::Profile& profile);
uint64_t physical_memory_bytes();

struct ProvedRun {
  Claim claim;
  stark::StarkProof proof;
  stark::StageTimings timings;
  double execute_ms = 0;  // running the engines (trace generation)
  double witness_ms = 0;  // AIR columns from the trace
  double prove_ms = 0;    // the STARK prover (timings.total_ms plus setup)
};

// The engines' agreement for a recorded run: with `lockstep` (the trace is the transformer's,
// checked step by step against the native interpreter) the native interpreter runs once more on
// its own and both fingerprints are recorded (ptvm::Error Divergence if they differ); without,
// only the native fingerprint of the trace, and no checked steps.
Equivalence equivalence_for_trace(const vm::ExecutionTrace& trace, bool lockstep);

// stark::prove on `backend`, or on a CPU backend made for the call when it is null (the rule of
// ProveOptions::backend); progress is passed on when set.
stark::StarkProof prove_on(const air::Air& air, std::span<const M31> public_inputs,
                           const std::vector<std::vector<std::vector<M31>>>& main_traces, const stark::Profile& profile,
                           Backend* backend, stark::StageTimings* timings, const stark::ProgressFn& progress);

// The claim a recorded run establishes (identities, security bits, equivalence and build).
Claim claim_for_trace(const vm::ExecutionTrace& trace, const vm::TransformerConfig& config,
                      const stark::Profile& profile, const Equivalence& equivalence);

// The run prove_program proves: the program run with options.max_steps and options.layers
// (transformer + native in lockstep unless options.lockstep is false), its trace recorded.
// max_steps at or above kMaxProvableSteps is refused before anything runs.
struct RecordedRun {
  vm::ExecutionTrace trace;
  double execute_ms = 0;
};
RecordedRun record_run(const vm::Program& program, const ProveOptions& options);

// record_run, then prove_trace.
ProvedRun prove_program(const vm::Program& program, const ProveOptions& options);
// Proves an already recorded run (e.g. produced by another thread).
ProvedRun prove_trace(const vm::ExecutionTrace& trace, const ProveOptions& options, double execute_ms = 0);

// A proof's profile is chosen by its prover, so the verifier must set the floor: by default a
// claim below 96 conjectured bits is rejected, however valid the proof (a 1-query proof of a false
// statement is cheap to forge). Tests of insecure test profiles lower this explicitly.
inline constexpr uint32_t kDefaultMinSecurityBits = 96;

// Resource policy: the verifier's cost no longer grows with the claimed trace (the step
// component's preprocessed columns are succinct: tree 0 holds only the program's ROM, memory and
// the 256-row tables, recomputed last, after every cheap check), only with its logarithm (Merkle
// paths, FRI layers). Claims whose largest LDE domain is above 2^max_log_lde_size are still
// refused before any work: 2^26 rows covers 2^22 steps at blowup 16 (vm-small) and 2^24 steps
// (kMaxProvableSteps) at blowup 4; larger proofs need an explicit, larger limit.
inline constexpr uint32_t kDefaultMaxLogLdeSize = 26;

struct VerifyOptions {
  uint32_t min_security_bits = kDefaultMinSecurityBits;
  bool reexecute = false;  // rerun both engines from the claim and compare the final state
  // By default only named profiles (find_profile, with exactly their parameters) are accepted:
  // a prover-defined profile reaching the floor by the formula (say log blowup 16, 6 queries,
  // no proof of work) stands on a conjecture far from where it was studied.
  bool allow_custom_profiles = false;
  uint32_t max_log_lde_size = kDefaultMaxLogLdeSize;
  // When set: the claim must be about this program (its program_hash, lowercase hex), checked
  // before anything else (tvm verify --program / --expect-program-hash).
  std::optional<std::string> expected_program_hash;
};

stark::Verdict verify_proof(const Claim& claim, const stark::StarkProof& proof, const VerifyOptions& options = {});

// The claim-level part of verify_proof, before any STARK work: versions and scope, identities
// recomputed, statement consistency, the profile (named, equal to proof_profile), security bits
// against the floor, the LDE limit. Returns the rejection reason, or nullopt.
std::optional<std::string> claim_rejection(const Claim& claim, const stark::Profile& proof_profile,
                                           const VerifyOptions& options);
// Re-executes transformer and native in lockstep from the claim and compares steps, final state
// and final memory (VerifyOptions::reexecute). Returns the rejection reason, or nullopt.
std::optional<std::string> reexecution_rejection(const Claim& claim);

// Proof file: JSON text. The reader enforces stark::kMaxProofBytes and throws ptvm::Error(Parse)
// naming the field on anything malformed.
std::string proof_file_json(const Claim& claim, const stark::StarkProof& proof);
struct ProofFile {
  Claim claim;
  stark::StarkProof proof;
};
ProofFile read_proof_file_json(std::string_view text);

// Binary proof file: the 8 bytes "PTVMTVMB", the claim's length (u32 LE) and the claim as
// canonical JSON (read with the same strict reader as the JSON file), then the STARK proof in its
// binary encoding (stark::proof_to_binary) to the end of the file. Same limits as the JSON file.
inline constexpr char kProofFileBinaryMagic[8] = {'P', 'T', 'V', 'M', 'T', 'V', 'M', 'B'};
inline constexpr size_t kMaxClaimBytes = size_t{1} << 20;
std::vector<uint8_t> proof_file_binary(const Claim& claim, const stark::StarkProof& proof);
ProofFile read_proof_file_binary(std::span<const uint8_t> bytes);
// Either encoding, told apart by the magic (binary) or anything else (JSON).
ProofFile read_proof_file(std::span<const uint8_t> bytes);
bool is_binary_proof_file(std::span<const uint8_t> bytes);

}  // namespace ptvm::vmair
