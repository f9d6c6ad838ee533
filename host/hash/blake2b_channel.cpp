// Blake2bChannel: the F128 proof system's Fiat-Shamir channel (see blake2b_channel.hpp).
#include "ptvm/hash/blake2b_channel.hpp"

#include <algorithm>

#include "ptvm/common/error.hpp"
#include "query_sampling.hpp"

namespace ptvm::hash {

namespace {
uint64_t load_le64(const uint8_t* p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = x << 8 | p[i];
  return x;
}
bool below_f128_modulus(const F128Integer& v) {
  return v.hi < kF128ModulusHi || (v.hi == kF128ModulusHi && v.lo < kF128ModulusLo);
}
}  // namespace

void Blake2bChannel::mix_bytes(std::span<const uint8_t> bytes) {
  Blake2b hasher(32);
  hasher.update(digest_.bytes.data(), digest_.bytes.size());
  hasher.update(bytes);
  hasher.finalize(std::span<uint8_t>(digest_.bytes));
  n_draws_ = 0;
}

void Blake2bChannel::mix_u32s(std::span<const uint32_t> words) {
  std::vector<uint8_t> bytes;
  bytes.reserve(4 * words.size());
  for (uint32_t w : words) {
    for (int i = 0; i < 4; ++i) bytes.push_back(uint8_t(w >> (8 * i)));
  }
  mix_bytes(bytes);
}

void Blake2bChannel::mix_u64(uint64_t value) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = uint8_t(value >> (8 * i));
  mix_bytes(bytes);
}

std::array<uint8_t, 32> Blake2bChannel::draw_bytes() {
  uint8_t message[37];
  std::copy(digest_.bytes.begin(), digest_.bytes.end(), message);
  for (int i = 0; i < 4; ++i) message[32 + i] = uint8_t(n_draws_ >> (8 * i));
  message[36] = 0;  // domain separation from the mix_* messages
  ++n_draws_;
  Blake2b hasher(32);
  hasher.update(message, sizeof message);
  std::array<uint8_t, 32> out{};
  hasher.finalize(std::span<uint8_t>(out));
  return out;
}

std::array<uint32_t, 8> Blake2bChannel::draw_u32s() {
  const auto bytes = draw_bytes();
  std::array<uint32_t, 8> words{};
  for (int i = 0; i < 8; ++i) {
    words[i] = uint32_t(bytes[4 * i]) | uint32_t(bytes[4 * i + 1]) << 8 |
               uint32_t(bytes[4 * i + 2]) << 16 | uint32_t(bytes[4 * i + 3]) << 24;
  }
  return words;
}

std::vector<F128Integer> Blake2bChannel::draw_f128_values(size_t n) {
  std::vector<F128Integer> values;
  values.reserve(n + 1);
  while (values.size() < n) {
    const auto bytes = draw_bytes();
    for (int half = 0; half < 2; ++half) {
      const F128Integer candidate{load_le64(bytes.data() + 16 * half),
                                  load_le64(bytes.data() + 16 * half + 8)};
      // Plain rejection (no reduction): 2^128 < 2p, so only [0, p) can be mapped uniformly.
      if (below_f128_modulus(candidate)) values.push_back(candidate);
    }
  }
  values.resize(n);
  return values;
}

std::vector<size_t> Blake2bChannel::draw_queries(uint32_t log_domain_size, size_t n_queries) {
  return detail::sample_queries(*this, "Blake2bChannel", log_domain_size, n_queries);
}

std::vector<size_t> Blake2bChannel::draw_distinct_queries(uint32_t log_domain_size, size_t n_queries,
                                                    uint32_t distinct_shift) {
  return detail::sample_distinct_queries(*this, "Blake2bChannel", log_domain_size, n_queries, distinct_shift);
}

}  // namespace ptvm::hash
