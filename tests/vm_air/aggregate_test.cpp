// One proof for many runs (ptvm/vmair/aggregate.hpp): accepted when honest, every claim bound,
// each job's ROM and memory relations its own, strict file readers.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "ptvm/air/relabel.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "ptvm/vmair/claim.hpp"
#include "vm_air_test_util.hpp"

namespace ptvm::vmair::testing {
namespace {

VerifyOptions test_verify_options() {
  VerifyOptions o;
  o.min_security_bits = 0;  // the fast test profile
  return o;
}

struct Proven {
  std::vector<vm::ExecutionTrace> traces;
  AggregateProof agg;
};

// Three runs of different shapes: a loop (2^5 step rows), a memory program, a two-step one.
Proven prove_three() {
  Proven p;
  p.traces.push_back(run_source("LOADI 0\nloop:\nADD 3\nCMP 60\nJZ done\nJMP loop\ndone:\nHALT\n", 512));
  p.traces.push_back(run_source(".memory 4\n.init 2 9\nLOADI 5\nSTORE 1\nLOAD 2\nADDM 1\nSTORE 3\nHALT\n", 512));
  p.traces.push_back(run_source("LOADI 7\nADD 5\nHALT\n", 512));
  std::vector<AggregateRun> runs;
  for (const auto& t : p.traces) runs.push_back({&t, 1, false});  // native traces (run_source)
  AggregateProveOptions o;
  o.profile = fast_profile();
  p.agg = prove_aggregate(runs, o);
  return p;
}

const Proven& proven() {
  static const Proven p = prove_three();
  return p;
}

TEST(Relabel, MapsRelationsAndPublicInputs) {
  VmStatement s = statement_from_trace(run_source("LOADI 7\nADD 5\nHALT\n"));
  VmComponents c = vm_components(s);
  const uint32_t map[4] = {9, 10, 0, 1};
  auto r = air::relabel(c.steps, map, 100, "jobX/");
  air::CountingEval plain, mapped;
  c.steps.evaluate(plain);
  r.evaluate(mapped);
  EXPECT_EQ(plain.n_fractions, mapped.n_fractions);
  EXPECT_EQ(plain.n_constraints, mapped.n_constraints);
  EXPECT_EQ(plain.max_relation_plus_one, 4u);
  EXPECT_EQ(mapped.max_relation_plus_one, 11u);  // the ROM relation moved to 9, memory to 10
  const auto info = r.info();
  EXPECT_EQ(info.name, "jobX/vm_steps");
  ASSERT_EQ(info.boundary_constraints.size(), c.steps.info().boundary_constraints.size());
  for (size_t i = 0; i < info.boundary_constraints.size(); ++i)
    EXPECT_EQ(info.boundary_constraints[i].public_input, c.steps.info().boundary_constraints[i].public_input + 100);
  // A map that does not cover a relation the component uses is refused.
  const uint32_t short_map[2] = {0, 1};
  EXPECT_THROW(air::relabel(c.steps, short_map, 0, ""), Error);
}

TEST(Aggregate, HonestProofVerifies) {
  const Proven& p = proven();
  ASSERT_EQ(p.agg.claims.size(), 3u);
  const stark::Verdict v = verify_aggregate(p.agg.claims, p.agg.proof, test_verify_options());
  EXPECT_TRUE(v.accepted) << v.reason;
  // Each claim is the claim of its run alone (same profile), in job order.
  for (size_t j = 0; j < 3; ++j) {
    const Claim alone = claim_for_trace(p.traces[j], provable_transformer_config(1), fast_profile(),
                                        equivalence_for_trace(p.traces[j], false));
    EXPECT_EQ(claim_digest(alone), claim_digest(p.agg.claims[j])) << "job " << j;
  }
  // With re-execution too.
  VerifyOptions re = test_verify_options();
  re.reexecute = true;
  EXPECT_TRUE(verify_aggregate(p.agg.claims, p.agg.proof, re).accepted);
}

TEST(Aggregate, DeterministicProofBytes) {
  const Proven& p = proven();
  std::vector<AggregateRun> runs;
  for (const auto& t : p.traces) runs.push_back({&t, 1, false});
  AggregateProveOptions o;
  o.profile = fast_profile();
  const AggregateProof again = prove_aggregate(runs, o);
  EXPECT_EQ(stark::proof_to_binary(again.proof), stark::proof_to_binary(p.agg.proof));
}

TEST(Aggregate, EveryClaimIsBound) {
  const Proven& p = proven();
  const VerifyOptions o = test_verify_options();
  auto expect_rejected = [&](std::vector<Claim> claims, const std::string& what) {
    const stark::Verdict v = verify_aggregate(claims, p.agg.proof, o);
    EXPECT_FALSE(v.accepted) << what;
    EXPECT_FALSE(v.reason.empty()) << what;
  };
  for (size_t j = 0; j < 3; ++j) {
    const std::string job = "job " + std::to_string(j);
    {
      auto c = p.agg.claims;
      c[j].statement.final_state.acc = static_cast<int16_t>(c[j].statement.final_state.acc + 1);
      c[j].statement.final_state.zero_flag = c[j].statement.final_state.acc == 0;
      expect_rejected(c, job + ": final acc changed");
    }
    {
      auto c = p.agg.claims;
      c[j].statement.final_memory.assign(c[j].statement.final_memory.size(), 1);
      expect_rejected(c, job + ": final memory changed");
    }
    {
      auto c = p.agg.claims;
      c[j].statement.steps += 1;
      c[j].statement.max_steps = std::max(c[j].statement.max_steps, c[j].statement.steps);
      expect_rejected(c, job + ": steps changed");
    }
    {
      // Another program, its identities recomputed so that only the STARK can tell.
      auto c = p.agg.claims;
      c[j].statement.program.instructions[0].operand = static_cast<int16_t>(c[j].statement.program.instructions[0].operand + 1);
      c[j].identities = compute_identities(c[j].statement.program, c[j].transformer_config, c[j].attention);
      expect_rejected(c, job + ": program changed");
    }
    {
      auto c = p.agg.claims;
      c[j].prover_build += "x";  // only in the digest: the public inputs change
      expect_rejected(c, job + ": prover build changed");
    }
  }
  {
    auto c = p.agg.claims;
    std::swap(c[0], c[2]);
    expect_rejected(c, "claims reordered");
  }
  {
    auto c = p.agg.claims;
    c.pop_back();
    expect_rejected(c, "a claim dropped");
  }
  {
    auto c = p.agg.claims;
    c.push_back(c[2]);
    expect_rejected(c, "a claim repeated");
  }
  expect_rejected({}, "no claims");
}

TEST(Aggregate, TamperedProofRejected) {
  const Proven& p = proven();
  const std::vector<uint8_t> bytes = stark::proof_to_binary(p.agg.proof);
  size_t rejected = 0, tried = 0;
  for (size_t at = 16; at < bytes.size(); at += bytes.size() / 40 + 1) {
    std::vector<uint8_t> t = bytes;
    t[at] ^= 0x01;
    ++tried;
    try {
      const stark::StarkProof proof = stark::proof_from_binary(t);
      if (!verify_aggregate(p.agg.claims, proof, test_verify_options()).accepted) ++rejected;
    } catch (const Error&) {
      ++rejected;  // the reader refused it
    }
  }
  EXPECT_EQ(rejected, tried);
}

// A cheat that only a per-job ROM relation catches: job 0 claims program P0 (ADD 5 at pc 1) but
// its trace runs ADD 6 there, an instruction of job 1's program at the same pc; the ROM
// multiplicities are moved from job 0's table to job 1's so that one shared ROM relation would
// balance. The aggregate (its own ROM relation per job) rejects it; an AIR that shared the ROM
// relation between the jobs accepts it, which shows the test can fail.
TEST(Aggregate, OneJobCannotUseAnotherJobsInstructions) {
  const vm::ExecutionTrace cheat = run_source("LOADI 7\nADD 6\nHALT\n");
  const vm::ExecutionTrace other = run_source("LOADI 1\nADD 6\nHALT\n");
  VmStatement s0 = statement_from_trace(cheat);
  s0.program = vm::assemble_source("LOADI 7\nADD 5\nHALT\n", "<test>");  // what job 0 claims
  const VmStatement s1 = statement_from_trace(other);
  const std::vector<VmStatement> statements = {s0, s1};
  const std::vector<const vm::ExecutionTrace*> traces = {&cheat, &other};
  auto witness = build_aggregate_witness(statements, traces);
  std::vector<M31>& rom0 = witness[1][0];  // job 0's ROM multiplicities (component 1)
  std::vector<M31>& rom1 = witness[4][0];  // job 1's (component 4)
  rom0[1] = rom0[1] - M31::one();
  rom1[1] = rom1[1] + M31::one();

  std::vector<M31> pub;
  for (const auto& s : statements) {
    const auto one = public_inputs(s, test_digest());
    pub.insert(pub.end(), one.begin(), one.end());
  }
  auto prove_verify = [&](const air::Air& a) {
    auto backend = make_cpu_backend();
    try {
      const stark::StarkProof proof = stark::prove(a, pub, witness, fast_profile(), *backend);
      return stark::verify(a, pub, proof, fast_profile()).accepted;
    } catch (const Error&) {
      return false;  // the prover refused (an unbalanced LogUp sum)
    }
  };
  EXPECT_FALSE(prove_verify(build_aggregate_air(statements)));

  // The same union with one ROM relation for both jobs (memory still per job).
  air::Air shared;
  shared.relations = {{"byte", 1}, {"bitwise", 4}, {"rom", 4}, {"mem0", 3}, {"mem1", 3}};
  shared.n_public_inputs = 2 * kNumPublicInputs;
  for (size_t j = 0; j < 2; ++j) {
    VmComponents c = vm_components(statements[j]);
    const uint32_t map[4] = {2, static_cast<uint32_t>(3 + j), 0, 1};
    const auto off = static_cast<uint32_t>(j * kNumPublicInputs);
    shared.components.push_back(air::make_component(air::relabel(std::move(c.steps), map, off, "")));
    shared.components.push_back(air::make_component(air::relabel(std::move(c.rom), map, off, "")));
    shared.components.push_back(air::make_component(air::relabel(std::move(c.memory), map, off, "")));
  }
  const uint32_t tmap[4] = {2, 3, 0, 1};
  shared.components.push_back(air::make_component(air::relabel(TablesAir{}, tmap, 0, "")));
  EXPECT_TRUE(prove_verify(shared));
}

TEST(Aggregate, FilesRoundTripAndReadersAreStrict) {
  const Proven& p = proven();
  const std::string json_text = aggregate_file_json(p.agg.claims, p.agg.proof);
  const std::vector<uint8_t> bin = aggregate_file_binary(p.agg.claims, p.agg.proof);
  const auto as_bytes = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_TRUE(is_aggregate_file(as_bytes(json_text)));
  EXPECT_TRUE(is_aggregate_file(bin));
  const std::string single = proof_file_json(p.agg.claims[0], p.agg.proof);
  EXPECT_FALSE(is_aggregate_file(as_bytes(single)));
  for (const AggregateFile& f : {read_aggregate_file(as_bytes(json_text)), read_aggregate_file(bin)}) {
    ASSERT_EQ(f.claims.size(), 3u);
    for (size_t j = 0; j < 3; ++j) EXPECT_EQ(claim_digest(f.claims[j]), claim_digest(p.agg.claims[j]));
    EXPECT_EQ(stark::proof_to_binary(f.proof), stark::proof_to_binary(p.agg.proof));
    EXPECT_TRUE(verify_aggregate(f.claims, f.proof, test_verify_options()).accepted);
  }
  // Binary: truncations anywhere and a bad claim count are Parse errors, never crashes.
  for (size_t cut : {size_t{9}, size_t{12}, size_t{20}, bin.size() / 2, bin.size() - 1}) {
    std::vector<uint8_t> t(bin.begin(), bin.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(read_aggregate_file(t), Error) << cut;
  }
  {
    std::vector<uint8_t> t = bin;
    t[8] = 0, t[9] = 0, t[10] = 0, t[11] = 0;  // zero claims
    EXPECT_THROW(read_aggregate_file(t), Error);
    t[8] = 0xff, t[9] = 0xff, t[10] = 0xff, t[11] = 0x7f;
    EXPECT_THROW(read_aggregate_file(t), Error);
  }
  // JSON: an unknown field, a duplicate key, an empty claims list.
  {
    std::string t = json_text;
    t.insert(1, "\"extra\":1,");
    EXPECT_THROW(read_aggregate_file(as_bytes(t)), Error);
    std::string d = json_text;
    d.insert(1, "\"format\":\"ptvm-tvm-aggregate/1\",");
    EXPECT_THROW(read_aggregate_file(as_bytes(d)), Error);
    const std::string empty = "{\"format\":\"ptvm-tvm-aggregate/1\",\"claims\":[],\"proof\":{}}";
    EXPECT_THROW(read_aggregate_file(as_bytes(empty)), Error);
  }
  // Deep nesting and oversize input are refused by the reader, not parsed.
  {
    std::string deep = "{\"format\":\"ptvm-tvm-aggregate/1\",\"claims\":[" + std::string(200, '[') +
                       std::string(200, ']') + "],\"proof\":{}}";
    EXPECT_THROW(read_aggregate_file(as_bytes(deep)), Error);
    std::vector<uint8_t> huge(stark::kMaxProofBytes + 1, ' ');
    EXPECT_THROW(read_aggregate_file(huge), Error);
  }
}

TEST(Aggregate, LimitsAreCheckedBeforeProving) {
  EXPECT_THROW(prove_aggregate({}), Error);
  std::vector<VmStatement> none;
  EXPECT_THROW(build_aggregate_air(none), Error);
}

}  // namespace
}  // namespace ptvm::vmair::testing
