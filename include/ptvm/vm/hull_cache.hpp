// The attention KV cache of the VM's memory: every cell keeps its write history as 2D keys
// (step of the write, value written). A read is attention with a query direction q; the score of a
// key k is q.x * k.step + q.y * k.value. Hard attention returns the key of maximal score, which
// lies on the convex hull of the keys, so only the hull is kept and a read is a binary search over
// the hull's edges (O(log n)). Memory reads use q = (1, 0): the latest write.
//
// Keys of one cell arrive in strictly increasing step order (initial value at step 0, a write
// during step k at step k), so both hulls are maintained incrementally by Andrew's monotone chain
// (amortized O(1) per insert).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

struct AttentionKey {
  int64_t step = 0;  // the score coordinate under the memory query (1, 0)
  int64_t value = 0; // the value written
  friend bool operator==(const AttentionKey&, const AttentionKey&) = default;
};

// score(key) = x * key.step + y * key.value.
struct QueryDirection {
  int64_t x = 1;
  int64_t y = 0;
};

// Bounds that keep every cross product and score exact in int64 (|dx * dy| < 2^61).
inline constexpr int64_t kMaxKeyStep = int64_t{1} << 40;  // steps in [0, 2^40)
inline constexpr int64_t kMaxKeyValue = int64_t{1} << 20; // |value| <= 2^20
inline constexpr int64_t kMaxQueryComponent = int64_t{1} << 20;

inline int64_t attention_score(QueryDirection q, AttentionKey k) {
  return q.x * k.step + q.y * k.value;
}

// Upper and lower convex hulls of one cell's keys, each sorted by increasing step, collinear middle
// points removed.
class ConvexHullKeyCache {
public:
  // Throws ptvm::Error(Usage) when the step is not larger than every earlier step or a coordinate
  // is outside the bounds above.
  void insert(AttentionKey key);

  // The key of maximal score; among equal scores the one with the largest step. O(log hull size).
  // Throws ptvm::Error(Usage) on an empty cache or a query component beyond kMaxQueryComponent.
  AttentionKey argmax(QueryDirection query) const;

  // The most recent key (the hard read under the memory query (1, 0)), O(1).
  const AttentionKey& latest() const { return upper_.back(); }

  bool empty() const { return inserted_ == 0; }
  uint64_t keys_inserted() const { return inserted_; }
  std::span<const AttentionKey> upper_hull() const { return upper_; }
  std::span<const AttentionKey> lower_hull() const { return lower_; }
  void clear();

private:
  std::vector<AttentionKey> upper_;
  std::vector<AttentionKey> lower_;
  uint64_t inserted_ = 0;
};

// The machine's memory as one hull cache per cell, read under an attention mode.
// - AverageHard: the hull argmax under (1, 0).
// - Softmax / HardSoftmax(T): weights exp((step_i - max step) / T) over the cell's whole history,
//   the weighted mean of the values rounded half away from zero to i16. Only these modes keep the
//   full history (the hull cannot answer them).
class HullKvMemory {
public:
  HullKvMemory() = default;
  // Writes every initial value at step 0. Throws ptvm::Error(Usage) on a memory larger than
  // kMaxMemory or a non-positive / non-finite temperature.
  HullKvMemory(std::span<const int16_t> initial_memory, AttentionMode mode);

  size_t size() const { return cells_.size(); }
  const AttentionMode& mode() const { return mode_; }

  // The read of the configured mode. Precondition: address < size() (the engine checks first).
  int16_t read(size_t address) const;
  // The latest write regardless of the mode: O(1), the last key inserted (steps only increase).
  // Memory reads themselves go through read(), the attention query.
  int16_t latest(size_t address) const { return static_cast<int16_t>(cells_[address].latest().value); }
  // A write during step `step` (>= 1, increasing across calls for one cell).
  void write(size_t address, uint64_t step, int16_t value);

  std::vector<int16_t> latest_values() const;
  const ConvexHullKeyCache& cell(size_t address) const { return cells_[address]; }
  // The full history of a cell (soft modes only; empty under AverageHard).
  std::span<const AttentionKey> history(size_t address) const;

private:
  AttentionMode mode_;
  std::vector<ConvexHullKeyCache> cells_;
  std::vector<std::vector<AttentionKey>> histories_; // soft modes only
};

// Soft attention over a history under query (1, 0) at temperature T: the weighted mean of values
// with weights exp((step_i - max step) / T), rounded half away from zero, clamped to i16.
// Summation runs in history order (deterministic); keys whose weight underflows to exactly 0 are
// skipped. Preconditions: steps strictly ascending (the last key is the latest), T > 0.
int16_t soft_attention_read(std::span<const AttentionKey> history, double temperature);

} // namespace ptvm::vm
