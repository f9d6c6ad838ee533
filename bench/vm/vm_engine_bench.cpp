// Steps per second of the VM engines (Google Benchmark; --benchmark_format=json for JSON).
// Programs are built in code so the benchmark does not depend on the assembler:
// - fibonacci: the shared vector (F(8), 103 steps), engine built and run to HALT per iteration;
// - fibonacci_long: the same program with 20000 iterations (~130k steps) per engine;
// - loop_1e5: a load/add/store/compare/jump loop stopped at exactly 10^5 steps;
// - mix_1e5: a loop touching every instruction class (bitwise, stack, call/ret), 10^5 steps;
// each on the transformer engine and on the native interpreter beside it (both through the Engine
// interface, engine construction included), and run_batch throughput over N jobs.
#include <benchmark/benchmark.h>

#include <vector>

#include "../bench_context.hpp"
#include "ptvm/vm/batch.hpp"
#include "ptvm/vm/compiler.hpp"
#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vm/tensor_engine.hpp"
#include "ptvm/vm/transformer.hpp"

namespace {

using ptvm::vm::Instruction;
using ptvm::vm::Opcode;
using ptvm::vm::Program;
using Op = Opcode;
using ptvm::vm::EngineKind;

Program fibonacci(int16_t iterations) {
  Program p;
  p.instructions = {{Op::Load, 3},  {Op::SubM, 4},  {Op::Jz, 14},  {Op::Load, 0},
                    {Op::AddM, 1},  {Op::Store, 2}, {Op::Load, 1}, {Op::Store, 0},
                    {Op::Load, 2},  {Op::Store, 1}, {Op::Load, 3}, {Op::AddI, 1},
                    {Op::Store, 3}, {Op::Jmp, 0},   {Op::Load, 1}, {Op::Halt, 0}};
  p.initial_memory = {0, 1, 0, 0, iterations};
  p.source_name = "fibonacci";
  return p;
}

// Never halts: counts in MEM[0] and compares with a constant.
Program counting_loop() {
  Program p;
  p.instructions = {{Op::Load, 0}, {Op::AddI, 1},  {Op::Store, 0}, {Op::CmpI, 30000},
                    {Op::Jnz, 0},  {Op::LoadI, 0}, {Op::Store, 0}, {Op::Jmp, 0}};
  p.initial_memory = {0, 0, 0, 0};
  p.source_name = "loop";
  return p;
}

// Every instruction class per iteration (never halts).
Program instruction_mix() {
  Program p;
  p.instructions = {{Op::Load, 0},
                    {Op::AddI, 3},
                    {Op::MulI, 5},
                    {Op::XorM, 1},
                    {Op::AndI, 0x3FFF},
                    {Op::OrM, 2},
                    {Op::SubM, 1},
                    {Op::Store, 0},
                    {Op::Push, 0},
                    {Op::Call, 14},
                    {Op::Pop, 0},
                    {Op::CmpM, 2},
                    {Op::Nop, 0},
                    {Op::Jmp, 0},
                    // subroutine at 14
                    {Op::Jz, 16},
                    {Op::Ret, 0},
                    {Op::Ret, 0}};
  p.initial_memory = {1, 0x5A5A, 0x0101, 0, 0, 0, 0, 0};
  p.source_name = "mix";
  return p;
}

void run_engine(benchmark::State& state, const Program& program, uint64_t max_steps,
                EngineKind kind) {
  uint64_t steps = 0;
  for (auto _ : state) {
    std::unique_ptr<ptvm::vm::Engine> engine =
        kind == EngineKind::Transformer
            ? ptvm::vm::make_transformer_engine(program, {}, ptvm::vm::TransformerConfig{})
            : ptvm::vm::make_native_engine(program, {});
    while (!engine->state().halted && engine->steps_taken() < max_steps) {
      benchmark::DoNotOptimize(engine->step());
    }
    steps += engine->steps_taken();
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
  state.counters["steps_per_run"] =
      static_cast<double>(steps) / static_cast<double>(state.iterations());
}

void BM_Transformer_Fibonacci(benchmark::State& state) {
  run_engine(state, fibonacci(7), 100000, EngineKind::Transformer);
}
void BM_Transformer_FibonacciLong(benchmark::State& state) {
  run_engine(state, fibonacci(20000), 1000000, EngineKind::Transformer);
}
void BM_Transformer_Loop1e5(benchmark::State& state) {
  run_engine(state, counting_loop(), 100000, EngineKind::Transformer);
}
void BM_Transformer_Mix1e5(benchmark::State& state) {
  run_engine(state, instruction_mix(), 100000, EngineKind::Transformer);
}
void BM_Native_Fibonacci(benchmark::State& state) {
  run_engine(state, fibonacci(7), 100000, EngineKind::Native);
}
void BM_Native_FibonacciLong(benchmark::State& state) {
  run_engine(state, fibonacci(20000), 1000000, EngineKind::Native);
}
void BM_Native_Loop1e5(benchmark::State& state) {
  run_engine(state, counting_loop(), 100000, EngineKind::Native);
}
void BM_Native_Mix1e5(benchmark::State& state) {
  run_engine(state, instruction_mix(), 100000, EngineKind::Native);
}

// Compilation alone (per program), to separate setup from stepping in the short runs.
void BM_Compile_Fibonacci(benchmark::State& state) {
  const Program p = fibonacci(7);
  for (auto _ : state)
    benchmark::DoNotOptimize(ptvm::vm::compile_program(p, {}));
}

// run_batch over N jobs (args: engine 0 native / 1 transformer, jobs, threads): each job is the
// counting loop with its own initial memory, 20000 steps, no trace recorded. items = total steps.
void BM_Batch(benchmark::State& state) {
  const auto kind = state.range(0) == 0 ? EngineKind::Native : EngineKind::Transformer;
  std::vector<ptvm::vm::BatchJob> jobs(static_cast<size_t>(state.range(1)));
  for (size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].program = counting_loop();
    jobs[i].initial_memory = std::vector<int16_t>{static_cast<int16_t>(i), 0, 0, 0};
    jobs[i].options.engine = kind;
    jobs[i].options.max_steps = 20000;
    jobs[i].options.record_trace = false;
  }
  ptvm::vm::BatchOptions options;
  options.threads = static_cast<unsigned>(state.range(2));
  uint64_t steps = 0;
  for (auto _ : state) {
    const std::vector<ptvm::vm::BatchResult> results = ptvm::vm::run_batch(jobs, options);
    for (const ptvm::vm::BatchResult& r : results) {
      if (!r.ok()) {
        state.SkipWithError(r.error.c_str());
        return;
      }
      steps += r.result->steps;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
  state.counters["jobs_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * state.range(1)), benchmark::Counter::kIsRate);
}

// The tensor engine, B machines in lockstep (args: machines B): the counting loop with B different
// initial memories, 20000 steps each, through one TensorBatch (CPU GEMMs, one group per pc).
// items = total machine-steps; gemms_per_step = GEMMs issued per lockstep step (3 per pc group).
void BM_TensorBatch(benchmark::State& state) {
  const size_t machines = static_cast<size_t>(state.range(0));
  const Program program = counting_loop();
  const ptvm::vm::CompiledModel model = ptvm::vm::compile_program(program, {});
  std::vector<std::vector<int16_t>> memories;
  for (size_t i = 0; i < machines; ++i) memories.push_back({static_cast<int16_t>(i % 7), 0, 0, 0});
  uint64_t steps = 0, gemms = 0, lockstep_steps = 0;
  for (auto _ : state) {
    ptvm::vm::TensorBatch batch(model, memories, 20000, {}, false);
    while (!batch.all_done()) {
      batch.step();
      ++lockstep_steps;
    }
    for (size_t b = 0; b < machines; ++b) steps += batch.machine(b).steps;
    gemms += batch.gemm_calls();
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
  state.counters["machines"] = static_cast<double>(machines);
  state.counters["gemms_per_step"] = static_cast<double>(gemms) / static_cast<double>(lockstep_steps);
}
// One machine through the Engine interface, beside the transformer and native figures.
void BM_Tensor_Loop1e5(benchmark::State& state) {
  uint64_t steps = 0;
  for (auto _ : state) {
    auto engine = ptvm::vm::make_tensor_engine(counting_loop(), {}, ptvm::vm::TransformerConfig{});
    while (!engine->state().halted && engine->steps_taken() < 100000) benchmark::DoNotOptimize(engine->step());
    steps += engine->steps_taken();
  }
  state.SetItemsProcessed(static_cast<int64_t>(steps));
}

BENCHMARK(BM_TensorBatch)->ArgName("machines")->Arg(1)->Arg(64)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Tensor_Loop1e5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transformer_Fibonacci);
BENCHMARK(BM_Transformer_FibonacciLong)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transformer_Loop1e5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Transformer_Mix1e5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Native_Fibonacci);
BENCHMARK(BM_Native_FibonacciLong)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Native_Loop1e5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Native_Mix1e5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Compile_Fibonacci);
BENCHMARK(BM_Batch)
    ->ArgNames({"transformer", "jobs", "threads"})
    ->ArgsProduct({{0, 1}, {64}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, 
      "cpu", {.threads = ptvm::bench::Threads::PerBenchmark,
              .threads_note = "1; BM_Batch: its threads argument"}); }
