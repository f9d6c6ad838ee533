// host-sim kernel audit: per kernel, the bytes it moves against its compulsory traffic and the
// sector efficiency of its accesses (README "Kernel audit"). Recorded beside the profile
// (ptvm/gpu/hostsim/profile.hpp) while profiling is on; cleared by reset_profile().
//
//   bytes            sectors x 32 over all requests (what the cost model charges)
//   minimal_bytes    compulsory traffic: per launch, the distinct 32-byte sectors the kernel loads
//                    plus the distinct sectors it stores (each input read once, each output written
//                    once), x 32, summed over launches
//   bytes_ratio      bytes / minimal_bytes (1.0: no sector moved twice within a launch)
//   sector efficiency  used bytes / bytes, where a request's used bytes are the union of the bytes
//                    its lanes asked for (a fully used sector: 100%)
//
// Main accesses: requests whose lanes address more than one distinct element, i.e. per-thread data
// (columns, hashes, FRI layers, twiddles indexed by the thread). Excluded, and reported apart as
// scalar requests: requests in which every taking-part lane addresses one and the same element:
// warp-uniform loads of kernel arguments, of a column's reference, of a constraint coefficient or a
// challenge (on a GPU one transaction served by L1 / the constant cache after its first miss), and
// single-lane stores of a per-block result. The audit's bounds (1.5x, 90%) apply to main accesses;
// the totals are reported as well.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ptvm::hostsim {

struct AccessTotals {
  uint64_t requests = 0;
  uint64_t sectors = 0;
  uint64_t used_bytes = 0;      // per request: the union of its lanes' bytes
  uint64_t unique_sectors = 0;  // per launch: distinct loaded + distinct stored sectors, summed
  uint64_t bytes() const { return sectors * 32; }
  uint64_t minimal_bytes() const { return unique_sectors * 32; }
  double bytes_ratio() const {
    return unique_sectors ? static_cast<double>(sectors) / static_cast<double>(unique_sectors) : 1.0;
  }
  double sector_efficiency() const {
    return sectors ? static_cast<double>(used_bytes) / static_cast<double>(bytes()) : 1.0;
  }
};

struct KernelAudit {
  std::string name;
  uint64_t launches = 0;
  AccessTotals all;     // every request
  AccessTotals main;    // requests of per-thread data (see above)
  AccessTotals scalar;  // warp-uniform / single-element requests
};

// Sorted by name; empty unless profiling was on.
std::vector<KernelAudit> kernel_audits();
// Other bounds for one kernel, with the reason (a kernel whose access pattern is inherent, or an
// offender not fixed yet: its measured figure as a ceiling, so it cannot get worse unnoticed).
struct KernelAuditAllowance {
  std::string kernel;
  double max_bytes_ratio = 1.5;
  double min_sector_efficiency = 0.9;
  std::string reason;
};
// The audit's bounds on main accesses.
struct KernelAuditBounds {
  double max_bytes_ratio = 1.5;        // bytes <= 1.5 x minimal bytes
  double min_sector_efficiency = 0.9;  // >= 90% of every fetched sector used
  std::vector<KernelAuditAllowance> allowances;
};
// One line per kernel that breaks a bound ("composition_many_kernel: main bytes 2.10x minimal"),
// empty when all keep them.
std::vector<std::string> kernel_audit_violations(const std::vector<KernelAudit>& audits,
                                                 const KernelAuditBounds& bounds = {});
// A table of kernel_audits() (name, launches, bytes, minimal, ratio, efficiency, main and scalar).
std::string format_kernel_audit();

}  // namespace ptvm::hostsim
