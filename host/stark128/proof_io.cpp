// Binary encoding of the F128 STARK proof and its strict reader (ptvm/stark128/stark128.hpp).
#include <cstring>

#include "ptvm/common/le_reader.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/stark128/stark128.hpp"

namespace ptvm::stark128 {
namespace {

constexpr char kMagic[8] = {'P', 'T', 'V', 'M', 'F', '1', '2', '8'};
constexpr uint32_t kMaxCount = uint32_t{1} << 22;

struct Writer {
  std::vector<uint8_t> out;
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void felt(const F128& f) {
    uint8_t b[16];
    f.to_bytes_le(b);
    out.insert(out.end(), b, b + 16);
  }
  void hash(const Hash& h) { out.insert(out.end(), h.bytes.begin(), h.bytes.end()); }
  void felts(const std::vector<F128>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& f : v) felt(f);
  }
  void hashes(const std::vector<Hash>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& h : v) hash(h);
  }
  void opening(const TreeOpening& o) {
    felts(o.values);
    hashes(o.decommitment.hash_witness);
    felts(o.decommitment.column_witness);
  }
};

struct Reader : LeReader<Reader> {
  using LeReader::LeReader;
  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(ErrorCategory::Parse,
                "F128 STARK proof: field '" + field + "' at byte " + std::to_string(position()) + ": " + why);
  }
  F128 felt(const std::string& field) {
    const auto s = take(16, field);
    uint64_t w[2] = {0, 0};
    for (int k = 0; k < 16; ++k) w[k / 8] |= static_cast<uint64_t>(s[k]) << (8 * (k % 8));
    if (!F128::is_canonical_words(w[0], w[1])) fail(field, "not a canonical F128 element");
    return F128::from_canonical_words_unchecked(w[0], w[1]);
  }
  Hash hash(const std::string& field) {
    Hash h;
    std::memcpy(h.bytes.data(), take(32, field).data(), 32);
    return h;
  }
  uint32_t count(const std::string& field, size_t element_bytes) {
    const uint32_t n = u32(field + " count");
    if (n > kMaxCount) fail(field, "count " + std::to_string(n) + " above the limit " + std::to_string(kMaxCount));
    if (uint64_t{n} * element_bytes > left())
      fail(field, "count " + std::to_string(n) + " exceeds the bytes left");
    return n;
  }
  std::vector<F128> felts(const std::string& field) {
    const uint32_t n = count(field, 16);
    std::vector<F128> v;
    v.reserve(n);
    for (uint32_t i = 0; i < n; ++i) v.push_back(felt(field));
    return v;
  }
  std::vector<Hash> hashes(const std::string& field) {
    const uint32_t n = count(field, 32);
    std::vector<Hash> v;
    v.reserve(n);
    for (uint32_t i = 0; i < n; ++i) v.push_back(hash(field));
    return v;
  }
  TreeOpening opening(const std::string& field) {
    TreeOpening o;
    o.values = felts(field + ".values");
    o.decommitment.hash_witness = hashes(field + ".hash_witness");
    o.decommitment.column_witness = felts(field + ".column_witness");
    return o;
  }
};

}  // namespace

std::vector<uint8_t> proof_to_binary(const Proof& p) {
  Writer w;
  w.out.insert(w.out.end(), kMagic, kMagic + 8);
  w.hash(p.main_root);
  w.hash(p.interaction_root);
  w.hash(p.composition_root);
  w.felts(p.claimed_sums);
  w.felts(p.sampled_values);
  w.hashes(p.fri_roots);
  w.felt(p.fri_last);
  w.u64(p.pow_nonce);
  w.opening(p.main);
  w.opening(p.interaction);
  w.opening(p.composition);
  w.u32(static_cast<uint32_t>(p.fri_layers.size()));
  for (const auto& o : p.fri_layers) w.opening(o);
  return std::move(w.out);
}

Proof proof_from_binary(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (bytes.size() > kMaxProofBytes)
    r.fail("proof", "larger than " + std::to_string(kMaxProofBytes) + " bytes");
  if (std::memcmp(r.take(8, "magic").data(), kMagic, 8) != 0) r.fail("magic", "not \"PTVMF128\"");
  Proof p;
  p.main_root = r.hash("main_root");
  p.interaction_root = r.hash("interaction_root");
  p.composition_root = r.hash("composition_root");
  p.claimed_sums = r.felts("claimed_sums");
  p.sampled_values = r.felts("sampled_values");
  p.fri_roots = r.hashes("fri_roots");
  p.fri_last = r.felt("fri_last");
  p.pow_nonce = r.u64("pow_nonce");
  p.main = r.opening("main");
  p.interaction = r.opening("interaction");
  p.composition = r.opening("composition");
  const uint32_t layers = r.count("fri_layers", 12);
  if (layers > 64) r.fail("fri_layers", "more than 64 layers");
  for (uint32_t i = 0; i < layers; ++i) p.fri_layers.push_back(r.opening("fri_layers[" + std::to_string(i) + "]"));
  if (r.left() != 0) r.fail("proof", std::to_string(r.left()) + " trailing bytes");
  return p;
}

}  // namespace ptvm::stark128
