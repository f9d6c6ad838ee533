// prove_batch in lockstep groups on one device (BatchProveOptions::group, ptvm/vmair/batch.hpp):
// jobs sorted by shape, cut into groups bounded by the device's free memory; the workers record
// the next group's traces while the current group proves; results in job order.
#include <algorithm>
#include <atomic>
#include <bit>
#include <future>
#include <thread>

#include "batch_internal.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace ptvm::vmair::detail {
namespace {

struct Entry {
  size_t k;  // position in `order`
  uint32_t log_rows;
  std::string profile;
  uint64_t cost;
};

struct Recorded {
  std::vector<std::optional<RecordedRun>> runs;
  std::vector<std::optional<JobError>> errors;
};

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

ProveOptions prove_options(const ProveJob& job, const BatchProveOptions& options) {
  ProveOptions prove;
  prove.max_steps = job.max_steps;
  prove.profile = job.profile ? job.profile : options.profile;
  prove.layers = job.layers;
  prove.max_memory_bytes = options.max_memory_bytes;
  return prove;
}

JobError error_of(const std::exception_ptr& e, size_t index, const std::string& label) {
  try {
    std::rethrow_exception(e);
  } catch (const Error& x) {
    return {x.category(), job_message(index, label, x.what())};
  } catch (const std::exception& x) {
    return {ErrorCategory::Internal, job_message(index, label, std::string("internal error: ") + x.what())};
  }
}

}  // namespace

void prove_grouped(const std::vector<ProveJob>& jobs, const std::vector<size_t>& order,
                   const BatchProveOptions& options, int rank, const ResultFn& deliver) {
  const GroupProving& gp = *options.group;
  if (!gp.run) throw Error(ErrorCategory::Usage, "prove_batch: BatchProveOptions::group has no run function");
  const size_t n = order.size();
  std::vector<std::optional<ProveJobResult>> slots(n);
  auto set_error = [&](size_t k, JobError e) {
    ProveJobResult r;
    r.index = order[k];
    r.label = jobs[order[k]].label;
    r.rank = rank;
    r.error = std::move(e);
    slots[k] = std::move(r);
  };
  const uint64_t budget = gp.device_free_bytes / 10 * 8;

  // Shapes and costs (a native run per job: cheap next to proving).
  std::vector<Entry> entries;
  for (size_t k = 0; k < n; ++k) {
    const ProveJob& job = jobs[order[k]];
    if (job.error) {
      set_error(k, {job.error->category, job_message(order[k], job.label, job.error->message)});
      continue;
    }
    const uint64_t steps = native_steps(job);
    const stark::Profile profile = job.profile ? *job.profile : options.profile ? *options.profile : automatic_profile(steps);
    const uint64_t cost = estimated_job_cost(steps, profile);
    if (budget && cost > budget) {
      set_error(k, {ErrorCategory::Device,
                    job_message(order[k], job.label,
                                "needs an estimated " + mib(cost) + " of device memory to prove " + std::to_string(steps) +
                                    " steps; the device has " + mib(gp.device_free_bytes) +
                                    " free, of which a group uses at most 80%")});
      continue;
    }
    entries.push_back({k, static_cast<uint32_t>(std::bit_width(steps)), profile.name, cost});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.log_rows, a.profile) < std::tie(b.log_rows, b.profile);
  });
  std::vector<std::vector<size_t>> groups;  // positions k
  for (size_t i = 0; i < entries.size();) {
    const Entry& first = entries[i];
    size_t cap = std::max<size_t>(gp.max_group, 1);
    if (budget) cap = std::min<size_t>(cap, std::max<uint64_t>(1, budget / std::max<uint64_t>(first.cost, 1)));
    std::vector<size_t> g;
    while (i < entries.size() && g.size() < cap && entries[i].log_rows == first.log_rows &&
           entries[i].profile == first.profile)
      g.push_back(entries[i++].k);
    groups.push_back(std::move(g));
  }

  // Traces of one group, on up to `workers` threads.
  auto record = [&](const std::vector<size_t>& g) {
    Recorded out;
    out.runs.resize(g.size());
    out.errors.resize(g.size());
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < g.size();) {
        const ProveJob& job = jobs[order[g[i]]];
        try {
          out.runs[i] = record_run(job_program(job), prove_options(job, options));
        } catch (...) {
          out.errors[i] = error_of(std::current_exception(), order[g[i]], job.label);
        }
      }
    };
    const unsigned threads = static_cast<unsigned>(std::clamp<size_t>(options.workers, 1, std::max<size_t>(g.size(), 1)));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    return out;
  };

  size_t delivered = 0;
  auto deliver_ready = [&] {
    while (delivered < n && slots[delivered]) {
      ProveJobResult r = std::move(*slots[delivered]);
      slots[delivered].reset();
      ++delivered;
      deliver(std::move(r));
    }
  };
  std::future<Recorded> next;
  if (!groups.empty()) next = std::async(std::launch::async, record, std::cref(groups[0]));
  try {
    deliver_ready();
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      Recorded cur = next.get();
      if (gi + 1 < groups.size()) next = std::async(std::launch::async, record, std::cref(groups[gi + 1]));
      const std::vector<size_t>& g = groups[gi];
      std::vector<size_t> members;  // indices into g of the recorded jobs
      for (size_t i = 0; i < g.size(); ++i) {
        if (cur.errors[i])
          set_error(g[i], *cur.errors[i]);
        else
          members.push_back(i);
      }
      std::vector<std::optional<ProvedRun>> proved(members.size());
      std::vector<std::exception_ptr> errors;
      try {
        errors = gp.run(members.size(), [&](size_t m, Backend& backend) {
          const size_t i = members[m];
          const ProveJob& job = jobs[order[g[i]]];
          ProveOptions prove = prove_options(job, options);
          prove.backend = &backend;
          proved[m] = prove_trace(cur.runs[i]->trace, prove, cur.runs[i]->execute_ms);
        });
      } catch (...) {
        // The group as a whole failed (a device error): each of its jobs fails with the reason.
        errors.assign(members.size(), std::current_exception());
      }
      for (size_t m = 0; m < members.size(); ++m) {
        const size_t k = g[members[m]];
        if (m < errors.size() && errors[m]) {
          set_error(k, error_of(errors[m], order[k], jobs[order[k]].label));
        } else if (proved[m]) {
          ProveJobResult r;
          r.index = order[k];
          r.label = jobs[order[k]].label;
          r.rank = rank;
          r.run = std::move(proved[m]);
          slots[k] = std::move(r);
        } else {
          set_error(k, {ErrorCategory::Internal, job_message(order[k], jobs[order[k]].label, "the group returned no proof")});
        }
      }
      deliver_ready();
    }
  } catch (...) {
    if (next.valid()) next.wait();
    throw;
  }
  deliver_ready();
}

}  // namespace ptvm::vmair::detail
