// Regression tests of the verifier hardening (issue "Verifier hardening"): each case an adversarial
// review found is shown rejected, with the reason it must give.
#include <gtest/gtest.h>

#include <set>

#include "ptvm/common/error.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"
#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

using nlohmann::json;

const char* kProgram = "LOADI 3\nADD 4\nPUSH\nHALT\n";

VerifyOptions no_floor() {
  VerifyOptions o;
  o.min_security_bits = 0;
  return o;
}

// A patched prover: proves `claim` (whatever it says) over the trace of a real run, binding the
// claim's digest as the honest prover does. Only what the verifier itself checks can stop it.
stark::StarkProof prove_claim(const Claim& claim, const vm::ExecutionTrace& trace) {
  const air::Air a = build_air(claim.statement);
  const auto pub = public_inputs(claim.statement, digest_words(claim_digest(claim)));
  auto backend = make_cpu_backend();
  return stark::prove(a, pub, build_witness(claim.statement, trace), claim.profile, *backend);
}

std::string reader_error(const std::string& text) {
  try {
    read_proof_file_json(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "the proof file was read";
  return "";
}

class Hardening : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    trace_ = new vm::ExecutionTrace(run_source(kProgram));
    ProveOptions o;
    o.profile = fast_profile();
    o.lockstep = false;
    run_ = new ProvedRun(prove_trace(*trace_, o));
    file_ = new std::string(proof_file_json(run_->claim, run_->proof));
  }
  static void TearDownTestSuite() {
    delete file_;
    delete run_;
    delete trace_;
  }
  static vm::ExecutionTrace* trace_;
  static ProvedRun* run_;
  static std::string* file_;
};
vm::ExecutionTrace* Hardening::trace_ = nullptr;
ProvedRun* Hardening::run_ = nullptr;
std::string* Hardening::file_ = nullptr;

// 1. A "proof" value nested ~75,000 deep crashed the reader (recursive re-serialisation).
TEST_F(Hardening, DeepProofValueIsAParseError) {
  json j = json::parse(*file_);
  j.erase("proof");
  std::string text = j.dump();
  text.pop_back();  // reopen the top-level object
  for (size_t depth : {size_t{3500}, size_t{75000}}) {
    const std::string deep = text + ",\"proof\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    const std::string why = reader_error(deep);
    EXPECT_NE(why.find("nested deeper"), std::string::npos) << why;
  }
  // The same depth inside the claim, and inside a proof field.
  std::string in_claim = *file_;
  in_claim.replace(in_claim.find("\"prover_build\":"), 0, "\"x\":" + std::string(75000, '[') + std::string(75000, ']') + ",");
  EXPECT_NE(reader_error(in_claim).find("nested deeper"), std::string::npos);
}

// 2. A claim naming a model the compiler never builds was accepted, even by --strict.
TEST_F(Hardening, TransformerConfigMustBeOneTheCompilerBuilds) {
  Claim fake = run_->claim;
  fake.transformer_config.d_model = 4096;
  fake.transformer_config.num_heads = 64;
  fake.transformer_config.ff_dim = 1;
  fake.transformer_config.max_seq_len = 3;
  fake.transformer_config.vocab_size = 7;
  fake.transformer_config.num_layers = 200;
  fake.identities = compute_identities(fake.statement.program, fake.transformer_config, fake.attention);
  const stark::StarkProof proof = prove_claim(fake, *trace_);
  // The STARK itself is valid for this claim: only the config check can refuse it.
  const air::Air a = build_air(fake.statement);
  ASSERT_TRUE(stark::verify(a, public_inputs(fake.statement, digest_words(claim_digest(fake))), proof, fake.profile));
  VerifyOptions strict = no_floor();
  strict.reexecute = true;
  const stark::Verdict v = verify_proof(fake, proof, strict);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("transformer_config.d_model 4096 is not a configuration the compiler builds"),
            std::string::npos)
      << v.reason;
  // Each field on its own.
  const vm::TransformerConfig good = run_->claim.transformer_config;
  for (int field = 0; field < 6; ++field) {
    vm::TransformerConfig c = good;
    switch (field) {
      case 0: c.d_model = 72; break;
      case 1: c.num_heads = 36; break;
      case 2: c.ff_dim = 73; break;
      case 3: c.vocab_size = 255; break;
      case 4: c.max_seq_len = 999999; break;
      default: c.num_layers = 257; break;
    }
    EXPECT_TRUE(check_transformer_config(c).has_value()) << field;
  }
  for (int layers : {1, 2, 17, 256}) EXPECT_FALSE(check_transformer_config(provable_transformer_config(layers)));
}

// 3. Duplicate keys: "acc":145,"acc":144 verified (last wins); so did two top-level claims.
TEST_F(Hardening, DuplicateKeysAreRefused) {
  const std::string acc = "\"acc\":" + std::to_string(run_->claim.statement.final_state.acc);
  ASSERT_NE(file_->find(acc), std::string::npos);
  std::string twice = *file_;
  twice.replace(twice.find(acc), acc.size(), "\"acc\":145," + acc);
  EXPECT_NE(reader_error(twice).find("duplicate key \"acc\" in claim.final_state"), std::string::npos);
  const json j = json::parse(*file_);
  std::string two_claims = *file_;
  two_claims.insert(1, "\"claim\":" + j["claim"].dump() + ",");
  EXPECT_NE(reader_error(two_claims).find("duplicate key \"claim\" in the top level"), std::string::npos);
  std::string in_proof = *file_;
  in_proof.replace(in_proof.find("\"proof_of_work\":"), 0, "\"proof_of_work\":0,");
  EXPECT_NE(reader_error(in_proof).find("duplicate key \"proof_of_work\" in proof"), std::string::npos);
  // The STARK proof's own reader too.
  std::string proof_text = stark::proof_to_json(run_->proof);
  proof_text.replace(proof_text.find("\"version\":"), 0, "\"version\":1,");
  try {
    stark::proof_from_json(proof_text);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate key \"version\""), std::string::npos) << e.what();
  }
}

// 4. A forged file claiming 2^24 - 1 steps made the verifier run a full LDE and Merkle commit of
// the preprocessed columns before any cheap check. Now the size is refused by policy, and with the
// policy lifted a cheap check (here the OODS identity) rejects it: the preprocessed commitment is
// recomputed last.
TEST_F(Hardening, HugeClaimedTraceIsRefusedBeforeAnyExpensiveWork) {
  Claim forged = run_->claim;
  forged.statement.steps = forged.statement.max_steps = (uint64_t{1} << 24) - 1;
  forged.statement.final_state.halted = false;
  forged.security_bits = claim_security_bits(forged.statement, forged.profile);
  VerifyOptions limited = no_floor();
  limited.max_log_lde_size = 22;
  const stark::Verdict v = verify_proof(forged, run_->proof, limited);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("largest LDE domain is 2^25 rows, above this verifier's limit 2^22"), std::string::npos)
      << v.reason;
  VerifyOptions lifted = no_floor();
  lifted.max_log_lde_size = 40;
  const stark::Verdict cheap = verify_proof(forged, run_->proof, lifted);
  EXPECT_FALSE(cheap.accepted);
  EXPECT_EQ(cheap.reason.find("preprocessed"), std::string::npos) << cheap.reason;
  EXPECT_FALSE(cheap.reason.empty());
  // The policy applies to honest proofs too, and the limit is inclusive.
  EXPECT_LE(claim_log_lde_size(run_->claim.statement, run_->claim.profile), kDefaultMaxLogLdeSize);
  VerifyOptions tight = no_floor();
  tight.max_log_lde_size = claim_log_lde_size(run_->claim.statement, run_->claim.profile);
  EXPECT_TRUE(verify_proof(run_->claim, run_->proof, tight).accepted);
  tight.max_log_lde_size -= 1;
  EXPECT_FALSE(verify_proof(run_->claim, run_->proof, tight).accepted);
}

// 4b. The preprocessed commitment is still checked: a proof of the same program for a claim with
// another step count (and so other preprocessed columns) is refused, by that check or another.
TEST_F(Hardening, PreprocessedCommitmentIsStillChecked) {
  stark::StarkProof tampered = run_->proof;
  tampered.commitments[stark::kPreprocessedTree].bytes[0] ^= 1;
  EXPECT_FALSE(verify_proof(run_->claim, tampered, no_floor()).accepted);
  const air::Air a = build_air(run_->claim.statement);
  const auto pub = public_inputs(run_->claim.statement, digest_words(claim_digest(run_->claim)));
  hash::Blake2sHash wrong = stark::preprocessed_commitment(a, run_->claim.profile);
  wrong.bytes[31] ^= 0x80;
  const stark::Verdict v = stark::verify(a, pub, run_->proof, run_->claim.profile, wrong);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("preprocessed commitment does not match the AIR"), std::string::npos) << v.reason;
}

// 5. Invalid UTF-8 in a proof file: the reader's message must itself be printable and valid JSON.
TEST_F(Hardening, InvalidUtf8GivesAPrintableReason) {
  std::string bad = *file_;
  bad.replace(bad.find("\"prover_build\":\"") + 16, 0, "\xff\xfe\x80");
  const std::string why = reader_error(bad);
  for (unsigned char c : why) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << why;
  EXPECT_NO_THROW(json({{"reason", why}}).dump());
}

// 6. Queries were drawn with replacement: fibonacci at "default" opened 65 distinct of 72 (about
// 89 bits while 96 were reported). Now every proof opens n_queries distinct first-layer FRI pairs.
TEST(HardeningQueries, EveryProofOpensNQueriesDistinctPairs) {
  // fibonacci at "default": a first layer of 2^9 points, 256 pairs, n_queries (80) queries.
  const vm::ExecutionTrace trace = run_native(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"), 1000);
  ProveOptions o;
  o.profile = profile_by_name("default");
  o.lockstep = false;
  const ProvedRun run = prove_trace(trace, o);
  EXPECT_EQ(run.claim.security_bits, 96u);
  const stark::Verdict v = verify_proof(run.claim, run.proof);
  ASSERT_TRUE(v.accepted) << v.reason;
  EXPECT_EQ(v.queries_opened, o.profile->n_queries);
  EXPECT_EQ(o.profile->n_queries, 80u);
  // And at "vm-small" (20 queries on 2^12 points), for several runs.
  for (uint64_t steps : {5u, 50u, 148u}) {
    ProveOptions small;
    small.profile = profile_by_name("vm-small");
    small.lockstep = false;
    const ProvedRun r = prove_trace(run_native(vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/fibonacci.tvm"), steps), small);
    const stark::Verdict vs = verify_proof(r.claim, r.proof);
    ASSERT_TRUE(vs.accepted) << vs.reason;
    EXPECT_EQ(vs.queries_opened, 20u);
  }
  // Directly: the shared sampler gives 72 positions in 72 distinct pairs on this domain.
  hash::Blake2sChannel channel;
  const auto q = channel.draw_distinct_queries(9, 72, 1);
  ASSERT_EQ(q.size(), 72u);
  std::set<size_t> pairs;
  for (size_t p : q) pairs.insert(p >> 1);
  EXPECT_EQ(pairs.size(), 72u);
}

// Users' case: a run too large for this machine's memory is refused before the prover starts.
TEST_F(Hardening, ProverMemoryIsBoundedUpFront) {
  const uint64_t need = estimated_prover_bytes(run_->claim.statement, run_->claim.profile);
  EXPECT_GT(need, uint64_t{64} << 20);
  EXPECT_GT(physical_memory_bytes(), need);
  ProveOptions o;
  o.profile = fast_profile();
  o.lockstep = false;
  o.max_memory_bytes = need - 1;
  try {
    prove_trace(*trace_, o);
    ADD_FAILURE() << "proved above the memory limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
    EXPECT_NE(std::string(e.what()).find("MiB of memory to prove"), std::string::npos) << e.what();
  }
  o.max_memory_bytes = need;
  EXPECT_NO_THROW(prove_trace(*trace_, o));
  // 2^24 - 1 steps at blowup 2 need far more than 24 GB: the estimate says so.
  VmStatement big = run_->claim.statement;
  big.steps = big.max_steps = (uint64_t{1} << 24) - 1;
  EXPECT_GT(estimated_prover_bytes(big, profile_by_name("default")), uint64_t{40} << 30);
}

// The library checks the program a proof is about (tvm verify --program), and prove_program
// refuses an unprovable max_steps before running anything.
TEST_F(Hardening, ExpectedProgramAndProvableMaxSteps) {
  VerifyOptions o = no_floor();
  o.expected_program_hash = run_->claim.identities.program_hash;
  EXPECT_TRUE(verify_proof(run_->claim, run_->proof, o).accepted);
  o.expected_program_hash = std::string(64, '0');
  const stark::Verdict v = verify_proof(run_->claim, run_->proof, o);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("not the expected"), std::string::npos) << v.reason;
  ProveOptions p;
  p.profile = fast_profile();
  p.max_steps = kMaxProvableSteps;
  try {
    prove_program(vm::assemble_source("loop: JMP loop\n"), p);
    ADD_FAILURE() << "an unprovable max_steps was run";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
    EXPECT_NE(std::string(e.what()).find("largest provable run"), std::string::npos) << e.what();
  }
}

// 7. A prover-defined profile that reaches 96 bits by the formula was accepted, even by --strict.
TEST_F(Hardening, CustomProfilesNeedExplicitPermission) {
  const stark::Profile custom{"my-own-96", 4, 24, 0, 0};  // 4 x 24 + 0 = 96 by the formula
  ProveOptions o;
  o.profile = custom;
  o.lockstep = false;
  const ProvedRun run = prove_trace(*trace_, o);
  ASSERT_EQ(run.claim.security_bits, 96u);
  VerifyOptions strict;
  strict.reexecute = true;
  const stark::Verdict v = verify_proof(run.claim, run.proof, strict);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("'my-own-96' is not a named profile"), std::string::npos) << v.reason;
  strict.allow_custom_profiles = true;
  EXPECT_TRUE(verify_proof(run.claim, run.proof, strict).accepted);
  // The floor still applies to custom profiles.
  o.profile = stark::Profile{"my-own-weak", 4, 10, 0, 0};
  const ProvedRun weak = prove_trace(*trace_, o);
  EXPECT_FALSE(verify_proof(weak.claim, weak.proof, strict).accepted);
  // A named profile with changed parameters is still refused as before.
  Claim renamed = run.claim;
  renamed.profile.name = "vm-small";
  EXPECT_FALSE(verify_proof(renamed, run.proof, strict).accepted);
}

}  // namespace
}  // namespace ptvm::vmair::testing
