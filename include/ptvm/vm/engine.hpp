// Engines execute a Program one step at a time. Two implementations: the native interpreter
// (host/vm/native_*.cpp) and the transformer engine (host/vm/transformer_*.cpp), which computes
// through compiled FFN weights and reads memory by hard attention over a convex-hull KV cache.
#pragma once
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ptvm/vm/isa.hpp"
#include "ptvm/vm/trace.hpp"

namespace ptvm::vm {

enum class EngineKind : uint8_t { Native, Transformer, Tensor };

struct TransformerConfig {
  int d_model = 36;
  int num_heads = 18;
  int num_layers = 1;   // banks of contiguous instructions; results never depend on it
  int ff_dim = 72;
  int vocab_size = 256;
  int max_seq_len = 1000000;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual EngineKind kind() const = 0;
  // Executes one instruction and returns its trace row. Precondition: !state().halted.
  // Runtime errors throw ptvm::Error(ErrorCategory::Runtime) whose message names the step.
  virtual TraceRow step() = 0;
  virtual const MachineState& state() const = 0;
  virtual uint64_t steps_taken() const = 0;
  // The value of every cell as the latest write left it (the hard-attention read of each cell).
  virtual std::vector<int16_t> memory() const = 0;
};

std::unique_ptr<Engine> make_native_engine(const Program& program, AttentionMode attention);
std::unique_ptr<Engine> make_transformer_engine(const Program& program, AttentionMode attention,
                                                const TransformerConfig& config);

}  // namespace ptvm::vm
