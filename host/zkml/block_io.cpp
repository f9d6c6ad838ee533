// The block proof file (block_io.hpp).
#include "ptvm/zkml/block_io.hpp"

#include <cstring>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/sumcheck/proof_io.hpp"

namespace ptvm::zkml {
namespace {

constexpr char kMagic[8] = {'P', 'T', 'V', 'M', 'B', 'L', 'K', 'P'};
constexpr uint32_t kVersion = 1;

class Writer {
 public:
  void u32(uint32_t v) {
    for (int k = 0; k < 4; ++k) out.push_back(uint8_t(v >> (8 * k)));
  }
  void bytes(std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  void blob(const std::vector<uint8_t>& b) {
    u32(uint32_t(b.size()));
    bytes(b);
  }
  void qm31s(const std::vector<QM31>& v) {
    u32(uint32_t(v.size()));
    for (const QM31& x : v)
      for (int c = 0; c < 4; ++c) u32(x.coord(c).value());
  }
  void i32s(const std::vector<int64_t>& v) {
    u32(uint32_t(v.size()));
    for (int64_t x : v) u32(uint32_t(int32_t(x)));
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(ErrorCategory::Parse, "block proof: " + field + ": " + why);
  }
  size_t left() const { return b_.size() - pos_; }
  void need(size_t n, const std::string& field) const {
    if (left() < n) fail(field, "truncated (" + std::to_string(n) + " bytes needed, " + std::to_string(left()) + " left)");
  }
  uint32_t u32(const std::string& field) {
    need(4, field);
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= uint32_t(b_[pos_ + k]) << (8 * k);
    pos_ += 4;
    return v;
  }
  uint32_t flag(const std::string& field) {
    const uint32_t v = u32(field);
    if (v > 1) fail(field, "must be 0 or 1, got " + std::to_string(v));
    return v;
  }
  size_t count(const std::string& field, size_t item_bytes, size_t limit) {
    const uint32_t n = u32(field + " count");
    if (n > limit) fail(field, std::to_string(n) + " items, at most " + std::to_string(limit));
    if (size_t(n) * item_bytes > left()) fail(field, std::to_string(n) + " items do not fit in the bytes left");
    return n;
  }
  std::span<const uint8_t> take(size_t n, const std::string& field) {
    need(n, field);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string str(const std::string& field) {
    const size_t n = count(field, 1, 256);
    auto s = take(n, field);
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
  }
  std::span<const uint8_t> blob(const std::string& field) { return take(count(field, 1, kMaxBlockProofBytes), field); }
  hash::Blake2sHash digest(const std::string& field) {
    auto s = take(32, field);
    hash::Blake2sHash h;
    std::memcpy(h.bytes.data(), s.data(), 32);
    return h;
  }
  std::vector<QM31> qm31s(const std::string& field) {
    const size_t n = count(field, 16, size_t{1} << 26);
    std::vector<QM31> v(n);
    for (size_t i = 0; i < n; ++i) {
      uint32_t c[4];
      for (int k = 0; k < 4; ++k) {
        c[k] = u32(field);
        if (!M31::is_canonical(c[k])) fail(field, "coordinate not canonical");
      }
      v[i] = QM31::from_u32(c[0], c[1], c[2], c[3]);
    }
    return v;
  }
  std::vector<int64_t> i32s(const std::string& field) {
    const size_t n = count(field, 4, size_t{1} << 28);
    std::vector<int64_t> v(n);
    for (auto& x : v) x = int64_t(int32_t(u32(field)));
    return v;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

// A nested PTVMSCPF blob, its reader's Parse error prefixed with the field.
template <class Fn>
auto nested(Reader& r, const std::string& field, Fn parse) {
  const auto bytes = r.blob(field);
  try {
    return parse(bytes);
  } catch (const Error& e) {
    r.fail(field, e.what());
  }
}

void write_claim(Writer& w, const BlockClaim& c) {
  w.str(c.statement);
  w.str(c.shape.to_string());
  w.str(c.quantization);
  w.blob(sumcheck::to_bytes(c.model));
  w.bytes(c.input_digest.bytes);
  w.bytes(c.output_digest.bytes);
  w.u32(c.decode ? 1 : 0);
  w.u32(c.position);
  if (c.decode) {
    w.blob(sumcheck::to_bytes(c.cache_in));
    w.blob(sumcheck::to_bytes(c.cache_out));
  }
}

BlockClaim read_claim(Reader& r, const std::string& at) {
  BlockClaim c;
  c.statement = r.str(at + "statement");
  const std::string shape = r.str(at + "shape");
  try {
    c.shape = BlockShape::parse(shape);
  } catch (const Error& e) {
    r.fail(at + "shape", e.what());
  }
  c.quantization = r.str(at + "quantization");
  c.model = nested(r, at + "model", [](auto b) { return sumcheck::mle_commitment_from_bytes(b); });
  c.input_digest = r.digest(at + "input_digest");
  c.output_digest = r.digest(at + "output_digest");
  c.decode = r.flag(at + "decode") == 1;
  c.position = r.u32(at + "position");
  if (c.decode) {
    c.cache_in = nested(r, at + "cache_in", [](auto b) { return sumcheck::mle_commitment_from_bytes(b); });
    c.cache_out = nested(r, at + "cache_out", [](auto b) { return sumcheck::mle_commitment_from_bytes(b); });
  }
  return c;
}

}  // namespace

bool is_block_proof_file(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kMagic, 8) == 0;
}

std::vector<uint8_t> block_proofs_to_bytes(std::span<const BlockProof> proofs) {
  Writer w;
  w.bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kMagic), 8));
  w.u32(kVersion);
  w.u32(uint32_t(proofs.size()));
  for (const BlockProof& p : proofs) {
    write_claim(w, p.claim);
    w.i32s(p.input);
    w.i32s(p.output);
    const GraphProof& g = p.proof;
    w.blob(sumcheck::to_bytes(g.advice_commitment));
    w.u32(p.claim.decode ? 1 : 0);
    if (p.claim.decode) w.blob(sumcheck::to_bytes(g.cache_out_commitment));
    const bool has_lookups = !g.lookup_gkr.output.empty() || !g.lookup_gkr.layers.empty();
    w.u32(has_lookups ? 1 : 0);
    if (has_lookups) w.blob(sumcheck::to_bytes(g.lookup_gkr));
    w.qm31s(g.lookup_values);
    w.u32(uint32_t(g.steps.size()));
    for (const StepProof& s : g.steps) {
      w.qm31s(s.values);
      const bool has_sumcheck = !s.sumcheck.sumcheck.rounds.empty() || !s.sumcheck.final_values.empty();
      w.u32(has_sumcheck ? 1 : 0);
      if (has_sumcheck) w.blob(sumcheck::to_bytes(s.sumcheck));
    }
    w.u32(uint32_t(g.openings.size()));
    for (const auto& o : g.openings) w.blob(sumcheck::to_bytes(o));
  }
  return std::move(w.out);
}

std::vector<BlockProof> block_proofs_from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxBlockProofBytes)
    throw Error(ErrorCategory::Parse, "block proof: file of " + std::to_string(bytes.size()) + " bytes is above the limit");
  if (!is_block_proof_file(bytes)) throw Error(ErrorCategory::Parse, "block proof: magic: not PTVMBLKP");
  Reader r(bytes.subspan(8));
  const uint32_t version = r.u32("version");
  if (version != kVersion) r.fail("version", std::to_string(version) + " (this reader knows " + std::to_string(kVersion) + ")");
  const uint32_t n = r.u32("count");
  if (n == 0 || n > 4096) r.fail("count", std::to_string(n) + " proofs (1..4096)");
  std::vector<BlockProof> out;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string at = "proofs[" + std::to_string(i) + "].";
    BlockProof p;
    p.claim = read_claim(r, at + "claim.");
    p.input = r.i32s(at + "input");
    p.output = r.i32s(at + "output");
    GraphProof& g = p.proof;
    g.advice_commitment = nested(r, at + "advice_commitment", [](auto b) { return sumcheck::mle_commitment_from_bytes(b); });
    if (r.flag(at + "has_cache_out"))
      g.cache_out_commitment = nested(r, at + "cache_out_commitment", [](auto b) { return sumcheck::mle_commitment_from_bytes(b); });
    if (r.flag(at + "has_lookups"))
      g.lookup_gkr = nested(r, at + "lookup_gkr", [](auto b) { return sumcheck::gkr_proof_from_bytes(b); });
    g.lookup_values = r.qm31s(at + "lookup_values");
    const size_t steps = r.count(at + "steps", 8, size_t{1} << 20);
    for (size_t s = 0; s < steps; ++s) {
      const std::string sf = at + "steps[" + std::to_string(s) + "]";
      StepProof step;
      step.values = r.qm31s(sf + ".values");
      if (r.flag(sf + ".has_sumcheck"))
        step.sumcheck = nested(r, sf + ".sumcheck", [](auto b) { return sumcheck::product_sumcheck_proof_from_bytes(b); });
      g.steps.push_back(std::move(step));
    }
    const size_t openings = r.count(at + "openings", 4, 16);
    for (size_t o = 0; o < openings; ++o)
      g.openings.push_back(nested(r, at + "openings[" + std::to_string(o) + "]",
                                  [](auto b) { return sumcheck::mle_opening_proof_from_bytes(b); }));
    out.push_back(std::move(p));
  }
  if (r.left() != 0) r.fail("end", std::to_string(r.left()) + " trailing bytes");
  return out;
}

}  // namespace ptvm::zkml
