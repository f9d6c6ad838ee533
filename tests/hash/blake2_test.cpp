// BLAKE2s / BLAKE2b against RFC 7693, OpenSSL (independent implementation) and hashlib-generated
// BLAKE2b-256 vectors (OpenSSL 3.0 has no BLAKE2b digest-size parameter).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/blake2s_x16.hpp"

using namespace ptvm::hash;

namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> openssl_digest(const EVP_MD* md, std::span<const uint8_t> data) {
  std::vector<uint8_t> out(EVP_MD_size(md));
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr), 1);
  EXPECT_EQ(len, out.size());
  return out;
}

// The deterministic message of length n used for the hashlib BLAKE2b-256 vectors
// (tests/hash/gen_vectors.py style: ((i*31 + n*7 + 13) ^ (i >> 3)) & 0xff).
std::vector<uint8_t> formula_message(size_t n) {
  std::vector<uint8_t> m(n);
  for (size_t i = 0; i < n; ++i) m[i] = uint8_t(((i * 31 + n * 7 + 13) ^ (i >> 3)) & 0xff);
  return m;
}

// Feeds data to a streaming hasher in pieces cut at random points (some empty).
template <class Hasher>
void update_in_random_pieces(Hasher& hasher, std::span<const uint8_t> data, std::mt19937_64& rng) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t piece = std::uniform_int_distribution<size_t>(0, std::min<size_t>(data.size() - pos, 200))(rng);
    hasher.update(data.data() + pos, piece);
    pos += piece;
  }
  hasher.update(data.data() + pos, 0);
}

}  // namespace

TEST(Blake2s, Rfc7693Abc) {
  EXPECT_EQ(blake2s(as_bytes("abc")).hex(),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  EXPECT_EQ(blake2s({}).hex(), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

TEST(Blake2b, Rfc7693Abc) {
  EXPECT_EQ(to_hex(blake2b_512(as_bytes("abc"))),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST(Blake2b, Blake2b256OfEmptyStringFromIsaMd) {
  EXPECT_EQ(blake2b_256(std::string_view("")).hex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Blake2s, MatchesOpenSslOnEveryLengthUpTo1024) {
  std::mt19937_64 rng(0xb1a4e25);
  for (size_t n = 0; n <= 1024; ++n) {
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = uint8_t(rng());
    const auto expected = openssl_digest(EVP_blake2s256(), data);
    const Blake2sHash one_shot = blake2s(data);
    ASSERT_EQ(std::vector<uint8_t>(one_shot.bytes.begin(), one_shot.bytes.end()), expected)
        << "length " << n;
    Blake2s streaming;
    update_in_random_pieces(streaming, data, rng);
    const Blake2sHash pieces = streaming.finalize();
    ASSERT_EQ(pieces, one_shot) << "length " << n << " in random pieces";
  }
}

TEST(Blake2b, Blake2b512MatchesOpenSslOnEveryLengthUpTo1024) {
  std::mt19937_64 rng(0xb1a4e2b);
  for (size_t n = 0; n <= 1024; ++n) {
    std::vector<uint8_t> data(n);
    for (auto& b : data) b = uint8_t(rng());
    const auto expected = openssl_digest(EVP_blake2b512(), data);
    const auto one_shot = blake2b_512(data);
    ASSERT_EQ(std::vector<uint8_t>(one_shot.begin(), one_shot.end()), expected) << "length " << n;
    Blake2b streaming(64);
    update_in_random_pieces(streaming, data, rng);
    ASSERT_EQ(streaming.finalize(), expected) << "length " << n << " in random pieces";
  }
}

TEST(Blake2b, Blake2b256MatchesHashlibVectors) {
  const std::pair<size_t, const char*> vectors[] = {
      {1, "5387d49e52ccb13f1704c321eb6e82be63cf494a3f981daa3aab0b2bbf29467f"},
      {3, "7662449ee1db90d59078e2937294d0e3df7566d5ec0c819b8da5cbefab43f50e"},
      {63, "016964d0f3bebefbab98405c7c23521892d6421be1b40b3e8bb975ab002e0249"},
      {64, "b533757cb7a8511a8495c808a87da8e8756ca9dc6c09913b5104b92e6ab65b80"},
      {65, "94ce0d002dc8fd4dbff8f0b5f16b5aa1d52f07c944a9691fcc50dc475f633f3f"},
      {127, "2016711e05f33d017e993cfbf22f72047ccb72f0ece38ef7720c3e8fe16ea313"},
      {128, "e15eef86da4589104c500fae20238159303da48c18427c938a05d5164a5ed7fa"},
      {129, "ca3097501ad238f9ecaa185f2cf837bf2d952c6dd99beba95960218930504da8"},
      {255, "150d581a6eeaf0b0892f249c88badc9961404d0c6cc08967c526bb29b499dd23"},
      {256, "a900d892e6343897242681f7362b81ce4135e626116ae7c3580a091f867603f8"},
      {257, "7a4b3490e89eae5a790f63356b1ce106b6166fbaaa7e78414ba4223f16d41179"},
      {1000, "c02233f02edb5e270b4e2755cbe5f163f909d435881fd46f53cb75a968471485"},
      {1024, "42799b15027cbec00b2d467e1e027f61b8b3da08b6358e90a2187321c822737d"},
  };
  for (const auto& [n, hex] : vectors) {
    EXPECT_EQ(blake2b_256(formula_message(n)).hex(), hex) << "length " << n;
  }
  // Every length 0..1024: SHA-256 (OpenSSL) of the concatenated 1025 digests, from hashlib.
  std::mt19937_64 rng(0xb2b256);
  std::vector<uint8_t> all_digests;
  for (size_t n = 0; n <= 1024; ++n) {
    const auto message = formula_message(n);
    Blake2b streaming(32);
    update_in_random_pieces(streaming, message, rng);
    const auto digest = streaming.finalize();
    ASSERT_EQ(digest.size(), 32u);
    all_digests.insert(all_digests.end(), digest.begin(), digest.end());
  }
  EXPECT_EQ(to_hex(openssl_digest(EVP_sha256(), all_digests)),
            "f1969be22085b1b4b19fdfcf5b564e614e4b3d8a7a827da155ec916e59bee2ee");
}

TEST(Blake2b, RejectsBadDigestLengthsAndReuse) {
  EXPECT_THROW(Blake2b(0), ptvm::Error);
  EXPECT_THROW(Blake2b(65), ptvm::Error);
  Blake2b hasher(32);
  hasher.finalize();
  EXPECT_THROW(hasher.finalize(), ptvm::Error);
  EXPECT_THROW(hasher.update("x", 1), ptvm::Error);
  Blake2s hasher_s;
  hasher_s.finalize();
  EXPECT_THROW(hasher_s.finalize(), ptvm::Error);
}

TEST(Blake2s, HexRoundTripAndRejectsMalformedHex) {
  const Blake2sHash h = blake2s(as_bytes("ptvm"));
  EXPECT_EQ(Blake2sHash::from_hex(h.hex()), h);
  std::string upper = h.hex();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Blake2sHash::from_hex(upper), h);
  EXPECT_FALSE(Blake2sHash::from_hex(h.hex().substr(2)));
  EXPECT_FALSE(Blake2sHash::from_hex(h.hex() + "00"));
  std::string bad = h.hex();
  bad[7] = 'g';
  EXPECT_FALSE(Blake2sHash::from_hex(bad));
  EXPECT_EQ(Blake2sHash::from_words(h.words().data()), h);
}

TEST(Blake2s, FromStateContinuesAPrefix) {
  // Hashing prefix ‖ rest equals continuing from the chaining value after the prefix block.
  std::vector<uint8_t> message(64 + 77);
  for (size_t i = 0; i < message.size(); ++i) message[i] = uint8_t(i * 13 + 1);
  uint32_t h[8], m[16];
  blake2s_init_state(h);
  for (int i = 0; i < 16; ++i) {
    m[i] = uint32_t(message[4 * i]) | uint32_t(message[4 * i + 1]) << 8 |
           uint32_t(message[4 * i + 2]) << 16 | uint32_t(message[4 * i + 3]) << 24;
  }
  blake2s_compress(h, m, 64, false);
  std::array<uint32_t, 8> state;
  std::copy(h, h + 8, state.begin());
  Blake2s continued = Blake2s::from_state(state, 64);
  continued.update(message.data() + 64, message.size() - 64);
  EXPECT_EQ(continued.finalize(), blake2s(message));
  EXPECT_THROW(Blake2s::from_state(state, 0), ptvm::Error);
  EXPECT_THROW(Blake2s::from_state(state, 65), ptvm::Error);
  Blake2s resumed_empty = Blake2s::from_state(state, 64);
  EXPECT_THROW(resumed_empty.finalize(), ptvm::Error);
}

TEST(Blake2b, FromStateContinuesAPrefix) {
  std::vector<uint8_t> message(128 + 45);
  for (size_t i = 0; i < message.size(); ++i) message[i] = uint8_t(i * 7 + 3);
  const auto state = Blake2b::state_after_first_block(message.data(), 32);
  Blake2b continued = Blake2b::from_state(state, 128, 32);
  continued.update(message.data() + 128, message.size() - 128);
  const auto expected = blake2b_256(message);
  EXPECT_EQ(continued.finalize(), std::vector<uint8_t>(expected.bytes.begin(), expected.bytes.end()));
  EXPECT_THROW(Blake2b::from_state(state, 64, 32), ptvm::Error);
  Blake2b resumed_empty = Blake2b::from_state(state, 128, 32);
  EXPECT_THROW(resumed_empty.finalize(), ptvm::Error);
}

TEST(Blake2s, SixteenLaneCompressionMatchesScalar) {
  std::mt19937_64 rng(0x16);
  for (int trial = 0; trial < 50; ++trial) {
    uint32_t h[8][16], m[16][16];
    for (auto& row : h) for (auto& w : row) w = uint32_t(rng());
    for (auto& row : m) for (auto& w : row) w = uint32_t(rng());
    const uint64_t t = trial % 3 == 0 ? rng() : rng() % 4096;
    const bool last = trial % 2 == 1;
    uint32_t expected[16][8];
    for (int lane = 0; lane < 16; ++lane) {
      uint32_t hs[8], ms[16];
      for (int i = 0; i < 8; ++i) hs[i] = h[i][lane];
      for (int i = 0; i < 16; ++i) ms[i] = m[i][lane];
      blake2s_compress(hs, ms, t, last);
      for (int i = 0; i < 8; ++i) expected[lane][i] = hs[i];
    }
    blake2s_compress_x16(h, m, t, last);
    for (int lane = 0; lane < 16; ++lane) {
      for (int i = 0; i < 8; ++i) ASSERT_EQ(h[i][lane], expected[lane][i]) << "trial " << trial;
    }
  }
}
