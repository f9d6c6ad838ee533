// BLAKE2s/BLAKE2b throughput, 16-lane compression, Merkle commit and PoW grinding.
// Report: bytes_per_second (message or column bytes) and items_per_second (hashes / rows).
// Merkle and grind take a thread-count argument; the /1 rows are the single-core figures.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "../bench_context.hpp"
#include "ptvm/hash/blake2b.hpp"
#include "ptvm/hash/blake2s.hpp"
#include "ptvm/hash/blake2s_x16.hpp"
#include "ptvm/hash/channel.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/hash/merkle_generic.hpp"

using namespace ptvm;
using namespace ptvm::hash;

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
  std::mt19937_64 rng(n);
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = uint8_t(rng());
  return out;
}

void BM_Blake2s(benchmark::State& state) {
  const auto data = random_bytes(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(blake2s(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Blake2s)->RangeMultiplier(4)->Range(64, 1 << 20);

void BM_Blake2b256(benchmark::State& state) {
  const auto data = random_bytes(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(blake2b_256(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Blake2b256)->RangeMultiplier(4)->Range(64, 1 << 20);

void BM_Blake2b512(benchmark::State& state) {
  const auto data = random_bytes(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(blake2b_512(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Blake2b512)->Arg(64)->Arg(1 << 20);

// One compression (64-byte block), scalar vs 16 lanes: the Merkle hasher's building block.
void BM_Blake2sCompressScalar(benchmark::State& state) {
  uint32_t h[8] = {1, 2, 3, 4, 5, 6, 7, 8}, m[16] = {};
  for (auto _ : state) {
    blake2s_compress(h, m, 64, false);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 64);
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_Blake2sCompressScalar);

void BM_Blake2sCompressX16(benchmark::State& state) {
  U32x16 h[8], m[16];
  for (int i = 0; i < 8; ++i) h[i] = u32x16_splat(i);
  for (int i = 0; i < 16; ++i) m[i] = u32x16_splat(3 * i);
  for (auto _ : state) {
    blake2s_compress_x16(h, m, 64, false);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 64 * 16);
  state.SetItemsProcessed(int64_t(state.iterations()) * 16);
}
BENCHMARK(BM_Blake2sCompressX16);

std::vector<std::vector<M31>> random_columns(size_t n_columns, uint32_t log_rows) {
  std::mt19937_64 rng(log_rows);
  std::vector<std::vector<M31>> columns(n_columns, std::vector<M31>(size_t(1) << log_rows));
  for (auto& c : columns) {
    for (auto& v : c) v = M31::from_u32(uint32_t(rng()) % M31::P);
  }
  return columns;
}

// 2^k rows x 16 columns (64 bytes of M31 per row): leaf hashes plus the node layers.
// Single-thread figures use CPU time (the build box is shared); all-thread ones use real time.
void merkle_commit_16_columns(benchmark::State& state, uint32_t log_rows, unsigned threads) {
  const auto columns = random_columns(16, log_rows);
  std::vector<std::span<const M31>> spans(columns.begin(), columns.end());
  for (auto _ : state) benchmark::DoNotOptimize(MerkleTree::commit(spans, threads).root());
  state.SetBytesProcessed(int64_t(state.iterations()) * 16 * 4 * (int64_t(1) << log_rows));
  state.SetItemsProcessed(int64_t(state.iterations()) * (int64_t(1) << log_rows));
}
void BM_MerkleCommit16Columns_OneThread(benchmark::State& state) {
  merkle_commit_16_columns(state, uint32_t(state.range(0)), 1);
}
BENCHMARK(BM_MerkleCommit16Columns_OneThread)->DenseRange(12, 20, 1)->Unit(benchmark::kMillisecond);
void BM_MerkleCommit16Columns_AllThreads(benchmark::State& state) {
  merkle_commit_16_columns(state, uint32_t(state.range(0)), 0);
}
BENCHMARK(BM_MerkleCommit16Columns_AllThreads)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

// Leaf hashing alone: one layer of 2^k leaves of 16 values (no node layers above them is not
// possible in a tree, so this is measured as the 16-lane leaf loop over 2^k rows x 16 columns
// committed with 3 extra columns of size 1, i.e. the same leaf work plus a tiny tail).
void BM_MerkleLeafHashing(benchmark::State& state) {
  const uint32_t log_rows = uint32_t(state.range(0));
  const auto columns = random_columns(16, log_rows);
  std::vector<std::span<const M31>> spans(columns.begin(), columns.end());
  uint32_t sink = 0;
  for (auto _ : state) {
    std::vector<uint32_t> words(16);
    for (size_t row = 0; row < (size_t(1) << log_rows); row += 16) {
      U32x16 h[8], m[16];
      for (int i = 0; i < 8; ++i) h[i] = u32x16_splat(uint32_t(i));
      for (int c = 0; c < 16; ++c) m[c] = u32x16_load(reinterpret_cast<const uint32_t*>(columns[c].data()) + row);
      blake2s_compress_x16(h, m, 128, true);
      for (int i = 0; i < 8; ++i) sink += h[i][0] ^ h[i][15];  // every lane stays live
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 16 * 4 * (int64_t(1) << log_rows));
}
BENCHMARK(BM_MerkleLeafHashing)->Arg(16)->Arg(20)->Unit(benchmark::kMillisecond);

// 64 MiB of M31 columns in one tree (2^20 rows x 16 columns): the speed goal of the hash issue.
void BM_MerkleCommit64MiB_OneThread(benchmark::State& state) { merkle_commit_16_columns(state, 20, 1); }
BENCHMARK(BM_MerkleCommit64MiB_OneThread)->Unit(benchmark::kMillisecond);

// BLAKE2b-256 tree (F128 system) over 16-byte values: 2^k rows x 4 QM31 columns = 64 bytes/row,
// node by node (GenericMerkleTree), one thread.
void BM_Blake2bMerkleCommit4x16Bytes_OneThread(benchmark::State& state) {
  const uint32_t log_rows = uint32_t(state.range(0));
  std::mt19937_64 rng(log_rows);
  std::vector<std::vector<QM31>> columns(4, std::vector<QM31>(size_t(1) << log_rows));
  for (auto& c : columns) {
    for (auto& v : c) v = QM31::from_u32(uint32_t(rng()), uint32_t(rng()), uint32_t(rng()), uint32_t(rng()));
  }
  std::vector<std::span<const QM31>> spans(columns.begin(), columns.end());
  for (auto _ : state) benchmark::DoNotOptimize(Blake2bMerkleTree<QM31>::commit(spans, 1).root());
  state.SetBytesProcessed(int64_t(state.iterations()) * 64 * (int64_t(1) << log_rows));
}
BENCHMARK(BM_Blake2bMerkleCommit4x16Bytes_OneThread)->Arg(16)->Unit(benchmark::kMillisecond);

// Grinding: nonces tried per second (pow_bits 20 from a fixed digest; expected ~2^20 tries).
void BM_Grind(benchmark::State& state) {
  Blake2sChannel channel;
  channel.mix_u64(0x5eed);
  uint64_t tried = 0;
  for (auto _ : state) {
    const uint64_t nonce = channel.grind(20, unsigned(state.range(0)));
    tried += nonce + 1;
    benchmark::DoNotOptimize(nonce);
  }
  state.SetItemsProcessed(int64_t(tried));
}
BENCHMARK(BM_Grind)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Grind)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return ptvm::bench::run_main(argc, argv, 
      "cpu", {.threads = ptvm::bench::Threads::PerBenchmark,
              .threads_note = "1; *_AllThreads and BM_Grind/0: hardware_concurrency"}); }
