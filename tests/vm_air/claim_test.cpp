// The claim: identities against hashlib (independent oracle), JSON round trip, every claim field
// changed in a valid proof -> rejected, malformed proof files -> clear Parse errors.
#include <gtest/gtest.h>

#include <functional>

#include "ptvm/vmair/prove.hpp"
#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

using nlohmann::json;

vm::Program identity_program() {
  return vm::assemble_source(".memory 2\n.init 1 -7\nLOADI 5\nADD -3\nPUSH\nHALT\n");
}

TEST(VmClaim, IdentitiesMatchTheOriginalsEncoding) {
  vm::Program p = identity_program();
  EXPECT_EQ(canonical_json(json{{"version", "v1"}, {"program", original_program_json(p)}}),
            R"({"program":{"initial_memory":[0,-7],"instructions":[{"LoadImmediate":5},{"AddImmediate":-3},"Push","Halt"]},"version":"v1"})");
  ClaimIdentities id = compute_identities(p, vm::TransformerConfig{}, vm::AttentionMode{});
  // Python hashlib.blake2b(digest_size=32) over json.dumps(sort_keys=True, separators=(',', ':')).
  EXPECT_EQ(id.program_hash, "548021024c67df9121b329d3ff1418f0472ae6ee1a697a5977162b752b059ada");
  EXPECT_EQ(id.transformer_config_hash, "08e6fc6b2ffd16373b604c050106800adb635336d0459abf5cd3b41d67e43898");
  EXPECT_EQ(id.deterministic_model_hash, "021afb608b85fba6b16f76d12c966eb7409d95507310a8e642d029e4c6efe682");
  EXPECT_EQ(hash::blake2b_256(std::string_view("")).hex(),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  vm::AttentionMode hs{vm::AttentionMode::Kind::HardSoftmax, 10.0};
  EXPECT_EQ(canonical_json(original_transformer_config_json(vm::TransformerConfig{}, hs)),
            R"({"attention_mode":{"HardSoftmax":{"temperature":10.0}},"d_model":36,"ff_dim":72,"max_seq_len":1000000,"num_heads":18,"num_layers":1,"vocab_size":256})");
}

ProveOptions fast_options() {
  ProveOptions o;
  o.profile = fast_profile();
  o.max_steps = 1000;
  return o;
}

// These tests prove with the insecure test profile to stay fast, so they lower the verifier's
// security floor explicitly; tampering must still be caught by the proof checks themselves.
inline VerifyOptions insecure() {
  VerifyOptions o;
  o.min_security_bits = 0;
  return o;
}

class VmClaimProof : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    proved_ = new ProvedRun(prove_program(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"),
                                          fast_options()));
  }
  static void TearDownTestSuite() { delete proved_; }
  static ProvedRun* proved_;
};
ProvedRun* VmClaimProof::proved_ = nullptr;

TEST_F(VmClaimProof, ClaimStatesTheRun) {
  const Claim& c = proved_->claim;
  EXPECT_EQ(c.statement.steps, 148u);
  EXPECT_EQ(c.statement.final_state.acc, 144);
  EXPECT_EQ(c.statement.final_memory, (std::vector<int16_t>{144, 233, 0, 233}));
  EXPECT_TRUE(verify_proof(c, proved_->proof, insecure()).accepted);
  VerifyOptions re = insecure();
  re.reexecute = true;
  EXPECT_TRUE(verify_proof(c, proved_->proof, re).accepted);
  // The prover picks the profile, so by default the verifier demands 96 bits: a valid proof made
  // with the insecure test profile is rejected (a 1-query proof of a false claim is cheap to forge).
  stark::Verdict v = verify_proof(c, proved_->proof);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("below the required 96"), std::string::npos) << v.reason;
}

TEST_F(VmClaimProof, FileRoundTripIsExactAndDeterministic) {
  std::string text = proof_file_json(proved_->claim, proved_->proof);
  ProofFile f = read_proof_file_json(text);
  EXPECT_EQ(proof_file_json(f.claim, f.proof), text);
  EXPECT_TRUE(verify_proof(f.claim, f.proof, insecure()).accepted);
  // The same run proves to the same bytes.
  ProvedRun again = prove_program(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"), fast_options());
  EXPECT_EQ(proof_file_json(again.claim, again.proof), text);
}

// Every leaf of the claim JSON changed -> parse error or rejection.
TEST_F(VmClaimProof, EveryClaimFieldChangedIsRejected) {
  const json original = claim_to_json(proved_->claim);
  size_t changed = 0;
  std::function<void(json&, const std::string&)> visit;
  json work = original;
  auto check = [&](const std::string& path) {
    ++changed;
    try {
      Claim c = claim_from_json(work);
      stark::Verdict v = verify_proof(c, proved_->proof, insecure());
      EXPECT_FALSE(v.accepted) << "claim field " << path << " changed and still accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse) << path;
    }
  };
  visit = [&](json& node, const std::string& path) {
    if (node.is_object()) {
      for (auto& [k, v] : node.items()) visit(v, path + "." + k);
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) visit(node[i], path + "[" + std::to_string(i) + "]");
    } else {
      json saved = node;
      if (node.is_boolean()) node = !node.get<bool>();
      else if (node.is_string()) node = node.get<std::string>() + "x";
      else if (node.is_number_unsigned()) node = node.get<uint64_t>() + 1;
      else if (node.is_number_integer()) node = node.get<int64_t>() + 1;
      check(path);
      if (node.is_number_unsigned() && saved.get<uint64_t>() > 0) {
        node = saved.get<uint64_t>() - 1;
        check(path + "-1");
      }
      node = saved;
    }
  };
  visit(work, "claim");
  EXPECT_GT(changed, 55u);
  // Also: an instruction replaced, memory cell added or removed.
  work = original;
  work["program"]["instructions"][0] = "Nop";
  check("program.instructions[0]=Nop");
  work = original;
  work["final_state"]["memory"].push_back(0);
  check("final_state.memory+1");
  work = original;
  work["program"]["initial_memory"].erase(3);
  check("program.initial_memory-1");
}

// The engines' agreement is attested, not proven: a proof whose claim carries made-up (but
// consistent) fingerprints verifies by default, and --reexecute rejects it; an inconsistent
// equivalence record is rejected before any STARK work.
TEST_F(VmClaimProof, EquivalenceIsAttestedAndReexecutionChecksIt) {
  const Claim& honest = proved_->claim;
  EXPECT_EQ(honest.equivalence.checked_steps, honest.statement.steps);
  EXPECT_EQ(honest.equivalence.transformer_fingerprint.size(), 64u);
  EXPECT_EQ(honest.equivalence.transformer_fingerprint, honest.equivalence.native_fingerprint);
  EXPECT_EQ(honest.semantic_scope.find("lockstep"), std::string::npos);  // the scope is what is proven

  Claim forged = honest;
  forged.equivalence.transformer_fingerprint = forged.equivalence.native_fingerprint = std::string(64, 'a');
  const vm::ExecutionTrace trace = record_run(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"),
                                              fast_options()).trace;
  const air::Air a = build_air(forged.statement);
  const auto pub = public_inputs(forged.statement, digest_words(claim_digest(forged)));
  auto backend = make_cpu_backend();
  const stark::StarkProof proof = stark::prove(a, pub, build_witness(forged.statement, trace), fast_profile(), *backend);
  EXPECT_TRUE(verify_proof(forged, proof, insecure()).accepted);
  VerifyOptions re = insecure();
  re.reexecute = true;
  const stark::Verdict v = verify_proof(forged, proof, re);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("fingerprint"), std::string::npos) << v.reason;

  auto rejected_before_stark = [&](Claim c, const std::string& words) {
    const stark::Verdict r = verify_proof(c, proved_->proof, insecure());
    EXPECT_FALSE(r.accepted);
    EXPECT_NE(r.reason.find(words), std::string::npos) << r.reason;
  };
  Claim c = honest;
  c.equivalence.checked_steps = 5;
  rejected_before_stark(c, "equivalence.checked_steps");
  c = honest;
  c.equivalence.native_fingerprint = std::string(64, 'b');
  rejected_before_stark(c, "fingerprints differ");
  c = honest;
  c.equivalence.native_fingerprint = "xyz";
  rejected_before_stark(c, "native_fingerprint");
  c = honest;
  c.equivalence.transformer_fingerprint.clear();  // "nothing checked" with checked steps
  rejected_before_stark(c, "without a transformer fingerprint");
}

TEST_F(VmClaimProof, MalformedFilesAreClearParseErrors) {
  const std::string text = proof_file_json(proved_->claim, proved_->proof);
  auto expect_parse_error = [](const std::string& bad, const std::string& what) {
    try {
      ProofFile f = read_proof_file_json(bad);
      // Parsed: the verifier must still not accept a changed file.
      EXPECT_FALSE(verify_proof(f.claim, f.proof, insecure()).accepted) << what;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse) << what << ": " << e.what();
      EXPECT_FALSE(std::string(e.what()).empty());
    }
  };
  for (size_t cut : {size_t{0}, size_t{1}, size_t{10}, text.size() / 3, text.size() / 2, text.size() - 1})
    expect_parse_error(text.substr(0, cut), "truncated at " + std::to_string(cut));
  json j = json::parse(text);
  auto mutate = [&](const std::function<void(json&)>& f, const std::string& what) {
    json m = j;
    f(m);
    expect_parse_error(m.dump(), what);
  };
  mutate([](json& m) { m["format"] = 2; }, "format type");
  mutate([](json& m) { m["claim"]["steps"] = "103"; }, "steps as string");
  mutate([](json& m) { m["claim"]["steps"] = -1; }, "negative steps");
  mutate([](json& m) { m["claim"]["steps"] = 1e300; }, "huge float steps");
  mutate([](json& m) { m["claim"]["max_steps"] = "18446744073709551615"; }, "max_steps string");
  mutate([](json& m) { m["claim"]["final_state"]["acc"] = 40000; }, "acc outside i16");
  mutate([](json& m) { m["claim"]["program"]["instructions"] = json::array(); }, "no instructions");
  mutate([](json& m) { m["claim"]["program"]["instructions"][0] = json{{"Load", 300}}; }, "address 300");
  mutate([](json& m) { m["claim"]["program"]["instructions"][0] = json{{"Bogus", 1}}; }, "unknown instruction");
  mutate([](json& m) { m["claim"]["extra"] = 1; }, "unknown field");
  mutate([](json& m) { m["claim"].erase("identities"); }, "missing identities");
  mutate([](json& m) { m["claim"]["final_state"]["memory"] = json::array(); }, "memory size");
  mutate([](json& m) { m["claim"]["steps"] = uint64_t{1} << 40; m["claim"]["max_steps"] = uint64_t{1} << 40; }, "huge steps");
  mutate([](json& m) { m["proof"] = json::array(); }, "proof type");
  mutate([](json& m) { m["proof"].erase(m["proof"].begin()); }, "proof field missing");
  mutate([](json& m) { m["claim"]["proof_system"]["n_queries"] = 4000000000u; }, "huge n_queries");
  // Values >= p and wrong types inside the STARK proof: walk the proof and corrupt numbers.
  size_t corrupted = 0;
  std::function<void(json&)> walk = [&](json& node) {
    if (corrupted >= 40) return;
    if (node.is_number_unsigned()) {
      json saved = node;
      node = uint64_t{0x7fffffff};
      expect_parse_error(j.dump(), "value p in proof");
      node = "x";
      expect_parse_error(j.dump(), "string in proof");
      node = saved;
      ++corrupted;
    } else if (node.is_object()) {
      for (auto& [k, v] : node.items()) walk(v);
    } else if (node.is_array()) {
      for (auto& v : node) {
        walk(v);
        break;  // first element of each list
      }
    }
  };
  walk(j["proof"]);
  EXPECT_GT(corrupted, 5u);
  expect_parse_error(std::string(stark::kMaxProofBytes + 1, ' '), "oversized");
  expect_parse_error("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "nested");
}

}  // namespace
}  // namespace ptvm::vmair::testing
