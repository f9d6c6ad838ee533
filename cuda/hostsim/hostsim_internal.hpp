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

struct LaunchCounters {
  uint64_t load_requests = 0;
  uint64_t store_requests = 0;
  uint64_t sectors = 0;
  uint64_t requested_bytes = 0;
};

// Folds the access logs of threads [first, last) (one warp) into requests: the k-th execution of
// one access site by the lanes is one request (a warp instruction).
void count_warp_requests(const std::vector<std::vector<Access>>& logs, unsigned first,
                         unsigned last, LaunchCounters& counters);
// Adds one finished launch to the kernel's totals and to every open StageScope.
void record_launch(const char* kernel, const LaunchCounters& counters);

// Counts one host <-> device copy while profiling.
void record_copy(bool to_device, uint64_t bytes);

// Returns and clears the error of the last failed launch on this host thread ("" = none).
std::string take_last_launch_error();

}  // namespace ptvm::hostsim

namespace ptvm::hostsim {
void open_stage(const char* name);
void close_stage(uint64_t min_bytes);
}  // namespace ptvm::hostsim
