#include "ptvm/stark/profile.hpp"

#include "ptvm/common/error.hpp"

namespace ptvm::stark {

const std::vector<Profile>& named_profiles() {
  static const std::vector<Profile> profiles = {
      {"default", 1, 80, 16, 0},
      {"blowup4", 2, 36, 24, 0},
      {"stwo-cairo", 1, 70, 26, 0},
      {"fast-test-insecure", 1, 8, 4, 0},
      {"blowup4-test-insecure", 2, 6, 2, 1},
  };
  return profiles;
}

std::optional<Profile> find_profile(std::string_view name) {
  for (const auto& p : named_profiles())
    if (p.name == name) return p;
  return std::nullopt;
}

Profile profile_by_name(std::string_view name) {
  if (auto p = find_profile(name)) return *p;
  std::string known;
  for (const auto& p : named_profiles()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error(ErrorCategory::Usage, "unknown proof profile '" + std::string(name) + "' (known: " + known + ")");
}

std::optional<std::string> validate_profile(const Profile& p) {
  if (p.log_blowup < 1 || p.log_blowup > 16) return "log_blowup " + std::to_string(p.log_blowup) + " outside [1, 16]";
  if (p.n_queries < 1 || p.n_queries > 1024) return "n_queries " + std::to_string(p.n_queries) + " outside [1, 1024]";
  if (p.pow_bits > 40) return "pow_bits " + std::to_string(p.pow_bits) + " above 40";
  if (p.log_last_layer_degree_bound > 10)
    return "log_last_layer_degree_bound " + std::to_string(p.log_last_layer_degree_bound) + " above 10";
  if (p.name.size() > 64) return "profile name longer than 64 bytes";
  return std::nullopt;
}

}  // namespace ptvm::stark
