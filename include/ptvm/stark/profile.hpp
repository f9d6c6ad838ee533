// Proof-system parameters of the circle STARK as named profiles (PROTOCOL.md §11).
//
// Conjectured ("ethSTARK-style") security = n_queries * log_blowup + pow_bits, capped by what the
// field allows (see conjectured_security_bits). A profile that is not meant to be secure says so in
// its name ("-insecure").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptvm::stark {

struct Profile {
  std::string name;
  uint32_t log_blowup = 1;                  // LDE blowup 2^log_blowup, 1..16
  uint32_t n_queries = 70;                  // FRI / PCS queries drawn
  uint32_t pow_bits = 26;                   // proof-of-work bits ground before the queries
  uint32_t log_last_layer_degree_bound = 0; // FRI stops at a line polynomial of 2^this coefficients

  bool operator==(const Profile&) const = default;
};

// Bits the field leaves after the DEEP-ALI / FRI / LogUp terms: |QM31| ~ 2^124; a random-point
// error is about (degree of what is checked) / |QM31|, and degrees are below the largest
// evaluation domain (times a small constant, hence the 1-bit margin). A conservative cap for the
// conjectured estimate, not a proven bound.
inline uint32_t field_security_cap_bits(uint32_t log_max_domain_size) {
  const uint32_t field_bits = 124;
  const uint32_t used = log_max_domain_size + 1;
  return used >= field_bits ? 0 : field_bits - used;
}

// n_queries * log_blowup + pow_bits, capped by the field for the given largest LDE domain
// (0: no domain given, only the field size caps).
inline uint32_t conjectured_security_bits(const Profile& p, uint32_t log_max_domain_size = 0) {
  uint32_t bits = p.n_queries * p.log_blowup + p.pow_bits;
  uint32_t cap = field_security_cap_bits(log_max_domain_size);
  return bits < cap ? bits : cap;
}

// The named profiles:
//   "default"             log_blowup 1, 80 queries, 16 PoW bits: 96 bits. PoW: 2^16 Blake2s
//                         calls expected (under a millisecond). 8 queries more than 72 + 24 bits
//                         cost ~11% more proof and verification, and save the 2^24-call grind
//                         (~0.25 s on two AVX2 cores: a third of a 2^16-step VM proof; on a GPU
//                         batch, it would cap a device at a few hundred small proofs per second).
//   "blowup4"             log_blowup 2, 36 queries, 24 PoW bits: 96 bits, half the queries and
//                         twice the LDE.
//   "stwo-cairo"          log_blowup 1, 70 queries, 26 PoW bits: 96 bits, stwo-cairo's choice
//                         (~0.6 s of PoW expected on one AVX-512 core).
//   "fast-test-insecure"  log_blowup 1, 8 queries, 4 PoW bits: 12 bits; tests only.
//   "blowup4-test-insecure" log_blowup 2, 6 queries, 2 PoW bits, last layer 2^1: tests only.
const std::vector<Profile>& named_profiles();
// nullopt if no profile has this name.
std::optional<Profile> find_profile(std::string_view name);
// Throws ptvm::Error(Usage) naming the unknown profile and the known ones.
Profile profile_by_name(std::string_view name);
// Checks the ranges every prover/verifier relies on; returns the reason or nullopt.
std::optional<std::string> validate_profile(const Profile& p);

}  // namespace ptvm::stark
