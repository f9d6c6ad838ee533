// Convex-hull KV cache (Andrew's monotone chain, incremental) and the attention memory.
#include "ptvm/vm/hull_cache.hpp"

#include <cmath>
#include <string>

#include "ptvm/common/error.hpp"

namespace ptvm::vm {
namespace {

// Cross product of (b - a) and (c - a); > 0 when a, b, c turn counter-clockwise.
int64_t cross(const AttentionKey& a, const AttentionKey& b, const AttentionKey& c) {
  return (b.step - a.step) * (c.value - a.value) - (b.value - a.value) * (c.step - a.step);
}

// Along a hull chain the scores are unimodal: the edge gains q.(h[i+1] - h[i]) go from >= 0 to
// < 0 exactly once (the slopes are monotone and the query picks the matching chain). The first
// vertex after the last non-negative edge is the argmax, and on a zero-gain edge the later vertex
// wins, which is the "largest step among ties" rule.
AttentionKey search_chain(std::span<const AttentionKey> chain, QueryDirection q) {
  size_t lo = 0, hi = chain.size() - 1; // answer in [lo, hi]
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int64_t gain = q.x * (chain[mid + 1].step - chain[mid].step) +
                         q.y * (chain[mid + 1].value - chain[mid].value);
    if (gain >= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return chain[lo];
}

} // namespace

void ConvexHullKeyCache::insert(AttentionKey key) {
  if (key.step < 0 || key.step >= kMaxKeyStep || key.value < -kMaxKeyValue ||
      key.value > kMaxKeyValue)
    throw Error(ErrorCategory::Usage, "attention key (" + std::to_string(key.step) + ", " +
                                          std::to_string(key.value) + ") outside the exact range");
  if (inserted_ > 0 && key.step <= upper_.back().step)
    throw Error(ErrorCategory::Usage, "attention key step " + std::to_string(key.step) +
                                          " is not after the previous step " +
                                          std::to_string(upper_.back().step));
  // Upper hull turns clockwise: drop the last vertex while it lies on or below the new edge.
  while (upper_.size() >= 2 && cross(upper_[upper_.size() - 2], upper_.back(), key) >= 0)
    upper_.pop_back();
  upper_.push_back(key);
  while (lower_.size() >= 2 && cross(lower_[lower_.size() - 2], lower_.back(), key) <= 0)
    lower_.pop_back();
  lower_.push_back(key);
  ++inserted_;
}

AttentionKey ConvexHullKeyCache::argmax(QueryDirection query) const {
  if (inserted_ == 0)
    throw Error(ErrorCategory::Usage, "attention read of an empty key cache");
  if (query.x < -kMaxQueryComponent || query.x > kMaxQueryComponent ||
      query.y < -kMaxQueryComponent || query.y > kMaxQueryComponent)
    throw Error(ErrorCategory::Usage, "attention query component outside the exact range");
  // q.y >= 0: the maximum lies on the upper hull (slopes decrease, gains decrease);
  // q.y < 0: on the lower hull (slopes increase, q.y * slope decreases).
  return search_chain(query.y >= 0 ? std::span<const AttentionKey>(upper_)
                                   : std::span<const AttentionKey>(lower_),
                      query);
}

void ConvexHullKeyCache::clear() {
  upper_.clear();
  lower_.clear();
  inserted_ = 0;
}

HullKvMemory::HullKvMemory(std::span<const int16_t> initial_memory, AttentionMode mode)
    : mode_(mode) {
  if (initial_memory.size() > kMaxMemory)
    throw Error(ErrorCategory::Usage, "memory size " + std::to_string(initial_memory.size()) +
                                          " exceeds " + std::to_string(kMaxMemory));
  if (mode.kind != AttentionMode::Kind::AverageHard &&
      !(std::isfinite(mode.temperature) && mode.temperature > 0))
    throw Error(ErrorCategory::Usage, "attention temperature must be finite and > 0, got " +
                                          std::to_string(mode.temperature));
  cells_.resize(initial_memory.size());
  const bool soft = mode.kind != AttentionMode::Kind::AverageHard;
  if (soft)
    histories_.resize(initial_memory.size());
  for (size_t a = 0; a < initial_memory.size(); ++a) {
    const AttentionKey key{0, initial_memory[a]};
    cells_[a].insert(key);
    if (soft)
      histories_[a].push_back(key);
  }
}

int16_t HullKvMemory::read(size_t address) const {
  if (mode_.kind == AttentionMode::Kind::AverageHard)  // the attention query on the hull
    return static_cast<int16_t>(cells_[address].argmax(QueryDirection{1, 0}).value);
  const double temperature = mode_.kind == AttentionMode::Kind::Softmax ? 1.0 : mode_.temperature;
  return soft_attention_read(histories_[address], temperature);
}

void HullKvMemory::write(size_t address, uint64_t step, int16_t value) {
  const AttentionKey key{static_cast<int64_t>(step), value};
  cells_[address].insert(key);
  if (!histories_.empty())
    histories_[address].push_back(key);
}

std::vector<int16_t> HullKvMemory::latest_values() const {
  std::vector<int16_t> out(cells_.size());
  for (size_t a = 0; a < cells_.size(); ++a)
    out[a] = latest(a);
  return out;
}

std::span<const AttentionKey> HullKvMemory::history(size_t address) const {
  if (histories_.empty())
    return {};
  return histories_[address];
}

int16_t soft_attention_read(std::span<const AttentionKey> history, double temperature) {
  if (history.empty())
    throw Error(ErrorCategory::Usage, "soft attention over an empty history");
  // Steps ascend, so the last key holds the maximal score. exp(x) is exactly 0.0 in double for
  // x < -746, so keys older than kNegligible temperatures add exactly nothing: skipping them (by
  // binary search) keeps long soft runs from going quadratic without changing a bit of the sums.
  constexpr double kNegligible = 750.0;
  const int64_t latest = history.back().step;
  size_t first = 0;
  const double horizon = kNegligible * temperature;
  if (static_cast<double>(latest) > horizon) {
    const auto min_step = static_cast<int64_t>(static_cast<double>(latest) - horizon);
    size_t lo = 0, hi = history.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (history[mid].step < min_step)
        lo = mid + 1;
      else
        hi = mid;
    }
    first = lo;
  }
  double weight_sum = 0.0, weighted = 0.0;
  for (size_t i = first; i < history.size(); ++i) {
    const double exponent = -static_cast<double>(latest - history[i].step) / temperature;
    if (exponent < -kNegligible)
      continue;
    const double w = std::exp(exponent);
    weighted += w * static_cast<double>(history[i].value);
    weight_sum += w;
  }
  double mean = std::round(weighted / weight_sum); // std::round: half away from zero
  if (!(mean >= -32768.0))
    mean = -32768.0;
  if (mean > 32767.0)
    mean = 32767.0;
  return static_cast<int16_t>(mean);
}

} // namespace ptvm::vm
