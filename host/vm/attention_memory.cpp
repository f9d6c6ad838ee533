#include "ptvm/vm/attention_memory.hpp"


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

int16_t soft_attention_mean(std::span<const uint64_t> steps, std::span<const int16_t> values,
                            double temperature) {
  if (steps.empty()) return 0;
  std::vector<AttentionKey> keys(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) keys[i] = {static_cast<int64_t>(steps[i]), values[i]};
  return soft_attention_read(keys, temperature);
}

// The same soft read as the transformer engine's memory (HullKvMemory::read).
int16_t AttentionMemory::soft_read(size_t address) const {
  const double temperature = mode_.kind == AttentionMode::Kind::Softmax ? 1.0 : mode_.temperature;
  return soft_attention_read(history_[address], temperature);
}

}  // namespace ptvm::vm
