// One proof for many TVM runs (`tvm prove-batch MANIFEST --out DIR --aggregate`).
//
// The aggregate AIR is the union of the jobs' VM AIRs (ptvm/vmair/vm_air.hpp) in one circle
// STARK: for job j its components vm_steps, vm_rom and vm_memory (named "job<j>/..."), then one
// vm_tables shared by all jobs. Relations: vm_byte and vm_bitwise are shared (a range or nibble
// lookup is correct whichever job made it, and the one table counts every job's lookups); each
// job has its own ROM and memory relations (job j: relations 2 + 2j and 3 + 2j), so one job's
// steps cannot use another job's instructions or memory cells (each relation has its own
// challenges; ptvm/air/relabel.hpp). Public inputs: every job's own (initial state, final state,
// the digest of its claim), concatenated in job order, so every claim, their number and their
// order are absorbed into the channel before the first challenge.
//
// Every claim is an ordinary claim (ptvm/vmair/claim.hpp) of one run, with the profile the
// aggregate was proven with; the verifier checks each one as verify_proof would (identities,
// consistency, profile, bits against the floor) and then the one STARK. The aggregate's
// conjectured security is that of its largest LDE domain (the largest job's).
//
// Limits: at most kMaxAggregateJobs jobs and, over all jobs, at most 2^24 step rows (so that no
// LogUp multiplicity of the shared tables reaches the field's characteristic), checked by the
// prover and by the verifier before any STARK work.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/vm/trace.hpp"
#include "ptvm/vmair/claim.hpp"
#include "ptvm/vmair/prove.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::vmair {

inline constexpr std::string_view kAggregateFileFormat = "ptvm-tvm-aggregate/1";
inline constexpr size_t kMaxAggregateJobs = 4096;
inline constexpr uint64_t kMaxAggregateStepRows = uint64_t{1} << 24;

// The AIR of the statements in job order (throws ptvm::Error(Usage) when a statement is not
// provable or the limits above are exceeded).
air::Air build_aggregate_air(std::span<const VmStatement> statements);
// Every claim's public inputs (public_inputs of its statement and digest), in job order.
std::vector<M31> aggregate_public_inputs(std::span<const Claim> claims);
// Main traces of the aggregate's components from the jobs' recorded runs (the tables'
// multiplicities summed over the jobs).
std::vector<std::vector<std::vector<M31>>> build_aggregate_witness(std::span<const VmStatement> statements,
                                                                   std::span<const vm::ExecutionTrace* const> traces);

struct AggregateRun {
  const vm::ExecutionTrace* trace = nullptr;  // a recorded run (record_run)
  int layers = 1;                             // its transformer banks
  bool lockstep = true;                       // how it was recorded (equivalence_for_trace)
};

struct AggregateProveOptions {
  // nullopt: automatic_profile of the longest run (ptvm/vmair/profiles.hpp).
  std::optional<stark::Profile> profile;
  Backend* backend = nullptr;  // nullptr: a CPU backend
  stark::ProgressFn progress;
};

struct AggregateProof {
  std::vector<Claim> claims;  // job order
  stark::StarkProof proof;
  stark::StageTimings timings;
  double witness_ms = 0;
  double prove_ms = 0;
};

AggregateProof prove_aggregate(std::span<const AggregateRun> runs, const AggregateProveOptions& options = {});

// Never throws on any input: every claim checked (claim_rejection; the first failing one is
// named by its job index), the limits, then the STARK; with options.reexecute each run is
// re-executed too. options.expected_program_hash, when set, must hold for every claim.
stark::Verdict verify_aggregate(std::span<const Claim> claims, const stark::StarkProof& proof,
                                const VerifyOptions& options = {});
// The conjectured security of an aggregate proof: that of its largest job.
uint32_t aggregate_security_bits(std::span<const Claim> claims);

// Files. JSON: {"format": "ptvm-tvm-aggregate/1", "claims": [...], "proof": {...}}. Binary: the
// 8 bytes "PTVMAGGB", the number of claims (u32 LE), each claim as its length (u32 LE) and
// canonical JSON, then the STARK proof's binary encoding to the end. Readers are strict (sizes,
// counts, duplicate keys) and throw ptvm::Error(Parse) naming the field.
inline constexpr char kAggregateBinaryMagic[8] = {'P', 'T', 'V', 'M', 'A', 'G', 'G', 'B'};
std::string aggregate_file_json(std::span<const Claim> claims, const stark::StarkProof& proof);
std::vector<uint8_t> aggregate_file_binary(std::span<const Claim> claims, const stark::StarkProof& proof);
struct AggregateFile {
  std::vector<Claim> claims;
  stark::StarkProof proof;
};
AggregateFile read_aggregate_file(std::span<const uint8_t> bytes);
// Whether the bytes are an aggregate file (the binary magic, or JSON whose "format" is the
// aggregate's): lets `tvm verify` tell the proof kinds apart.
bool is_aggregate_file(std::span<const uint8_t> bytes);

}  // namespace ptvm::vmair
