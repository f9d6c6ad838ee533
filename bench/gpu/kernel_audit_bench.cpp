// The kernel audit (ptvm/gpu/hostsim/kernel_audit.hpp) of the VM's group proofs under host-sim, as
// Google Benchmark JSON: per kernel a group proof launches, its bytes (sectors x 32) against its
// minimal bytes (the distinct sectors it loads and stores per launch) and its sector efficiency
// (bytes its lanes used / bytes of the sectors fetched), over all accesses and over its main
// (per-thread) accesses. tests/cuda_backend/kernel_audit_test.cpp fails when a kernel's main
// accesses move more than 1.5x their minimal bytes or use under 90% of their sectors.
//
// Groups: AuditFibonacci (PTVM_KERNEL_AUDIT_JOBS jobs of ../shared/vectors/fibonacci.tvm, default
// 8) and AuditSteps14 (one job of 2^14 - 1 counter steps). Counters, per kernel K:
//   bytes:K, minimal_bytes:K, ratio:K, efficiency:K          every request
//   main_bytes:K, main_ratio:K, main_efficiency:K             main accesses (the audited ones)
//   scalar_bytes:K                                            warp-uniform / single-element requests
// and per group: kernels, violations (kernels outside the bounds), kernel_bytes, minimal_bytes.
// The reported time is the MODELED kernel time (bytes / 3.35 TB/s, max with declared ops), no launch
// or transfer terms: group_bench reports the whole modeled pipeline.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/hostsim/cost_model.hpp"
#include "ptvm/gpu/hostsim/kernel_audit.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/prove.hpp"

namespace {

using namespace ptvm;

void audit_group(benchmark::State& state, const vm::Program& program, uint64_t max_steps, size_t jobs) {
  vmair::ProveOptions options;
  options.max_steps = max_steps;
  const vmair::RecordedRun run = vmair::record_run(program, options);
  auto device = gpu::make_cuda_backend();
  vmair::register_device_airs(*device);
  for (auto _ : state) {
    hostsim::reset_profile();
    hostsim::set_profiling(true);
    auto errors = gpu::run_group(*device, jobs, [&](size_t, Backend& backend) {
      vmair::ProveOptions o = options;
      o.backend = &backend;
      benchmark::DoNotOptimize(vmair::prove_trace(run.trace, o, run.execute_ms));
    });
    const std::vector<hostsim::KernelAudit> audits = hostsim::kernel_audits();
    const hostsim::ModeledCost cost = hostsim::model_cost_now();
    hostsim::set_profiling(false);
    for (const auto& e : errors)
      if (e) {
        state.SkipWithError("a job of the group failed");
        return;
      }
    state.SetIterationTime(cost.kernel_s);
    uint64_t bytes = 0, minimal = 0;
    for (const hostsim::KernelAudit& a : audits) {
      const std::string& k = a.name;
      state.counters["bytes:" + k] = static_cast<double>(a.all.bytes());
      state.counters["minimal_bytes:" + k] = static_cast<double>(a.all.minimal_bytes());
      state.counters["ratio:" + k] = a.all.bytes_ratio();
      state.counters["efficiency:" + k] = a.all.sector_efficiency();
      state.counters["main_bytes:" + k] = static_cast<double>(a.main.bytes());
      state.counters["main_ratio:" + k] = a.main.bytes_ratio();
      state.counters["main_efficiency:" + k] = a.main.sector_efficiency();
      state.counters["scalar_bytes:" + k] = static_cast<double>(a.scalar.bytes());
      bytes += a.all.bytes();
      minimal += a.all.minimal_bytes();
    }
    state.counters["jobs"] = static_cast<double>(jobs);
    state.counters["kernels"] = static_cast<double>(audits.size());
    state.counters["violations"] = static_cast<double>(hostsim::kernel_audit_violations(audits).size());
    state.counters["kernel_bytes"] = static_cast<double>(bytes);
    state.counters["minimal_bytes"] = static_cast<double>(minimal);
    state.counters["modeled_kernel_ms"] = cost.kernel_s * 1e3;
    if (std::getenv("PTVM_KERNEL_AUDIT_TABLE")) std::fputs(hostsim::format_kernel_audit().c_str(), stderr);
  }
}

void AuditFibonacci(benchmark::State& state) {
  const auto path = std::filesystem::path(PTVM_SOURCE_DIR) / ".." / "shared" / "vectors" / "fibonacci.tvm";
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("no " + path.string()).c_str());
    return;
  }
  const char* e = std::getenv("PTVM_KERNEL_AUDIT_JOBS");
  const long jobs = e && *e ? std::strtol(e, nullptr, 10) : 8;
  audit_group(state, vm::assemble_file(path.string()), vm::kDefaultMaxSteps,
              jobs >= 1 && jobs <= 1024 ? static_cast<size_t>(jobs) : 8);
}

void AuditSteps14(benchmark::State& state) {
  std::ifstream in(std::string(PTVM_SOURCE_DIR) + "/programs/counter_100k.tvm");
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  audit_group(state, vm::assemble_source(source, "counter_100k.tvm"), (uint64_t{1} << 14) - 1, 1);
}

BENCHMARK(AuditFibonacci)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(AuditSteps14)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
