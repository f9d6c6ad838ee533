// statement-v1: the contract (spec/statement-v1.json) against the verifier's constants, every seed
// vector and shipped program proved and verified, the claim's every field bound, the floors, the
// proof file reader.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <cstdio>
#include <algorithm>

#include "ptvm/statement_v1/statement.hpp"
#include "ptvm/vm/assembler.hpp"
#include "tests/shared_vectors.hpp"

namespace ptvm::statement_v1 {
namespace {

using nlohmann::json;

json load_spec() {
  std::ifstream in(std::string(PTVM_SOURCE_DIR) + "/spec/statement-v1.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<std::string> keys(const json& o) {
  std::vector<std::string> k;
  for (const auto& [key, v] : o.items()) k.push_back(key);
  return k;
}

ProveOptions options(const std::string& profile) {
  ProveOptions o;
  o.options = stark128::profile_by_name(profile);
  return o;
}

const ProvedRun& fibonacci_production() {
  static const ProvedRun run = [] {
    return prove_program(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"),
                         options("production-v1"));
  }();
  return run;
}

VerifyOptions floor(uint32_t bits) {
  VerifyOptions v;
  v.min_security_bits = bits;
  return v;
}

TEST(StatementV1Spec, VerifierConstantsMatchTheContract) {
  const json spec = load_spec();
  EXPECT_EQ(spec["statement_version"], std::string(kStatementVersion));
  EXPECT_EQ(spec["semantic_scope"], std::string(kSemanticScope));
  EXPECT_EQ(spec["proof_system"], std::string(kProofSystem));
  EXPECT_EQ(spec["field"], std::string(kFieldModulus));
  EXPECT_EQ(spec["proof_file_format"], std::string(kProofFileFormat));
  EXPECT_EQ(spec["stark_protocol"], std::string(stark128::kProtocolTag));
  EXPECT_EQ(spec["fingerprint_tag"], std::string(kFingerprintTag));
  EXPECT_EQ(spec["default_prove_profile"], std::string(kDefaultProfile));
  EXPECT_EQ(spec["verification"]["default_min_conjectured_security_bits"], kDefaultMinSecurityBits);
  EXPECT_EQ(spec["verification"]["strict_min_conjectured_security_bits"], kStrictMinSecurityBits);
  EXPECT_EQ(spec["verification"]["production_v1_min_conjectured_security_bits"], kProductionV1MinSecurityBits);
  EXPECT_EQ(spec["verification"]["reexecutes_by_default"], VerifyOptions{}.reexecute);
  EXPECT_EQ(VerifyOptions{}.min_security_bits, kDefaultMinSecurityBits);
  // Profiles: the same names, triples, PoW bits and conjectured bits, and no others.
  ASSERT_EQ(spec["profiles"].size(), stark128::named_profiles().size());
  for (const auto& p : stark128::named_profiles()) {
    SCOPED_TRACE(p.name);
    ASSERT_TRUE(spec["profiles"].contains(p.name));
    const json& s = spec["profiles"][p.name];
    EXPECT_EQ(s["expansion_factor"], p.expansion_factor);
    EXPECT_EQ(s["num_colinearity_checks"], p.num_colinearity_checks);
    EXPECT_EQ(s["security_level"], p.security_level);
    EXPECT_EQ(s["pow_bits"], p.pow_bits);
    EXPECT_EQ(s["conjectured_security_bits"], stark128::conjectured_security_bits(p));
  }
  // The claim's fields, level by level.
  const json claim = claim_to_json(fibonacci_production().claim);
  for (const auto& [path, fields] : spec["claim_fields"].items()) {
    SCOPED_TRACE(path);
    const json& level = path.empty() ? claim : claim[path];
    EXPECT_EQ(keys(level), fields.get<std::vector<std::string>>());
  }
}

TEST(StatementV1, FibonacciAtProductionV1AndTheFloors) {
  const ProvedRun& run = fibonacci_production();
  EXPECT_EQ(run.claim.conjectured_security_bits, 32u);
  EXPECT_EQ(run.claim.equivalence.checked_steps, run.claim.statement.steps);
  const Report ok = verify(run.claim, run.proof, floor(32));
  ASSERT_TRUE(ok.accepted) << ok.reason;
  EXPECT_FALSE(ok.scope.proven.empty());
  EXPECT_FALSE(ok.scope.reexecuted.empty());
  // The default floor (96) rejects a 32-bit proof and names the option that lowers it.
  const Report low = verify(run.claim, run.proof);
  EXPECT_FALSE(low.accepted);
  EXPECT_NE(low.reason.find("--min-conjectured-security"), std::string::npos) << low.reason;
  // Without re-execution the equivalence is reported as attested.
  VerifyOptions no_re = floor(32);
  no_re.reexecute = false;
  const Report att = verify(run.claim, run.proof, no_re);
  ASSERT_TRUE(att.accepted) << att.reason;
  EXPECT_TRUE(att.scope.reexecuted.empty());
  EXPECT_NE(att.scope.attested.front().find("equivalence"), std::string::npos);
}

// Every claim field is bound: by the verifier's own checks or through the digest in the channel.
TEST(StatementV1, EveryClaimFieldIsBound) {
  const ProvedRun& run = fibonacci_production();
  std::vector<std::pair<std::string, std::function<void(Claim&)>>> cases = {
      {"statement_version", [](Claim& c) { c.statement_version = "statement-v2"; }},
      {"semantic_scope", [](Claim& c) { c.semantic_scope += " "; }},
      {"program", [](Claim& c) { c.statement.program.instructions[0].operand ^= 1; }},
      {"initial_memory", [](Claim& c) { c.statement.program.initial_memory.push_back(0); c.statement.final_memory.push_back(0); }},
      {"attention_mode", [](Claim& c) { c.attention.kind = vm::AttentionMode::Kind::Softmax; }},
      {"transformer_config", [](Claim& c) { c.transformer_config.num_layers = 2; }},
      {"max_steps", [](Claim& c) { c.statement.max_steps += 1; }},
      {"steps", [](Claim& c) { c.statement.steps -= 1; c.equivalence.checked_steps -= 1; }},
      {"final_state.acc", [](Claim& c) { c.statement.final_state.acc += 1; c.statement.final_state.zero_flag = c.statement.final_state.acc == 0; }},
      {"final_state.pc", [](Claim& c) { c.statement.final_state.pc += 1; }},
      {"final_state.sp", [](Claim& c) { c.statement.final_state.sp -= 1; }},
      {"final_state.carry_flag", [](Claim& c) { c.statement.final_state.carry_flag = !c.statement.final_state.carry_flag; }},
      {"final_state.memory", [](Claim& c) { c.statement.final_memory[0] += 1; }},
      {"equivalence_checked_steps", [](Claim& c) { c.equivalence.checked_steps += 1; }},
      {"fingerprints", [](Claim& c) { c.equivalence.transformer_fingerprint[0] ^= 1; c.equivalence.native_fingerprint[0] ^= 1; }},
      {"stark.profile", [](Claim& c) { c.options.name = "custom"; c.stark_options_hash = stark_options_hash(c.options); }},
      {"stark.num_colinearity_checks", [](Claim& c) { c.options.num_colinearity_checks += 1; }},
      {"stark.conjectured_security_bits", [](Claim& c) { c.conjectured_security_bits += 1; }},
      {"program_hash", [](Claim& c) { c.identities.program_hash[0] ^= 1; }},
      {"transformer_config_hash", [](Claim& c) { c.identities.transformer_config_hash[0] ^= 1; }},
      {"deterministic_model_hash", [](Claim& c) { c.identities.deterministic_model_hash[0] ^= 1; }},
      {"stark_options_hash", [](Claim& c) { c.stark_options_hash[0] ^= 1; }},
      {"prover_build", [](Claim& c) { c.prover_build += "x"; }},
      {"prover_build with its hash", [](Claim& c) { c.prover_build += "x"; c.prover_build_hash = prover_build_hash(c.prover_build); }},
  };
  VerifyOptions v = floor(32);
  v.reexecute = false;  // the STARK and the claim checks alone must catch every change
  for (const auto& [name, change] : cases) {
    Claim c = run.claim;
    change(c);
    const Report r = verify(c, run.proof, v);
    EXPECT_FALSE(r.accepted) << name;
  }
}

TEST(StatementV1, ProofFileRoundTripAndStrictReader) {
  const ProvedRun& run = fibonacci_production();
  const std::string text = proof_file_json(run.claim, run.proof);
  ASSERT_TRUE(is_statement_v1_file(text));
  const ProofFile f = read_proof_file(text);
  EXPECT_EQ(f.proof, run.proof);
  EXPECT_EQ(claim_to_json(f.claim), claim_to_json(run.claim));
  json j = json::parse(text);
  auto expect_parse_error = [](const json& j, const std::string& needle) {
    try {
      read_proof_file(j.dump());
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  json extra = j;
  extra["claim"]["equivalence"]["note"] = 1;
  expect_parse_error(extra, "equivalence.note");
  json missing = j;
  missing["claim"]["commitments"].erase("stark_options_hash");
  expect_parse_error(missing, "commitments.stark_options_hash");
  json bad_hex = j;
  bad_hex["claim"]["commitments"]["program_hash"] = "XYZ";
  expect_parse_error(bad_hex, "commitments.program_hash");
  json bad_ins = j;
  bad_ins["claim"]["program"]["instructions"][0] = "NotAnOp";
  expect_parse_error(bad_ins, "instructions[0]");
  json bad_proof = j;
  bad_proof["proof"] = bad_proof["proof"].get<std::string>().substr(0, 100);
  expect_parse_error(bad_proof, "F128 STARK proof");
  json fmt = j;
  fmt["format"] = "ptvm-tvm-proof/1";
  expect_parse_error(fmt, "format");
  // The strict JSON reader: a duplicate key, deep nesting and oversize text are refused.
  auto expect_text_error = [](const std::string& t, const std::string& what) {
    try {
      read_proof_file(t);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse) << what;
    }
    EXPECT_FALSE(is_statement_v1_file(t)) << what;
  };
  const std::string dumped = j.dump();
  expect_text_error("{\"format\":\"x\"," + dumped.substr(1), "duplicate key");
  expect_text_error(std::string(100, '[') + std::string(100, ']'), "deep nesting");
  expect_text_error(std::string(size_t{132} << 20, ' '), "oversize");
}

// Every seed vector and every shipped program, at production-v1; the 96-bit profile on a few in CI
// and on all of them with PTVM_STATEMENT_V1_ALL=1 (also the large shipped programs).
std::vector<std::filesystem::path> programs() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PTVM_SOURCE_DIR) + "/programs"))
    if (e.path().extension() == ".tvm") out.push_back(e.path());
  if (ptvm::testing::shared_vectors_present())
    for (const auto& e : std::filesystem::directory_iterator(ptvm::testing::shared_vectors_dir()))
      if (e.path().extension() == ".tvm") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool all_requested() { return std::getenv("PTVM_STATEMENT_V1_ALL") != nullptr; }

TEST(StatementV1, EveryVectorAndProgramProvesAndVerifies) {
  size_t proved = 0;
  for (const auto& path : programs()) {
    SCOPED_TRACE(path.string());
    const vm::Program program = vm::assemble_file(path.string());
    const bool big = path.filename().string().find("100k") != std::string::npos;
    if (big && !all_requested()) continue;
    for (const char* profile : {"production-v1", "ptvm-96"}) {
      const bool heavy = std::string(profile) == "ptvm-96";
      const std::string name = path.filename().string();
      if (heavy && !all_requested() && name != "fibonacci.tvm" && name != "stack_calls.tvm" && name != "bitwise.tvm")
        continue;
      ProveOptions o = options(profile);
      o.max_steps = all_requested() ? 100000 : 2048;  // sum_wrapping runs to max_steps
      const ProvedRun run = prove_program(program, o);
      const Report r = verify(run.claim, run.proof, floor(heavy ? 96 : 32));
      EXPECT_TRUE(r.accepted) << profile << ": " << r.reason;
      std::printf("[ info ] %s %s: %llu steps, execute %.0f ms, prove %.0f ms (commit %.0f, interaction %.0f, "
                  "composition %.0f, fri %.0f), verify %.0f ms + re-execute %.0f ms\n",
                  name.c_str(), profile, static_cast<unsigned long long>(run.claim.statement.steps), run.execute_ms,
                  run.prove_ms, run.timings.commit_ms, run.timings.interaction_ms, run.timings.composition_ms,
                  run.timings.fri_ms, r.verify_ms, r.reexecute_ms);
      ++proved;
    }
  }
  EXPECT_GT(proved, 20u);
}

}  // namespace
}  // namespace ptvm::statement_v1

namespace ptvm::statement_v1 {
namespace {

// One changed character anywhere in the proof file: a parse error or a rejection, never an
// accepted proof, a crash or another exception.
TEST(StatementV1, MutatedProofFilesAreRejected) {
  const ProvedRun& run = fibonacci_production();
  const std::string text = proof_file_json(run.claim, run.proof);
  VerifyOptions v;
  v.min_security_bits = 32;
  v.reexecute = false;
  uint64_t seed = 12345;
  size_t parse_errors = 0, rejected = 0;
  const char alphabet[] = "0123456789abcdefxyz\"{}[],:-. A";
  for (int i = 0; i < 150; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    std::string t = text;
    // Half of the mutations in the claim (the first part of the file), half anywhere.
    const size_t span = i % 2 ? t.size() : std::min<size_t>(t.size(), 2000);
    const size_t at = (seed >> 20) % span;
    const char c = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
    if (t[at] == c) continue;
    t[at] = c;
    try {
      const ProofFile f = read_proof_file(t);
      const Report r = verify(f.claim, f.proof, v);
      EXPECT_FALSE(r.accepted) << "offset " << at << " -> '" << c << "'";
      ++rejected;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse) << e.what();
      ++parse_errors;
    }
  }
  EXPECT_GT(parse_errors + rejected, 140u);
}

}  // namespace
}  // namespace ptvm::statement_v1
