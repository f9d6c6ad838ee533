// The tensor engine on the device (ptvm/gpu/tensor_batch.hpp) against the CPU TensorBatch, step
// by step: every shipped program, batches whose machines sit at different pcs (and halt or fail at
// different steps), B = 1 .. 200; the per-step launches, transfers and round trips do not grow
// with B (host-sim's profile counters count the launches independently of the batch's own).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "gpu_test_util.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/tensor_engine.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm {
namespace {

const std::string kPrograms = std::string(PTVM_SOURCE_DIR) + "/programs/";

std::vector<gpu::TensorGemmPath> device_paths() {
  std::vector<gpu::TensorGemmPath> paths{gpu::TensorGemmPath::OwnKernel};
  if (gpu::cublas_available())
    paths.push_back(gpu::TensorGemmPath::Cublas);
  return paths;
}

bool same_row(const vm::TraceRow& a, const vm::TraceRow& b) {
  return a.step == b.step && a.pc == b.pc && a.after == b.after && a.access.kind == b.access.kind &&
         a.access.address == b.access.address && a.access.value == b.access.value &&
         a.access.previous == b.access.previous;
}

// Steps a CPU and a device batch together and requires the same rows, states, memories and errors
// after every step. Returns the number of steps with more than one pc group.
size_t compare_lockstep(const vm::CompiledModel& model,
                        const std::vector<std::vector<int16_t>>& memories, uint64_t max_steps,
                        gpu::TensorGemmPath path) {
  vm::TensorBatch cpu(model, memories, max_steps, vm::AttentionMode{}, false);
  gpu::DeviceTensorBatch device(model, memories, max_steps, vm::AttentionMode{}, false, path);
  size_t mixed_steps = 0;
  for (uint64_t step = 1; !cpu.all_done(); ++step) {
    const uint64_t gemms = cpu.gemm_calls();
    const size_t stepped = cpu.step();
    if (cpu.gemm_calls() - gemms > 3)
      ++mixed_steps;
    EXPECT_EQ(device.step(), stepped) << "step " << step;
    for (size_t b = 0; b < memories.size(); ++b) {
      const auto& m = cpu.machine(b);
      const auto& d = device.batch().machine(b);
      const auto& mr = cpu.last_row(b);
      const auto& dr = device.batch().last_row(b);
      EXPECT_EQ(mr.has_value(), dr.has_value()) << "step " << step << " machine " << b;
      if (mr && dr) {
        EXPECT_TRUE(same_row(*mr, *dr)) << "step " << step << " machine " << b;
      }
      EXPECT_TRUE(m.state == d.state) << "step " << step << " machine " << b;
      EXPECT_EQ(m.steps, d.steps);
      EXPECT_EQ(m.error, d.error) << "machine " << b;
      EXPECT_EQ(m.error_category, d.error_category);
      if (::testing::Test::HasFailure()) return mixed_steps;
    }
  }
  EXPECT_TRUE(device.batch().all_done());
  for (size_t b = 0; b < memories.size(); ++b)
    EXPECT_EQ(cpu.machine(b).memory.latest_values(),
              device.batch().machine(b).memory.latest_values());
  return mixed_steps;
}

// Every program of programs/: itself, and two variants of its initial memory (which may take
// other branches or fail at runtime, on both sides alike).
TEST(DeviceTensorBatch, EveryProgramMatchesTheCpuBatch) {
  PTVM_REQUIRE_DEVICE();
  size_t programs = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kPrograms))
    if (entry.path().extension() == ".tvm")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const vm::Program program = vm::assemble_file(file.string());
    const vm::CompiledModel model = vm::compile_program(program, vm::TransformerConfig{});
    std::vector<std::vector<int16_t>> memories{program.initial_memory};
    std::mt19937 rng(static_cast<unsigned>(programs));
    for (int variant = 0; variant < 2; ++variant) {
      std::vector<int16_t> m = program.initial_memory;
      for (auto& cell : m)
        cell = static_cast<int16_t>(cell + static_cast<int>(rng() % 7) - 3);
      memories.push_back(m);
    }
    for (gpu::TensorGemmPath path : device_paths()) {
      SCOPED_TRACE(gpu::tensor_gemm_path_name(path));
      compare_lockstep(model, memories, 400, path);  // counter_100k stops at 400 steps
      if (HasFailure()) return;
    }
    ++programs;
  }
  EXPECT_GE(programs, 10u);
}

// multiply.tvm loops MEM[1] times: machines with different MEM[1] leave the loop (and halt) at
// different steps, so most steps have several pc groups. B = 1, 3, 64, 200.
TEST(DeviceTensorBatch, MixedPcBatchesMatchTheCpuBatch) {
  PTVM_REQUIRE_DEVICE();
  const vm::Program program = vm::assemble_file(kPrograms + "multiply.tvm");
  const vm::CompiledModel model = vm::compile_program(program, vm::TransformerConfig{});
  for (size_t b : {1u, 3u, 64u, 200u}) {
    SCOPED_TRACE("B = " + std::to_string(b));
    std::vector<std::vector<int16_t>> memories;
    for (size_t i = 0; i < b; ++i)
      memories.push_back(
          {static_cast<int16_t>(i * 37 % 2001 - 1000), static_cast<int16_t>(i % 9), 0, 0});
    for (gpu::TensorGemmPath path : device_paths()) {
      SCOPED_TRACE(gpu::tensor_gemm_path_name(path));
      const size_t mixed = compare_lockstep(model, memories, 200, path);
      if (b > 1) {
        EXPECT_GT(mixed, 5u);
      }
    }
  }
  // stack_calls: CALL / RET and the stack checks on mixed memories, some failing.
  const vm::Program calls = vm::assemble_file(kPrograms + "stack_calls.tvm");
  std::vector<std::vector<int16_t>> memories;
  for (int i = 0; i < 40; ++i) {
    std::vector<int16_t> m = calls.initial_memory;
    if (!m.empty())
      m[0] = static_cast<int16_t>(i * 5 - 100);
    if (i % 3 == 0)
      m.resize(static_cast<size_t>(2 + i % 4));  // too small: runtime errors at various steps
    memories.push_back(m);
  }
  compare_lockstep(vm::compile_program(calls, vm::TransformerConfig{}), memories, 300,
                   gpu::TensorGemmPath::OwnKernel);
}

// A loop that never halts and whose path depends on the data: every fourth count takes the longer
// branch, so machines started from different counts spread over the loop's pcs.
const char* const kSpreadingLoop =
    ".memory 4\n"
    "loop:\n  LOAD 0\n  ADD 1\n  STORE 0\n  AND 3\n  JZ slow\n  LOAD 1\n  ADD 7\n  STORE 1\n  JMP "
    "loop\n"
    "slow:\n  LOAD 2\n  XOR 5\n  STORE 2\n  LOAD 3\n  SUB 1\n  STORE 3\n  JMP loop\n";

// Per step: 1 upload, 1 download, 1 round trip and a fixed number of launches (1 for the fused own
// kernel, 3 for cuBLAS), for B = 1 and B = 256 machines spread over several pcs alike.
TEST(DeviceTensorBatch, LaunchesPerStepDoNotGrowWithB) {
  PTVM_REQUIRE_DEVICE();
  const vm::CompiledModel model =
      vm::compile_program(vm::assemble_source(kSpreadingLoop), vm::TransformerConfig{});
  for (gpu::TensorGemmPath path : device_paths()) {
    SCOPED_TRACE(gpu::tensor_gemm_path_name(path));
    const uint64_t per_step_launches = path == gpu::TensorGemmPath::OwnKernel ? 1 : 3;
    for (size_t b : {1u, 256u}) {
      SCOPED_TRACE("B = " + std::to_string(b));
      std::vector<std::vector<int16_t>> memories;
      for (size_t i = 0; i < b; ++i)
        memories.push_back({static_cast<int16_t>(i), 0, 0, 0});
      gpu::DeviceTensorBatch device(model, memories, 1000, vm::AttentionMode{}, false, path);
      for (int i = 0; i < 4; ++i)
        device.step();  // machines spread over the loop's pcs
#if defined(PTVM_HOSTSIM)
      hostsim::set_profiling(true);
      hostsim::reset_profile();
#endif
      device.device().reset_counters();
      const uint64_t before = device.batch().gemm_calls();
      const int steps = 12;
      for (int i = 0; i < steps; ++i)
        device.step();
      const auto& c = device.device().counters();
      EXPECT_EQ(c.steps, static_cast<uint64_t>(steps));
      EXPECT_EQ(c.launches, per_step_launches * steps);
      EXPECT_EQ(c.uploads, static_cast<uint64_t>(steps));
      EXPECT_EQ(c.downloads, static_cast<uint64_t>(steps));
      EXPECT_EQ(c.round_trips, static_cast<uint64_t>(steps));
      if (b > 1) {
        EXPECT_GT(device.batch().gemm_calls() - before, 3u * steps);  // several pc groups per step
      }
#if defined(PTVM_HOSTSIM)
      hostsim::set_profiling(false);
      uint64_t launches = 0;
      for (const auto& k : hostsim::kernel_profiles())
        launches += k.launches;
      EXPECT_EQ(launches, per_step_launches * steps);  // what a profiler would count
#endif
    }
  }
}

// Through the runner: the device TensorFfn behind RunOptions::tensor_ffn, in lockstep with the
// native interpreter (the same path as tvm run --engine tensor --tensor-device hostsim|gpu).
TEST(DeviceTensorBatch, RunnerVerifiesTheDeviceEngineAgainstNative) {
  PTVM_REQUIRE_DEVICE();
  const vm::Program program = vm::assemble_file(kPrograms + "fibonacci.tvm");
  vm::RunOptions options;
  options.engine = vm::EngineKind::Tensor;
  options.verify_native = true;
  options.tensor_ffn = gpu::device_tensor_ffn_factory(gpu::TensorGemmPath::OwnKernel);
  const vm::RunResult r = vm::run(program, options);
  EXPECT_TRUE(r.trace.final_state.halted);
  EXPECT_EQ(r.trace.final_state.acc, 144);
}

}  // namespace
}  // namespace ptvm
