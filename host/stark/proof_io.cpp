// JSON and binary encodings of StarkProof (see ptvm/stark/proof.hpp).
#include <cstring>
#include <nlohmann/json.hpp>

#include "ptvm/common/le_reader.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/stark/proof.hpp"

namespace ptvm::stark {
namespace {

using nlohmann::json;
constexpr std::string_view kJsonFormat = "ptvm-circle-stark-proof";
constexpr uint8_t kBinaryMagic[8] = {'P', 'T', 'V', 'M', 'C', 'S', 'T', 'K'};

[[noreturn]] void fail(const std::string& where, const std::string& why) {
  throw Error(ErrorCategory::Parse, "proof: " + where + ": " + why);
}

// ---------------------------------------------------------------- JSON writing
json qm31_json(const QM31& v) { return json::array({v.x0.a.v, v.x0.b.v, v.x1.a.v, v.x1.b.v}); }
json qm31s_json(const std::vector<QM31>& vs) {
  json a = json::array();
  for (const auto& v : vs) a.push_back(qm31_json(v));
  return a;
}
json m31s_json(const std::vector<M31>& vs) {
  json a = json::array();
  for (const auto& v : vs) a.push_back(v.v);
  return a;
}
json hashes_json(const std::vector<hash::Blake2sHash>& hs) {
  json a = json::array();
  for (const auto& h : hs) a.push_back(h.hex());
  return a;
}
json layer_json(const FriLayerProof& l) {
  json o = json::object();
  o["commitment"] = l.commitment.hex();
  o["fri_witness"] = qm31s_json(l.fri_witness);
  o["hash_witness"] = hashes_json(l.decommitment.hash_witness);
  o["column_witness"] = m31s_json(l.decommitment.column_witness);
  return o;
}

// ---------------------------------------------------------------- JSON reading (strict)
void expect_keys(const json& j, const std::string& where, std::initializer_list<const char*> keys) {
  if (!j.is_object()) fail(where, "expected an object");
  if (j.size() != keys.size()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool known = false;
      for (const char* k : keys) known |= it.key() == k;
      if (!known) fail(where, "unknown field '" + printable_bytes(it.key()) + "'");
    }
  }
  for (const char* k : keys)
    if (!j.contains(k)) fail(where, std::string("missing field '") + k + "'");
}
const json& array_of(const json& j, const std::string& where, size_t exact = SIZE_MAX) {
  if (!j.is_array()) fail(where, "expected an array");
  if (j.size() > kMaxVectorLength) fail(where, "oversized list (" + std::to_string(j.size()) + " elements)");
  if (exact != SIZE_MAX && j.size() != exact)
    fail(where, "expected " + std::to_string(exact) + " elements, got " + std::to_string(j.size()));
  return j;
}
uint64_t read_uint(const json& j, const std::string& where, uint64_t max) {
  if (!j.is_number_unsigned()) fail(where, "expected a non-negative integer");
  uint64_t v = j.get<uint64_t>();
  if (v > max) fail(where, "value " + std::to_string(v) + " above " + std::to_string(max));
  return v;
}
M31 read_m31(const json& j, const std::string& where) {
  if (!j.is_number_unsigned()) fail(where, "expected a non-negative integer");
  uint64_t v = j.get<uint64_t>();
  if (v >= M31::P) fail(where, "non-canonical M31 value " + std::to_string(v));
  return M31::raw(static_cast<uint32_t>(v));
}
QM31 read_qm31(const json& j, const std::string& where) {
  array_of(j, where, 4);
  return QM31::from_m31(read_m31(j[0], where + "[0]"), read_m31(j[1], where + "[1]"), read_m31(j[2], where + "[2]"),
                        read_m31(j[3], where + "[3]"));
}
std::vector<QM31> read_qm31s(const json& j, const std::string& where) {
  array_of(j, where);
  std::vector<QM31> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(read_qm31(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}
std::vector<M31> read_m31s(const json& j, const std::string& where) {
  array_of(j, where);
  std::vector<M31> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(read_m31(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}
hash::Blake2sHash read_hash(const json& j, const std::string& where) {
  if (!j.is_string()) fail(where, "expected a hex string");
  const std::string& s = j.get_ref<const std::string&>();
  if (s.size() != 64) fail(where, "hash must be 64 hex digits, got " + std::to_string(s.size()));
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) fail(where, "hash must be lowercase hex");
  auto h = hash::Blake2sHash::from_hex(s);
  if (!h) fail(where, "bad hex");
  return *h;
}
std::vector<hash::Blake2sHash> read_hashes(const json& j, const std::string& where) {
  array_of(j, where);
  std::vector<hash::Blake2sHash> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) out.push_back(read_hash(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}
FriLayerProof read_layer(const json& j, const std::string& where) {
  expect_keys(j, where, {"commitment", "fri_witness", "hash_witness", "column_witness"});
  FriLayerProof l;
  l.commitment = read_hash(j["commitment"], where + ".commitment");
  l.fri_witness = read_qm31s(j["fri_witness"], where + ".fri_witness");
  l.decommitment.hash_witness = read_hashes(j["hash_witness"], where + ".hash_witness");
  l.decommitment.column_witness = read_m31s(j["column_witness"], where + ".column_witness");
  return l;
}

// ---------------------------------------------------------------- binary
struct Writer {
  std::vector<uint8_t> out;
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void m31(M31 v) { u32(v.v); }
  void qm31(const QM31& v) {
    m31(v.x0.a);
    m31(v.x0.b);
    m31(v.x1.a);
    m31(v.x1.b);
  }
  void hash(const hash::Blake2sHash& h) { out.insert(out.end(), h.bytes.begin(), h.bytes.end()); }
  void len(size_t n) { u32(static_cast<uint32_t>(n)); }
  void qm31s(const std::vector<QM31>& v) {
    len(v.size());
    for (const auto& x : v) qm31(x);
  }
  void m31s(const std::vector<M31>& v) {
    len(v.size());
    for (const auto& x : v) m31(x);
  }
  void hashes(const std::vector<hash::Blake2sHash>& v) {
    len(v.size());
    for (const auto& x : v) hash(x);
  }
  void layer(const FriLayerProof& l) {
    hash(l.commitment);
    qm31s(l.fri_witness);
    hashes(l.decommitment.hash_witness);
    m31s(l.decommitment.column_witness);
  }
};

struct Reader : LeReader<Reader> {
  using LeReader::LeReader;
  [[noreturn]] static void fail(const std::string& where, const std::string& why) { ptvm::stark::fail(where, why); }
  hash::Blake2sHash hash(const std::string& where) {
    hash::Blake2sHash h;
    std::memcpy(h.bytes.data(), take(32, where).data(), 32);
    return h;
  }
  size_t len(const std::string& where, size_t element_bytes) {
    uint32_t n = u32(where);
    if (n > kMaxVectorLength) fail(where, "oversized list (" + std::to_string(n) + " elements)");
    need(static_cast<size_t>(n) * element_bytes, where);
    return n;
  }
  std::vector<QM31> qm31s(const std::string& where) {
    size_t n = len(where, 16);
    std::vector<QM31> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(qm31(where));
    return v;
  }
  std::vector<M31> m31s(const std::string& where) {
    size_t n = len(where, 4);
    std::vector<M31> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(m31(where));
    return v;
  }
  std::vector<hash::Blake2sHash> hashes(const std::string& where) {
    size_t n = len(where, 32);
    std::vector<hash::Blake2sHash> v;
    v.reserve(n);
    for (size_t i = 0; i < n; ++i) v.push_back(hash(where));
    return v;
  }
  FriLayerProof layer(const std::string& where) {
    FriLayerProof l;
    l.commitment = hash(where + ".commitment");
    l.fri_witness = qm31s(where + ".fri_witness");
    l.decommitment.hash_witness = hashes(where + ".hash_witness");
    l.decommitment.column_witness = m31s(where + ".column_witness");
    return l;
  }
};

void check_profile_or_fail(const Profile& p) {
  if (auto why = validate_profile(p)) fail("profile", *why);
}

}  // namespace

std::string proof_to_json(const StarkProof& p) {
  json j = json::object();
  j["format"] = kJsonFormat;
  j["version"] = kProofFormatVersion;
  j["profile"] = {{"name", p.profile.name},
                  {"log_blowup", p.profile.log_blowup},
                  {"n_queries", p.profile.n_queries},
                  {"pow_bits", p.profile.pow_bits},
                  {"log_last_layer_degree_bound", p.profile.log_last_layer_degree_bound}};
  j["commitments"] = hashes_json(std::vector<hash::Blake2sHash>(p.commitments.begin(), p.commitments.end()));
  j["claimed_sums"] = qm31s_json(p.claimed_sums);
  json sampled = json::array(), decommitments = json::array(), queried = json::array();
  for (size_t t = 0; t < kNumTrees; ++t) {
    json cols = json::array();
    for (const auto& c : p.sampled_values[t]) cols.push_back(qm31s_json(c));
    sampled.push_back(cols);
    decommitments.push_back({{"hash_witness", hashes_json(p.decommitments[t].hash_witness)},
                             {"column_witness", m31s_json(p.decommitments[t].column_witness)}});
    queried.push_back(m31s_json(p.queried_values[t]));
  }
  j["sampled_values"] = sampled;
  j["decommitments"] = decommitments;
  j["queried_values"] = queried;
  j["proof_of_work"] = p.proof_of_work;
  json inner = json::array();
  for (const auto& l : p.fri.inner_layers) inner.push_back(layer_json(l));
  j["fri"] = {{"first_layer", layer_json(p.fri.first_layer)},
              {"inner_layers", inner},
              {"last_layer_poly", qm31s_json(p.fri.last_layer_poly)}};
  return j.dump();
}

StarkProof proof_from_json(std::string_view text) {
  return proof_from_json_value(parse_json_strict(text, "proof: input", JsonLimits{kMaxProofBytes}));
}

StarkProof proof_from_json_value(const json& j) {
  expect_keys(j, "proof", {"format", "version", "profile", "commitments", "claimed_sums", "sampled_values",
                           "decommitments", "queried_values", "proof_of_work", "fri"});
  if (!j["format"].is_string() || j["format"].get<std::string>() != kJsonFormat)
    fail("format", std::string("expected \"") + std::string(kJsonFormat) + "\"");
  if (read_uint(j["version"], "version", UINT32_MAX) != kProofFormatVersion)
    fail("version", "unsupported version (this reader knows " + std::to_string(kProofFormatVersion) + ")");
  StarkProof p;
  const json& pj = j["profile"];
  expect_keys(pj, "profile", {"name", "log_blowup", "n_queries", "pow_bits", "log_last_layer_degree_bound"});
  if (!pj["name"].is_string()) fail("profile.name", "expected a string");
  p.profile.name = pj["name"].get<std::string>();
  p.profile.log_blowup = static_cast<uint32_t>(read_uint(pj["log_blowup"], "profile.log_blowup", UINT32_MAX));
  p.profile.n_queries = static_cast<uint32_t>(read_uint(pj["n_queries"], "profile.n_queries", UINT32_MAX));
  p.profile.pow_bits = static_cast<uint32_t>(read_uint(pj["pow_bits"], "profile.pow_bits", UINT32_MAX));
  p.profile.log_last_layer_degree_bound = static_cast<uint32_t>(
      read_uint(pj["log_last_layer_degree_bound"], "profile.log_last_layer_degree_bound", UINT32_MAX));
  check_profile_or_fail(p.profile);
  auto commitments = read_hashes(array_of(j["commitments"], "commitments", kNumTrees), "commitments");
  for (size_t t = 0; t < kNumTrees; ++t) p.commitments[t] = commitments[t];
  p.claimed_sums = read_qm31s(j["claimed_sums"], "claimed_sums");
  array_of(j["sampled_values"], "sampled_values", kNumTrees);
  array_of(j["decommitments"], "decommitments", kNumTrees);
  array_of(j["queried_values"], "queried_values", kNumTrees);
  for (size_t t = 0; t < kNumTrees; ++t) {
    std::string ts = "[" + std::to_string(t) + "]";
    const json& cols = array_of(j["sampled_values"][t], "sampled_values" + ts);
    for (size_t c = 0; c < cols.size(); ++c)
      p.sampled_values[t].push_back(read_qm31s(cols[c], "sampled_values" + ts + "[" + std::to_string(c) + "]"));
    const json& d = j["decommitments"][t];
    expect_keys(d, "decommitments" + ts, {"hash_witness", "column_witness"});
    p.decommitments[t].hash_witness = read_hashes(d["hash_witness"], "decommitments" + ts + ".hash_witness");
    p.decommitments[t].column_witness = read_m31s(d["column_witness"], "decommitments" + ts + ".column_witness");
    p.queried_values[t] = read_m31s(j["queried_values"][t], "queried_values" + ts);
  }
  p.proof_of_work = read_uint(j["proof_of_work"], "proof_of_work", UINT64_MAX);
  const json& f = j["fri"];
  expect_keys(f, "fri", {"first_layer", "inner_layers", "last_layer_poly"});
  p.fri.first_layer = read_layer(f["first_layer"], "fri.first_layer");
  const json& inner = array_of(f["inner_layers"], "fri.inner_layers");
  for (size_t i = 0; i < inner.size(); ++i)
    p.fri.inner_layers.push_back(read_layer(inner[i], "fri.inner_layers[" + std::to_string(i) + "]"));
  p.fri.last_layer_poly = read_qm31s(f["last_layer_poly"], "fri.last_layer_poly");
  return p;
}

std::vector<uint8_t> proof_to_binary(const StarkProof& p) {
  Writer w;
  w.out.insert(w.out.end(), std::begin(kBinaryMagic), std::end(kBinaryMagic));
  w.u32(kProofFormatVersion);
  w.len(p.profile.name.size());
  w.out.insert(w.out.end(), p.profile.name.begin(), p.profile.name.end());
  w.u32(p.profile.log_blowup);
  w.u32(p.profile.n_queries);
  w.u32(p.profile.pow_bits);
  w.u32(p.profile.log_last_layer_degree_bound);
  for (const auto& c : p.commitments) w.hash(c);
  w.qm31s(p.claimed_sums);
  for (size_t t = 0; t < kNumTrees; ++t) {
    w.len(p.sampled_values[t].size());
    for (const auto& c : p.sampled_values[t]) w.qm31s(c);
    w.hashes(p.decommitments[t].hash_witness);
    w.m31s(p.decommitments[t].column_witness);
    w.m31s(p.queried_values[t]);
  }
  w.u64(p.proof_of_work);
  w.layer(p.fri.first_layer);
  w.len(p.fri.inner_layers.size());
  for (const auto& l : p.fri.inner_layers) w.layer(l);
  w.qm31s(p.fri.last_layer_poly);
  return std::move(w.out);
}

size_t proof_binary_size(const StarkProof& proof) { return proof_to_binary(proof).size(); }

StarkProof proof_from_binary(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxProofBytes) fail("input", "oversized (" + std::to_string(bytes.size()) + " bytes)");
  Reader r(bytes);
  if (std::memcmp(r.take(8, "magic").data(), kBinaryMagic, 8) != 0) fail("magic", "not a ptvm circle-STARK proof");
  uint32_t version = r.u32("version");
  if (version != kProofFormatVersion)
    fail("version", "unsupported version " + std::to_string(version) + " (this reader knows " +
                        std::to_string(kProofFormatVersion) + ")");
  StarkProof p;
  size_t name_len = r.len("profile.name", 1);
  if (name_len > 64) fail("profile.name", "longer than 64 bytes");
  const auto name = r.take(name_len, "profile.name");
  p.profile.name.assign(reinterpret_cast<const char*>(name.data()), name_len);
  p.profile.log_blowup = r.u32("profile.log_blowup");
  p.profile.n_queries = r.u32("profile.n_queries");
  p.profile.pow_bits = r.u32("profile.pow_bits");
  p.profile.log_last_layer_degree_bound = r.u32("profile.log_last_layer_degree_bound");
  check_profile_or_fail(p.profile);
  for (auto& c : p.commitments) c = r.hash("commitments");
  p.claimed_sums = r.qm31s("claimed_sums");
  for (size_t t = 0; t < kNumTrees; ++t) {
    std::string ts = "[" + std::to_string(t) + "]";
    size_t n_cols = r.len("sampled_values" + ts, 4);
    for (size_t c = 0; c < n_cols; ++c) p.sampled_values[t].push_back(r.qm31s("sampled_values" + ts));
    p.decommitments[t].hash_witness = r.hashes("decommitments" + ts + ".hash_witness");
    p.decommitments[t].column_witness = r.m31s("decommitments" + ts + ".column_witness");
    p.queried_values[t] = r.m31s("queried_values" + ts);
  }
  p.proof_of_work = r.u64("proof_of_work");
  p.fri.first_layer = r.layer("fri.first_layer");
  size_t n_inner = r.len("fri.inner_layers", 32 + 12);
  for (size_t i = 0; i < n_inner; ++i) p.fri.inner_layers.push_back(r.layer("fri.inner_layers[" + std::to_string(i) + "]"));
  p.fri.last_layer_poly = r.qm31s("fri.last_layer_poly");
  if (r.left() != 0) fail("input", std::to_string(r.left()) + " trailing bytes after the proof");
  return p;
}

}  // namespace ptvm::stark
