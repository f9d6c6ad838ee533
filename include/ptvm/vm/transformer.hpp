// The transformer engine's state token and the engine built on the compiled model.
//
// The token is the machine's registers as 36 values of +1/-1 (bit set / clear), least significant
// bit first: pc (8), acc as u16 (16), sp (8), zero, carry, halted, and one 0. Memory is not in the
// token: it lives in the attention KV cache (hull_cache.hpp). The engine carries its state only as
// the token and decodes it at every step.
#pragma once
#include <array>
#include <cstdint>
#include <memory>

#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/hull_cache.hpp"
#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

inline constexpr int kTokenWidth = 36;
using StateToken = std::array<int8_t, kTokenWidth>;

// Token positions.
inline constexpr int kTokenPc = 0;  // 8 bits
inline constexpr int kTokenAcc = 8; // 16 bits
inline constexpr int kTokenSp = 24; // 8 bits
inline constexpr int kTokenZero = 32;
inline constexpr int kTokenCarry = 33;
inline constexpr int kTokenHalted = 34;
inline constexpr int kTokenPad = 35; // always 0

StateToken encode_state_token(const MachineState& state);
// Throws ptvm::Error(Internal) when an entry is not +1/-1 (or the pad is not 0).
MachineState decode_state_token(const StateToken& token);

// The engine over an already compiled model (make_transformer_engine compiles and calls this).
std::unique_ptr<Engine> make_transformer_engine(CompiledModel model, AttentionMode attention);

} // namespace ptvm::vm
