// The convex-hull KV cache alone: inserts (amortized O(1)) and argmax reads (O(log hull)) over
// 10^6 random keys, with the memory query (1, 0) and with random query directions.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/vm/hull_cache.hpp"

namespace {

using ptvm::vm::AttentionKey;
using ptvm::vm::ConvexHullKeyCache;
using ptvm::vm::QueryDirection;

std::vector<AttentionKey> random_keys(size_t n) {
  std::mt19937_64 rng(1);
  std::vector<AttentionKey> keys(n);
  int64_t step = 0;
  for (AttentionKey& k : keys) {
    step += 1 + static_cast<int64_t>(rng() % 3);
    k = {step, static_cast<int64_t>(static_cast<int16_t>(rng()))};
  }
  return keys;
}

void BM_HullInsert(benchmark::State& state) {
  const std::vector<AttentionKey> keys = random_keys(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    ConvexHullKeyCache cache;
    for (const AttentionKey& k : keys)
      cache.insert(k);
    benchmark::DoNotOptimize(cache.upper_hull().size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_HullArgmax(benchmark::State& state) {
  const std::vector<AttentionKey> keys = random_keys(1000000);
  ConvexHullKeyCache cache;
  for (const AttentionKey& k : keys)
    cache.insert(k);
  std::mt19937_64 rng(2);
  std::vector<QueryDirection> queries(4096);
  for (QueryDirection& q : queries)
    q = state.range(0) == 0 ? QueryDirection{1, 0}
                            : QueryDirection{static_cast<int64_t>(rng() % 2001) - 1000,
                                             static_cast<int64_t>(rng() % 2001) - 1000};
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(cache.argmax(queries[i++ & 4095]));
  state.SetItemsProcessed(state.iterations());
  state.counters["hull_vertices"] =
      static_cast<double>(cache.upper_hull().size() + cache.lower_hull().size());
}

BENCHMARK(BM_HullInsert)->Arg(1000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HullArgmax)->ArgName("random_direction")->Arg(0)->Arg(1);

} // namespace

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, "cpu", {.threads = ptvm::bench::Threads::One}); }
