#include "ptvm/vm/attention_memory.hpp"

#include <algorithm>
#include <cmath>

namespace ptvm::vm {

AttentionMemory::AttentionMemory(std::span<const int16_t> initial_memory, AttentionMode mode)
    : mode_(mode),
      soft_(mode.kind != AttentionMode::Kind::AverageHard),
      latest_(initial_memory.begin(), initial_memory.end()) {
  if (soft_) {
    history_.resize(latest_.size());
    for (size_t a = 0; a < latest_.size(); ++a) history_[a].push_back({0, latest_[a]});
  }
}

namespace {
// exp(x) is exactly 0.0 in IEEE double for x < -746 (the smallest subnormal is e^-744.4), so keys
// older than this many temperatures contribute exactly nothing and can be skipped without changing
// a single bit of the sums.
constexpr double kNegligibleExponent = 750.0;

int16_t round_to_i16(double mean) {
  double r = std::round(mean);  // half away from zero
  if (!(r >= -32768.0)) r = -32768.0;  // also catches NaN (cannot happen with finite weights)
  if (r > 32767.0) r = 32767.0;  // the exact mean lies in i16; this only absorbs rounding noise
  return static_cast<int16_t>(r);
}
}  // namespace

int16_t soft_attention_mean(std::span<const uint64_t> steps, std::span<const int16_t> values,
                            double temperature) {
  if (steps.empty()) return 0;
  uint64_t latest = steps.back();
  double weighted = 0, total = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    double x = -static_cast<double>(latest - steps[i]) / temperature;
    if (x < -kNegligibleExponent) continue;
    double w = std::exp(x);
    weighted += w * values[i];
    total += w;
  }
  return round_to_i16(weighted / total);
}

int16_t AttentionMemory::soft_read(size_t address) const {
  const std::vector<Key>& keys = history_[address];
  uint64_t latest = keys.back().step;
  // Skip the prefix whose weights are exactly zero (see kNegligibleExponent): binary search on the
  // ascending steps keeps long soft-mode runs from being quadratic.
  double horizon = kNegligibleExponent * mode_.temperature;
  size_t first = 0;
  if (static_cast<double>(latest) > horizon) {
    auto min_step = static_cast<uint64_t>(static_cast<double>(latest) - horizon);
    first = static_cast<size_t>(
        std::lower_bound(keys.begin(), keys.end(), min_step,
                         [](const Key& k, uint64_t s) { return k.step < s; }) -
        keys.begin());
  }
  double weighted = 0, total = 0;
  for (size_t i = first; i < keys.size(); ++i) {
    double x = -static_cast<double>(latest - keys[i].step) / mode_.temperature;
    if (x < -kNegligibleExponent) continue;
    double w = std::exp(x);
    weighted += w * keys[i].value;
    total += w;
  }
  return round_to_i16(weighted / total);
}

}  // namespace ptvm::vm
