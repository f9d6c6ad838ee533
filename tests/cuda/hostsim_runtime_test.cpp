// host-sim itself: the shuffle exposes a missing barrier, warp collectives, shared memory, atomics,
// deadlock / out-of-bounds / configuration errors, determinism per seed, and the access counter.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <regex>

#include "ptvm/gpu/hostsim/kernel_audit.hpp"
#include "ptvm/gpu/hostsim/profile.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "test_kernels.hpp"

namespace ptvm {
namespace {

using gpu::DeviceBuffer;

std::vector<uint32_t> iota_words(size_t n, uint32_t start = 1) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(HostSim, MissingBarrierGivesWrongResultAndBarrierFixesIt) {
  const uint32_t blocks = 3, threads = 256;
  auto in = iota_words(blocks * threads);
  std::vector<uint32_t> expected(in.size());
  for (uint32_t b = 0; b < blocks; ++b)
    for (uint32_t t = 0; t < threads; ++t)
      expected[b * threads + t] = in[b * threads + (t + 1) % threads];
  auto din = DeviceBuffer<uint32_t>::from_host(in);
  DeviceBuffer<uint32_t> out(in.size());

  testkernels::rotate_in_block(din.cptr(), out.ptr(), blocks, threads, /*with_barrier=*/false);
  auto racy = out.to_host();
  size_t wrong = 0;
  for (size_t i = 0; i < racy.size(); ++i) wrong += racy[i] != expected[i];
  EXPECT_GT(wrong, racy.size() / 8) << "the shuffled schedule should expose the missing barrier";

  testkernels::rotate_in_block(din.cptr(), out.ptr(), blocks, threads, /*with_barrier=*/true);
  EXPECT_EQ(out.to_host(), expected);
}

TEST(HostSim, WarpShuffleAndBallot) {
  const uint32_t warps = 4;
  std::mt19937 rng(5);
  std::vector<uint32_t> in(warps * 32);
  for (auto& x : in) x = rng();
  auto din = DeviceBuffer<uint32_t>::from_host(in);
  DeviceBuffer<uint32_t> sums(warps), ballots(warps);
  testkernels::warp_sums(din.cptr(), sums.ptr(), ballots.ptr(), warps);
  auto s = sums.to_host(), b = ballots.to_host();
  for (uint32_t w = 0; w < warps; ++w) {
    uint32_t sum = 0, bits = 0;
    for (uint32_t l = 0; l < 32; ++l) {
      sum += in[w * 32 + l];
      if (in[w * 32 + l] & 1) bits |= 1u << l;
    }
    EXPECT_EQ(s[w], sum) << "warp " << w;
    EXPECT_EQ(b[w], bits) << "warp " << w;
  }
}

TEST(HostSim, DynamicSharedMemoryReduction) {
  for (uint32_t threads : {32u, 64u, 512u, 1024u}) {
    const uint32_t blocks = 2;
    auto in = iota_words(blocks * threads, 7);
    auto din = DeviceBuffer<uint32_t>::from_host(in);
    DeviceBuffer<uint32_t> sums(blocks);
    testkernels::block_sums_dynamic_shared(din.cptr(), sums.ptr(), blocks, threads);
    auto s = sums.to_host();
    for (uint32_t b = 0; b < blocks; ++b)
      EXPECT_EQ(s[b], std::accumulate(in.begin() + b * threads, in.begin() + (b + 1) * threads, 0u))
          << "threads=" << threads;
  }
}

TEST(HostSim, Atomics) {
  const uint32_t n = 1000;
  std::mt19937_64 rng(9);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng() | (1ull << 63);
  auto dkeys = DeviceBuffer<uint64_t>::from_host(keys);
  auto counter = DeviceBuffer<uint32_t>::from_host(std::vector<uint32_t>{5});
  auto min_out = DeviceBuffer<uint64_t>::from_host(std::vector<uint64_t>{~0ull});
  testkernels::atomics(dkeys.cptr(), counter.ptr(), min_out.ptr(), n);
  EXPECT_EQ(counter.to_host()[0], 5 + n);
  EXPECT_EQ(min_out.to_host()[0], *std::min_element(keys.begin(), keys.end()));
}

TEST(HostSim, DeadlockIsALaunchErrorNotAHang) {
  DeviceBuffer<uint32_t> out(64);
  try {
    testkernels::mismatched_barriers(out.ptr());
    FAIL() << "expected a deadlock error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Device);
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mismatched_kernel"), std::string::npos) << e.what();
  }
  // The runtime is usable afterwards.
  testkernels::launch_with_block(out.ptr(), 32);
}

TEST(HostSim, OutOfBoundsStoreIsReported) {
  DeviceBuffer<uint32_t> out(100);
  try {
    testkernels::write_one_past_end(out.ptr(), 100);
    FAIL() << "expected an out-of-bounds error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of bounds: index 100 of a buffer of 100"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("test_kernels.cu:"), std::string::npos) << e.what();
  }
}

TEST(HostSim, InvalidConfigurationIsReportedWithCallSite) {
  DeviceBuffer<uint32_t> out(1);
  try {
    testkernels::launch_with_block(out.ptr(), 2048);
    FAIL() << "expected a configuration error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds 1024 threads"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("block_kernel"), std::string::npos) << e.what();
  }
}

TEST(HostSim, ScheduleIsDeterministicPerSeed) {
  const uint32_t threads = 128;
  auto run = [&](uint64_t seed) {
    hostsim::set_seed(seed);
    DeviceBuffer<uint32_t> order(threads);
    auto ticket = DeviceBuffer<uint32_t>::from_host(std::vector<uint32_t>{0});
    testkernels::record_order(order.ptr(), ticket.ptr(), threads);
    return order.to_host();
  };
  const uint64_t saved = hostsim::seed();
  auto a = run(11), b = run(11), c = run(12);
  hostsim::set_seed(saved);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<uint32_t> identity(threads);
  std::iota(identity.begin(), identity.end(), 0u);
  EXPECT_NE(a, identity) << "threads should not start in index order";
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity);
}

TEST(HostSim, StreamsEventsAndBuffers) {
  gpu::Stream stream;
  gpu::Event start, stop;
  start.record(stream.get());
  DeviceBuffer<uint32_t> buf(10);
  buf.memset(0, stream.get());
  std::vector<uint32_t> part = {1, 2, 3};
  buf.upload(part, stream.get(), 7);
  stop.record(stream.get());
  stop.synchronize();
  EXPECT_GE(gpu::Event::elapsed_ms(start, stop), 0.0f);
  EXPECT_EQ(buf.to_host(), (std::vector<uint32_t>{0, 0, 0, 0, 0, 0, 0, 1, 2, 3}));
  EXPECT_THROW(buf.upload(part, stream.get(), 8), Error);
  std::vector<uint32_t> too_big(11);
  EXPECT_THROW(buf.download(too_big), Error);
}

// ---- access counter -------------------------------------------------------------------------

const hostsim::KernelProfile* find_kernel(const std::vector<hostsim::KernelProfile>& all,
                                          const std::string& name) {
  for (const auto& k : all)
    if (k.name == name) return &k;
  return nullptr;
}

struct ProfilingOn {
  bool was = hostsim::profiling();
  ProfilingOn() {
    hostsim::set_profiling(true);
    hostsim::reset_profile();
  }
  ~ProfilingOn() { hostsim::set_profiling(was); }
};

TEST(HostSimProfile, CoalescedCopyIsFourSectorsPerRequest) {
  ProfilingOn on;
  const uint32_t n = 4096;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::copy_coalesced(in.cptr(), out.ptr(), n);
  auto all = hostsim::kernel_profiles();
  const auto* k = find_kernel(all, "copy_kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->launches, 1u);
  EXPECT_EQ(k->load_requests, n / 32);
  EXPECT_EQ(k->store_requests, n / 32);
  EXPECT_DOUBLE_EQ(k->sectors_per_request(), 4.0);
  EXPECT_EQ(k->bytes(), 2ull * n * 4);
  EXPECT_EQ(k->requested_bytes, 2ull * n * 4);
  EXPECT_EQ(out.to_host(), in.to_host());
}

TEST(HostSimProfile, Stride32WordsIsThirtyTwoSectorsPerRequest) {
  ProfilingOn on;
  const uint32_t warps = 8;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(warps * 1024));
  DeviceBuffer<uint32_t> out(warps * 1024);
  testkernels::copy_strided32(in.cptr(), out.ptr(), warps);
  const auto* k = find_kernel(hostsim::kernel_profiles(), "strided_kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->requests(), 2u * warps);
  EXPECT_DOUBLE_EQ(k->sectors_per_request(), 32.0);
  EXPECT_EQ(k->bytes(), 2ull * warps * 32 * 32);      // each lane drags a whole sector
  EXPECT_EQ(k->requested_bytes, 2ull * warps * 32 * 4);
}

// A lane's reload of a word it loaded, with no store of its own to it and no barrier since, is a
// register: no request, no sector (profile.cpp, kReloadWindow).
TEST(HostSimProfile, ReloadsWithoutAStoreOrBarrierBetweenAreNotRequests) {
  ProfilingOn on;
  const uint32_t n = 1024;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::reloads(in.cptr(), out.ptr(), n);
  const auto* k = find_kernel(hostsim::kernel_profiles(), "reloads_kernel");
  ASSERT_NE(k, nullptr);
  const uint64_t warps = n / 32;
  // loads: the first of in[i] (the next two are registers), out[i] after the lane's own store,
  // in[i] after the barrier; stores: two
  EXPECT_EQ(k->load_requests, 3 * warps);
  EXPECT_EQ(k->store_requests, 2 * warps);
  EXPECT_EQ(k->sectors, 5 * 4 * warps);
  const auto got = out.to_host();
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(got[i], 4 * (i + 1)) << i;
}

TEST(HostSimProfile, BroadcastAndPartialWarps) {
  ProfilingOn on;
  const uint32_t n = 100;  // 64-thread blocks: warps of 32, 32, 32, 4 active lanes
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::broadcast(in.cptr(), out.ptr(), n);
  const auto* k = find_kernel(hostsim::kernel_profiles(), "broadcast_kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->load_requests, 4u);  // one per warp with an active lane
  EXPECT_EQ(k->store_requests, 4u);
  // loads: 1 sector each; stores: 4 + 4 + 4 + 1 sectors (the buffer is 256-byte aligned)
  EXPECT_EQ(k->sectors, 4u + 13u);
}

const hostsim::KernelAudit* find_audit(const std::vector<hostsim::KernelAudit>& all, const std::string& name) {
  for (const auto& a : all)
    if (a.name == name) return &a;
  return nullptr;
}

// The kernel audit (ptvm/gpu/hostsim/kernel_audit.hpp) on kernels whose traffic is known.
TEST(HostSimKernelAudit, CoalescedCopyIsMinimalAndFullyUsed) {
  ProfilingOn on;
  const uint32_t n = 4096;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::copy_coalesced(in.cptr(), out.ptr(), n);
  const auto audits = hostsim::kernel_audits();  // a must not point into a temporary
  const auto* a = find_audit(audits, "copy_kernel");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->main.minimal_bytes(), 2ull * n * 4);
  EXPECT_EQ(a->main.bytes(), 2ull * n * 4);
  EXPECT_DOUBLE_EQ(a->main.bytes_ratio(), 1.0);
  EXPECT_DOUBLE_EQ(a->main.sector_efficiency(), 1.0);
  EXPECT_EQ(a->scalar.requests, 0u);
  EXPECT_TRUE(hostsim::kernel_audit_violations({*a}).empty());
}

TEST(HostSimKernelAudit, ReadingEveryWordTwiceIsOneAndAHalfTimesMinimal) {
  ProfilingOn on;
  const uint32_t n = 4096;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::reads_twice(in.cptr(), out.ptr(), n);
  const auto audits = hostsim::kernel_audits();  // a must not point into a temporary
  const auto* a = find_audit(audits, "reads_twice_kernel");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->main.bytes(), 3ull * n * 4);          // two loads and one store per word
  EXPECT_EQ(a->main.minimal_bytes(), 2ull * n * 4);  // the input once, the output once
  EXPECT_DOUBLE_EQ(a->main.bytes_ratio(), 1.5);
  EXPECT_DOUBLE_EQ(a->main.sector_efficiency(), 1.0);
  EXPECT_TRUE(hostsim::kernel_audit_violations({*a}).empty());  // at the bound, not above it
  hostsim::KernelAuditBounds tighter;
  tighter.max_bytes_ratio = 1.4;
  EXPECT_FALSE(hostsim::kernel_audit_violations({*a}, tighter).empty());
}

TEST(HostSimKernelAudit, StridedAccessesUseAnEighthOfTheirSectors) {
  ProfilingOn on;
  const uint32_t warps = 8;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(warps * 1024));
  DeviceBuffer<uint32_t> out(warps * 1024);
  testkernels::copy_strided32(in.cptr(), out.ptr(), warps);
  const auto audits = hostsim::kernel_audits();  // a must not point into a temporary
  const auto* a = find_audit(audits, "strided_kernel");
  ASSERT_NE(a, nullptr);
  EXPECT_DOUBLE_EQ(a->main.bytes_ratio(), 1.0);  // no sector twice
  EXPECT_DOUBLE_EQ(a->main.sector_efficiency(), 4.0 / 32.0);
  const auto v = hostsim::kernel_audit_violations({*a});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("strided_kernel: main accesses use 12.5%"), std::string::npos) << v[0];
}

TEST(HostSimKernelAudit, BroadcastLoadsAreScalarRequests) {
  ProfilingOn on;
  const uint32_t n = 100;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::broadcast(in.cptr(), out.ptr(), n);
  const auto audits = hostsim::kernel_audits();  // a must not point into a temporary
  const auto* a = find_audit(audits, "broadcast_kernel");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->scalar.requests, 4u);  // the loads of in[0], one per warp
  EXPECT_EQ(a->scalar.sectors, 4u);
  EXPECT_EQ(a->scalar.unique_sectors, 1u);
  EXPECT_EQ(a->scalar.used_bytes, 4u * 4);
  EXPECT_EQ(a->main.requests, 4u);  // the stores (the last warp's 4 lanes: 4 distinct words)
  EXPECT_EQ(a->main.used_bytes, 4u * n);
  EXPECT_EQ(a->all.requests, 8u);
  EXPECT_EQ(a->all.unique_sectors, 1u + 13u);
}

// Requests are formed per access site: lanes that ran a divergent loop a different number of
// times still meet at the next load as one coalesced request.
TEST(HostSimProfile, DivergentLoopDoesNotMisalignLaterRequests) {
  ProfilingOn on;
  const uint32_t n = 256;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> out(n);
  testkernels::divergent_then_coalesced(in.cptr(), out.ptr(), n);
  const auto* k = find_kernel(hostsim::kernel_profiles(), "divergent_kernel");
  ASSERT_NE(k, nullptr);
  // per warp: loop loads k = 0, 1, 2 (one sector each: in[0..2]), then one coalesced load and
  // one coalesced store (4 sectors each)
  const uint64_t warps = n / 32;
  EXPECT_EQ(k->load_requests, warps * 4);
  EXPECT_EQ(k->store_requests, warps);
  EXPECT_EQ(k->sectors, warps * (3 + 4 + 4));
  auto got = out.to_host();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t extra = 0;
    for (uint32_t j = 0; j < (i % 128) % 4; ++j) extra += j + 1;
    ASSERT_EQ(got[i], i + 1 + extra) << i;
  }
}

TEST(HostSimProfile, StageScopeSumsKernelsAgainstMinimumBytes) {
  ProfilingOn on;
  const uint32_t n = 1024;
  auto in = DeviceBuffer<uint32_t>::from_host(iota_words(n));
  DeviceBuffer<uint32_t> mid(n), out(n);
  {
    gpu::StageScope stage("two_copies", 2ull * n * 4);
    testkernels::copy_coalesced(in.cptr(), mid.ptr(), n);
    testkernels::copy_coalesced(mid.cptr(), out.ptr(), n);
  }
  auto stages = hostsim::stage_profiles();
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].name, "two_copies");
  EXPECT_EQ(stages[0].launches, 2u);
  EXPECT_EQ(stages[0].bytes, 4ull * n * 4);
  EXPECT_EQ(stages[0].min_bytes, 2ull * n * 4);
  EXPECT_NE(hostsim::format_profile().find("two_copies"), std::string::npos);
}

// The launch macro is the only place where the CUDA launch syntax may appear.
TEST(HostSimSource, TripleChevronOnlyInLaunchMacro) {
  namespace fs = std::filesystem;
  const fs::path root = PTVM_SOURCE_DIR;
  size_t found = 0;
  for (const char* dir : {"kernels", "cuda", "include/ptvm/gpu", "tests/cuda", "tests/gpu", "bench/gpu"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream f(entry.path());
      std::string line;
      int line_no = 0;
      while (std::getline(f, line)) {
        ++line_no;
        if (line.find(std::string("<<") + "<") == std::string::npos) continue;
        const bool is_macro = line.find("#define PTVM_LAUNCH(") != std::string::npos;
        EXPECT_TRUE(is_macro) << entry.path() << ":" << line_no << ": " << line;
        found += is_macro;
      }
    }
  }
  EXPECT_EQ(found, 1u);
}

}  // namespace
}  // namespace ptvm
