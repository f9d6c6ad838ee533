// One trace across ranks (ptvm/shard/sharded_backend.hpp). Two kinds of figures, told apart by
// their names and labels:
//
// BM_ShardedProveThreadRanks/shards:S (measured): a VM proof (a counting loop, 2^13 steps,
//   "default" profile, 96 bits) by S in-process thread ranks, each with its ShardedBackend, on
//   this machine's CPU cores. Counters: collectives and bytes moved per rank (the largest rank).
//   On a machine with few cores the ranks share them: the figure shows the overhead, not a
//   speed-up.
//
// BM_ModeledShardedProof/gpus:G/log_steps:L (modeled, label "modeled"): the time of one sharded
//   proof of 2^L steps on G GPUs (8 per node, H100 figures) against one GPU, from
//     - the collectives, counted: a sharded proof is made here at 2^12 and 2^13 steps on G thread
//       ranks through a counting communicator that records, per prover stage, every collective and
//       the bytes the busiest rank sends or receives in it; per stage, bytes are extrapolated to
//       2^L steps linearly in the trace rows and the collective count linearly in log rows (FRI
//       adds a layer per doubling). Each collective costs latency + bytes / bandwidth: NVLink
//       450 GB/s per direction per GPU inside a node, InfiniBand 50 GB/s per node across nodes
//       (the share of an all-to-all that leaves the node), 10 us latency per collective in a node,
//       25 us across nodes;
//       Proof-of-work rounds are counted as expected (2^pow_bits nonces over the ranks).
//     - compute: the one-GPU prover time at 2^L steps is modeled as the LDE rows (2^(L + blowup))
//       at an assumed GPU rate (kGpuRowsPerSecond, the batch model's figure), split into stages by
//       the CPU time per stage of a one-rank proof measured here at 2^13 steps (the proof of work
//       left out: it does not grow with the trace), plus the proof of work as 2^pow_bits nonces at
//       an assumed kGpuHashesPerSecond; every stage is sharded (divided by G) except the
//       decommitment stage (queries), which is kept whole.
//   Counters: modeled_speedup, modeled_ms, one_gpu_ms, comm_ms, comm_fraction, collectives,
//   comm_gb (bytes of the busiest rank). Goal (issue #12): >= 5x at 8 GPUs for 2^24 steps.
//
// BM_ModeledShardedDeviceProof/gpus:G/log_steps:L (modeled, label "modeled", host-sim builds): the
//   same proof with the compute taken from the host-sim cost counters of the device shards
//   instead of an assumed rate: a sharded device proof (ptvm/gpu/sharded_device_backend.hpp) is
//   run under host-sim at 2^kDeviceSmall, 2^kDeviceMid and 2^kDeviceLarge steps on G simulated devices (and the
//   single-device CUDA backend for G = 1), the H100 cost model (ptvm/gpu/hostsim/cost_model.hpp)
//   gives each device's kernel time, launches, host round trips and PCIe transfers (the process's
//   counters over G ranks); kernel time, transfers and collective bytes are fitted from three sizes
//   (2^10, 2^11, 2^12 steps) as a + b log rows + c rows (what grows with the rows and what grows
//   per layer: query tables, openings), launches and round trips linearly in log rows, the collectives (counted per stage through the
//   counting communicator, device buffers included: under host-sim they travel over it) as above at
//   NVLink 450 GB/s; the proof of work as 2^pow_bits nonces at kGpuHashesPerSecond over the G
//   ranks (the device shards grind on their devices, rounds of 2^(pow_bits+1) nonces over the
//   ranks: 1 / (1 - e^-2) all-gathers expected). PCIe at the cost model's pinned rate on both
//   sides (the 1-GPU proof runs under its DevicePipeline; the shards upload their trace blocks
//   through it), uploads on the copy stream counted in full, not as overlapped (a lone proof's
//   kernels wait for its trace). Counters as above plus kernel_ms, launch_ms,
//   one_gpu_{kernel,transfer,fixed}_ms (the one-GPU parts; fixed = launches + round trips),
//   round_trip_ms, transfer_ms, host_stages (stages run by the CPU sharded code: columns too small
//   to split at the sizes run here). PTVM_SHARD_BENCH_KERNELS=1 prints, per size run, the modeled
//   kernels (largest first), launches, round trips and transfers of one device to stderr.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>

#include "../bench_context.hpp"
#include "ptvm/comm/communicator.hpp"
#if defined(PTVM_SHARD_BENCH_HOSTSIM)
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/hostsim/cost_model.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#endif
#include "ptvm/shard/sharded_backend.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"

namespace {

using namespace ptvm;

constexpr double kGpuRowsPerSecond = 64e6; // assumed, as in batch_bench.cpp
constexpr double kGpuHashesPerSecond =
    4e9; // assumed: BLAKE2s proof-of-work nonces per second per GPU
constexpr double kNvlinkBytesPerSecond = 450e9;
constexpr double kInfinibandBytesPerSecond = 50e9;
constexpr double kNodeLatencySeconds = 10e-6;
constexpr double kCrossNodeLatencySeconds = 25e-6;
constexpr int kGpusPerNode = 8;

vm::Program loop_program() {
  return vm::assemble_source(".memory 4\nloop:\nADD 3\nSTORE 1\nJMP loop\n", "loop");
}

// One rank's record of its collectives: (stage, bytes this rank sent or received, whichever is
// larger), in call order (the same order on every rank).
struct CollectiveRecord {
  size_t stage;
  double bytes;
};

// A Communicator that forwards to another and records every collective of its rank.
class CountingCommunicator final : public comm::Communicator {
public:
  explicit CountingCommunicator(comm::Communicator& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  std::string_view kind() const override { return inner_.kind(); }
  void barrier() override {
    record(0);
    inner_.barrier();
  }
  void broadcast(comm::Bytes& bytes, int root) override {
    inner_.broadcast(bytes, root);
    record(static_cast<double>(bytes.size()));
  }
  std::vector<comm::Bytes> all_gather(std::span<const uint8_t> bytes) override {
    auto parts = inner_.all_gather(bytes);
    double in = 0;
    for (int q = 0; q < size(); ++q)
      if (q != rank())
        in += static_cast<double>(parts[q].size());
    record(std::max(in, static_cast<double>(bytes.size())));
    return parts;
  }
  std::vector<comm::Bytes> all_to_all(const std::vector<comm::Bytes>& blocks) override {
    auto parts = inner_.all_to_all(blocks);
    double in = 0, out = 0;
    for (int q = 0; q < size(); ++q)
      if (q != rank()) {
        in += static_cast<double>(parts[q].size());
        out += static_cast<double>(blocks[q].size());
      }
    record(std::max(in, out));
    return parts;
  }
  std::vector<comm::Bytes> gather(std::span<const uint8_t> bytes, int root) override {
    auto parts = inner_.gather(bytes, root);
    double in = 0;
    for (const auto& p : parts)
      in += static_cast<double>(p.size());
    record(std::max(in, static_cast<double>(bytes.size())));
    return parts;
  }

  size_t stage = 0;
  std::vector<CollectiveRecord> records;

private:
  void record(double bytes) { records.push_back({stage, bytes}); }
  comm::Communicator& inner_;
};

struct StageComm {
  double bytes = 0; // summed over collectives, the busiest rank of each
  double count = 0;
};

// `count` collectives moving `bytes` (the busiest rank) among `gpus` GPUs: latency + bytes /
// bandwidth, NVLink inside a node, a node's InfiniBand link for the share that leaves it.
double collective_seconds(int gpus, double count, double bytes) {
  const double latency = gpus <= kGpusPerNode ? kNodeLatencySeconds : kCrossNodeLatencySeconds;
  double transfer = bytes / kNvlinkBytesPerSecond;
  if (gpus > kGpusPerNode) // a node's link carries its ranks' share that leaves the node
    transfer = std::max(transfer, bytes * (gpus - kGpusPerNode) / gpus * kGpusPerNode /
                                      kInfinibandBytesPerSecond);
  return count * latency + transfer;
}

// Per-stage collectives of one proof (records of every rank, in call order).
std::array<StageComm, stark::kStageCount>
busiest_per_stage(const std::vector<std::vector<CollectiveRecord>>& per_rank) {
  std::array<StageComm, stark::kStageCount> out{};
  for (size_t i = 0; i < per_rank[0].size(); ++i) {
    double busiest = 0;
    for (const auto& r : per_rank)
      busiest = std::max(busiest, r.at(i).bytes);
    out[per_rank[0][i].stage].bytes += busiest;
    out[per_rank[0][i].stage].count += 1;
  }
  return out;
}

// A sharded proof of `steps` steps on `shards` thread ranks: per stage, the collectives.
std::array<StageComm, stark::kStageCount> count_collectives(int shards, uint64_t steps,
                                                            const stark::Profile& profile) {
  std::vector<std::vector<CollectiveRecord>> per_rank(static_cast<size_t>(shards));
  const vm::Program program = loop_program();
  comm::run_ranks(shards, [&](comm::Communicator& inner) {
    CountingCommunicator counting(inner);
    auto backend = shard::make_sharded_backend(counting);
    vmair::ProveOptions o;
    o.profile = profile;
    o.max_steps = steps;
    o.lockstep = false;
    o.backend = backend.get();
    o.progress = [&](stark::Stage s, double) { counting.stage = static_cast<size_t>(s); };
    vmair::prove_program(program, o);
    per_rank[static_cast<size_t>(inner.rank())] = std::move(counting.records);
  });
  return busiest_per_stage(per_rank);
}

void BM_ShardedProveThreadRanks(benchmark::State& state) {
  const int shards = static_cast<int>(state.range(0));
  const stark::Profile profile = vmair::profile_by_name("default");
  const vm::Program program = loop_program();
  double collectives = 0, bytes = 0;
  for (auto _ : state) {
    std::vector<std::vector<CollectiveRecord>> per_rank(static_cast<size_t>(shards));
    comm::run_ranks(shards, [&](comm::Communicator& inner) {
      CountingCommunicator counting(inner);
      auto backend = shard::make_sharded_backend(counting);
      vmair::ProveOptions o;
      o.profile = profile;
      o.max_steps = (1 << 13) - 1;
      o.lockstep = false;
      o.backend = backend.get();
      vmair::prove_program(program, o);
      per_rank[static_cast<size_t>(inner.rank())] = std::move(counting.records);
    });
    collectives = static_cast<double>(per_rank[0].size());
    bytes = 0;
    for (size_t i = 0; i < per_rank[0].size(); ++i) {
      double busiest = 0;
      for (const auto& r : per_rank)
        busiest = std::max(busiest, r[i].bytes);
      bytes += busiest;
    }
  }
  state.counters["collectives"] = collectives;
  state.counters["comm_mb"] = bytes / 1e6;
  state.SetLabel("measured, cpu, default profile, 2^13 steps, " + std::to_string(shards) +
                 " thread ranks");
}
BENCHMARK(BM_ShardedProveThreadRanks)
    ->ArgName("shards")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ModeledShardedProof(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(0));
  const int log_steps = static_cast<int>(state.range(1));
  const stark::Profile profile = vmair::profile_by_name("default");
  constexpr int kSmall = 12, kLarge = 13;
  // Stage shares of one rank's prover CPU time at 2^kLarge steps (measured once).
  static const std::array<double, stark::kStageCount> stage_share = [&] {
    vmair::ProveOptions o;
    o.profile = profile;
    o.max_steps = (uint64_t{1} << kLarge) - 1;
    o.lockstep = false;
    const vmair::ProvedRun run = vmair::prove_program(loop_program(), o);
    // The proof of work does not grow with the trace: it is modeled on its own (below), and the
    // other stages share the row-proportional time.
    std::array<double, stark::kStageCount> share{};
    const size_t pow = static_cast<size_t>(stark::Stage::Pow);
    double total = 0; // the stages' sum (what lies between stages is not attributed)
    for (size_t s = 0; s + 1 < stark::kStageCount; ++s)
      if (s != pow)
        total += run.timings.cpu_ms[s];
    for (size_t s = 0; s + 1 < stark::kStageCount; ++s)
      share[s] = s == pow ? 0 : run.timings.cpu_ms[s] / total;
    return share;
  }();
  static std::map<int, std::pair<std::array<StageComm, stark::kStageCount>,
                                 std::array<StageComm, stark::kStageCount>>>
      counted;
  if (gpus > 1 && !counted.count(gpus)) {
    const int ranks = gpus;
    counted[gpus] = {count_collectives(ranks, (uint64_t{1} << kSmall) - 1, profile),
                     count_collectives(ranks, (uint64_t{1} << kLarge) - 1, profile)};
  }
  double one_gpu = 0, modeled = 0, comm_seconds = 0, collectives = 0, comm_bytes = 0;
  for (auto _ : state) {
    const double rows_seconds =
        std::ldexp(1.0, log_steps + static_cast<int>(profile.log_blowup)) / kGpuRowsPerSecond;
    const double pow_seconds =
        std::ldexp(1.0, static_cast<int>(profile.pow_bits)) / kGpuHashesPerSecond;
    one_gpu = rows_seconds + pow_seconds;
    modeled = 0;
    comm_seconds = 0;
    collectives = 0;
    comm_bytes = 0;
    for (size_t s = 0; s + 1 < stark::kStageCount; ++s) {
      const double compute =
          s == static_cast<size_t>(stark::Stage::Pow) ? pow_seconds : rows_seconds * stage_share[s];
      const bool kept_whole = s == static_cast<size_t>(stark::Stage::Queries);
      modeled += kept_whole || gpus == 1 ? compute : compute / gpus;
      if (gpus == 1)
        continue;
      const auto& [small, large] = counted[gpus];
      // Linear in rows for bytes, linear in log rows for the count.
      const double row_ratio = std::ldexp(1.0, log_steps - kLarge);
      const double bytes =
          std::max(0.0, large[s].bytes + (large[s].bytes - small[s].bytes) * (row_ratio - 1) * 2);
      // FRI (a layer per doubling) and its decommitments grow with log rows; the proof of work
      // takes the expected number of rounds (2^pow_bits nonces, 2^16 per rank per round) rather
      // than the lucky count of the proofs made here; the other stages make a fixed sequence.
      double count = large[s].count;
      if (s == static_cast<size_t>(stark::Stage::Fri) ||
          s == static_cast<size_t>(stark::Stage::Queries))
        count = std::max(0.0, count + (large[s].count - small[s].count) * (log_steps - kLarge));
      if (s == static_cast<size_t>(stark::Stage::Pow))
        count = std::max(1.0, std::ldexp(1.0, static_cast<int>(profile.pow_bits) - 16) / gpus);
      const double t = collective_seconds(gpus, count, bytes);
      comm_seconds += t;
      collectives += count;
      comm_bytes += bytes;
    }
    modeled += comm_seconds;
    benchmark::DoNotOptimize(modeled);
  }
  state.counters["modeled_speedup"] = one_gpu / modeled;
  state.counters["modeled_efficiency"] = one_gpu / modeled / gpus;
  state.counters["modeled_ms"] = modeled * 1e3;
  state.counters["one_gpu_ms"] = one_gpu * 1e3;
  state.counters["comm_ms"] = comm_seconds * 1e3;
  state.counters["comm_fraction"] = comm_seconds / modeled;
  state.counters["collectives"] = collectives;
  state.counters["comm_gb"] = comm_bytes / 1e9;
  state.counters["assumed_gpu_rows_per_s"] = kGpuRowsPerSecond;
  state.counters["assumed_gpu_pow_hashes_per_s"] = kGpuHashesPerSecond;
  state.SetLabel("modeled: 2^" + std::to_string(log_steps) + " steps sharded over " +
                 std::to_string(gpus) + " GPUs, NVLink 450 GB/s, IB 50 GB/s/node");
}
BENCHMARK(BM_ModeledShardedProof)
    ->ArgNames({"gpus", "log_steps"})
    ->ArgsProduct({{1, 2, 4, 8, 16}, {20, 24}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);


#if defined(PTVM_SHARD_BENCH_HOSTSIM)
// ---- the device shards' host-sim counters -------------------------------------------------------

constexpr int kDeviceSmall = 10, kDeviceMid = 11, kDeviceLarge = 12;

// One proof under host-sim: the cost model of one device (the process's counters over the ranks)
// and the collectives per stage.
struct DeviceProofCount {
  hostsim::ModeledCost device; // per device
  double grind_s = 0;          // the grind kernel's share of device.kernel_s (modeled apart)
  std::array<StageComm, stark::kStageCount> comm{};
  double host_stages = 0;
};

DeviceProofCount count_device_proof(int gpus, uint64_t steps, const stark::Profile& profile) {
  const vm::Program program = loop_program();
  DeviceProofCount out;
  std::vector<std::vector<CollectiveRecord>> per_rank(static_cast<size_t>(gpus));
  hostsim::reset_profile();
  hostsim::set_profiling(true);
  if (gpus == 1) {
    // The one-GPU baseline under its device's pipeline (pinned staging on the copy stream, as the
    // device shards' trace upload): both sides' PCIe at the pinned rate.
    auto backend = gpu::make_cuda_backend();
    vmair::register_device_airs(*backend);
    gpu::PipelineScope scope(backend->pipeline());
    vmair::ProveOptions o;
    o.profile = profile;
    o.max_steps = steps;
    o.lockstep = false;
    o.backend = backend.get();
    vmair::prove_program(program, o);
  } else {
    std::mutex m;
    comm::run_ranks(gpus, [&](comm::Communicator& inner) {
      CountingCommunicator counting(inner);
      auto backend = gpu::make_sharded_device_backend(counting);
      vmair::register_device_airs(backend->air_registry());
      vmair::ProveOptions o;
      o.profile = profile;
      o.max_steps = steps;
      o.lockstep = false;
      o.backend = backend.get();
      o.progress = [&](stark::Stage s, double) { counting.stage = static_cast<size_t>(s); };
      vmair::prove_program(program, o);
      std::lock_guard<std::mutex> lock(m);
      per_rank[static_cast<size_t>(inner.rank())] = std::move(counting.records);
      out.host_stages = std::max(out.host_stages, double(backend->traffic().host_stage_calls));
    });
    out.comm = busiest_per_stage(per_rank);
  }
  hostsim::set_profiling(false);
  hostsim::ModeledCost c = hostsim::model_cost_now();
  for (const auto& k : c.kernels)
    if (k.name.find("grind") != std::string::npos)
      out.grind_s += k.seconds / gpus;
  const double g = gpus;
  out.device.kernel_s = c.kernel_s / g;
  out.device.launches = static_cast<uint64_t>(std::ceil(c.launches / g));
  out.device.round_trips = static_cast<uint64_t>(std::ceil(c.round_trips / g));
  out.device.launch_s = c.launch_s / g;
  out.device.round_trip_s = c.round_trip_s / g;
  // Uploads on a copy stream are not taken as overlapped: a lone proof's kernels wait for its
  // trace (both sides alike).
  out.device.transfer_s = (c.transfer_s + c.copy_stream_s) / g;
  if (const char* env = std::getenv("PTVM_SHARD_BENCH_KERNELS"); env && env[0] == '1') {
    std::vector<hostsim::ModeledKernel> ks = c.kernels;
    std::sort(ks.begin(), ks.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
    std::fprintf(stderr, "gpus %d, %llu steps: kernel %.3f ms, launches %llu, round trips %llu, transfer %.3f ms (copy stream %.3f ms) per device\n",
                 gpus, static_cast<unsigned long long>(steps), c.kernel_s / g * 1e3,
                 static_cast<unsigned long long>(c.launches / gpus), static_cast<unsigned long long>(c.round_trips / gpus),
                 (c.transfer_s + c.copy_stream_s) / g * 1e3, c.copy_stream_s / g * 1e3);
    std::fprintf(stderr, "  h2d %llu B (pinned %llu, overlapped %llu) in %llu copies, d2h %llu B (pinned %llu)\n",
                 static_cast<unsigned long long>(c.h2d_bytes / gpus), static_cast<unsigned long long>(c.h2d_pinned_bytes / gpus),
                 static_cast<unsigned long long>(c.overlapped_bytes / gpus), static_cast<unsigned long long>(c.h2d_copies / gpus),
                 static_cast<unsigned long long>(c.d2h_bytes / gpus), static_cast<unsigned long long>(c.d2h_pinned_bytes / gpus));
    for (const auto& kp : hostsim::kernel_profiles())
      if (kp.name.find("placed") != std::string::npos || kp.name.find("strided") != std::string::npos ||
          kp.name.find("planar") != std::string::npos || kp.name.find("merkle") != std::string::npos ||
          kp.name.find("fft_pass") != std::string::npos)
        std::fprintf(stderr, "  sectors %-40s %6.1f%% used, %.2f sectors/request\n", kp.name.c_str(),
                     100.0 * kp.requested_bytes / (32.0 * kp.sectors), kp.sectors_per_request());
    for (size_t k = 0; k < ks.size() && k < 24; ++k)
      std::fprintf(stderr, "  %-48s %9.3f us  %6llu launches\n", ks[k].name.c_str(), ks[k].seconds / g * 1e6,
                   static_cast<unsigned long long>(ks[k].launches / gpus));
  }
  return out;
}

// f at 2^log_steps from its values at 2^kDeviceSmall, 2^kDeviceMid and 2^kDeviceLarge steps, as
// a + b L + c 2^L (L = log steps): the part that grows with the rows (columns, exchanges) and the
// part that grows with log rows (a Merkle or FRI layer, the query tables and openings of each
// more layer), which a two-point linear-in-rows fit would scale with the rows. From the two
// differences d1 = f(mid) - f(small), d2 = f(large) - f(mid): c = (d2 - d1) / 2^small,
// b = 2 d1 - d2; a negative part is dropped (the other then fits d2 alone).
double in_rows(double small, double mid, double large, int log_steps) {
  const double d1 = mid - small, d2 = large - mid;
  double c = (d2 - d1) / std::ldexp(1.0, kDeviceSmall), b = 2 * d1 - d2;
  if (c < 0) {
    c = 0;
    b = d2;
  } else if (b < 0) {
    b = 0;
    c = d2 / std::ldexp(1.0, kDeviceMid);
  }
  return std::max(0.0, large + b * (log_steps - kDeviceLarge) +
                           c * (std::ldexp(1.0, log_steps) - std::ldexp(1.0, kDeviceLarge)));
}
// ... linear in log rows (launch sequences: a FRI layer, a decommitment per doubling).
double in_log_rows(double mid, double large, int log_steps) {
  return std::max(0.0, large + (large - mid) * (log_steps - kDeviceLarge));
}

void BM_ModeledShardedDeviceProof(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(0));
  const int log_steps = static_cast<int>(state.range(1));
  const stark::Profile profile = vmair::profile_by_name("default");
  static std::map<int, std::tuple<DeviceProofCount, DeviceProofCount, DeviceProofCount>> counted;
  for (int g : {1, gpus})
    if (!counted.count(g))
      counted[g] = {count_device_proof(g, (uint64_t{1} << kDeviceSmall) - 1, profile),
                    count_device_proof(g, (uint64_t{1} << kDeviceMid) - 1, profile),
                    count_device_proof(g, (uint64_t{1} << kDeviceLarge) - 1, profile)};
  const double pow_seconds = std::ldexp(1.0, static_cast<int>(profile.pow_bits)) / kGpuHashesPerSecond;
  struct Parts {
    double kernel = 0, launch = 0, round_trip = 0, transfer = 0, comm = 0, collectives = 0, bytes = 0, pow = 0;
    double total() const { return kernel + launch + round_trip + transfer + comm + pow; }
  };
  auto model = [&](int g) {
    const auto& [small, mid, large] = counted[g];
    Parts p;
    p.kernel = in_rows(small.device.kernel_s - small.grind_s, mid.device.kernel_s - mid.grind_s,
                       large.device.kernel_s - large.grind_s, log_steps);
    p.transfer = in_rows(small.device.transfer_s, mid.device.transfer_s, large.device.transfer_s, log_steps);
    p.launch = in_log_rows(mid.device.launch_s, large.device.launch_s, log_steps);
    p.round_trip = in_log_rows(mid.device.round_trip_s, large.device.round_trip_s, log_steps);
    p.pow = pow_seconds / g;
    for (size_t s = 0; s + 1 < stark::kStageCount && g > 1; ++s) {
      const double bytes = in_rows(small.comm[s].bytes, mid.comm[s].bytes, large.comm[s].bytes, log_steps);
      double count = large.comm[s].count;
      if (s == static_cast<size_t>(stark::Stage::Fri) || s == static_cast<size_t>(stark::Stage::Queries))
        count = in_log_rows(mid.comm[s].count, large.comm[s].count, log_steps);
      if (s == static_cast<size_t>(stark::Stage::Pow))  // device rounds of 2^(bits+1) nonces in all
        count = 1 / (1 - std::exp(-2.0));
      p.comm += collective_seconds(g, count, bytes);
      p.collectives += count;
      p.bytes += bytes;
    }
    return p;
  };
  Parts one, sharded;
  for (auto _ : state) {
    one = model(1);
    sharded = model(gpus);
    benchmark::DoNotOptimize(sharded);
  }
  state.counters["modeled_speedup"] = one.total() / sharded.total();
  state.counters["modeled_efficiency"] = one.total() / sharded.total() / gpus;
  state.counters["modeled_ms"] = sharded.total() * 1e3;
  state.counters["one_gpu_ms"] = one.total() * 1e3;
  state.counters["kernel_ms"] = sharded.kernel * 1e3;
  state.counters["launch_ms"] = sharded.launch * 1e3;
  state.counters["round_trip_ms"] = sharded.round_trip * 1e3;
  state.counters["transfer_ms"] = sharded.transfer * 1e3;
  state.counters["comm_ms"] = sharded.comm * 1e3;
  state.counters["comm_fraction"] = sharded.comm / sharded.total();
  state.counters["collectives"] = sharded.collectives;
  state.counters["comm_gb"] = sharded.bytes / 1e9;
  state.counters["host_stages"] = std::get<2>(counted[gpus]).host_stages;
  state.counters["one_gpu_kernel_ms"] = one.kernel * 1e3;
  state.counters["one_gpu_transfer_ms"] = one.transfer * 1e3;
  state.counters["one_gpu_fixed_ms"] = (one.launch + one.round_trip) * 1e3;
  state.SetLabel("modeled: 2^" + std::to_string(log_steps) + " steps sharded over " + std::to_string(gpus) +
                 " H100s, host-sim cost counters of the device shards (2^" + std::to_string(kDeviceSmall) +
                 ", 2^" + std::to_string(kDeviceMid) + ", 2^" + std::to_string(kDeviceLarge) +
                 " steps, extrapolated), NVLink 450 GB/s");
}
BENCHMARK(BM_ModeledShardedDeviceProof)
    ->ArgNames({"gpus", "log_steps"})
    ->ArgsProduct({{2, 4, 8}, {20, 24}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
#endif

} // namespace

int main(int argc, char** argv) {
  return ptvm::bench::run_main(
      argc, argv, "cpu",
      {.timing = ptvm::bench::Timing::HostClock,
       .threads = ptvm::bench::Threads::CpuBackendPool,
       .note = "BM_ShardedProveThreadRanks is measured on this CPU; "
               "BM_ModeledShardedProof and BM_ModeledShardedDeviceProof are modeled (collectives counted in a "
               "real sharded proof and extrapolated, each latency + "
               "bytes/bandwidth, NVLink 450 GB/s, InfiniBand 50 GB/s per node; "
               "compute at an assumed GPU rate split by measured CPU stage "
               "shares; the device variant: host-sim H100 cost counters of the device "
               "shards), not a measurement"});
}
