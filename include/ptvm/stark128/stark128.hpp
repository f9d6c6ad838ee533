// A STARK over F128 (p = 407 * 2^119 + 1) for any Air128 (ptvm/stark128/air128.hpp): the proof
// system of statement-v1. PROTOCOL (all hashing BLAKE2b-256, channel ptvm/hash/blake2b_channel.hpp):
//
//   N = 2^L_max, the largest component; B = expansion factor (a power of two >= 4); the LDE domain
//   D = g <w_{NB}> (g = 3, stored BIT-REVERSED: position i holds g w^{bitrev(i)}), every column of
//   every component extended to D (a column of 2^n rows has degree < 2^n <= N). Component c's
//   rows are the subgroup <w_{2^n_c}>, its "next row" of x is w_{2^n_c} x, its vanishing
//   polynomial x^{2^n_c} - 1.
//   1. mix "ptvm-stark128/1", the options, the component sizes and the public inputs;
//      commit the preprocessed columns (the verifier recomputes this tree) and mix its root;
//      commit the main columns, mix the root.
//   2. draw (z_r, alpha_r) per relation; build the LogUp interaction columns (one F128 column per
//      batch, the last a running sum); mix the claimed sums per component, commit, mix the root.
//   3. draw lambda; H(x) = sum_c sum_j lambda^j_global C_{c,j}(x) / (x^{2^n_c} - 1) (degree < 2N);
//      H = H0(x) + x^N H1(x), H0, H1 of degree < N, committed on D; mix the root.
//   4. draw the OODS point zeta (redrawn while it lies in D or in a trace subgroup); the prover
//      sends every column at zeta and at w_c zeta (its component's next row) and H0(zeta),
//      H1(zeta); mixed. The verifier checks the AIR at zeta against H0 + zeta^N H1.
//   5. draw gamma; the DEEP quotient F0(x) = sum_k gamma^k (f_k(x) - f_k(p_k)) / (x - p_k) over
//      all (column, point) pairs in order (preprocessed, main, interaction, composition; by
//      component, column, offset), degree < N.
//   6. FRI over the multiplicative group (x -> x^2): F_{i+1}(x^2) = (F_i(x) + F_i(-x))/2 +
//      beta_i (F_i(x) - F_i(-x))/(2x), beta_i drawn after committing F_i (i >= 1; F0 is not
//      committed, the verifier computes it from the trace openings); log2(N) folds; the last
//      layer is a constant, sent and mixed.
//   7. proof of work: nonce with Blake2b-256(LE32(0x12345678) ‖ digest ‖ LE32(pow_bits) ‖
//      LE64(nonce)) having pow_bits trailing zero bits (128-bit LE of its first 16 bytes); mixed.
//   8. queries: draw_queries(log2(NB) - 1, n_queries), pair indices q: the trace trees opened at
//      2q, 2q+1, FRI layer i at 2(q >> i), 2(q >> i) + 1.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/field/f128.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/merkle_generic.hpp"
#include "ptvm/stark128/air128.hpp"

namespace ptvm::stark128 {

inline constexpr std::string_view kProtocolTag = "ptvm-stark128/1";

// The original's STARK options (expansion factor, colinearity checks = FRI queries, security
// level) plus ptvm's proof-of-work bits.
struct Options {
  std::string name;                    // the profile's name, or "custom"
  uint32_t expansion_factor = 4;       // power of two, 4..1024
  uint32_t num_colinearity_checks = 2; // queries, 1..1024
  uint32_t security_level = 2;         // the bits the options must reach (conjectured)
  uint32_t pow_bits = 0;               // 0..30
  bool operator==(const Options&) const = default;
};

// The original's formula, queries x log2(expansion), plus the proof-of-work bits; capped by the
// field for a given LDE size (2^log_lde): 128 - log_lde - 2 (a random-point error ~ degree / p).
uint32_t conjectured_security_bits(const Options& o, uint32_t log_lde = 0);
// Named profiles: the original's "default" (4, 2, 2), "production-v1" (4, 16, 32),
// "heavier" (8, 16, 32), all without proof of work; ptvm's "ptvm-96" (8, 28, 96) with 12 PoW bits
// = 28 * 3 + 12 = 96 conjectured bits.
const std::vector<Options>& named_profiles();
std::optional<Options> find_profile(std::string_view name);
Options profile_by_name(std::string_view name);  // throws ptvm::Error(Usage) naming the known ones
// Ranges, and conjectured bits >= security_level; the reason or nullopt.
std::optional<std::string> validate_options(const Options& o);

using Hash = hash::Blake2b256Hash;
using Decommitment = hash::GenericMerkleDecommitment<hash::Blake2bMerkleHasher, F128>;

struct TreeOpening {
  std::vector<F128> values;  // position ascending, column order
  Decommitment decommitment;
  bool operator==(const TreeOpening&) const = default;
};

struct Proof {
  Hash main_root, interaction_root, composition_root;
  std::vector<F128> claimed_sums;    // per component
  std::vector<F128> sampled_values;  // see sample layout (prover.cpp / verifier.cpp)
  std::vector<Hash> fri_roots;       // layers 1 .. log2(N) - 1
  F128 fri_last;
  uint64_t pow_nonce = 0;
  TreeOpening main, interaction, composition;
  std::vector<TreeOpening> fri_layers;  // layers 1 .. log2(N) - 1
  bool operator==(const Proof&) const = default;
};

struct Timings {
  double commit_ms = 0, interaction_ms = 0, composition_ms = 0, fri_ms = 0, total_ms = 0;
};

// Main columns: [component][column] in row order, 2^log_rows values each.
using Witness = std::vector<std::vector<std::vector<F128>>>;

class Backend128;  // ptvm/stark128/backend.hpp

// Throws ptvm::Error(Usage) on bad options or witness shapes. A witness that breaks a constraint
// still yields a proof (which the verifier rejects); the prover does not check it. `backend`:
// where the column work runs (nullptr: the CPU reference); the proof bytes do not depend on it.
Proof prove(const Air128& air, const Witness& witness, std::span<const F128> public_inputs, const Options& options,
            Timings* timings = nullptr, Backend128* backend = nullptr);

struct Verdict {
  bool accepted = false;
  std::string reason;  // empty when accepted
};
// Never throws on any proof.
Verdict verify(const Air128& air, std::span<const F128> public_inputs, const Options& options, const Proof& proof);

// Binary encoding: "PTVMF128" then the fields in order (u32 LE counts, 16-byte LE canonical F128,
// 32-byte hashes, u64 nonce). The reader checks every count against the AIR-independent limits
// below and throws ptvm::Error(Parse) naming the field.
inline constexpr size_t kMaxProofBytes = size_t{64} << 20;
std::vector<uint8_t> proof_to_binary(const Proof& proof);
Proof proof_from_binary(std::span<const uint8_t> bytes);

}  // namespace ptvm::stark128
