// Host streaming BLAKE2s / BLAKE2b on top of the shared compression functions, and hex helpers.

// GCC 12 with -march=native on this Zen machine (detected as znver3) spills the 16-word working
// vector of the scalar compression into XMM registers (tuning flag inter_unit_moves), which made
// BLAKE2s/BLAKE2b 2x slower than generic tuning (measured: 167 vs 77 ns per BLAKE2s block). Tuning
// only: the instruction set and the results are unchanged. Must precede the includes so the
// header-only compression functions instantiated here get it too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("tune=generic")
#endif
#include <algorithm>
#include <cstring>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/blake2s.hpp"

namespace ptvm::hash {

namespace {

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t load_le64(const uint8_t* p) {
  return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32;
}
void store_le32(uint8_t* p, uint32_t x) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(x >> (8 * i));
}
void store_le64(uint8_t* p, uint64_t x) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(x >> (8 * i));
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> fixed_bytes_from_hex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  auto bytes = bytes_from_hex(hex);
  if (!bytes) return std::nullopt;
  std::array<uint8_t, N> out{};
  std::memcpy(out.data(), bytes->data(), N);
  return out;
}

void blake2s_compress_bytes(uint32_t h[8], const uint8_t* block, uint64_t t, bool last) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  blake2s_compress(h, m, t, last);
}

void blake2b_compress_bytes(uint64_t h[8], const uint8_t* block, uint64_t t, bool last) {
  uint64_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le64(block + 8 * i);
  blake2b_compress(h, m, t, last);
}

}  // namespace

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::optional<std::vector<uint8_t>> bytes_from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

// ---- Blake2sHash ---------------------------------------------------------------------------

std::string Blake2sHash::hex() const { return to_hex(bytes); }

std::optional<Blake2sHash> Blake2sHash::from_hex(std::string_view hex) {
  auto bytes = fixed_bytes_from_hex<32>(hex);
  if (!bytes) return std::nullopt;
  return Blake2sHash{*bytes};
}

std::array<uint32_t, 8> Blake2sHash::words() const {
  std::array<uint32_t, 8> w{};
  for (int i = 0; i < 8; ++i) w[i] = load_le32(bytes.data() + 4 * i);
  return w;
}

Blake2sHash Blake2sHash::from_words(const uint32_t words[8]) {
  Blake2sHash out;
  for (int i = 0; i < 8; ++i) store_le32(out.bytes.data() + 4 * i, words[i]);
  return out;
}

// ---- Blake2s -------------------------------------------------------------------------------

Blake2s::Blake2s() { blake2s_init_state(h_); }

Blake2s Blake2s::from_state(const std::array<uint32_t, 8>& chaining_value,
                            uint64_t bytes_compressed) {
  if (bytes_compressed == 0 || bytes_compressed % 64 != 0) {
    throw Error(ErrorCategory::Internal,
                "Blake2s::from_state: bytes_compressed must be a positive multiple of 64");
  }
  Blake2s hasher;
  for (int i = 0; i < 8; ++i) hasher.h_[i] = chaining_value[i];
  hasher.t_ = bytes_compressed;
  hasher.resumed_without_input_ = true;
  return hasher;
}

void Blake2s::update(const void* data, size_t size) {
  if (finalized_) throw Error(ErrorCategory::Internal, "Blake2s::update after finalize");
  if (size > 0) resumed_without_input_ = false;
  const auto* p = static_cast<const uint8_t*>(data);
  // A full buffer is compressed only once more input arrives: the final block must carry the
  // `last` flag, so it is held back until finalize().
  while (size > 0) {
    if (buffered_ == 64) {
      t_ += 64;
      blake2s_compress_bytes(h_, buffer_, t_, false);
      buffered_ = 0;
    }
    if (buffered_ == 0) {
      while (size > 64) {  // strictly more than one block left: this block is not the last
        t_ += 64;
        blake2s_compress_bytes(h_, p, t_, false);
        p += 64;
        size -= 64;
      }
    }
    size_t take = std::min(size, 64 - buffered_);
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
  }
}

Blake2sHash Blake2s::finalize() {
  if (finalized_) throw Error(ErrorCategory::Internal, "Blake2s::finalize called twice");
  // The resumed state's last block was compressed as "not last": an empty tail cannot be right.
  if (resumed_without_input_) {
    throw Error(ErrorCategory::Internal, "Blake2s::finalize: resumed state without further input");
  }
  finalized_ = true;
  std::memset(buffer_ + buffered_, 0, 64 - buffered_);
  t_ += buffered_;
  blake2s_compress_bytes(h_, buffer_, t_, true);
  return Blake2sHash::from_words(h_);
}

Blake2sHash blake2s(std::span<const uint8_t> data) {
  Blake2s hasher;
  hasher.update(data);
  return hasher.finalize();
}

// ---- Blake2b -------------------------------------------------------------------------------

std::string Blake2b256Hash::hex() const { return to_hex(bytes); }

std::optional<Blake2b256Hash> Blake2b256Hash::from_hex(std::string_view hex) {
  auto bytes = fixed_bytes_from_hex<32>(hex);
  if (!bytes) return std::nullopt;
  return Blake2b256Hash{*bytes};
}

Blake2b::Blake2b(size_t digest_len) : digest_len_(digest_len) {
  if (digest_len < 1 || digest_len > 64) {
    throw Error(ErrorCategory::Usage,
                "Blake2b: digest length must be 1..64 bytes, got " + std::to_string(digest_len));
  }
  blake2b_init_state(h_, static_cast<uint32_t>(digest_len));
}

Blake2b Blake2b::from_state(const std::array<uint64_t, 8>& chaining_value,
                           uint64_t bytes_compressed, size_t digest_len) {
  if (bytes_compressed == 0 || bytes_compressed % 128 != 0) {
    throw Error(ErrorCategory::Internal,
                "Blake2b::from_state: bytes_compressed must be a positive multiple of 128");
  }
  Blake2b hasher(digest_len);
  for (int i = 0; i < 8; ++i) hasher.h_[i] = chaining_value[i];
  hasher.t_ = bytes_compressed;
  hasher.resumed_without_input_ = true;
  return hasher;
}

std::array<uint64_t, 8> Blake2b::state_after_first_block(const uint8_t block[128],
                                                         size_t digest_len) {
  Blake2b hasher(digest_len);
  blake2b_compress_bytes(hasher.h_, block, 128, false);
  std::array<uint64_t, 8> out{};
  for (int i = 0; i < 8; ++i) out[i] = hasher.h_[i];
  return out;
}

void Blake2b::update(const void* data, size_t size) {
  if (finalized_) throw Error(ErrorCategory::Internal, "Blake2b::update after finalize");
  if (size > 0) resumed_without_input_ = false;
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    if (buffered_ == 128) {
      t_ += 128;
      blake2b_compress_bytes(h_, buffer_, t_, false);
      buffered_ = 0;
    }
    if (buffered_ == 0) {
      while (size > 128) {
        t_ += 128;
        blake2b_compress_bytes(h_, p, t_, false);
        p += 128;
        size -= 128;
      }
    }
    size_t take = std::min(size, 128 - buffered_);
    std::memcpy(buffer_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
  }
}

void Blake2b::finalize(std::span<uint8_t> out) {
  if (out.size() != digest_len_) {
    throw Error(ErrorCategory::Internal, "Blake2b::finalize: output size != digest length");
  }
  if (finalized_) throw Error(ErrorCategory::Internal, "Blake2b::finalize called twice");
  if (resumed_without_input_) {
    throw Error(ErrorCategory::Internal, "Blake2b::finalize: resumed state without further input");
  }
  finalized_ = true;
  std::memset(buffer_ + buffered_, 0, 128 - buffered_);
  t_ += buffered_;
  blake2b_compress_bytes(h_, buffer_, t_, true);
  uint8_t full[64];
  for (int i = 0; i < 8; ++i) store_le64(full + 8 * i, h_[i]);
  std::memcpy(out.data(), full, digest_len_);
}

std::vector<uint8_t> Blake2b::finalize() {
  std::vector<uint8_t> out(digest_len_);
  finalize(std::span<uint8_t>(out));
  return out;
}

Blake2b256Hash blake2b_256(std::span<const uint8_t> data) {
  Blake2b hasher(32);
  hasher.update(data);
  Blake2b256Hash out;
  hasher.finalize(std::span<uint8_t>(out.bytes));
  return out;
}

std::array<uint8_t, 64> blake2b_512(std::span<const uint8_t> data) {
  Blake2b hasher(64);
  hasher.update(data);
  std::array<uint8_t, 64> out{};
  hasher.finalize(std::span<uint8_t>(out));
  return out;
}

}  // namespace ptvm::hash
