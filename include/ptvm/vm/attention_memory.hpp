// VM memory read through attention (ISA.md "Memory reads are attention").
// Each cell's write history is a list of keys (step, value): the initial value at step 0, a write
// during step k at step k. average-hard reads the latest write (argmax of the query (1, 0)), so
// only the latest value is stored and every access is O(1). The soft modes read the weighted mean
// sum_i w_i v_i / sum_i w_i with w_i = exp((step_i - latest_step) / T), rounded half away from
// zero to i16; histories are kept only when such a mode is active.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/vm/hull_cache.hpp"
#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

class AttentionMemory {
 public:
  AttentionMemory(std::span<const int16_t> initial_memory, AttentionMode mode);

  size_t size() const { return latest_.size(); }
  const AttentionMode& mode() const { return mode_; }

  // The value a read of `address` returns under the attention mode. Precondition: address < size().
  int16_t read(size_t address) const {
    if (!soft_) return latest_[address];
    return soft_read(address);
  }
  // The latest write of the cell (the hard-attention read).
  int16_t latest(size_t address) const { return latest_[address]; }
  // Records a write made during `step` (1-based; steps strictly increase across calls).
  void write(size_t address, int16_t value, uint64_t step) {
    latest_[address] = value;
    if (soft_) history_[address].push_back({static_cast<int64_t>(step), value});
  }
  const std::vector<int16_t>& latest_values() const { return latest_; }

 private:
  int16_t soft_read(size_t address) const;

  AttentionMode mode_;
  bool soft_ = false;
  std::vector<int16_t> latest_;
  std::vector<std::vector<AttentionKey>> history_;  // per cell, in step order; empty unless soft_
};

// The soft-attention mean of a history (steps ascending, values alike), rounded half away from
// zero and clamped to i16: soft_attention_read (hull_cache.hpp), which both engines use, over
// these keys.
int16_t soft_attention_mean(std::span<const uint64_t> steps, std::span<const int16_t> values,
                            double temperature);

}  // namespace ptvm::vm
