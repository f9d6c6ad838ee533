// The batched executions of one round's calls (ptvm/gpu/group_backend.hpp): each kind's calls of
// all jobs become one launch set over all their columns, computing per column exactly what the
// single-job backend computes.
#include <map>

#include "device_columns.hpp"
#include "group_internal.hpp"

PTVM_GPU_NAMESPACE_BEGIN
namespace group_detail {
namespace {

using namespace backend_detail;

template <class T>
std::vector<T*> as(const std::vector<Call*>& calls) {
  std::vector<T*> out;
  for (Call* c : calls) {
    T* t = dynamic_cast<T*>(c);
    if (!t) throw Error(ErrorCategory::Internal, "group backend: a call of another type in a batch");
    out.push_back(t);
  }
  return out;
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
      default: return singly();
    }
  } catch (...) {
    // A batched execution failed: each call alone, so that its error names its own job.
    singly();
  }
}

}  // namespace group_detail
PTVM_GPU_NAMESPACE_END
