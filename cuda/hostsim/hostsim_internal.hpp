// Internal interfaces between the host-sim engine, its profiler and its runtime.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/gpu/hostsim/profile.hpp"

namespace ptvm::hostsim {

// One global access of one thread, recorded by gptr<T> while profiling.
struct Access {
  uintptr_t address;
  uint64_t site;  // source location of the access (see access_site)
  uint32_t bytes;
  bool is_store;
};

// What one launch's main (per-thread) or scalar (one element per request) accesses did, for the
// kernel audit (ptvm/gpu/hostsim/kernel_audit.hpp).
struct AuditCounters {
  uint64_t requests = 0, sectors = 0, used_bytes = 0;
  std::vector<uint64_t> touched;  // (sector << 1) | is_store of every request, compacted now and then
  uint64_t declared_unique = 0;    // distinct sectors declared without a list (host-loop passes)
  size_t compacted = 0;            // touched.size() after the last compact()
  void add_touched(uintptr_t sector, bool is_store) { touched.push_back((uint64_t{sector} << 1) | (is_store ? 1 : 0)); }
  void compact();                  // sorts and removes duplicates of `touched`
};

struct LaunchCounters {
  uint64_t load_requests = 0;
  uint64_t store_requests = 0;
  uint64_t sectors = 0;
  uint64_t requested_bytes = 0;
  AuditCounters main, scalar;
};

// Folds the access logs of threads [first, last) (one warp) into requests: the k-th execution of
// one access site by the lanes is one request (a warp instruction).
void count_warp_requests(const std::vector<std::vector<Access>>& logs, unsigned first,
                         unsigned last, LaunchCounters& counters);
// A host-sim stream: synchronous, identified for the profile.
struct HostStream {
  uint64_t id = 0;
  std::string name;
};

// Adds one finished launch to the kernel's totals, to every open StageScope and to its stream.
void record_launch(const char* kernel, LaunchCounters& counters, const HostStream* stream);

// The runtime's counters while profiling (stream nullptr: the legacy default stream).
enum class CopyKind { HostToDevice, DeviceToHost, DeviceToDevice, Memset };
void record_copy(CopyKind kind, uint64_t bytes, bool pinned, const HostStream* stream);
enum class StreamOp { Synchronize, EventRecord, EventWait, PoolAllocation };
void record_stream_op(StreamOp op, const HostStream* stream);
void record_device_synchronize();
void record_event_synchronize();
void record_device_allocation(uint64_t bytes);
void record_pool_reuse();
void record_device_free();
void record_pinned_allocation(uint64_t bytes);
// A stream's profile entry is created with its name when it is first used.

// Returns and clears the error of the last failed launch on this host thread ("" = none).
std::string take_last_launch_error();

}  // namespace ptvm::hostsim

namespace ptvm::hostsim {
void open_stage(const char* name);
void close_stage(uint64_t min_bytes);
}  // namespace ptvm::hostsim
