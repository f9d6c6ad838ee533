// One proof for many TVM runs (see ptvm/vmair/aggregate.hpp).
#include "ptvm/vmair/aggregate.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "ptvm/air/relabel.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/common/le_reader.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace ptvm::vmair {
namespace {

using nlohmann::json;

constexpr uint32_t kSharedByte = 0, kSharedBitwise = 1;

// The VM AIR's relation r (kRomRelation .. kBitwiseRelation) for job j.
std::array<uint32_t, 4> job_relation_map(size_t job) {
  std::array<uint32_t, 4> m{};
  m[kRomRelation] = static_cast<uint32_t>(2 + 2 * job);
  m[kMemoryRelation] = static_cast<uint32_t>(3 + 2 * job);
  m[kByteRelation] = kSharedByte;
  m[kBitwiseRelation] = kSharedBitwise;
  return m;
}

uint64_t step_rows(const VmStatement& s) {
  uint64_t rows = 4;
  while (rows < s.steps) rows <<= 1;
  return rows;
}

// The aggregate's limits; the reason, or nullopt.
std::optional<std::string> check_limits(std::span<const VmStatement> statements) {
  if (statements.empty()) return std::string("an aggregate needs at least one job");
  if (statements.size() > kMaxAggregateJobs)
    return std::string("an aggregate holds at most ") + std::to_string(kMaxAggregateJobs) + " jobs, not " +
           std::to_string(statements.size());
  uint64_t rows = 0;
  for (const auto& s : statements) rows += step_rows(s);
  if (rows > kMaxAggregateStepRows)
    return "the jobs have " + std::to_string(rows) + " step rows together, above an aggregate's 2^24";
  return std::nullopt;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string job_name(size_t j) { return "job " + std::to_string(j) + ": "; }

}  // namespace

air::Air build_aggregate_air(std::span<const VmStatement> statements) {
  if (auto why = check_limits(statements)) throw Error(ErrorCategory::Usage, "aggregate: " + *why);
  air::Air a;
  a.relations = {{"vm_byte", 1}, {"vm_bitwise", 4}};
  for (size_t j = 0; j < statements.size(); ++j) {
    a.relations.push_back({"job" + std::to_string(j) + "/vm_rom", 4});
    a.relations.push_back({"job" + std::to_string(j) + "/vm_memory", 3});
  }
  a.n_public_inputs = static_cast<uint32_t>(statements.size() * kNumPublicInputs);
  std::optional<TablesAir> tables;
  for (size_t j = 0; j < statements.size(); ++j) {
    VmComponents c;
    try {
      c = vm_components(statements[j]);
    } catch (const Error& e) {
      throw Error(e.category(), "aggregate: " + job_name(j) + e.what());
    }
    const auto map = job_relation_map(j);
    const auto offset = static_cast<uint32_t>(j * kNumPublicInputs);
    const std::string prefix = "job" + std::to_string(j) + "/";
    a.components.push_back(air::make_component(air::relabel(std::move(c.steps), map, offset, prefix)));
    a.components.push_back(air::make_component(air::relabel(std::move(c.rom), map, offset, prefix)));
    a.components.push_back(air::make_component(air::relabel(std::move(c.memory), map, offset, prefix)));
    if (!tables) tables = c.tables;
  }
  a.components.push_back(air::make_component(air::relabel(*tables, job_relation_map(0), 0, "")));
  return a;
}

std::vector<M31> aggregate_public_inputs(std::span<const Claim> claims) {
  std::vector<M31> pub;
  pub.reserve(claims.size() * kNumPublicInputs);
  for (const Claim& c : claims) {
    const auto one = public_inputs(c.statement, digest_words(claim_digest(c)));
    pub.insert(pub.end(), one.begin(), one.end());
  }
  return pub;
}

std::vector<std::vector<std::vector<M31>>> build_aggregate_witness(std::span<const VmStatement> statements,
                                                                   std::span<const vm::ExecutionTrace* const> traces) {
  if (statements.size() != traces.size())
    throw Error(ErrorCategory::Usage, "aggregate witness: " + std::to_string(statements.size()) + " statements, " +
                                          std::to_string(traces.size()) + " traces");
  std::vector<std::vector<std::vector<M31>>> out;
  std::vector<std::vector<uint64_t>> table_counts;  // [column][row], summed over the jobs
  for (size_t j = 0; j < statements.size(); ++j) {
    auto w = build_witness(statements[j], *traces[j]);  // steps, rom, memory, tables
    for (size_t k = 0; k < 3; ++k) out.push_back(std::move(w[k]));
    const auto& t = w[3];
    if (table_counts.empty()) table_counts.assign(t.size(), std::vector<uint64_t>(t.empty() ? 0 : t[0].size(), 0));
    for (size_t c = 0; c < t.size(); ++c)
      for (size_t r = 0; r < t[c].size(); ++r) table_counts[c][r] += t[c][r].value();
  }
  std::vector<std::vector<M31>> tables(table_counts.size());
  for (size_t c = 0; c < table_counts.size(); ++c) {
    tables[c].resize(table_counts[c].size());
    for (size_t r = 0; r < table_counts[c].size(); ++r) tables[c][r] = M31::from_u64(table_counts[c][r]);
  }
  out.push_back(std::move(tables));
  return out;
}

uint32_t aggregate_security_bits(std::span<const Claim> claims) {
  uint32_t bits = UINT32_MAX;
  for (const Claim& c : claims) bits = std::min(bits, claim_security_bits(c.statement, c.profile));
  return claims.empty() ? 0 : bits;
}

AggregateProof prove_aggregate(std::span<const AggregateRun> runs, const AggregateProveOptions& options) {
  if (runs.empty()) throw Error(ErrorCategory::Usage, "aggregate: no runs to prove");
  uint64_t longest = 0;
  for (const auto& r : runs) {
    if (!r.trace) throw Error(ErrorCategory::Usage, "aggregate: a run without a trace");
    longest = std::max<uint64_t>(longest, r.trace->steps());
  }
  const stark::Profile profile = options.profile ? *options.profile : automatic_profile(longest);
  if (auto why = stark::validate_profile(profile)) throw Error(ErrorCategory::Usage, "profile: " + *why);

  AggregateProof out;
  std::vector<VmStatement> statements;
  std::vector<const vm::ExecutionTrace*> traces;
  for (size_t j = 0; j < runs.size(); ++j) {
    const vm::ExecutionTrace& t = *runs[j].trace;
    if (t.attention.kind != vm::AttentionMode::Kind::AverageHard)
      throw Error(ErrorCategory::Usage, "aggregate: " + job_name(j) + "only average-hard attention is provable");
    const vm::TransformerConfig config = provable_transformer_config(runs[j].layers);
    if (auto why = check_transformer_config(config)) throw Error(ErrorCategory::Usage, "aggregate: " + job_name(j) + *why);
    out.claims.push_back(claim_for_trace(t, config, profile, equivalence_for_trace(t, runs[j].lockstep)));
    if (auto why = check_statement(out.claims.back().statement))
      throw Error(ErrorCategory::Usage, "aggregate: " + job_name(j) + "cannot prove this run: " + *why);
    statements.push_back(out.claims.back().statement);
    traces.push_back(&t);
  }
  auto t0 = std::chrono::steady_clock::now();
  const air::Air a = build_aggregate_air(statements);
  const auto pub = aggregate_public_inputs(out.claims);
  const auto witness = build_aggregate_witness(statements, traces);
  out.witness_ms = ms_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  out.proof = prove_on(a, pub, witness, profile, options.backend, &out.timings, options.progress);
  out.prove_ms = ms_since(t1);
  return out;
}

stark::Verdict verify_aggregate(std::span<const Claim> claims, const stark::StarkProof& proof, const VerifyOptions& options) {
  auto reject = [](std::string why) { return stark::Verdict{false, std::move(why)}; };
  try {
    if (claims.empty()) return reject("aggregate: no claims");
    if (claims.size() > kMaxAggregateJobs)
      return reject("aggregate: " + std::to_string(claims.size()) + " claims, at most " +
                    std::to_string(kMaxAggregateJobs));
    for (size_t j = 0; j < claims.size(); ++j)
      if (auto why = claim_rejection(claims[j], proof.profile, options)) return reject(job_name(j) + *why);
    std::vector<VmStatement> statements;
    statements.reserve(claims.size());
    for (const Claim& c : claims) statements.push_back(c.statement);
    if (auto why = check_limits(statements)) return reject("aggregate: " + *why);
    // The verifier recomputes every job's preprocessed columns: bound their total like one
    // proof's largest domain (VerifyOptions::max_log_lde_size), before any of it.
    uint64_t lde_rows = 0;
    for (const Claim& c : claims) lde_rows += uint64_t{1} << claim_log_lde_size(c.statement, c.profile);
    if (lde_rows > (uint64_t{2} << options.max_log_lde_size))
      return reject("aggregate: the jobs' LDE domains have " + std::to_string(lde_rows) +
                    " rows together, above this verifier's limit 2^" + std::to_string(options.max_log_lde_size + 1) +
                    " (raise it with --max-lde-log-size)");
    const air::Air a = build_aggregate_air(statements);
    const auto pub = aggregate_public_inputs(claims);
    stark::Verdict v = stark::verify(a, pub, proof, claims[0].profile);
    if (!v.accepted) return v;
    if (options.reexecute)
      for (size_t j = 0; j < claims.size(); ++j)
        if (auto why = reexecution_rejection(claims[j])) return reject(job_name(j) + *why);
    return v;
  } catch (const std::exception& e) {
    return reject(std::string("rejected: ") + e.what());
  }
}

// ---- files

std::string aggregate_file_json(std::span<const Claim> claims, const stark::StarkProof& proof) {
  nlohmann::ordered_json out;
  out["format"] = std::string(kAggregateFileFormat);
  out["claims"] = nlohmann::ordered_json::array();
  for (const Claim& c : claims) out["claims"].push_back(nlohmann::ordered_json::parse(claim_to_json(c).dump()));
  out["proof"] = nlohmann::ordered_json::parse(stark::proof_to_json(proof));
  return out.dump();
}

std::vector<uint8_t> aggregate_file_binary(std::span<const Claim> claims, const stark::StarkProof& proof) {
  std::vector<uint8_t> out(std::begin(kAggregateBinaryMagic), std::end(kAggregateBinaryMagic));
  auto put_u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put_u32(static_cast<uint32_t>(claims.size()));
  for (const Claim& c : claims) {
    const std::string text = canonical_json(claim_to_json(c));
    put_u32(static_cast<uint32_t>(text.size()));
    out.insert(out.end(), text.begin(), text.end());
  }
  const std::vector<uint8_t> stark_bytes = stark::proof_to_binary(proof);
  out.insert(out.end(), stark_bytes.begin(), stark_bytes.end());
  return out;
}

namespace {

bool has_binary_magic(std::span<const uint8_t> bytes) {
  return bytes.size() >= 8 && std::equal(std::begin(kAggregateBinaryMagic), std::end(kAggregateBinaryMagic), bytes.begin(),
                                         [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; });
}

// The binary file's claims section, read through the project's bounded reader core.
class AggregateReader : public LeReader<AggregateReader> {
 public:
  using LeReader::LeReader;
  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(ErrorCategory::Parse, "binary aggregate file: " + field + ": " + why);
  }
};

AggregateFile read_binary(std::span<const uint8_t> bytes) {
  AggregateReader in(bytes.subspan(8));
  const uint32_t n = in.u32("claim count");
  if (n == 0 || n > kMaxAggregateJobs)
    in.fail("claim count", std::to_string(n) + " outside [1, " + std::to_string(kMaxAggregateJobs) + "]");
  AggregateFile out;
  for (uint32_t j = 0; j < n; ++j) {
    const std::string field = "claim " + std::to_string(j);
    const uint32_t len = in.u32(field + " length");
    if (len > kMaxClaimBytes)
      in.fail(field, std::to_string(len) + " bytes, at most " + std::to_string(kMaxClaimBytes));
    const auto text = in.take(len, field);
    out.claims.push_back(claim_from_json(parse_json_strict(
        std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), "binary aggregate file: " + field,
        JsonLimits{kMaxClaimBytes})));
  }
  out.proof = stark::proof_from_binary(in.input().subspan(in.position()));
  return out;
}

}  // namespace

bool is_aggregate_file(std::span<const uint8_t> bytes) {
  if (has_binary_magic(bytes)) return true;
  // A JSON aggregate names its format first (aggregate_file_json); look no further than that.
  const std::string_view head(reinterpret_cast<const char*>(bytes.data()), std::min<size_t>(bytes.size(), 256));
  const size_t at = head.find("\"format\"");
  return at != std::string_view::npos && head.find(std::string("\"") + std::string(kAggregateFileFormat) + "\"", at) !=
                                              std::string_view::npos;
}

AggregateFile read_aggregate_file(std::span<const uint8_t> bytes) {
  if (bytes.size() > stark::kMaxProofBytes)
    throw Error(ErrorCategory::Parse, "aggregate file: oversized (" + std::to_string(bytes.size()) + " bytes)");
  if (has_binary_magic(bytes)) return read_binary(bytes);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const json j = parse_json_strict(text, "aggregate file", JsonLimits{stark::kMaxProofBytes});
  if (!j.is_object()) throw Error(ErrorCategory::Parse, "aggregate file: expected a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "format" && k != "claims" && k != "proof")
      throw Error(ErrorCategory::Parse, "aggregate file: unknown field '" + printable_bytes(k) + "'");
  auto f = j.find("format");
  if (f == j.end() || !f->is_string() || f->get<std::string>() != kAggregateFileFormat)
    throw Error(ErrorCategory::Parse, "aggregate file: format must be \"" + std::string(kAggregateFileFormat) + "\"");
  auto c = j.find("claims");
  if (c == j.end() || !c->is_array()) throw Error(ErrorCategory::Parse, "aggregate file: claims: missing or not an array");
  if (c->empty() || c->size() > kMaxAggregateJobs)
    throw Error(ErrorCategory::Parse, "aggregate file: claims: " + std::to_string(c->size()) + " entries, expected 1.." +
                                          std::to_string(kMaxAggregateJobs));
  auto p = j.find("proof");
  if (p == j.end() || !p->is_object()) throw Error(ErrorCategory::Parse, "aggregate file: proof: missing or not an object");
  AggregateFile out;
  for (size_t i = 0; i < c->size(); ++i) {
    try {
      out.claims.push_back(claim_from_json((*c)[i]));
    } catch (const Error& e) {
      throw Error(ErrorCategory::Parse, "aggregate file: claims[" + std::to_string(i) + "]: " + e.what());
    }
  }
  out.proof = stark::proof_from_json_value(*p);
  return out;
}

}  // namespace ptvm::vmair
