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
  const std::vector<uint32_t> words = gather_to_host(sources, nullptr);
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
  const std::vector<uint32_t> words = gather_to_host(sources, nullptr);
  size_t first = 0;
  for (size_t i = 0; i < os.size(); ++i) {
    os[i]->out = DeviceTree::assemble_opening(plans[i], std::span<const uint32_t>(words).subspan(first, plans[i].sources.size()));
    first += plans[i].sources.size();
  }
}

// The trees over refs[t] (leaves[t]: its largest layer, when a fused kernel hashed it), every root
// in one gather and one copy.
std::vector<std::unique_ptr<CommittedTree>> commit_trees(std::vector<std::vector<DeviceColumnRef>> refs,
                                                         std::vector<DeviceBuffer<uint32_t>> leaves) {
  std::vector<DeviceMerkleTree> trees = DeviceMerkleTree::commit_many(refs, std::move(leaves), nullptr);
  std::vector<GatherSource> sources;
  for (const DeviceMerkleTree& t : trees)
    for (size_t i = 0; i < 8; ++i) sources.push_back({t.layer_words(0).data(), i});
  const std::vector<uint32_t> words = gather_to_host(sources, nullptr);
  std::vector<std::unique_ptr<CommittedTree>> out;
  for (size_t i = 0; i < trees.size(); ++i)
    out.push_back(std::make_unique<DeviceTree>(std::move(trees[i]), std::move(refs[i]), nullptr,
                                               hash::Blake2sHash::from_words(&words[8 * i])));
  return out;
}

void batched_commit(const std::vector<Call*>& calls) {
  StageScope scope("group.commit");
  auto cs = as<CommitCall>(calls);
  std::vector<std::vector<DeviceColumnRef>> refs(cs.size());
  for (size_t i = 0; i < cs.size(); ++i)
    for (const EvaluationsRef& s : cs[i]->sets) {
      const DeviceColumns& d = dev(s);
      for (size_t c = 0; c < d.cols.size(); ++c) refs[i].push_back(d.ref(c));
    }
  auto trees = commit_trees(std::move(refs), std::vector<DeviceBuffer<uint32_t>>(cs.size()));
  for (size_t i = 0; i < cs.size(); ++i) cs[i]->out = std::move(trees[i]);
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
  // By (input log size, fused with the folded layer's leaf hashes).
  std::map<std::pair<uint32_t, bool>, std::vector<FriFoldJob>> by_kind;
  std::vector<DeviceBuffer<uint32_t>> leaves(fs.size());
  for (size_t k = 0; k < fs.size(); ++k) {
    FoldCall* f = fs[k];
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
    if (f->commit) {
      leaves[k] = DeviceBuffer<uint32_t>(8 * (size_t{1} << (n - 1)));
      job.leaf_words = leaves[k].data();
    }
    f->out = std::move(out);
    by_kind[{n, f->commit}].push_back(job);
  }
  std::vector<DeviceBuffer<FriFoldJob>> tables;
  for (const auto& [key, jobs] : by_kind) {
    tables.push_back(upload(jobs, nullptr));
    if (circle_fold)
      fri_fold_circle_many(tables.back().cptr(), static_cast<uint32_t>(jobs.size()), key.first, nullptr, key.second);
    else
      fri_fold_line_many(tables.back().cptr(), static_cast<uint32_t>(jobs.size()), key.first, nullptr, key.second);
  }
  // The folded layers to commit: their leaves are hashed, the layers above in one launch each.
  std::vector<std::vector<DeviceColumnRef>> refs;
  std::vector<DeviceBuffer<uint32_t>> given;
  std::vector<FoldCall*> committed;
  for (size_t k = 0; k < fs.size(); ++k) {
    if (!fs[k]->commit) continue;
    const DeviceColumns& out = dev(*fs[k]->out);
    refs.push_back({out.ref(0), out.ref(1), out.ref(2), out.ref(3)});
    given.push_back(std::move(leaves[k]));
    committed.push_back(fs[k]);
  }
  if (!committed.empty()) {
    auto trees = commit_trees(std::move(refs), std::move(given));
    for (size_t i = 0; i < committed.size(); ++i) committed[i]->tree = std::move(trees[i]);
  }
}

// extend_and_commit of all calls: every tree's largest columns through the fused last FFT pass
// with the leaf hashes (one launch set per distinct largest log size), its smaller columns
// through circle_transform_many (one launch set per log size), then the layers above the leaves
// of all trees and all roots in one copy.
void batched_extend_commit(const std::vector<Call*>& calls) {
  StageScope scope("group.extend_and_commit");
  auto es = as<ExtendCommitCall>(calls);
  std::map<uint32_t, std::vector<FftColumnIo>> fused_columns, plain_columns;  // by log size
  std::map<uint32_t, std::vector<LdeLeafTree>> fused_trees;
  std::vector<std::vector<DeviceColumnRef>> refs(es.size());
  std::vector<DeviceBuffer<uint32_t>> leaves(es.size());
  uint32_t max_any = 1;
  for (size_t k = 0; k < es.size(); ++k) {
    ExtendCommitCall* e = es[k];
    uint32_t max_log = 0;
    bool any = false;
    for (const Coefficients* s : e->coefficients)
      for (const auto& c : dev(*s).cols) {
        max_log = std::max(max_log, log2_exact(c.size()) + e->log_extension);
        any = true;
      }
    e->out = Backend::ExtendedTree{};
    LdeLeafTree tree{};
    if (any) {
      leaves[k] = DeviceBuffer<uint32_t>(8 * (size_t{1} << max_log));
      tree.first_column = static_cast<uint32_t>(fused_columns[max_log].size());
      tree.leaf_words = leaves[k].data();
      max_any = std::max(max_any, max_log);
    }
    for (const Coefficients* s : e->coefficients) {
      auto out = std::make_unique<DeviceColumns>();
      for (const auto& c : dev(*s).cols) {
        const uint32_t log = log2_exact(c.size()) + e->log_extension;
        out->cols.emplace_back(size_t{1} << log);
        const FftColumnIo io{c.data(), c.size(), out->cols.back().data()};
        if (log == max_log) {
          fused_columns[log].push_back(io);
          ++tree.n_columns;
        } else {
          plain_columns[log].push_back(io);
        }
        refs[k].push_back(out->ref(out->cols.size() - 1));
      }
      e->out.extensions.emplace_back(std::move(out));
    }
    if (any) fused_trees[max_log].push_back(tree);
  }
  const DeviceTwiddles tw = twiddles_for(max_any);
  std::vector<DeviceBuffer<FftColumnIo>> tables;
  for (const auto& [log, ios] : plain_columns) {
    tables.push_back(upload(ios, nullptr));
    circle_transform_many(tables.back().cptr(), static_cast<uint32_t>(ios.size()), log, false, tw, nullptr);
  }
  for (const auto& [log, trees] : fused_trees) circle_evaluate_leaves_many(fused_columns[log], trees, log, tw, nullptr);
  auto trees = commit_trees(std::move(refs), std::move(leaves));
  for (size_t k = 0; k < es.size(); ++k) es[k]->out.tree = std::move(trees[k]);
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

void run_batched(CudaBackend& device, GroupCall kind, const std::vector<Call*>& calls) {
  switch (kind) {
    case GroupCall::Gather: return batched_gather(calls);
    case GroupCall::Open: return batched_open(calls);
    case GroupCall::Commit: return batched_commit(calls);
    case GroupCall::Interpolate:
    case GroupCall::Evaluate: return batched_fft(calls);
    case GroupCall::FoldCircle:
    case GroupCall::FoldLine: return batched_fold(calls);
    case GroupCall::UploadRows: return batched_upload_rows(calls);
    case GroupCall::ExtendCommit: return batched_extend_commit(calls);
    case GroupCall::EvaluateAtPoints: return batched_points(calls);
    case GroupCall::Deep: return batched_deep(calls);
    case GroupCall::Grind: return batched_grind(calls);
    case GroupCall::AddAssign: return batched_add_assign(calls);
    case GroupCall::Logup: return batched_logup(device, calls);
    case GroupCall::Composition: return batched_composition(device, calls);
    default:
      throw Error(ErrorCategory::Internal, std::string("group backend: no batched execution of ") + group_call_name(kind));
  }
}

bool has_batched(GroupCall kind) {
  switch (kind) {
    case GroupCall::ToHostRows:
    case GroupCall::Slice:
    case GroupCall::CoefficientSlice: return false;
    default: return true;
  }
}

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
  if (!has_batched(kind)) return singly();
  try {
    run_batched(device, kind, calls);
  } catch (...) {
    // A batched execution failed: each call alone, so that its error names its own job.
    for (Call* c : calls) c->error = nullptr;
    singly();
  }
}

}  // namespace group_detail
PTVM_GPU_NAMESPACE_END
