// Blake2sChannel (PROTOCOL.md §8/§14, ptvm variant) and its proof-of-work grinding.
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/common/threads.hpp"
#include "ptvm/hash/channel.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include "ptvm/common/error.hpp"
#include "query_sampling.hpp"
#include "ptvm/hash/blake2s_x16.hpp"
#include "ptvm/hash/pow.hpp"

namespace ptvm::hash {

namespace {

void append_le32(std::vector<uint8_t>& out, uint32_t w) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(w >> (8 * i)));
}

// First nonce in [begin, end) that passes (begin a multiple of 16), 16 nonces per compression.
std::optional<uint64_t> scan_nonces(const uint32_t prefixed[8], uint32_t pow_bits, uint64_t begin,
                                    uint64_t end) {
  // Lane-wise test: the low pow_bits bits of the 128-bit result are zero iff every limb ANDed
  // with its share of the mask is zero.
  uint32_t limb_mask[4];
  for (int i = 0; i < 4; ++i) {
    const int64_t bits = std::clamp<int64_t>(int64_t(pow_bits) - 32 * i, 0, 32);
    limb_mask[i] = bits == 32 ? 0xffffffffu : (uint32_t(1) << bits) - 1;
  }
  U32x16 lane_offsets;
  for (int l = 0; l < 16; ++l) lane_offsets[l] = uint32_t(l);
  U32x16 message[16];
  for (int i = 0; i < 8; ++i) message[i] = u32x16_splat(prefixed[i]);
  for (int i = 10; i < 16; ++i) message[i] = U32x16{};
  U32x16 initial[8];
  {
    uint32_t h[8];
    blake2s_init_state(h);
    for (int i = 0; i < 8; ++i) initial[i] = u32x16_splat(h[i]);
  }
  for (uint64_t base = begin; base < end; base += 16) {
    // base is a multiple of 16, so the low word of base + l never wraps inside the block.
    message[8] = u32x16_splat(static_cast<uint32_t>(base)) + lane_offsets;
    message[9] = u32x16_splat(static_cast<uint32_t>(base >> 32));
    U32x16 h[8];
    for (int i = 0; i < 8; ++i) h[i] = initial[i];
    blake2s_compress_x16(h, message, 40, true);
    U32x16 masked = (h[0] & limb_mask[0]) | (h[1] & limb_mask[1]) | (h[2] & limb_mask[2]) |
                    (h[3] & limb_mask[3]);
    for (int l = 0; l < 16; ++l) {
      if (masked[l] == 0 && base + l < end) return base + l;
    }
  }
  return std::nullopt;
}

}  // namespace

void Blake2sChannel::mix_message(std::span<const uint8_t> bytes) {
  Blake2s hasher;
  hasher.update(digest_.bytes.data(), digest_.bytes.size());
  hasher.update(bytes);
  digest_ = hasher.finalize();
  n_draws_ = 0;
}

void Blake2sChannel::mix_root(const Blake2sHash& root) { mix_message(root.bytes); }

void Blake2sChannel::mix_bytes(std::span<const uint8_t> bytes) { mix_message(bytes); }

void Blake2sChannel::mix_u32s(std::span<const uint32_t> words) {
  std::vector<uint8_t> bytes;
  bytes.reserve(4 * words.size());
  for (uint32_t w : words) append_le32(bytes, w);
  mix_message(bytes);
}

void Blake2sChannel::mix_felts(std::span<const QM31> felts) {
  std::vector<uint8_t> bytes;
  bytes.reserve(16 * felts.size());
  for (const QM31& f : felts) {
    for (int k = 0; k < 4; ++k) append_le32(bytes, f.coord(k).v);
  }
  mix_message(bytes);
}

void Blake2sChannel::mix_u64(uint64_t value) {
  const uint32_t words[2] = {static_cast<uint32_t>(value), static_cast<uint32_t>(value >> 32)};
  mix_u32s(words);
}

std::array<uint32_t, 8> Blake2sChannel::draw_u32s() {
  uint8_t message[37];
  std::copy(digest_.bytes.begin(), digest_.bytes.end(), message);
  for (int i = 0; i < 4; ++i) message[32 + i] = uint8_t(n_draws_ >> (8 * i));
  message[36] = 0;  // domain separation from the mix_* messages
  ++n_draws_;
  return blake2s(message).words();
}

std::vector<QM31> Blake2sChannel::draw_felts(size_t n) {
  std::vector<QM31> felts;
  felts.reserve(n + 1);
  while (felts.size() < n) {
    std::array<uint32_t, 8> words = draw_u32s();
    // Reject unless every word is below 2P, so that w mod P is exactly uniform.
    if (!std::all_of(words.begin(), words.end(), [](uint32_t w) { return w < 2 * M31::P; })) {
      continue;
    }
    for (int half = 0; half < 2; ++half) {
      const uint32_t* w = words.data() + 4 * half;
      felts.push_back(QM31::from_u32(w[0], w[1], w[2], w[3]));  // from_u32 reduces mod P
    }
  }
  felts.resize(n);
  return felts;
}

QM31 Blake2sChannel::draw_felt() { return draw_felts(1)[0]; }

std::vector<size_t> Blake2sChannel::draw_queries(uint32_t log_domain_size, size_t n_queries) {
  return detail::sample_queries(*this, "Blake2sChannel", log_domain_size, n_queries);
}

std::vector<size_t> Blake2sChannel::draw_distinct_queries(uint32_t log_domain_size, size_t n_queries,
                                                    uint32_t distinct_shift) {
  return detail::sample_distinct_queries(*this, "Blake2sChannel", log_domain_size, n_queries, distinct_shift);
}

bool Blake2sChannel::check_pow(uint64_t nonce, uint32_t pow_bits) const {
  uint32_t prefixed[8];
  pow_prefixed_digest(digest_.words().data(), pow_bits, prefixed);
  return pow_nonce_is_valid(prefixed, nonce, pow_bits);
}

uint64_t Blake2sChannel::grind(uint32_t pow_bits, unsigned n_threads) const {
  if (pow_bits > kMaxGrindBits) {
    throw Error(ErrorCategory::Usage, "Blake2sChannel::grind: pow_bits " +
                                          std::to_string(pow_bits) + " above " +
                                          std::to_string(kMaxGrindBits));
  }
  if (n_threads == 0) n_threads = configured_thread_count();
  uint32_t prefixed[8];
  pow_prefixed_digest(digest_.words().data(), pow_bits, prefixed);

  // Few expected attempts: scan on this thread (starting threads would cost more).
  if (n_threads == 1 || pow_bits <= 14) {
    for (uint64_t base = 0;; base += uint64_t(1) << 20) {
      if (auto nonce = scan_nonces(prefixed, pow_bits, base, base + (uint64_t(1) << 20))) {
        return *nonce;
      }
    }
  }
  // Rounds of n_threads consecutive chunks; each thread stops at the first hit in its chunk.
  // Every chunk before the lowest hit was fully scanned, so the minimum hit is the smallest
  // valid nonce overall: the answer is the same for any thread count.
  const uint64_t chunk = uint64_t(1) << 16;
  for (uint64_t round_base = 0;; round_base += chunk * n_threads) {
    std::vector<std::optional<uint64_t>> hits(n_threads);
    parallel_tasks(n_threads, n_threads, [&](size_t i) {
      const uint64_t begin = round_base + chunk * i;
      hits[i] = scan_nonces(prefixed, pow_bits, begin, begin + chunk);
    });
    for (const auto& hit : hits) {
      if (hit) return *hit;  // chunks are in increasing order
    }
  }
}

std::optional<uint64_t> Blake2sChannel::grind_range(uint32_t pow_bits, uint64_t begin, uint64_t end) const {
  if (pow_bits > kMaxGrindBits)
    throw Error(ErrorCategory::Usage, "Blake2sChannel::grind_range: pow_bits " + std::to_string(pow_bits) + " above " +
                                          std::to_string(kMaxGrindBits));
  if (begin % 16 != 0 || end % 16 != 0 || end < begin)
    throw Error(ErrorCategory::Usage, "Blake2sChannel::grind_range: the range must be whole blocks of 16 nonces");
  uint32_t prefixed[8];
  pow_prefixed_digest(digest_.words().data(), pow_bits, prefixed);
  return scan_nonces(prefixed, pow_bits, begin, end);
}

}  // namespace ptvm::hash
