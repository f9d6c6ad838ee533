// The four-step circle FFT across ranks (ptvm/shard/sharded_backend.hpp). The butterflies are the
// CPU FFT's layer kernels (host/circle/fft_kernels.hpp); only the twiddle slices are offset to the
// rank's global positions, since a kernel indexes its twiddle by (position >> (layer + 1)).
#include <algorithm>
#include <cstring>
#include <string>

#include "../circle/fft_kernels.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/shard/sharded_backend.hpp"

namespace ptvm::shard {
namespace {

namespace kernels = circle::kernels;

const uint32_t* line_slice(const std::vector<M31>& buffer, const circle::TwiddleTree& tree,
                           uint32_t domain_log, uint32_t layer) {
  return reinterpret_cast<const uint32_t*>(buffer.data()) +
         circle::line_twiddle_offset(tree.root_coset.log_size, domain_log, layer);
}

void check_sizes(const comm::Communicator& comm, const std::vector<uint32_t>& log_sizes,
                 size_t n_columns, uint32_t extension, const circle::TwiddleTree& tree,
                 const char* fn) {
  const uint32_t s = shard_log(comm.size(), fn);
  if (log_sizes.size() != n_columns)
    throw Error(ErrorCategory::Internal, std::string(fn) + ": " + std::to_string(n_columns) +
                                             " columns but " + std::to_string(log_sizes.size()) +
                                             " log sizes");
  for (uint32_t n : log_sizes) {
    if (n < min_sharded_log_size(s))
      throw Error(ErrorCategory::Usage,
                  std::string(fn) + ": a column of 2^" + std::to_string(n) +
                      " values cannot be split across " + std::to_string(comm.size()) +
                      " ranks (needs at least 2^" + std::to_string(min_sharded_log_size(s)) + ")");
    if (n + extension > tree.max_domain_log())
      throw Error(ErrorCategory::Internal, std::string(fn) + ": twiddle tree too small");
  }
}

void append(comm::Bytes& out, const M31* values, size_t count) {
  const size_t at = out.size();
  out.resize(at + count * sizeof(M31));
  std::memcpy(out.data() + at, values, count * sizeof(M31));
}

} // namespace

uint32_t shard_log(int shards, const char* what) {
  if (shards < 1 || shards > kMaxShards || (shards & (shards - 1)))
    throw Error(ErrorCategory::Usage, std::string(what) + ": " + std::to_string(shards) +
                                          " shards; expected a power of two from 1 to " +
                                          std::to_string(kMaxShards));
  uint32_t s = 0;
  while ((1 << s) < shards)
    ++s;
  return s;
}

std::vector<std::vector<M31>> interpolate_block_to_cyclic(
    comm::Communicator& comm, const std::vector<std::span<const M31>>& values_block,
    const std::vector<uint32_t>& log_sizes, const circle::TwiddleTree& tree) {
  const char* fn = "sharded interpolate";
  check_sizes(comm, log_sizes, values_block.size(), 0, tree, fn);
  const int S = comm.size(), r = comm.rank();
  const uint32_t s = shard_log(S, fn);
  std::vector<std::vector<M31>> work(values_block.size());
  if (work.empty())
    return work; // every rank has the same columns: no collective
  if (S == 1) {  // one rank: the plain transform
    for (size_t c = 0; c < work.size(); ++c) {
      work[c].resize(values_block[c].size());
      circle::circle_interpolate_bitrev(values_block[c], work[c], tree);
    }
    return work;
  }
  std::vector<comm::Bytes> send(S);
  for (size_t c = 0; c < values_block.size(); ++c) {
    const uint32_t n = log_sizes[c];
    const size_t m = size_t{1} << (n - s);
    if (values_block[c].size() != m)
      throw Error(ErrorCategory::Internal, std::string(fn) + ": column " + std::to_string(c) +
                                               " holds " + std::to_string(values_block[c].size()) +
                                               " values, expected " + std::to_string(m));
    work[c].assign(values_block[c].begin(), values_block[c].end());
    uint32_t* v = reinterpret_cast<uint32_t*>(work[c].data());
    // Step 1: layers 0 .. n-s-1 act inside the block (global position r m + i).
    kernels::circle_layer_inverse(v, 0, m, line_slice(tree.itwiddles, tree, n, 1) + r * (m >> 2));
    for (uint32_t l = 1; l < n - s; ++l)
      kernels::layer_inverse(v, 0, m, l,
                             line_slice(tree.itwiddles, tree, n, l) + r * (m >> (l + 1)));
    // Step 2: transpose. Position r m + i goes to rank i mod S (m is a multiple of S).
    if (S > 1) {
      std::vector<M31> strided(m / S);
      for (int t = 0; t < S; ++t) {
        for (size_t k = 0; k < m / S; ++k)
          strided[k] = work[c][t + k * S];
        append(send[t], strided.data(), strided.size());
      }
    }
  }
  if (S > 1) {
    std::vector<comm::Bytes> received = comm.all_to_all(send);
    std::vector<size_t> offset(S, 0);
    for (size_t c = 0; c < work.size(); ++c) {
      const size_t m = size_t{1} << (log_sizes[c] - s), part = m / S;
      // From sender q: its positions q m + r + k S, i.e. cyclic indices q m / S + k.
      for (int q = 0; q < S; ++q) {
        if (received[q].size() < (offset[q] + part) * sizeof(M31))
          throw Error(ErrorCategory::Internal,
                      std::string(fn) + ": short block from rank " + std::to_string(q));
        std::memcpy(work[c].data() + q * part, received[q].data() + offset[q] * sizeof(M31),
                    part * sizeof(M31));
        offset[q] += part;
      }
    }
  }
  // Steps 3-4: layers n-s .. n-1 act on bits s.. of the position = bits 0.. of the cyclic index
  // (twiddle index (j S + r) >> (l + 1) = j >> (l + 1 - s): the same slice on every rank).
  for (size_t c = 0; c < work.size(); ++c) {
    const uint32_t n = log_sizes[c];
    const size_t m = size_t{1} << (n - s);
    uint32_t* v = reinterpret_cast<uint32_t*>(work[c].data());
    for (uint32_t l = n - s; l < n; ++l)
      kernels::layer_inverse(v, 0, m, l - s, line_slice(tree.itwiddles, tree, n, l));
    kernels::scale(v, m, 1u << (31 - n)); // 2^-n, as 2^31 = 1 mod p
  }
  return work;
}

std::vector<std::vector<M31>> evaluate_cyclic_to_block(
    comm::Communicator& comm, const std::vector<std::span<const M31>>& coefficients_cyclic,
    const std::vector<uint32_t>& log_sizes, uint32_t extension, const circle::TwiddleTree& tree) {
  const char* fn = "sharded evaluate";
  check_sizes(comm, log_sizes, coefficients_cyclic.size(), extension, tree, fn);
  const int S = comm.size(), r = comm.rank();
  const uint32_t s = shard_log(S, fn);
  std::vector<std::vector<M31>> work(coefficients_cyclic.size());
  if (work.empty())
    return work;
  if (S == 1) {
    for (size_t c = 0; c < work.size(); ++c) {
      work[c].resize(coefficients_cyclic[c].size() << extension);
      circle::circle_evaluate_bitrev(coefficients_cyclic[c], work[c], tree);
    }
    return work;
  }
  std::vector<comm::Bytes> send(S);
  for (size_t c = 0; c < work.size(); ++c) {
    const uint32_t n = log_sizes[c], L = n + extension;
    const size_t have = size_t{1} << (n - s), M = size_t{1} << (L - s);
    if (coefficients_cyclic[c].size() != have)
      throw Error(ErrorCategory::Internal, std::string(fn) + ": column " + std::to_string(c) +
                                               " holds " +
                                               std::to_string(coefficients_cyclic[c].size()) +
                                               " coefficients, expected " + std::to_string(have));
    // Coefficient j S + r of the zero-padded 2^L vector: the local prefix, then zeros.
    work[c].assign(M, M31::zero());
    std::copy(coefficients_cyclic[c].begin(), coefficients_cyclic[c].end(), work[c].begin());
    uint32_t* v = reinterpret_cast<uint32_t*>(work[c].data());
    // Step 1: layers L-1 .. s on the cyclic index (local layer l - s).
    for (uint32_t l = L - 1; l >= s && l >= 1; --l)
      kernels::layer_forward(v, 0, M, l - s, line_slice(tree.twiddles, tree, L, l));
    // Step 2: transpose. Cyclic index j (position j S + r) goes to rank j >> (L - 2s).
    if (S > 1) {
      const size_t part = M / S;
      for (int t = 0; t < S; ++t)
        append(send[t], work[c].data() + t * part, part);
    }
  }
  if (S > 1) {
    std::vector<comm::Bytes> received = comm.all_to_all(send);
    std::vector<size_t> offset(S, 0);
    std::vector<M31> part_values;
    for (size_t c = 0; c < work.size(); ++c) {
      const size_t M = size_t{1} << (log_sizes[c] + extension - s), part = M / S;
      part_values.resize(part);
      // From sender q, its k-th value is position (r part + k) S + q = r M + k S + q.
      for (int q = 0; q < S; ++q) {
        if (received[q].size() < (offset[q] + part) * sizeof(M31))
          throw Error(ErrorCategory::Internal,
                      std::string(fn) + ": short block from rank " + std::to_string(q));
        std::memcpy(part_values.data(), received[q].data() + offset[q] * sizeof(M31),
                    part * sizeof(M31));
        offset[q] += part;
        for (size_t k = 0; k < part; ++k)
          work[c][k * S + q] = part_values[k];
      }
    }
  }
  // Steps 3-4: layers s-1 .. 0 inside the block (global position r M + i).
  for (size_t c = 0; c < work.size(); ++c) {
    const uint32_t L = log_sizes[c] + extension;
    const size_t M = size_t{1} << (L - s);
    uint32_t* v = reinterpret_cast<uint32_t*>(work[c].data());
    for (uint32_t l = std::min(s, L) - 1; l >= 1 && l < s; --l)
      kernels::layer_forward(v, 0, M, l,
                             line_slice(tree.twiddles, tree, L, l) + r * (M >> (l + 1)));
    kernels::circle_layer_forward(v, 0, M, line_slice(tree.twiddles, tree, L, 1) + r * (M >> 2));
  }
  return work;
}

} // namespace ptvm::shard
