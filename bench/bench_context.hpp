// The context every ptvm benchmark program writes at the top of its output (the "context" object
// of --benchmark_format=json, the header of the console table), next to Google Benchmark's own
// date, host_name, num_cpus and load_avg: which ptvm, which backend, which profile, how many
// threads, and whether the times were measured or modeled. tools/bench_report.py reads these keys.
// Facts that vary between the benchmarks of one program (log size, per-case profile, thread-count
// arguments) stay in benchmark names, labels and counters.
//
// Keys written (all strings):
//   ptvm_version               ptvm::version_string()
//   ptvm_build                 "release (NDEBUG)" or "debug (assertions on)"; Google Benchmark's
//                              own library_build_type is about the benchmark library, not ptvm
//   ptvm_backend               "cpu", "hostsim" or "cuda": what the program's times come from;
//                              a benchmark on another backend has that backend's name as its label
//   ptvm_timing                "measured" (host clock or CUDA events) or "modeled" (host-sim's
//                              access counters: bytes moved / 3.35 TB/s, an H100's bandwidth)
//   ptvm_timing_source         how the times were taken, in words
//   ptvm_profile               the proof profile (only for programs with one profile for all cases)
//   ptvm_threads               host threads the timed code uses (a number, or how to read it)
//   ptvm_threads_env           PTVM_THREADS as set ("unset" if not), and whether it is read
//   ptvm_hardware_concurrency  std::thread::hardware_concurrency()
//   ptvm_device                (GPU programs) gpu::device_description()
//   ptvm_note                  anything else the reader must know to read the figures
#pragma once
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

// The CPU backend's thread count (PTVM_THREADS or all cores), read from the function the backend
// calls itself, so the context cannot disagree with what was run.
#include "ptvm/common/threads.hpp"
#include "ptvm/version.hpp"

namespace ptvm::bench {

enum class Timing {
  HostClock,     // measured: wall or CPU time on the host
  CudaEvents,    // measured: CUDA events around the work on a real GPU (manual time)
  GpuWallClock,  // measured: host wall clock around work that runs on a real GPU (manual time)
  ModeledH100,   // modeled: host-sim's bytes moved / 3.35 TB/s (manual time)
};

enum class Threads {
  One,             // every timed case runs on one host thread
  CpuBackendPool,  // the CPU backend's pool: PTVM_THREADS, else hardware_concurrency
  PerBenchmark,    // a benchmark argument or name says it (explained by threads_note)
  NotUsed,         // the timed work is on the (real or modeled) GPU
};

struct ContextOptions {
  Timing timing = Timing::HostClock;
  Threads threads = Threads::One;
  // Every member has an initializer, so designated initializers may leave any out (GCC's
  // -Wmissing-field-initializers warns otherwise).
  std::string_view profile = {};       // empty: no profile, or one per case (then in its label)
  std::string_view threads_note = {};  // for Threads::PerBenchmark: how to read the count
  std::string_view device = {};        // GPU programs: gpu::device_description()
  std::string_view note = {};          // written as ptvm_note when not empty
};

inline const char* timing_kind(Timing timing) {
  return timing == Timing::ModeledH100 ? "modeled" : "measured";
}

inline const char* timing_source(Timing timing) {
  switch (timing) {
    case Timing::HostClock:
      return "host clock (wall and CPU time of the benchmark loop)";
    case Timing::CudaEvents:
      return "CUDA events on the GPU (manual time)";
    case Timing::GpuWallClock:
      return "host wall clock around each GPU run, its result back on the host (manual time)";
    case Timing::ModeledH100:
      return "host-sim access counters: bytes moved / 3.35 TB/s, a modeled H100 (manual time)";
  }
  return "unknown";
}

// Adds the ptvm_* keys to Google Benchmark's context. Call after benchmark::Initialize (so that a
// --benchmark_context=KEY=VALUE given on the command line wins) and before RunSpecifiedBenchmarks.
inline void add_context(std::string_view backend, const ContextOptions& options = {}) {
  const auto add = [](const char* key, std::string_view value) {
    benchmark::AddCustomContext(key, std::string(value));
  };
  add("ptvm_version", ptvm::version_string());
#ifdef NDEBUG
  add("ptvm_build", "release (NDEBUG)");
#else
  add("ptvm_build", "debug (assertions on)");
#endif
  add("ptvm_backend", backend);
  add("ptvm_timing", timing_kind(options.timing));
  add("ptvm_timing_source", timing_source(options.timing));
  if (!options.profile.empty()) add("ptvm_profile", options.profile);

  const unsigned hardware = std::thread::hardware_concurrency();
  switch (options.threads) {
    case Threads::One:
      add("ptvm_threads", "1");
      break;
    case Threads::CpuBackendPool:
      try {
        add("ptvm_threads", std::to_string(ptvm::configured_thread_count()));
      } catch (const std::exception& e) {  // a PTVM_THREADS the library refuses
        add("ptvm_threads", std::string("invalid: ") + e.what());
      }
      break;
    case Threads::PerBenchmark:
      add("ptvm_threads", options.threads_note.empty() ? std::string_view("per benchmark")
                                                      : options.threads_note);
      break;
    case Threads::NotUsed:
      add("ptvm_threads", "1 (the timed work runs on the GPU)");
      break;
  }
  const char* env = std::getenv("PTVM_THREADS");
  std::string env_text = env ? env : "unset";
  if (options.threads != Threads::CpuBackendPool) env_text += " (not read by this program)";
  add("ptvm_threads_env", env_text);
  add("ptvm_hardware_concurrency", std::to_string(hardware));
  if (!options.device.empty()) add("ptvm_device", options.device);
  if (!options.note.empty()) add("ptvm_note", options.note);
}

// The main() of every ptvm benchmark program: Google Benchmark's flags, then the context, then
// the benchmarks.
inline int run_main(int argc, char** argv, std::string_view backend, const ContextOptions& options = {}) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_context(backend, options);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace ptvm::bench
