// The tensor engine: its GEMM against exact integer arithmetic, its stacked weights against the
// compiler's dense blocks, the exactness bound, B machines in lockstep against B native runs, the
// same runtime errors as the other engines, and run_batch's tensor groups.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/batch.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/tensor_engine.hpp"

namespace ptvm::vm {
namespace {

const std::string kPrograms = std::string(PTVM_SOURCE_DIR) + "/programs/";

TEST(TensorEngine, GemmIsExactOnIntegers) {
  std::mt19937_64 rng(11);
  for (size_t m : {1u, 3u, 17u})
    for (size_t n : {1u, 6u, 64u})
      for (size_t k : {1u, 41u, 64u}) {
        std::vector<double> a(m * k), b(n * k), bias(n), c(m * n);
        std::vector<int64_t> ai(m * k), bi(n * k), biasi(n);
        for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(ai[i] = static_cast<int64_t>(rng() % 65537) - 32768);
        for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>(bi[i] = static_cast<int64_t>(rng() % 9) - 4);
        for (size_t i = 0; i < n; ++i) bias[i] = static_cast<double>(biasi[i] = static_cast<int64_t>(rng() % 1001) - 500);
        gemm_nt(m, n, k, a.data(), b.data(), bias.data(), c.data());
        for (size_t i = 0; i < m; ++i)
          for (size_t j = 0; j < n; ++j) {
            int64_t sum = biasi[j];
            for (size_t t = 0; t < k; ++t) sum += ai[i * k + t] * bi[j * k + t];
            ASSERT_EQ(c[i * n + j], static_cast<double>(sum)) << m << "x" << n << "x" << k;
          }
      }
}

TEST(TensorEngine, StackedWeightsAreTheDenseBlocks) {
  for (const char* name : {"fibonacci.tvm", "bitwise.tvm", "stack_calls.tvm"}) {
    SCOPED_TRACE(name);
    const CompiledModel model = compile_program(assemble_file(kPrograms + name), TransformerConfig{});
    const TensorModel t = TensorModel::build(model);
    ASSERT_EQ(t.n_blocks, model.num_instructions());
    EXPECT_GT(t.max_abs_value, 0);
    EXPECT_LT(t.max_abs_value, 9007199254740992.0);
    const size_t H = static_cast<size_t>(t.hidden);
    for (size_t pc = 0; pc < t.n_blocks; ++pc) {
      const DenseBlock d = to_dense(model.block(pc), t.hidden);
      for (size_t j = 0; j < H; ++j)
        for (int i = 0; i < kFfnInputs; ++i) {
          ASSERT_EQ(t.gate[(pc * H + j) * kFfnInputs + i], static_cast<double>(d.gate(static_cast<int>(j), i)));
          ASSERT_EQ(t.value[(pc * H + j) * kFfnInputs + i], static_cast<double>(d.value(static_cast<int>(j), i)));
        }
      // The FFN through the stacked matrices equals the compiler's own evaluation, on random states.
      std::mt19937 rng(static_cast<unsigned>(pc));
      for (int trial = 0; trial < 20; ++trial) {
        MachineState s;
        s.pc = static_cast<uint8_t>(pc);
        s.acc = static_cast<int16_t>(rng());
        s.sp = static_cast<uint8_t>(rng());
        s.zero_flag = rng() & 1;
        s.carry_flag = rng() & 1;
        const FfnInputVector x = make_ffn_input(s, static_cast<int16_t>(rng()));
        std::vector<double> xd(x.begin(), x.end()), g(H), v(H), y(kFfnOutputs);
        gemm_nt(1, H, kFfnInputs, xd.data(), t.gate.data() + pc * H * kFfnInputs, t.gate_bias.data() + pc * H, g.data());
        gemm_nt(1, H, kFfnInputs, xd.data(), t.value.data() + pc * H * kFfnInputs, t.value_bias.data() + pc * H, v.data());
        for (size_t j = 0; j < H; ++j) g[j] *= v[j];
        gemm_nt(1, kFfnOutputs, H, g.data(), t.output.data() + pc * kFfnOutputs * H, t.output_bias.data() + pc * kFfnOutputs,
                y.data());
        const FfnOutputVector expected = evaluate_sparse(model.block(pc), x);
        for (int o = 0; o < kFfnOutputs; ++o) ASSERT_EQ(y[o], static_cast<double>(expected[o])) << "pc " << pc << " output " << o;
      }
    }
  }
}

// B machines of one program with different initial memories, all stepping together, each ending
// where its own native run ends; the GEMM count shows they shared the launches.
TEST(TensorEngine, BatchInLockstepMatchesNativeRuns) {
  const Program program = assemble_file(kPrograms + "multiply.tvm");  // MEM[0] * MEM[1] by repeated addition
  std::vector<std::vector<int16_t>> memories;
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b) memories.push_back({static_cast<int16_t>(a * 3 - 7), static_cast<int16_t>(b), 0, 0});
  TensorBatch batch(compile_program(program, TransformerConfig{}), memories, 1000, AttentionMode{}, true);
  EXPECT_EQ(batch.size(), 64u);
  batch.run();
  EXPECT_TRUE(batch.all_done());
  size_t max_steps = 0;
  for (size_t k = 0; k < memories.size(); ++k) {
    SCOPED_TRACE(k);
    Program p = program;
    p.initial_memory = memories[k];
    RunOptions native;
    native.max_steps = 1000;
    const RunResult r = run(p, native);
    const auto& m = batch.machine(k);
    ASSERT_FALSE(m.error) << *m.error;
    EXPECT_EQ(m.steps, r.steps);
    EXPECT_TRUE(m.state == r.trace.final_state);
    EXPECT_EQ(m.memory.latest_values(), r.trace.final_memory);
    ASSERT_EQ(m.rows.size(), r.trace.rows.size());
    for (size_t i = 0; i < m.rows.size(); ++i) {
      ASSERT_TRUE(m.rows[i].after == r.trace.rows[i].after) << "step " << i + 1;
      ASSERT_EQ(m.rows[i].access.kind, r.trace.rows[i].access.kind) << "step " << i + 1;
      ASSERT_EQ(m.rows[i].access.value, r.trace.rows[i].access.value) << "step " << i + 1;
    }
    max_steps = std::max<size_t>(max_steps, r.steps);
  }
  // Fewer than 3 GEMMs per machine-step: machines at the same pc share them.
  EXPECT_LT(batch.gemm_calls(), 3 * max_steps * memories.size() / 4);
}

// The bad programs of tests/vm/bad that assemble: the tensor engine fails exactly where native does.
TEST(TensorEngine, RuntimeErrorsAgreeWithNative) {
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PTVM_VM_TEST_DIR) + "/bad")) {
    Program program;
    try {
      program = assemble_file(entry.path().string());
    } catch (const Error&) {
      continue;  // an assembler error, not a run
    }
    SCOPED_TRACE(entry.path().string());
    RunOptions o;
    o.max_steps = 10000;
    o.engine = EngineKind::Tensor;
    o.verify_native = true;
    try {
      run(program, o);
    } catch (const Error& e) {
      EXPECT_NE(e.category(), ErrorCategory::Divergence) << e.what();
    }
    o.verify_native = false;
    RunOptions n;
    n.max_steps = 10000;
    std::optional<std::string> tensor_error, native_error;
    try { run(program, o); } catch (const Error& e) { tensor_error = e.what(); }
    try { run(program, n); } catch (const Error& e) { native_error = e.what(); }
    EXPECT_EQ(tensor_error.has_value(), native_error.has_value());
    if (tensor_error) {
      EXPECT_NE(tensor_error->find("runtime error at step"), std::string::npos) << *tensor_error;
    }
    ++checked;
  }
  EXPECT_GE(checked, 5u);
}

TEST(TensorEngine, RunBatchGroupsTensorJobs) {
  std::vector<BatchJob> jobs;
  for (const char* name : {"fibonacci.tvm", "multiply.tvm", "fibonacci.tvm", "stack_calls.tvm", "multiply.tvm"}) {
    for (EngineKind engine : {EngineKind::Tensor, EngineKind::Native}) {
      BatchJob job;
      job.program = assemble_file(kPrograms + name);
      job.options.engine = engine;
      job.options.max_steps = 1000;
      job.options.record_trace = false;
      if (std::string(name) == "multiply.tvm" && jobs.size() > 5) job.initial_memory = std::vector<int16_t>{9, 5, 0, 0};
      jobs.push_back(job);
    }
  }
  BatchJob bad;
  bad.program = assemble_source("POP\nHALT\n");  // stack underflow at step 1
  bad.options.engine = EngineKind::Tensor;
  jobs.push_back(bad);
  const auto results = run_batch(jobs, {2});
  ASSERT_EQ(results.size(), jobs.size());
  for (size_t i = 0; i + 1 < jobs.size(); i += 2) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(results[i].ok()) << results[i].error;
    ASSERT_TRUE(results[i + 1].ok()) << results[i + 1].error;
    EXPECT_EQ(results[i].result->steps, results[i + 1].result->steps);
    EXPECT_TRUE(results[i].result->trace.final_state == results[i + 1].result->trace.final_state);
    EXPECT_EQ(results[i].result->trace.final_memory, results[i + 1].result->trace.final_memory);
  }
  EXPECT_FALSE(results.back().ok());
  EXPECT_NE(results.back().error.find("stack underflow"), std::string::npos) << results.back().error;
}

}  // namespace
}  // namespace ptvm::vm
