// The transformer engine's state token and the engine built on the compiled model.
//
// The token is the machine's registers as 36 values of +1/-1 (bit set / clear), least significant
// bit first: pc (8), acc as u16 (16), sp (8), zero, carry, halted, and one 0. Memory is not in the
// token: it lives in the attention KV cache (hull_cache.hpp). The engine carries its state only as
// the token and decodes it at every step.
#pragma once
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/hull_cache.hpp"
#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

inline constexpr int kTokenWidth = 36;
using StateToken = std::array<int8_t, kTokenWidth>;

[[noreturn]] void throw_malformed_token(); // ptvm::Error(Internal)

// Token positions.
inline constexpr int kTokenPc = 0;  // 8 bits
inline constexpr int kTokenAcc = 8; // 16 bits
inline constexpr int kTokenSp = 24; // 8 bits
inline constexpr int kTokenZero = 32;
inline constexpr int kTokenCarry = 33;
inline constexpr int kTokenHalted = 34;
inline constexpr int kTokenPad = 35; // always 0

namespace token_detail {
// Token bytes of one 8-bit field: byte k is +1 when bit k is set, else -1.
inline constexpr std::array<std::array<int8_t, 8>, 256> kByteToTokenBytes = [] {
  std::array<std::array<int8_t, 8>, 256> table{};
  for (int b = 0; b < 256; ++b)
    for (int k = 0; k < 8; ++k)
      table[b][k] = ((b >> k) & 1) ? 1 : -1;
  return table;
}();

// Decodes 8 token bytes into 8 bits; sets bits of `bad` when a byte is not +1/-1.
inline uint32_t decode_token_byte(const int8_t* bytes, uint64_t& bad) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t word;
    std::memcpy(&word, bytes, 8);
    // +1 is 0x01, -1 is 0xFF: the top bit says -1; every byte must equal the form its top bit
    // selects. The set bits (top bit clear) are gathered into one byte by the multiply (bit of
    // byte i lands on bit 56 + i; no two partial products collide).
    const uint64_t top = word & 0x8080808080808080ull;
    bad |= word ^ (((top >> 7) * 0xFEull) | 0x0101010101010101ull);
    const uint64_t set = ((~word) & 0x8080808080808080ull) >> 7;
    return static_cast<uint32_t>((set * 0x0102040810204080ull) >> 56);
  } else {
    uint32_t value = 0;
    for (int k = 0; k < 8; ++k) {
      bad |= static_cast<uint64_t>(bytes[k] != 1 && bytes[k] != -1);
      value |= static_cast<uint32_t>(bytes[k] == 1) << k;
    }
    return value;
  }
}
} // namespace token_detail

inline StateToken encode_state_token(const MachineState& state) {
  StateToken token;
  auto put = [&token](int at, uint32_t byte) {
    std::memcpy(token.data() + at, token_detail::kByteToTokenBytes[byte & 0xFF].data(), 8);
  };
  const auto acc = static_cast<uint16_t>(state.acc);
  put(kTokenPc, state.pc);
  put(kTokenAcc, acc);
  put(kTokenAcc + 8, acc >> 8);
  put(kTokenSp, state.sp);
  token[kTokenZero] = state.zero_flag ? 1 : -1;
  token[kTokenCarry] = state.carry_flag ? 1 : -1;
  token[kTokenHalted] = state.halted ? 1 : -1;
  token[kTokenPad] = 0;
  return token;
}

// Throws ptvm::Error(Internal) when an entry is not +1/-1 (or the pad is not 0).
inline MachineState decode_state_token(const StateToken& token) {
  uint64_t bad = static_cast<uint64_t>(token[kTokenPad] != 0);
  MachineState state;
  state.pc = static_cast<uint8_t>(token_detail::decode_token_byte(token.data() + kTokenPc, bad));
  const uint32_t acc_low = token_detail::decode_token_byte(token.data() + kTokenAcc, bad);
  const uint32_t acc_high = token_detail::decode_token_byte(token.data() + kTokenAcc + 8, bad);
  state.acc = static_cast<int16_t>(static_cast<uint16_t>(acc_low | (acc_high << 8)));
  state.sp = static_cast<uint8_t>(token_detail::decode_token_byte(token.data() + kTokenSp, bad));
  for (int flag = kTokenZero; flag <= kTokenHalted; ++flag)
    bad |= static_cast<uint64_t>(token[flag] != 1 && token[flag] != -1);
  state.zero_flag = token[kTokenZero] == 1;
  state.carry_flag = token[kTokenCarry] == 1;
  state.halted = token[kTokenHalted] == 1;
  if (bad != 0)
    throw_malformed_token();
  return state;
}

// The engine over an already compiled model (make_transformer_engine compiles and calls this).
std::unique_ptr<Engine> make_transformer_engine(CompiledModel model, AttentionMode attention);

} // namespace ptvm::vm
