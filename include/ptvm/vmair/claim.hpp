// The claim of a VM proof: what a proof is allowed to mean (DESIGN.md "The claim", ISA.md "Claim
// commitments"), its JSON form and the original's identities.
//
// A claim names the statement version and semantic scope, the program (instructions in the
// original's encoding and the initial memory), the attention mode and transformer configuration,
// max_steps, the number of steps, the final state and memory, the proof system (profile and its
// parameters, conjectured security bits), the identities program_hash, transformer_config_hash and
// deterministic_model_hash (BLAKE2b-256 of canonical JSON exactly as ISA.md gives them), and the
// prover build. The whole claim, as canonical JSON (sorted keys, no whitespace), is hashed with
// BLAKE2b-256; the digest becomes 16 public inputs of the proof, so every field is absorbed into
// the channel before the first challenge. The verifier recomputes every identity and the digest.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ptvm/hash/blake2b.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/isa.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace ptvm::vmair {

inline constexpr std::string_view kStatementVersion = "ptvm-tvm-execution/2";
// What the proof proves, and only that: the engines' agreement is not in the scope; it is the
// claim's `equivalence` field, attested (bound into the channel, checked by --reexecute).
inline constexpr std::string_view kSemanticScope =
    "tvm-isa/1: all 26 instructions; i16 two's-complement wrapping; carry = signed overflow for "
    "ADD/SUB/MUL, signed less-than for CMP, cleared by LOADI/LOAD/POP/AND/OR/XOR; zero = (acc == 0); "
    "memory reads by average-hard attention (latest write); run halted or stopped at max_steps";
inline constexpr std::string_view kProofSystem = "circle-stark-m31/logup";

struct ClaimIdentities {
  std::string program_hash;              // lowercase hex, 64 digits
  std::string transformer_config_hash;
  std::string deterministic_model_hash;
  friend bool operator==(const ClaimIdentities&, const ClaimIdentities&) = default;
};

// The prover's record of the engines' agreement (attested, not proven): checked_steps steps ran on
// the transformer with the native interpreter in lockstep (0: the trace came from the native
// engine alone), and the fingerprint of each engine's run (run_fingerprint; the transformer's is
// empty when nothing was checked).
struct Equivalence {
  uint64_t checked_steps = 0;
  std::string transformer_fingerprint;  // lowercase hex, 64 digits, or empty
  std::string native_fingerprint;       // lowercase hex, 64 digits
  bool operator==(const Equivalence&) const = default;
};

inline constexpr std::string_view kFingerprintTag = "ptvm-run-fingerprint/1";
// BLAKE2b-256 over the tag and, per step, pc, opcode, operand (i32), the state after (pc, acc,
// sp, zero, carry, halted), the memory access (kind, address, value, previous), then the final
// memory; little-endian. Lowercase hex. (statement-v1 uses the same fingerprint.)
std::string run_fingerprint(const vm::ExecutionTrace& trace);

struct Claim {
  std::string statement_version{kStatementVersion};
  std::string semantic_scope{kSemanticScope};
  VmStatement statement;                 // program, max_steps, steps, final state and memory
  vm::AttentionMode attention;           // must be average-hard to be provable
  vm::TransformerConfig transformer_config;
  stark::Profile profile;
  uint32_t security_bits = 0;            // conjectured, for this profile and trace size
  ClaimIdentities identities;
  Equivalence equivalence;
  std::string prover_build;
};

// The original's canonical JSON values (ISA.md "Claim commitments").
nlohmann::json original_program_json(const vm::Program& program);
nlohmann::json original_transformer_config_json(const vm::TransformerConfig& config,
                                                const vm::AttentionMode& attention);
// Canonical text: keys sorted, no whitespace.
std::string canonical_json(const nlohmann::json& value);
ClaimIdentities compute_identities(const vm::Program& program, const vm::TransformerConfig& config,
                                   const vm::AttentionMode& attention);

// The transformer configurations a VM claim may name: exactly the ones the compiler builds for
// the prover (the fixed state-token model: d_model 36, 18 two-dimensional heads, ff_dim 72, vocab
// 256, max_seq_len 10^6) with 1..256 instruction banks. The verifier recomputes the config and
// model hashes from the claim, so without this check a claim could label the run with a model
// that does not exist.
vm::TransformerConfig provable_transformer_config(int num_layers);
// The reason `config` is not one of them, naming the field, or nullopt.
std::optional<std::string> check_transformer_config(const vm::TransformerConfig& config);

// Log2 of the largest LDE domain (committed rows) a proof of `statement` under `profile` has.
uint32_t claim_log_lde_size(const VmStatement& statement, const stark::Profile& profile);
// Conjectured security bits of `profile` for the AIR of `statement` (largest LDE domain).
uint32_t claim_security_bits(const VmStatement& statement, const stark::Profile& profile);

// The same formula with the number of distinct first-layer FRI pairs the verifier's queries
// actually opened (stark::Verdict::queries_opened) in place of the profile's n_queries.
uint32_t achieved_security_bits(const Claim& claim, uint32_t queries_opened);

nlohmann::json claim_to_json(const Claim& claim);
// Strict reader: every field present with the right type and range; unknown fields rejected.
// Throws ptvm::Error(Parse) naming the field.
Claim claim_from_json(const nlohmann::json& value);

// BLAKE2b-256 of the canonical claim JSON, and its 16 big-endian 16-bit words (public inputs).
hash::Blake2b256Hash claim_digest(const Claim& claim);
std::vector<uint16_t> digest_words(const hash::Blake2b256Hash& digest);

}  // namespace ptvm::vmair
