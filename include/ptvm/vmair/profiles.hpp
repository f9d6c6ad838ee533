// Proof profiles for VM runs: stark's named profiles plus ones tuned for small VM traces.
//
// Small traces (a few hundred steps; the 256-row tables dominate) pay mostly for the proof of work
// and the per-query work, not for the LDE, so a larger blowup buys security with fewer queries
// and fewer PoW bits:
//   "vm-small": log_blowup 4 (16x), 20 queries, 16 PoW bits = 96 conjectured bits.
// (Measured on fibonacci, one thread: about half the CPU time of "default"; log_blowup 3 with 26
// queries and 18 PoW bits was within noise of it, log_blowup 5 slower.)
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/stark/profile.hpp"

namespace ptvm::vmair {

inline const std::vector<stark::Profile>& vm_profiles() {
  static const std::vector<stark::Profile> profiles = {
      {"vm-small", 4, 20, 16, 0},
  };
  return profiles;
}

// A VM profile or one of stark's named profiles; nullopt if the name is unknown.
inline std::optional<stark::Profile> find_profile(std::string_view name) {
  for (const auto& p : vm_profiles())
    if (p.name == name) return p;
  return stark::find_profile(name);
}

// Throws ptvm::Error(Usage) naming the known profiles.
inline stark::Profile profile_by_name(std::string_view name) {
  if (auto p = find_profile(name)) return *p;
  std::string known;
  for (const auto& p : vm_profiles()) known += (known.empty() ? "" : ", ") + p.name;
  for (const auto& p : stark::named_profiles()) known += ", " + p.name;
  throw Error(ErrorCategory::Usage, "unknown proof profile '" + std::string(name) + "' (known: " + known + ")");
}

// The automatic choice: "vm-small" for small runs (where proof of work and queries dominate),
// "default" (blowup 2) for long ones (where the LDE dominates).
inline constexpr uint64_t kSmallRunMaxSteps = uint64_t{1} << 12;
inline stark::Profile automatic_profile(uint64_t steps) {
  return profile_by_name(steps <= kSmallRunMaxSteps ? "vm-small" : "default");
}

}  // namespace ptvm::vmair
