// Byte encodings of the sumcheck-family proofs (see ptvm/sumcheck/proof_io.hpp).
#include "ptvm/sumcheck/proof_io.hpp"

#include <cstring>
#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/common/le_reader.hpp"

namespace ptvm::sumcheck {
namespace {

constexpr uint8_t kMagic[8] = {'P', 'T', 'V', 'M', 'S', 'C', 'P', 'F'};
constexpr size_t kHeaderBytes = 16;

// Per-field count limits (beyond them no statement of this code base can be meant).
constexpr size_t kMaxCoefficients = 64; // a round polynomial (degree <= 8 today)
constexpr size_t kMaxRounds = 128;      // 2 x 40 variables for a layered GKR layer
constexpr size_t kMaxFinalValues = 64;
constexpr size_t kMaxLayers = 1024;
constexpr size_t kMaxColumns = 64;
constexpr size_t kMaxInstances = 1024;
constexpr size_t kMaxValues = size_t{1} << 24; // rows, outputs, opened values, witnesses

[[noreturn]] void fail(const std::string& where, const std::string& why) {
  throw Error(ErrorCategory::Parse, "sumcheck proof: " + where + ": " + why);
}

std::string at(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }

struct Writer {
  std::vector<uint8_t> out;
  explicit Writer(SumcheckProofKind kind) {
    out.assign(std::begin(kMagic), std::end(kMagic));
    u32(kSumcheckProofVersion);
    u32(uint32_t(kind));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out.push_back(uint8_t(v >> (8 * i)));
  }
  void len(size_t n) { u32(uint32_t(n)); }
  void m31(M31 v) { u32(v.v); }
  void qm31(const QM31& v) {
    for (int c = 0; c < 4; ++c)
      u32(v.coord(c).v);
  }
  void qm31s(const std::vector<QM31>& v) {
    len(v.size());
    for (const auto& x : v)
      qm31(x);
  }
  void m31s(const std::vector<M31>& v) {
    len(v.size());
    for (M31 x : v)
      m31(x);
  }
  void sumcheck(const SumcheckProof& p) {
    len(p.rounds.size());
    for (const auto& r : p.rounds)
      qm31s(r.coefficients);
  }
  void product(const ProductSumcheckProof& p) {
    sumcheck(p.sumcheck);
    qm31s(p.final_values);
  }
  void gkr(const GkrProof& p) {
    len(p.output.size());
    for (const auto& col : p.output)
      qm31s(col);
    len(p.layers.size());
    for (const auto& l : p.layers)
      product(l);
  }
  void opening(const MleOpeningProof& p) {
    qm31s(p.proximity_row);
    qm31s(p.evaluation_row);
    m31s(p.queried_values);
    len(p.decommitment.hash_witness.size());
    for (const auto& h : p.decommitment.hash_witness)
      out.insert(out.end(), h.bytes.begin(), h.bytes.end());
    m31s(p.decommitment.column_witness);
  }
};

// The bounded little-endian core is LeReader's (ptvm/common/le_reader.hpp); this reader adds
// the format's lists, whose item names ("x[i]") are built only on failure.
struct Reader : LeReader<Reader> {
  Reader(std::span<const uint8_t> bytes, SumcheckProofKind expected) : LeReader(bytes) {
    const SumcheckProofKind kind = sumcheck_proof_kind(bytes);
    if (kind != expected)
      fail("kind", "a proof of kind " + std::to_string(uint32_t(kind)) + ", expected kind " +
                       std::to_string(uint32_t(expected)));
    take(kHeaderBytes, "header");
  }
  [[noreturn]] void fail(const std::string& where, const std::string& why) const { ptvm::sumcheck::fail(where, why); }
  using LeReader::m31;
  using LeReader::qm31;
  // An M31 of a field (item `index` of a list): the name is built only on failure.
  M31 m31(const std::string& where, int64_t index) {
    const uint32_t v = u32(where);
    if (!M31::is_canonical(v))
      fail(at(where, size_t(index)), "non-canonical M31 value " + std::to_string(v) + " at offset " +
                                         std::to_string(position() - 4));
    return M31::raw(v);
  }
  QM31 qm31(const std::string& where, int64_t index) {
    const M31 a = m31(where, index), b = m31(where, index), c = m31(where, index),
              d = m31(where, index);
    return QM31::from_m31(a, b, c, d);
  }
  // A count: at most `limit`, and the bytes left hold that many items of at least `min_item_bytes`.
  size_t len(const std::string& where, size_t limit, size_t min_item_bytes) {
    const uint32_t n = u32(where);
    if (n > limit)
      fail(where, "oversized list (" + std::to_string(n) + " items, at most " +
                      std::to_string(limit) + ")");
    need(size_t(n) * min_item_bytes, where);
    return n;
  }
  std::vector<QM31> qm31s(const std::string& where, size_t limit) {
    const size_t n = len(where, limit, 16);
    std::vector<QM31> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.push_back(qm31(where, int64_t(i)));
    return v;
  }
  std::vector<M31> m31s(const std::string& where, size_t limit) {
    const size_t n = len(where, limit, 4);
    std::vector<M31> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.push_back(m31(where, int64_t(i)));
    return v;
  }
  SumcheckProof sumcheck(const std::string& where) {
    SumcheckProof p;
    const size_t n = len(where + ".rounds", kMaxRounds, 4);
    p.rounds.reserve(n);
    for (size_t i = 0; i < n; ++i)
      p.rounds.push_back({qm31s(at(where + ".rounds", i) + ".coefficients", kMaxCoefficients)});
    return p;
  }
  ProductSumcheckProof product(const std::string& where) {
    ProductSumcheckProof p;
    p.sumcheck = sumcheck(where + ".sumcheck");
    p.final_values = qm31s(where + ".final_values", kMaxFinalValues);
    return p;
  }
  std::vector<ProductSumcheckProof> layers(const std::string& where) {
    const size_t n = len(where, kMaxLayers, 8);
    std::vector<ProductSumcheckProof> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i)
      v.push_back(product(at(where, i)));
    return v;
  }
  GkrProof gkr(const std::string& where) {
    GkrProof p;
    const size_t n = len(where + ".output", kMaxColumns, 4);
    for (size_t c = 0; c < n; ++c)
      p.output.push_back(qm31s(at(where + ".output", c), kMaxValues));
    p.layers = layers(where + ".layers");
    return p;
  }
  MleOpeningProof opening(const std::string& where) {
    MleOpeningProof p;
    p.proximity_row = qm31s(where + ".proximity_row", kMaxValues);
    p.evaluation_row = qm31s(where + ".evaluation_row", kMaxValues);
    p.queried_values = m31s(where + ".queried_values", kMaxValues);
    const size_t n = len(where + ".hash_witness", kMaxValues, 32);
    p.decommitment.hash_witness.resize(n);
    for (size_t i = 0; i < n; ++i)
      std::memcpy(p.decommitment.hash_witness[i].bytes.data(), take(32, where + ".hash_witness").data(), 32);
    p.decommitment.column_witness = m31s(where + ".column_witness", kMaxValues);
    return p;
  }
  void finish() {
    if (left() != 0)
      fail("input", std::to_string(left()) + " trailing bytes after the proof");
  }
};

template <class T, class F>
T read(std::span<const uint8_t> bytes, SumcheckProofKind kind, F&& body) {
  Reader r(bytes, kind);
  T out = body(r);
  r.finish();
  return out;
}

} // namespace

SumcheckProofKind sumcheck_proof_kind(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxSumcheckProofBytes)
    fail("input", "oversized (" + std::to_string(bytes.size()) + " bytes, at most " +
                      std::to_string(kMaxSumcheckProofBytes) + ")");
  if (bytes.size() < kHeaderBytes)
    fail("header", "truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail("magic", "not a ptvm sumcheck proof");
  auto word = [&](size_t off) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t(bytes[off + i]) << (8 * i);
    return v;
  };
  const uint32_t version = word(8);
  if (version != kSumcheckProofVersion)
    fail("version", "unsupported version " + std::to_string(version) + " (this reader knows " +
                        std::to_string(kSumcheckProofVersion) + ")");
  const uint32_t kind = word(12);
  if (kind < uint32_t(SumcheckProofKind::Sumcheck) ||
      kind > uint32_t(SumcheckProofKind::MleCommitment))
    fail("kind", "unknown proof kind " + std::to_string(kind));
  return SumcheckProofKind(kind);
}

std::vector<uint8_t> to_bytes(const SumcheckProof& p) {
  Writer w(SumcheckProofKind::Sumcheck);
  w.sumcheck(p);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const ProductSumcheckProof& p) {
  Writer w(SumcheckProofKind::ProductSumcheck);
  w.product(p);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const MatmulProof& p) {
  Writer w(SumcheckProofKind::Matmul);
  w.qm31s(p.product_claims);
  w.product(p.sumcheck);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const GkrProof& p) {
  Writer w(SumcheckProofKind::Gkr);
  w.gkr(p);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const LayeredGkrProof& p) {
  Writer w(SumcheckProofKind::LayeredGkr);
  w.qm31s(p.output);
  w.len(p.layers.size());
  for (const auto& l : p.layers)
    w.product(l);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const LookupProof& p) {
  Writer w(SumcheckProofKind::Lookup);
  w.gkr(p.gkr);
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const CommittedLookupProof& p) {
  Writer w(SumcheckProofKind::CommittedLookup);
  w.gkr(p.gkr);
  w.len(p.instances.size());
  for (const auto& o : p.instances) {
    w.qm31s(o.value_evaluations);
    w.qm31(o.multiplicity_evaluation);
    w.len(o.value_openings.size());
    for (const auto& v : o.value_openings)
      w.opening(v);
    w.opening(o.multiplicity_opening);
  }
  return std::move(w.out);
}
std::vector<uint8_t> to_bytes(const MleOpeningProof& p) {
  Writer w(SumcheckProofKind::MleOpening);
  w.opening(p);
  return std::move(w.out);
}

SumcheckProof sumcheck_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<SumcheckProof>(bytes, SumcheckProofKind::Sumcheck,
                             [](Reader& r) { return r.sumcheck("sumcheck"); });
}
ProductSumcheckProof product_sumcheck_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<ProductSumcheckProof>(bytes, SumcheckProofKind::ProductSumcheck,
                                    [](Reader& r) { return r.product("product"); });
}
MatmulProof matmul_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<MatmulProof>(bytes, SumcheckProofKind::Matmul, [](Reader& r) {
    MatmulProof p;
    p.product_claims = r.qm31s("matmul.product_claims", kMaxValues);
    p.sumcheck = r.product("matmul.sumcheck");
    return p;
  });
}
GkrProof gkr_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<GkrProof>(bytes, SumcheckProofKind::Gkr, [](Reader& r) { return r.gkr("gkr"); });
}
LayeredGkrProof layered_gkr_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<LayeredGkrProof>(bytes, SumcheckProofKind::LayeredGkr, [](Reader& r) {
    LayeredGkrProof p;
    p.output = r.qm31s("layered_gkr.output", kMaxValues);
    p.layers = r.layers("layered_gkr.layers");
    return p;
  });
}
LookupProof lookup_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<LookupProof>(bytes, SumcheckProofKind::Lookup,
                           [](Reader& r) { return LookupProof{r.gkr("lookup.gkr")}; });
}
CommittedLookupProof committed_lookup_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<CommittedLookupProof>(bytes, SumcheckProofKind::CommittedLookup, [](Reader& r) {
    CommittedLookupProof p;
    p.gkr = r.gkr("committed_lookup.gkr");
    const size_t n = r.len("committed_lookup.instances", kMaxInstances, 4 + 16 + 4);
    for (size_t i = 0; i < n; ++i) {
      const std::string where = at("committed_lookup.instances", i);
      CommittedLookupOpenings o;
      o.value_evaluations = r.qm31s(where + ".value_evaluations", kMaxColumns);
      o.multiplicity_evaluation = r.qm31(where + ".multiplicity_evaluation");
      const size_t k = r.len(where + ".value_openings", kMaxColumns, 20);
      for (size_t j = 0; j < k; ++j)
        o.value_openings.push_back(r.opening(at(where + ".value_openings", j)));
      o.multiplicity_opening = r.opening(where + ".multiplicity_opening");
      p.instances.push_back(std::move(o));
    }
    return p;
  });
}
std::vector<uint8_t> to_bytes(const MleCommitment& c) {
  Writer w(SumcheckProofKind::MleCommitment);
  w.out.insert(w.out.end(), c.root.bytes.begin(), c.root.bytes.end());
  for (uint32_t x : {c.n_vars, c.log_rows, c.log_blowup, c.n_queries})
    w.u32(x);
  return std::move(w.out);
}

MleCommitment mle_commitment_from_bytes(std::span<const uint8_t> bytes) {
  return read<MleCommitment>(bytes, SumcheckProofKind::MleCommitment, [](Reader& r) {
    MleCommitment c;
    std::memcpy(c.root.bytes.data(), r.take(32, "mle_commitment.root").data(), 32);
    c.n_vars = r.u32("mle_commitment.n_vars");
    if (c.n_vars == 0 || c.n_vars > 40)
      fail("mle_commitment.n_vars", std::to_string(c.n_vars) + " variables (1..40 allowed)");
    c.log_rows = r.u32("mle_commitment.log_rows");
    if (c.log_rows >= c.n_vars)
      fail("mle_commitment.log_rows", std::to_string(c.log_rows) + " leaves no column variable");
    c.log_blowup = r.u32("mle_commitment.log_blowup");
    c.n_queries = r.u32("mle_commitment.n_queries");
    return c;
  });
}

MleOpeningProof mle_opening_proof_from_bytes(std::span<const uint8_t> bytes) {
  return read<MleOpeningProof>(bytes, SumcheckProofKind::MleOpening,
                               [](Reader& r) { return r.opening("mle_opening"); });
}

} // namespace ptvm::sumcheck
