// The circle-STARK verifier (CPU). It replays the channel, checks the LogUp sums, the composition
// at the OODS point, the proof of work, every Merkle path, the DEEP answers, the FRI folds and the
// last layer, and only then recomputes the preprocessed commitment (the one check whose cost grows
// with the trace size, so a forged proof cannot make the verifier pay for it). It returns a verdict
// with a reason and never throws or crashes on any proof object.
#pragma once
#include <optional>
#include <span>
#include <string>

#include "ptvm/air/component.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"

namespace ptvm::stark {

struct Verdict {
  bool accepted = false;
  std::string reason;  // empty when accepted
  // When accepted: the distinct first-layer FRI pairs the queries opened (n_queries, or every pair
  // of a domain with fewer), i.e. the query count the security actually rests on.
  uint32_t queries_opened = 0;
  explicit operator bool() const { return accepted; }
};

// The commitment of tree 0 (the AIR's preprocessed columns and boundary selectors). Callers that
// verify many proofs of one AIR compute it once and pass it to verify().
hash::Blake2sHash preprocessed_commitment(const air::Air& air, const Profile& profile);

// `expected` is the profile the caller requires; a proof made with another profile is rejected.
Verdict verify(const air::Air& air, std::span<const M31> public_inputs, const StarkProof& proof,
               const Profile& expected, std::optional<hash::Blake2sHash> preprocessed_root = std::nullopt);

}  // namespace ptvm::stark
