// The F128 STARK's named options (ptvm/stark128/stark128.hpp).
#include "ptvm/common/error.hpp"
#include "ptvm/stark128/stark128.hpp"

namespace ptvm::stark128 {

uint32_t conjectured_security_bits(const Options& o, uint32_t log_lde) {
  uint32_t log_b = 0;
  while (log_b < 31 && (1u << log_b) < o.expansion_factor) ++log_b;
  const uint64_t bits = uint64_t{o.num_colinearity_checks} * log_b + o.pow_bits;
  const uint32_t cap = log_lde + 2 >= 128 ? 0 : 128 - log_lde - 2;
  return static_cast<uint32_t>(bits < cap ? bits : cap);
}

const std::vector<Options>& named_profiles() {
  static const std::vector<Options> profiles = {
      {"default", 4, 2, 2, 0},
      {"production-v1", 4, 16, 32, 0},
      {"heavier", 8, 16, 32, 0},
      {"ptvm-96", 8, 28, 96, 12},
  };
  return profiles;
}

std::optional<Options> find_profile(std::string_view name) {
  for (const auto& p : named_profiles())
    if (p.name == name) return p;
  return std::nullopt;
}

Options profile_by_name(std::string_view name) {
  if (auto p = find_profile(name)) return *p;
  std::string known;
  for (const auto& p : named_profiles()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error(ErrorCategory::Usage, "unknown STARK profile '" + std::string(name) + "' (known: " + known + ")");
}

std::optional<std::string> validate_options(const Options& o) {
  const uint32_t e = o.expansion_factor;
  if (e < 4 || e > 1024 || (e & (e - 1)) != 0)
    return "expansion factor " + std::to_string(e) + " is not a power of two in [4, 1024]";
  if (o.num_colinearity_checks < 1 || o.num_colinearity_checks > 1024)
    return "number of colinearity checks " + std::to_string(o.num_colinearity_checks) + " outside [1, 1024]";
  if (o.pow_bits > 30) return "proof-of-work bits " + std::to_string(o.pow_bits) + " above 30";
  if (o.security_level < 1 || o.security_level > 128)
    return "security level " + std::to_string(o.security_level) + " outside [1, 128]";
  if (conjectured_security_bits(o) < o.security_level)
    return "the options give " + std::to_string(conjectured_security_bits(o)) +
           " conjectured bits (colinearity checks x log2(expansion factor) + proof-of-work bits), below their "
           "security level " + std::to_string(o.security_level);
  return std::nullopt;
}

}  // namespace ptvm::stark128
