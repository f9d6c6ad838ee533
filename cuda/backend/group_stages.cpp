// Batched stages of the group executor (group_internal.hpp): OODS evaluations, DEEP quotients,
// grinding, add_assign, LogUp interaction and composition of all jobs of a round, each a fixed
// set of launches and table uploads whatever the number of jobs. Every table is built exactly as
// the single-job backend (cuda_backend.cpp) builds it, so the device computes the same values.
#include <algorithm>
#include <map>

#include "device_columns.hpp"
#include "group_internal.hpp"
#include "ptvm/air/logup.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/column_ops.hpp"
#include "ptvm/gpu/pow.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace group_detail {

using namespace backend_detail;

namespace {

// Appends v to all and returns where it starts.
template <class T>
size_t append(std::vector<T>& all, const std::vector<T>& v) {
  const size_t at = all.size();
  all.insert(all.end(), v.begin(), v.end());
  return at;
}

std::vector<DeviceColumnRef> refs_of(const Evaluations& set, size_t length) {
  const DeviceColumns& d = dev(set);
  std::vector<DeviceColumnRef> refs;
  for (size_t c = 0; c < d.cols.size(); ++c) {
    if (d.cols[c].size() != length)
      throw Error(ErrorCategory::Internal, "cuda backend: columns on different domains (" + std::to_string(d.cols[c].size()) +
                                               " vs " + std::to_string(length) + ")");
    refs.push_back(d.ref(c));
  }
  return refs;
}

}  // namespace

void batched_points(const std::vector<Call*>& calls) {
  StageScope scope("group.evaluate_at_points");
  auto ps = calls_as<PointsCall>(calls);
  std::vector<QM31> factors;
  // Per log size: the columns (each with its point's factors) and where each result goes.
  std::map<uint32_t, std::vector<PointEvalColumn>> columns;
  std::map<uint32_t, std::vector<std::pair<PointsCall*, size_t>>> targets;
  for (PointsCall* p : ps) {
    const DeviceColumns& in = dev(p->in);
    p->out.assign(p->requests.size(), QM31::zero());
    // Requests sharing a point and a size share the basis factors (as the single backend does).
    std::map<std::pair<std::array<uint32_t, 8>, uint32_t>, std::vector<size_t>> groups;
    for (size_t i = 0; i < p->requests.size(); ++i) {
      const auto& pt = p->requests[i].point;
      std::array<uint32_t, 8> key = {pt.x.x0.a.v, pt.x.x0.b.v, pt.x.x1.a.v, pt.x.x1.b.v,
                                     pt.y.x0.a.v, pt.y.x0.b.v, pt.y.x1.a.v, pt.y.x1.b.v};
      groups[{key, in.log_size(p->requests[i].column)}].push_back(i);
    }
    for (const auto& [key, members] : groups) {
      const uint32_t log = key.second;
      const auto& point = p->requests[members[0]].point;
      // Factors [y, x, pi(x), pi^2(x), ...] of the circle-FFT basis (PROTOCOL.md §3.1).
      std::vector<QM31> f{point.y};
      QM31 x = point.x;
      for (uint32_t k = 1; k < log; ++k) {
        f.push_back(x);
        x = x * x + x * x - QM31::one();
      }
      f.resize(log);
      const uint32_t first = static_cast<uint32_t>(append(factors, f));
      for (size_t m : members) {
        columns[log].push_back({in.cols.at(p->requests[m].column).data(), first});
        targets[log].push_back({p, m});
      }
    }
  }
  // Entries of one column at several points side by side (stable by data pointer), the first
  // with their count: the kernel reads such a column once for all its points.
  for (auto& [log, cols] : columns) {
    auto& ts = targets[log];
    std::vector<size_t> order(cols.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::less<const M31*>()(cols[a].data, cols[b].data);
    });
    std::vector<PointEvalColumn> sorted_cols;
    std::vector<std::pair<PointsCall*, size_t>> sorted_targets;
    for (size_t i : order) {
      sorted_cols.push_back(cols[i]);
      sorted_targets.push_back(ts[i]);
    }
    for (size_t i = 0; i < sorted_cols.size();) {
      size_t end = i + 1;
      while (end < sorted_cols.size() && end - i < kMaxPointsPerColumnPass && sorted_cols[end].data == sorted_cols[i].data) ++end;
      sorted_cols[i].n_points = static_cast<uint32_t>(end - i);
      for (size_t k = i + 1; k < end; ++k) sorted_cols[k].n_points = 0;
      i = end;
    }
    cols = std::move(sorted_cols);
    ts = std::move(sorted_targets);
  }
  std::vector<PointEvalColumn> table;
  std::map<uint32_t, size_t> first_of;
  for (const auto& [log, cols] : columns) first_of[log] = append(table, cols);
  if (table.empty()) return;
  DeviceBuffer<QM31> factor_buffer = upload(factors, nullptr);
  DeviceBuffer<PointEvalColumn> table_buffer = upload(table, nullptr);
  DeviceBuffer<QM31> values(table.size());
  for (const auto& [log, cols] : columns)
    evaluate_columns_at_points(table_buffer.cptr().offset(first_of[log]), static_cast<uint32_t>(cols.size()), log,
                               factor_buffer.cptr(), values.ptr().offset(first_of[log]), nullptr);
  const std::vector<QM31> host = values.to_host(nullptr);
  for (const auto& [log, ts] : targets)
    for (size_t i = 0; i < ts.size(); ++i) ts[i].first->out[ts[i].second] = host[first_of[log] + i];
}

void batched_deep(const std::vector<Call*>& calls) {
  StageScope scope("group.deep_quotients");
  auto ds = calls_as<DeepCall>(calls);
  std::vector<DeviceDeepBatch> batches;
  std::vector<DeviceColumnRef> refs;
  std::vector<QM31> coefficients;
  std::vector<DeepUniqueColumn> uniques;
  std::vector<DeepColumnUse> uses;
  struct Slots {
    size_t batches, n_batches, refs, coefficients, uniques = 0, n_uniques = 0, uses = 0;
  };
  std::vector<Slots> slots;
  for (DeepCall* d : ds) {
    const size_t size = size_t{1} << d->log_size;
    Slots sl{batches.size(), d->batches.size(), refs.size(), coefficients.size()};
    // Each distinct column once, with the batches that use it (the kernel reads it once for all).
    std::vector<std::pair<size_t, DeepColumnUse>> column_uses;  // (unique column, use)
    std::map<const M31*, size_t> unique_of;
    const size_t first_unique = uniques.size();
    for (const auto& batch : d->batches) {
      const auto& co = batch.coefficients;
      if (co.column_coefficients.size() != batch.columns.size())
        throw Error(ErrorCategory::Internal, "deep_quotients: coefficient count differs from column count");
      DeviceDeepBatch b;
      b.a_sum = co.a_sum;
      b.b_sum = co.b_sum;
      b.alpha_pow_m = co.alpha_pow_m;
      b.prx = co.prx;
      b.pix = co.pix;
      b.pry = co.pry;
      b.piy = co.piy;
      b.first_column = static_cast<uint32_t>(refs.size() - sl.refs);
      b.n_columns = static_cast<uint32_t>(batch.columns.size());
      for (size_t k = 0; k < batch.columns.size(); ++k) {
        const DeviceColumnRef r = dev(batch.columns[k].set).ref(batch.columns[k].column);
        if (r.length != size) throw Error(ErrorCategory::Internal, "deep_quotients: column not on the quotient domain");
        refs.push_back(r);
        coefficients.push_back(co.column_coefficients[k]);
        auto [it, inserted] = unique_of.emplace(r.data, uniques.size() - first_unique);
        if (inserted) uniques.push_back(DeepUniqueColumn{r, 0, 0});
        DeepColumnUse use;
        use.coefficient = co.column_coefficients[k];
        use.batch = static_cast<uint32_t>(batches.size() - sl.batches);
        column_uses.emplace_back(it->second, use);
      }
      batches.push_back(b);
    }
    std::stable_sort(column_uses.begin(), column_uses.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    sl.uniques = first_unique;
    sl.n_uniques = uniques.size() - first_unique;
    sl.uses = uses.size();
    for (const auto& [u, use] : column_uses) {
      DeepUniqueColumn& c = uniques[first_unique + u];
      if (c.n_uses == 0) c.first_use = static_cast<uint32_t>(uses.size() - sl.uses);
      ++c.n_uses;
      uses.push_back(use);
    }
    slots.push_back(sl);
  }
  DeviceBuffer<DeviceDeepBatch> batch_buffer = upload(batches, nullptr);
  DeviceBuffer<DeviceColumnRef> ref_buffer = upload(refs, nullptr);
  DeviceBuffer<QM31> coefficient_buffer = upload(coefficients, nullptr);
  DeviceBuffer<DeepUniqueColumn> unique_buffer = upload(uniques, nullptr);
  DeviceBuffer<DeepColumnUse> use_buffer = upload(uses, nullptr);
  std::map<uint32_t, std::vector<DeepQuotientJob>> by_log;
  for (size_t i = 0; i < ds.size(); ++i) {
    auto out = DeviceColumns::make(4, ds[i]->log_size);
    DeepQuotientJob job;
    job.batches = batch_buffer.cptr().offset(slots[i].batches);
    job.n_batches = static_cast<uint32_t>(slots[i].n_batches);
    job.columns = ref_buffer.cptr().offset(slots[i].refs);
    job.coefficients = coefficient_buffer.cptr().offset(slots[i].coefficients);
    job.unique_columns = unique_buffer.cptr().offset(slots[i].uniques);
    job.n_unique = static_cast<uint32_t>(slots[i].n_uniques);
    job.uses = use_buffer.cptr().offset(slots[i].uses);
    job.out = out->secure();
    ds[i]->out = std::move(out);
    by_log[ds[i]->log_size].push_back(job);
  }
  std::vector<DeepQuotientJob> jobs;
  std::map<uint32_t, size_t> first_of;
  for (const auto& [log, js] : by_log) first_of[log] = append(jobs, js);
  DeviceBuffer<DeepQuotientJob> job_buffer = upload(jobs, nullptr);
  for (const auto& [log, js] : by_log)
    deep_quotients_many(log, job_buffer.cptr().offset(first_of[log]), static_cast<uint32_t>(js.size()), nullptr);
}

void batched_grind(const std::vector<Call*>& calls) {
  StageScope scope("group.grind");
  auto gs = calls_as<GrindCall>(calls);
  std::map<uint32_t, std::vector<GrindCall*>> by_bits;
  for (GrindCall* g : gs) by_bits[g->pow_bits].push_back(g);
  for (const auto& [bits, members] : by_bits) {
    // A window of 2^(bits+1) nonces holds a hit with probability 1 - e^-2 (86%): about 1.2
    // launches per group, each small enough that no job waits long for the slowest. The same on
    // host-sim and CUDA (so the modeled work is the GPU's).
    const uint64_t window = uint64_t{1} << std::clamp<uint32_t>(bits + 1, 12, 26);
    std::vector<hash::Blake2sHash> digests;
    for (GrindCall* g : members) digests.push_back(g->channel.digest());
    const std::vector<uint64_t> nonces = blake2s_grind_many(digests, bits, nullptr, window);
    for (size_t i = 0; i < members.size(); ++i) members[i]->out = nonces[i];
  }
}

void batched_add_assign(const std::vector<Call*>& calls) {
  StageScope scope("group.add_assign");
  auto as = calls_as<AddAssignCall>(calls);
  std::map<size_t, std::vector<ColumnPair>> by_length;
  for (AddAssignCall* a : as) {
    DeviceColumns& d = dev(a->dst);
    const DeviceColumns& s = dev(a->src);
    if (d.cols.size() != s.cols.size()) throw Error(ErrorCategory::Internal, "add_assign: column count mismatch");
    for (size_t c = 0; c < d.cols.size(); ++c) {
      if (d.cols[c].size() != s.cols[c].size()) throw Error(ErrorCategory::Internal, "add_assign: size mismatch");
      by_length[d.cols[c].size()].push_back({d.cols[c].data(), s.cols[c].data()});
    }
  }
  std::vector<ColumnPair> pairs;
  std::map<size_t, size_t> first_of;
  for (const auto& [n, ps] : by_length) first_of[n] = append(pairs, ps);
  DeviceBuffer<ColumnPair> table = upload(pairs, nullptr);
  for (const auto& [n, ps] : by_length)
    m31_add_many(table.cptr().offset(first_of[n]), static_cast<uint32_t>(ps.size()), n, nullptr);
}

void batched_logup(CudaBackend& device, const std::vector<Call*>& calls) {
  StageScope scope("group.logup_interaction");
  auto ls = calls_as<LogupCall>(calls);
  struct Job {
    LogupCall* call;
    const DeviceAirKernels* kernels;
    std::unique_ptr<DeviceColumns> out;
    DeviceBuffer<QM31> row_totals;
    size_t views, pre, main, challenges;
  };
  std::vector<Job> jobs;
  std::vector<SecureColumnView> views;
  std::vector<DeviceColumnRef> refs;
  std::vector<air::RelationChallenges> challenges;
  for (LogupCall* l : ls) {
    const auto& shape = l->component.shape();
    if (shape.n_fractions == 0) {
      l->out = Backend::Interaction{SecureEvaluations(std::make_unique<DeviceColumns>()), QM31::zero()};
      continue;
    }
    const uint32_t n = l->component.log_rows();
    const size_t rows = size_t{1} << n;
    Job j{l, &device.air_kernels(l->component), DeviceColumns::make(4 * size_t{shape.n_logup_batches}, n),
          DeviceBuffer<QM31>(rows), views.size(), 0, 0, 0};
    for (uint32_t b = 0; b + 1 < shape.n_logup_batches; ++b) views.push_back(j.out->secure(4 * b));
    j.pre = append(refs, refs_of(l->preprocessed, rows));
    j.main = append(refs, refs_of(l->main, rows));
    j.challenges = append(challenges, std::vector<air::RelationChallenges>(l->challenges.begin(), l->challenges.end()));
    jobs.push_back(std::move(j));
  }
  if (jobs.empty()) return;
  DeviceBuffer<SecureColumnView> view_buffer = upload(views, nullptr);
  DeviceBuffer<DeviceColumnRef> ref_buffer = upload(refs, nullptr);
  DeviceBuffer<air::RelationChallenges> challenge_buffer = upload(challenges, nullptr);
  DeviceBuffer<uint32_t> zero_rows(jobs.size());
  zero_rows.memset(0xff, nullptr);
  // Components of one AIR type share a launch.
  std::map<const DeviceAirKernels*, std::vector<size_t>> by_air;
  for (size_t i = 0; i < jobs.size(); ++i) by_air[jobs[i].kernels].push_back(i);
  std::vector<FractionsDeviceArgs> args;
  for (const auto& [kernels, members] : by_air)
    for (size_t i : members) {
      const Job& j = jobs[i];
      FractionsDeviceArgs a;
      a.log_rows = j.call->component.log_rows();
      a.preprocessed = ref_buffer.cptr().offset(j.pre);
      a.main = ref_buffer.cptr().offset(j.main);
      a.challenges = challenge_buffer.cptr().offset(j.challenges);
      a.logup_batches = j.call->component.shape().n_logup_batches;
      a.batch_columns = view_buffer.cptr().offset(j.views);
      a.row_totals = j.row_totals.ptr();
      a.first_zero_row = zero_rows.ptr().offset(i);
      args.push_back(a);
    }
  DeviceBuffer<FractionsDeviceArgs> arg_buffer = upload(args, nullptr);
  size_t first = 0;
  for (const auto& [kernels, members] : by_air) {
    std::vector<const air::Component*> components;
    uint32_t max_log = 0;
    for (size_t i : members) {
      components.push_back(&jobs[i].call->component);
      max_log = std::max(max_log, jobs[i].call->component.log_rows());
    }
    kernels->fractions_many(components, arg_buffer.cptr().offset(first), max_log, nullptr);
    first += members.size();
  }
  const std::vector<uint32_t> zero = zero_rows.to_host(nullptr);
  // The running columns of the jobs without a zero denominator, one launch per size.
  std::map<uint32_t, std::vector<LogupRunningJob>> running;
  std::map<uint32_t, std::vector<size_t>> running_jobs;
  DeviceBuffer<QM31> claimed(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& j = jobs[i];
    if (zero[i] != UINT32_MAX) {
      j.call->error = std::make_exception_ptr(
          Error(ErrorCategory::Runtime, "component '" + j.call->component.info().name + "': LogUp denominator is zero at row " +
                                            std::to_string(zero[i]) + " (a tuple equals the challenge)"));
      continue;
    }
    const uint32_t n = j.call->component.log_rows();
    running[n].push_back({j.row_totals.data(), j.out->secure(4 * (size_t{j.call->component.shape().n_logup_batches} - 1)),
                          claimed.data() + i});
    running_jobs[n].push_back(i);
  }
  std::vector<LogupRunningJob> table;
  std::map<uint32_t, size_t> first_of;
  for (const auto& [n, rs] : running) first_of[n] = append(table, rs);
  DeviceBuffer<LogupRunningJob> table_buffer = upload(table, nullptr);
  for (const auto& [n, rs] : running)
    logup_running_many(table_buffer.cptr().offset(first_of[n]), static_cast<uint32_t>(rs.size()), n, nullptr);
  const std::vector<QM31> sums = claimed.to_host(nullptr);
  for (const auto& [n, members] : running_jobs)
    for (size_t i : members)
      jobs[i].call->out = Backend::Interaction{SecureEvaluations(std::move(jobs[i].out)), sums[i]};
}

void batched_composition(CudaBackend& device, const std::vector<Call*>& calls) {
  StageScope scope("group.eval_composition");
  auto cs = calls_as<CompositionCall>(calls);
  struct Job {
    CompositionCall* call;
    const DeviceAirKernels* kernels;
    uint32_t n, e;
    size_t pre, n_pre, main, inter, n_inter, challenges, coefficients, boundaries, n_boundaries, inv_vanishing;
    std::unique_ptr<DeviceColumns> out;
  };
  std::vector<Job> jobs;
  std::vector<DeviceColumnRef> refs;
  std::vector<air::RelationChallenges> challenges;
  std::vector<QM31> coefficients;
  std::vector<DeviceBoundary> boundaries;
  std::vector<M31> inv_vanishing;
  for (CompositionCall* c : cs) {
    const air::Component& component = c->component;
    const CompositionInputs& in = c->in;
    Job j{};
    j.call = c;
    j.kernels = &device.air_kernels(component);
    const DeviceColumns& main = dev(*in.main);
    j.n = component.log_rows();
    if (main.cols.empty()) throw Error(ErrorCategory::Internal, "eval_composition: component without main columns");
    j.e = log2_exact(main.cols[0].size());
    if (j.e < j.n) throw Error(ErrorCategory::Internal, "eval_composition: domain smaller than the trace");
    const size_t size = size_t{1} << j.e;
    j.pre = refs.size();
    if (in.preprocessed) append(refs, refs_of(*in.preprocessed, size));
    j.main = append(refs, refs_of(*in.main, size));
    j.inter = refs.size();
    if (in.interaction) append(refs, refs_of(*in.interaction, size));
    j.challenges = append(challenges, std::vector<air::RelationChallenges>(in.challenges.begin(), in.challenges.end()));
    if (in.coefficients.size() < component.shape().n_constraints())
      throw Error(ErrorCategory::Internal, "eval_composition: fewer coefficients than constraints");
    j.coefficients = append(coefficients, std::vector<QM31>(in.coefficients.begin(), in.coefficients.end()));
    const auto& info = component.info();
    const auto& selector_rows = component.shape().selector_rows;
    j.boundaries = boundaries.size();
    for (const auto& b : info.boundary_constraints) {
      if (b.public_input >= in.public_inputs.size())
        throw Error(ErrorCategory::Usage, "component '" + info.name + "': boundary constraint names public input " +
                                              std::to_string(b.public_input) + " of " + std::to_string(in.public_inputs.size()));
      const size_t sel = std::lower_bound(selector_rows.begin(), selector_rows.end(), b.row) - selector_rows.begin();
      boundaries.push_back({info.n_preprocessed_columns + static_cast<uint32_t>(sel), b.main_column, in.public_inputs[b.public_input]});
    }
    j.n_boundaries = boundaries.size() - j.boundaries;
    // 1 / V_n depends only on pos >> n (PROTOCOL.md §4.3 step 4): 2^(e-n) values.
    const uint32_t k = j.e - j.n;
    std::vector<M31> inv(size_t{1} << k);
    const circle::CircleDomain domain = circle::CanonicCoset{j.e}.circle_domain();
    for (size_t i = 0; i < inv.size(); ++i)
      inv[circle::bit_reverse_index(i, k)] = circle::canonic_vanishing(j.n, domain.at(i)).inverse();
    j.inv_vanishing = append(inv_vanishing, inv);
    j.out = DeviceColumns::make(4, j.e);
    jobs.push_back(std::move(j));
  }
  DeviceBuffer<DeviceColumnRef> ref_buffer = upload(refs, nullptr);
  DeviceBuffer<air::RelationChallenges> challenge_buffer = upload(challenges, nullptr);
  DeviceBuffer<QM31> coefficient_buffer = upload(coefficients, nullptr);
  DeviceBuffer<DeviceBoundary> boundary_buffer = upload(boundaries, nullptr);
  DeviceBuffer<M31> inv_buffer = upload(inv_vanishing, nullptr);
  std::map<const DeviceAirKernels*, std::vector<size_t>> by_air;
  for (size_t i = 0; i < jobs.size(); ++i) by_air[jobs[i].kernels].push_back(i);
  std::vector<CompositionDeviceArgs> args;
  for (const auto& [kernels, members] : by_air)
    for (size_t i : members) {
      const Job& j = jobs[i];
      CompositionDeviceArgs a;
      a.log_rows = j.n;
      a.log_size = j.e;
      a.preprocessed = ref_buffer.cptr().offset(j.pre);
      a.main = ref_buffer.cptr().offset(j.main);
      a.interaction = ref_buffer.cptr().offset(j.inter);
      a.challenges = challenge_buffer.cptr().offset(j.challenges);
      a.coefficients = coefficient_buffer.cptr().offset(j.coefficients);
      a.claimed_sum_per_row = air::logup_sum_per_row(j.call->in.claimed_sum, j.n);
      a.logup_batches = j.call->component.shape().n_logup_batches;
      a.boundaries = boundary_buffer.cptr().offset(j.boundaries);
      a.n_boundaries = static_cast<uint32_t>(j.n_boundaries);
      a.inv_vanishing = inv_buffer.cptr().offset(j.inv_vanishing);
      a.out = j.out->secure();
      args.push_back(a);
    }
  DeviceBuffer<CompositionDeviceArgs> arg_buffer = upload(args, nullptr);
  size_t first = 0;
  for (const auto& [kernels, members] : by_air) {
    std::vector<const air::Component*> components;
    uint32_t max_log = 0;
    for (size_t i : members) {
      components.push_back(&jobs[i].call->component);
      max_log = std::max(max_log, jobs[i].e);
    }
    kernels->composition_many(components, arg_buffer.cptr().offset(first), max_log, nullptr);
    first += members.size();
  }
  for (Job& j : jobs) j.call->out = std::move(j.out);
}

}  // namespace group_detail
PTVM_GPU_NAMESPACE_END
