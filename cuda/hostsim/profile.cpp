// host-sim profile counters (model in ptvm/gpu/hostsim/profile.hpp).
#include "ptvm/gpu/hostsim/profile.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <iomanip>
#include <iterator>

#include "hostsim_internal.hpp"
#include "ptvm/gpu/hostsim/kernel_audit.hpp"

namespace ptvm::hostsim {
namespace {

struct OpenStage {
  std::string name;
  uint64_t launches = 0;
  uint64_t bytes = 0;
};

struct ProfileState {
  std::mutex mutex;
  std::map<std::string, KernelProfile> kernels;
  std::map<std::string, KernelAudit> audits;
  std::map<std::string, StageProfile> stages;
  std::vector<OpenStage> open_stages;
  TransferProfile transfers;
  RuntimeProfile runtime;             // streams kept in `streams` below
  std::map<uint64_t, StreamProfile> streams;
};
ProfileState& state() {
  static ProfileState* s = new ProfileState;  // never destroyed: the exit report may run late
  return *s;
}

std::atomic<int> g_profiling{-1};  // -1: not yet read from the environment
std::atomic<uint64_t> g_seed{0};
std::atomic<bool> g_seed_set{false};

void print_at_exit() { std::fputs(format_profile().c_str(), stderr); }

}  // namespace

bool profiling() {
  int p = g_profiling.load(std::memory_order_relaxed);
  if (p >= 0) return p != 0;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("PTVM_HOSTSIM_PROFILE");
    bool on = env && env[0] && std::string(env) != "0";
    int expected = -1;
    g_profiling.compare_exchange_strong(expected, on ? 1 : 0);
    if (on) std::atexit(print_at_exit);
  });
  return g_profiling.load() != 0;
}

void set_profiling(bool on) { g_profiling.store(on ? 1 : 0); }

void set_seed(uint64_t s) {
  g_seed.store(s);
  g_seed_set.store(true);
}
uint64_t seed() {
  if (!g_seed_set.load()) {
    const char* env = std::getenv("PTVM_HOSTSIM_SEED");
    set_seed(env ? std::strtoull(env, nullptr, 0) : 1);
  }
  return g_seed.load();
}

void reset_profile() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  s.kernels.clear();
  s.audits.clear();
  s.stages.clear();
  s.transfers = TransferProfile{};
  s.runtime = RuntimeProfile{};
  s.streams.clear();
  for (auto& o : s.open_stages) o.launches = o.bytes = 0;
}

namespace {

// A lane's load of the element (at most kReloadBytes) it loaded within its last kReloadWindow
// accesses, with no store of its own to it and no barrier since, is served by a register (nvcc
// keeps a value loaded twice from memory no store can have changed) or by L1: it moves no DRAM
// sector and is not a request. An AIR reads a selector or a limb in several constraints; each read
// is one load in the source.
constexpr size_t kReloadWindow = 1024;
constexpr uint32_t kReloadBytes = 16;

// Loads a lane made recently: address -> (bytes, index in the lane's log).
using RecentLoads = std::map<uintptr_t, std::pair<uint32_t, size_t>>;

// The accesses of one lane's log that reach memory (see kReloadWindow), in order.
void memory_accesses(const std::vector<Access>& log, std::vector<const Access*>& out, RecentLoads& recent) {
  out.clear();
  recent.clear();
  for (size_t i = 0; i < log.size(); ++i) {
    const Access& a = log[i];
    if (a.bytes == 0) {  // a barrier: other threads' stores before it are visible after it
      recent.clear();
      continue;
    }
    out.push_back(&a);
    if (a.is_store) {
      // Forget the loads it overlaps (each at most kReloadBytes long).
      auto it = recent.lower_bound(a.address >= kReloadBytes ? a.address - kReloadBytes + 1 : 0);
      while (it != recent.end() && it->first < a.address + a.bytes)
        it = it->first + it->second.first > a.address ? recent.erase(it) : std::next(it);
      continue;
    }
    if (a.bytes > kReloadBytes) continue;
    auto [it, inserted] = recent.try_emplace(a.address, a.bytes, i);
    if (!inserted) {
      const bool reload = it->second.first == a.bytes && i - it->second.second <= kReloadWindow;
      it->second = {a.bytes, i};
      if (reload) out.pop_back();
    }
    if (recent.size() > 4 * kReloadWindow)
      std::erase_if(recent, [&](const auto& e) { return i - e.second.second > kReloadWindow; });
  }
}

}  // namespace

void count_warp_requests(const std::vector<std::vector<Access>>& logs, unsigned first,
                         unsigned last, LaunchCounters& counters) {
  // Key every access that reaches memory by (site, how many times this lane executed the site
  // before): equal keys across lanes are one warp instruction, so one request.
  struct Keyed {
    uint64_t site;
    uint64_t occurrence;
    const Access* access;
  };
  std::vector<Keyed> keyed;
  std::vector<std::pair<uint64_t, uint64_t>> seen;  // per lane: site -> executions so far
  std::vector<const Access*> lane;
  RecentLoads recent;
  for (unsigned t = first; t < last; ++t) {
    seen.clear();
    memory_accesses(logs[t], lane, recent);
    for (const Access* access : lane) {
      const Access& a = *access;
      uint64_t occurrence = 0;
      auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == a.site; });
      if (it == seen.end()) {
        seen.emplace_back(a.site, 1);
      } else {
        occurrence = it->second++;
      }
      keyed.push_back(Keyed{a.site, occurrence, &a});
    }
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& x, const Keyed& y) {
    return x.site != y.site ? x.site < y.site : x.occurrence < y.occurrence;
  });
  std::vector<uintptr_t> sectors;
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;  // [first, last) byte ranges of the lanes
  for (size_t begin = 0; begin < keyed.size();) {
    size_t end = begin;
    sectors.clear();
    ranges.clear();
    while (end < keyed.size() && keyed[end].site == keyed[begin].site &&
           keyed[end].occurrence == keyed[begin].occurrence) {
      const Access& a = *keyed[end].access;
      counters.requested_bytes += a.bytes;
      for (uintptr_t s = a.address >> 5; s <= (a.address + a.bytes - 1) >> 5; ++s) sectors.push_back(s);
      ranges.emplace_back(a.address, a.address + a.bytes);
      ++end;
    }
    std::sort(sectors.begin(), sectors.end());
    sectors.erase(std::unique(sectors.begin(), sectors.end()), sectors.end());
    counters.sectors += sectors.size();
    const bool is_store = keyed[begin].access->is_store;
    ++(is_store ? counters.store_requests : counters.load_requests);
    // The audit: the union of the lanes' bytes, and whether they all address one element.
    std::sort(ranges.begin(), ranges.end());
    uint64_t used = 0;
    uintptr_t covered = 0;
    for (const auto& [first, last] : ranges) {
      const uintptr_t from = std::max(first, covered);
      if (last > from) used += last - from;
      covered = std::max(covered, last);
    }
    const bool scalar = ranges.front() == ranges.back();
    AuditCounters& audit = scalar ? counters.scalar : counters.main;
    ++audit.requests;
    audit.sectors += sectors.size();
    audit.used_bytes += used;
    for (uintptr_t s : sectors) audit.add_touched(s, is_store);
    begin = end;
  }
  // Keeps the per-launch sector lists near the size of the kernel's footprint.
  for (AuditCounters* audit : {&counters.main, &counters.scalar})
    if (audit->touched.size() > 2 * audit->compacted + (size_t{1} << 22)) audit->compact();
}

void AuditCounters::compact() {
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  compacted = touched.size();
}

namespace {
StreamProfile& stream_entry(ProfileState& s, const HostStream* stream) {
  const uint64_t id = stream ? stream->id : 0;
  StreamProfile& p = s.streams[id];
  if (p.name.empty()) {
    p.id = id;
    p.name = stream ? stream->name : "default";
  }
  return p;
}
}  // namespace

namespace {
void add_audit(AccessTotals& totals, AuditCounters& c) {
  c.compact();
  totals.requests += c.requests;
  totals.sectors += c.sectors;
  totals.used_bytes += c.used_bytes;
  totals.unique_sectors += c.touched.size() + c.declared_unique;
}
}  // namespace

void record_launch(const char* kernel, LaunchCounters& c, const HostStream* stream) {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  KernelAudit& audit = s.audits[kernel];
  audit.name = kernel;
  ++audit.launches;
  add_audit(audit.main, c.main);
  add_audit(audit.scalar, c.scalar);
  // The launch's footprint over main and scalar requests together (a sector both ways counted once).
  std::vector<uint64_t> all;
  all.reserve(c.main.touched.size() + c.scalar.touched.size());
  std::merge(c.main.touched.begin(), c.main.touched.end(), c.scalar.touched.begin(), c.scalar.touched.end(),
             std::back_inserter(all));
  all.erase(std::unique(all.begin(), all.end()), all.end());
  audit.all.requests += c.main.requests + c.scalar.requests;
  audit.all.sectors += c.main.sectors + c.scalar.sectors;
  audit.all.used_bytes += c.main.used_bytes + c.scalar.used_bytes;
  audit.all.unique_sectors += all.size() + c.main.declared_unique + c.scalar.declared_unique;
  ++stream_entry(s, stream).launches;
  KernelProfile& k = s.kernels[kernel];
  k.name = kernel;
  ++k.launches;
  k.load_requests += c.load_requests;
  k.store_requests += c.store_requests;
  k.sectors += c.sectors;
  k.requested_bytes += c.requested_bytes;
  for (auto& o : s.open_stages) {
    ++o.launches;
    o.bytes += c.sectors * 32;
  }
}

void record_copy(CopyKind kind, uint64_t bytes, bool pinned, const HostStream* stream) {
  if (!profiling()) return;
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  StreamProfile& st = stream_entry(s, stream);
  switch (kind) {
    case CopyKind::HostToDevice:
      ++s.transfers.h2d_copies;
      s.transfers.h2d_bytes += bytes;
      ++st.h2d_copies;
      st.h2d_bytes += bytes;
      if (pinned) {
        s.transfers.h2d_pinned_bytes += bytes;
        st.h2d_pinned_bytes += bytes;
      }
      break;
    case CopyKind::DeviceToHost:
      ++s.transfers.d2h_copies;
      s.transfers.d2h_bytes += bytes;
      ++st.d2h_copies;
      st.d2h_bytes += bytes;
      if (pinned) {
        s.transfers.d2h_pinned_bytes += bytes;
        st.d2h_pinned_bytes += bytes;
      }
      break;
    case CopyKind::DeviceToDevice: ++st.d2d_copies; break;
    case CopyKind::Memset: ++st.memsets; break;
  }
}

void record_stream_op(StreamOp op, const HostStream* stream) {
  if (!profiling()) return;
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  StreamProfile& st = stream_entry(s, stream);
  switch (op) {
    case StreamOp::Synchronize: ++st.synchronizations; break;
    case StreamOp::EventRecord: ++st.event_records; break;
    case StreamOp::EventWait: ++st.event_waits; break;
    case StreamOp::PoolAllocation: ++st.pool_allocations; break;
  }
}

#define PTVM_RUNTIME_COUNTER(body)   \
  if (!profiling()) return;          \
  ProfileState& s = state();         \
  std::lock_guard lock(s.mutex);     \
  body
void record_device_synchronize() { PTVM_RUNTIME_COUNTER(++s.runtime.device_synchronizations;) }
void record_event_synchronize() { PTVM_RUNTIME_COUNTER(++s.runtime.event_synchronizations;) }
void record_device_allocation(uint64_t bytes) {
  PTVM_RUNTIME_COUNTER(++s.runtime.device_allocations; s.runtime.device_allocated_bytes += bytes;)
}
void record_pool_reuse() { PTVM_RUNTIME_COUNTER(++s.runtime.pool_reuses;) }
void record_device_free() { PTVM_RUNTIME_COUNTER(++s.runtime.device_frees;) }
void record_pinned_allocation(uint64_t bytes) {
  PTVM_RUNTIME_COUNTER(++s.runtime.pinned_allocations; s.runtime.pinned_allocated_bytes += bytes;)
}
#undef PTVM_RUNTIME_COUNTER

RuntimeProfile runtime_profile() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  RuntimeProfile r = s.runtime;
  for (auto& [id, st] : s.streams) r.streams.push_back(st);
  return r;
}

const StreamProfile* RuntimeProfile::stream(const std::string& name) const {
  const StreamProfile* best = nullptr;
  for (const StreamProfile& st : streams)
    if (st.name == name && (!best || st.uses() > best->uses())) best = &st;
  return best;
}

TransferProfile transfer_profile() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  return s.transfers;
}

void declare_kernel_ops(const char* kernel, uint64_t ops) {
  if (!profiling()) return;
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  KernelProfile& k = s.kernels[kernel];
  k.name = kernel;
  k.ops += ops;
}

void open_stage(const char* name) {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  s.open_stages.push_back(OpenStage{name});
}

void close_stage(uint64_t min_bytes) {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  if (s.open_stages.empty()) return;
  OpenStage o = std::move(s.open_stages.back());
  s.open_stages.pop_back();
  StageProfile& p = s.stages[o.name];
  p.name = o.name;
  ++p.scopes;
  p.launches += o.launches;
  p.bytes += o.bytes;
  p.min_bytes += min_bytes;
}

std::vector<KernelProfile> kernel_profiles() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  std::vector<KernelProfile> out;
  for (auto& [name, k] : s.kernels) out.push_back(k);
  return out;
}

std::vector<KernelAudit> kernel_audits() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  std::vector<KernelAudit> out;
  for (auto& [name, a] : s.audits) out.push_back(a);
  return out;
}

std::vector<std::string> kernel_audit_violations(const std::vector<KernelAudit>& audits,
                                                 const KernelAuditBounds& bounds) {
  std::vector<std::string> out;
  for (const KernelAudit& a : audits) {
    double max_ratio = bounds.max_bytes_ratio, min_efficiency = bounds.min_sector_efficiency;
    for (const KernelAuditAllowance& allowed : bounds.allowances)
      if (allowed.kernel == a.name) {
        max_ratio = allowed.max_bytes_ratio;
        min_efficiency = allowed.min_sector_efficiency;
      }
    char line[256];
    if (a.main.bytes_ratio() > max_ratio) {
      std::snprintf(line, sizeof line, "%s: main accesses move %.3fx their minimal bytes (%llu of %llu), bound %.2fx",
                    a.name.c_str(), a.main.bytes_ratio(), static_cast<unsigned long long>(a.main.bytes()),
                    static_cast<unsigned long long>(a.main.minimal_bytes()), max_ratio);
      out.emplace_back(line);
    }
    if (a.main.sector_efficiency() < min_efficiency) {
      std::snprintf(line, sizeof line, "%s: main accesses use %.1f%% of the sectors they fetch, bound %.0f%%",
                    a.name.c_str(), 100 * a.main.sector_efficiency(), 100 * min_efficiency);
      out.emplace_back(line);
    }
  }
  return out;
}

std::string format_kernel_audit() {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3);
  os << "ptvm host-sim kernel audit (bytes = sectors x 32; minimal = distinct sectors per launch; main = "
        "per-thread requests)\n";
  os << std::left << std::setw(44) << "kernel" << std::right << std::setw(9) << "launches" << std::setw(15)
     << "bytes" << std::setw(15) << "minimal" << std::setw(8) << "ratio" << std::setw(8) << "eff"
     << std::setw(15) << "main_bytes" << std::setw(8) << "m_ratio" << std::setw(8) << "m_eff"
     << std::setw(13) << "scalar_bytes" << "\n";
  for (const KernelAudit& a : kernel_audits())
    os << std::left << std::setw(44) << a.name << std::right << std::setw(9) << a.launches << std::setw(15)
       << a.all.bytes() << std::setw(15) << a.all.minimal_bytes() << std::setw(8) << a.all.bytes_ratio()
       << std::setw(8) << a.all.sector_efficiency() << std::setw(15) << a.main.bytes() << std::setw(8)
       << a.main.bytes_ratio() << std::setw(8) << a.main.sector_efficiency() << std::setw(13)
       << a.scalar.bytes() << "\n";
  return os.str();
}

std::vector<StageProfile> stage_profiles() {
  ProfileState& s = state();
  std::lock_guard lock(s.mutex);
  std::vector<StageProfile> out;
  for (auto& [name, p] : s.stages) out.push_back(p);
  return out;
}

std::string format_profile() {
  std::ostringstream os;
  os << std::fixed;
  os << "ptvm host-sim profile (modeled H100: bytes / 3.35 TB/s, every sector from DRAM)\n";
  os << std::left << std::setw(40) << "kernel" << std::right << std::setw(9) << "launches"
     << std::setw(13) << "requests" << std::setw(10) << "sect/req" << std::setw(15) << "bytes"
     << std::setw(13) << "modeled_us" << "\n";
  for (const KernelProfile& k : kernel_profiles())
    os << std::left << std::setw(40) << k.name << std::right << std::setw(9) << k.launches
       << std::setw(13) << k.requests() << std::setw(10) << std::setprecision(2)
       << k.sectors_per_request() << std::setw(15) << k.bytes() << std::setw(13)
       << std::setprecision(3) << k.modeled_seconds() * 1e6 << "\n";
  std::vector<StageProfile> stages = stage_profiles();
  if (!stages.empty()) {
    os << std::left << std::setw(40) << "stage" << std::right << std::setw(9) << "launches"
       << std::setw(15) << "bytes" << std::setw(15) << "min_bytes" << std::setw(13) << "modeled_us"
       << std::setw(13) << "min_us" << std::setw(8) << "ratio" << "\n";
    for (const StageProfile& p : stages)
      os << std::left << std::setw(40) << p.name << std::right << std::setw(9) << p.launches
         << std::setw(15) << p.bytes << std::setw(15) << p.min_bytes << std::setw(13)
         << std::setprecision(3) << p.modeled_seconds() * 1e6 << std::setw(13)
         << p.min_seconds() * 1e6 << std::setw(8) << std::setprecision(2)
         << (p.min_bytes ? static_cast<double>(p.bytes) / static_cast<double>(p.min_bytes) : 0.0)
         << "\n";
  }
  return os.str();
}

}  // namespace ptvm::hostsim
