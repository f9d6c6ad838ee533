// The batched executions of one round's calls (ptvm/gpu/group_backend.hpp): each kind's calls of
// all jobs become one launch set over all their columns, computing per column exactly what the
// single-job backend computes.
#include <map>

#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/circle_fft.hpp"

#include "device_columns.hpp"
#include "group_internal.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace group_detail {
namespace {

using namespace backend_detail;

template <class T>
std::vector<T*> as(const std::vector<Call*>& calls) {
  return calls_as<T>(calls);
}

// One gather launch and one copy for the words of all calls.
std::vector<uint32_t> gather_all(const std::vector<GatherSource>& sources) {
  std::vector<uint32_t> words(sources.size());
  if (sources.empty()) return words;
  DeviceBuffer<GatherSource> src = upload(sources, nullptr);
  DeviceBuffer<uint32_t> out(sources.size());
  gather_words(src.cptr(), out.ptr(), sources.size(), nullptr);
  out.download(std::span<uint32_t>(words), nullptr);
  return words;
}

void batched_gather(const std::vector<Call*>& calls) {
  StageScope scope("group.gather");
  auto gs = as<GatherCall>(calls);
  std::vector<GatherSource> sources;
  for (GatherCall* g : gs) {
    const DeviceBuffer<M31>& col = dev(g->in).cols.at(g->column);
    for (size_t p : g->positions) {
      if (p >= col.size())
        throw Error(ErrorCategory::Internal, "group backend: gather position " + std::to_string(p) +
                                                 " outside a column of " + std::to_string(col.size()));
      sources.push_back({reinterpret_cast<const uint32_t*>(col.data()), p});
    }
  }
  const std::vector<uint32_t> words = gather_all(sources);
  size_t w = 0;
  for (GatherCall* g : gs) {
    g->out.resize(g->positions.size());
    for (M31& v : g->out) v = M31::raw(words[w++]);
  }
}

void batched_open(const std::vector<Call*>& calls) {
  StageScope scope("group.open");
  auto os = as<OpenCall>(calls);
  std::vector<DeviceTree::OpenPlan> plans;
  std::vector<GatherSource> sources;
  for (OpenCall* o : os) {
    auto* tree = dynamic_cast<const DeviceTree*>(&o->tree);
    if (!tree) throw Error(ErrorCategory::Internal, "group backend: a tree from another backend");
    plans.push_back(tree->plan_open(o->queries));
    sources.insert(sources.end(), plans.back().sources.begin(), plans.back().sources.end());
  }
  const std::vector<uint32_t> words = gather_all(sources);
  size_t first = 0;
  for (size_t i = 0; i < os.size(); ++i) {
    os[i]->out = DeviceTree::assemble_opening(plans[i], std::span<const uint32_t>(words).subspan(first, plans[i].sources.size()));
    first += plans[i].sources.size();
  }
}

void batched_commit(const std::vector<Call*>& calls) {
  StageScope scope("group.commit");
  auto cs = as<CommitCall>(calls);
  std::vector<std::vector<DeviceColumnRef>> refs(cs.size());
  for (size_t i = 0; i < cs.size(); ++i)
    for (const ColumnSet* s : cs[i]->sets) {
      const DeviceColumns& d = dev(*s);
      for (size_t c = 0; c < d.cols.size(); ++c) refs[i].push_back(d.ref(c));
    }
  std::vector<DeviceMerkleTree> trees = DeviceMerkleTree::commit_many(refs, nullptr);
  // Every root in one gather and one copy.
  std::vector<GatherSource> sources;
  for (const DeviceMerkleTree& t : trees)
    for (size_t i = 0; i < 8; ++i) sources.push_back({t.layer_words(0).data(), i});
  const std::vector<uint32_t> words = gather_all(sources);
  for (size_t i = 0; i < cs.size(); ++i)
    cs[i]->out = std::make_unique<DeviceTree>(std::move(trees[i]), std::move(refs[i]), nullptr,
                                              hash::Blake2sHash::from_words(&words[8 * i]));
}

// The device twiddles for domains up to 2^max_log (only the root coset: kernels compute the rest).
DeviceTwiddles twiddles_for(uint32_t max_log) {
  return DeviceTwiddles{circle::CanonicCoset{std::max<uint32_t>(max_log, 2)}.half_coset()};
}

// interpolate / evaluate of all calls: one launch per pass per distinct output log size.
void batched_fft(const std::vector<Call*>& calls) {
  auto fs = as<FftCall>(calls);
  const bool inverse = fs[0]->kind == GroupCall::Interpolate;
  StageScope scope(inverse ? "group.interpolate" : "group.evaluate");
  std::map<uint32_t, std::vector<FftColumnIo>> by_log;
  uint32_t max_log = 1;
  for (FftCall* f : fs) {
    const DeviceColumns& in = dev(f->in);
    auto out = std::make_unique<DeviceColumns>();
    for (const auto& c : in.cols) {
      const uint32_t log = log2_exact(c.size()) + f->log_extension;
      max_log = std::max(max_log, log);
      out->cols.emplace_back(size_t{1} << log);
      by_log[log].push_back({c.data(), c.size(), out->cols.back().data()});
    }
    f->out = std::move(out);
  }
  const DeviceTwiddles tw = twiddles_for(max_log);
  std::vector<DeviceBuffer<FftColumnIo>> tables;
  for (const auto& [log, ios] : by_log) {
    tables.push_back(upload(ios, nullptr));
    circle_transform_many(tables.back().cptr(), static_cast<uint32_t>(ios.size()), log, inverse, tw, nullptr);
  }
}

void batched_fold(const std::vector<Call*>& calls) {
  auto fs = as<FoldCall>(calls);
  const bool circle_fold = fs[0]->kind == GroupCall::FoldCircle;
  StageScope scope(circle_fold ? "group.fri_fold_circle" : "group.fri_fold_line");
  std::map<uint32_t, std::vector<FriFoldJob>> by_log;
  for (FoldCall* f : fs) {
    const DeviceColumns& in = dev(f->in);
    const uint32_t n = in.log_size(0);
    if (n < 1) throw Error(ErrorCategory::Internal, "fri fold: column too small");
    FriFoldJob job{};
    job.in = in.secure_const();
    job.acc = job.in;
    job.alpha = f->alpha;
    if (circle_fold) {
      if (f->acc) {
        const DeviceColumns& acc = dev(*f->acc);
        if (acc.cols.at(0).size() != (size_t{1} << (n - 1))) throw Error(ErrorCategory::Internal, "fri_fold_circle: size mismatch");
        job.acc = acc.secure_const();
        job.accumulate = 1;
      }
    } else {
      if (in.cols.at(0).size() != f->domain->size()) throw Error(ErrorCategory::Internal, "fri_fold_line: size mismatch");
      job.domain = *f->domain;
    }
    auto out = DeviceColumns::make(4, n - 1);
    job.out = out->secure();
    f->out = std::move(out);
    by_log[n].push_back(job);
  }
  std::vector<DeviceBuffer<FriFoldJob>> tables;
  for (const auto& [log, jobs] : by_log) {
    tables.push_back(upload(jobs, nullptr));
    if (circle_fold)
      fri_fold_circle_many(tables.back().cptr(), static_cast<uint32_t>(jobs.size()), log, nullptr);
    else
      fri_fold_line_many(tables.back().cptr(), static_cast<uint32_t>(jobs.size()), log, nullptr);
  }
}

// All jobs' row-order columns in one staging copy, then one permutation launch per log size.
void batched_upload_rows(const std::vector<Call*>& calls) {
  StageScope scope("group.upload_rows");
  auto us = as<UploadRowsCall>(calls);
  size_t total = 0;
  for (UploadRowsCall* u : us)
    for (const auto& col : u->rows) {
      log2_exact(col.size());
      total += col.size();
    }
  std::vector<M31> host;
  host.reserve(total);
  for (UploadRowsCall* u : us)
    for (const auto& col : u->rows) host.insert(host.end(), col.begin(), col.end());
  DeviceBuffer<M31> staged = upload(host, nullptr);
  std::map<uint32_t, std::vector<PermuteJob>> by_log;
  size_t offset = 0;
  for (UploadRowsCall* u : us) {
    auto out = std::make_unique<DeviceColumns>();
    for (const auto& col : u->rows) {
      out->cols.emplace_back(col.size());
      by_log[log2_exact(col.size())].push_back({staged.data() + offset, out->cols.back().data()});
      offset += col.size();
    }
    u->out = std::move(out);
  }
  std::vector<DeviceBuffer<PermuteJob>> tables;
  for (const auto& [log, jobs] : by_log) {
    tables.push_back(upload(jobs, nullptr));
    rows_to_bitrev_many(tables.back().cptr(), static_cast<uint32_t>(jobs.size()), log, nullptr);
  }
}

}  // namespace

void execute_kind(CudaBackend& device, GroupCall kind, const std::vector<Call*>& calls) {
  auto singly = [&] {
    for (Call* c : calls) {
      try {
        c->single(device);
      } catch (...) {
        c->error = std::current_exception();
      }
    }
  };
  try {
    switch (kind) {
      case GroupCall::Gather: return batched_gather(calls);
      case GroupCall::Open: return batched_open(calls);
      case GroupCall::Commit: return batched_commit(calls);
      case GroupCall::Interpolate:
      case GroupCall::Evaluate: return batched_fft(calls);
      case GroupCall::FoldCircle:
      case GroupCall::FoldLine: return batched_fold(calls);
      case GroupCall::UploadRows: return batched_upload_rows(calls);
      case GroupCall::EvaluateAtPoints: return batched_points(calls);
      case GroupCall::Deep: return batched_deep(calls);
      case GroupCall::Grind: return batched_grind(calls);
      case GroupCall::AddAssign: return batched_add_assign(calls);
      case GroupCall::Logup: return batched_logup(device, calls);
      case GroupCall::Composition: return batched_composition(device, calls);
      default: return singly();
    }
  } catch (...) {
    // A batched execution failed: each call alone, so that its error names its own job.
    singly();
  }
}

}  // namespace group_detail
PTVM_GPU_NAMESPACE_END
