// Query sampling shared by both Fiat-Shamir channels.
//   sample_queries (PROTOCOL.md §6.7 / §14, stwo's rule): n_queries words of successive
//     draw_u32s() batches, each masked with 2^log - 1, returned sorted and deduplicated, so fewer
//     than n_queries positions when two words collide.
//   sample_distinct_queries (what the STARKs use): the same words, read until n_queries positions
//     with distinct q >> distinct_shift have appeared (a word whose q >> distinct_shift was seen
//     is skipped), returned sorted. With distinct_shift 1 no two queries share a first-layer FRI
//     pair, so the conjectured security n_queries * log_blowup + pow_bits counts FRI tests that
//     are actually made.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"

namespace ptvm::hash::detail {

inline uint32_t query_mask(const char* channel_name, uint32_t log_domain_size) {
  if (log_domain_size > 32) {
    throw Error(ErrorCategory::Usage, std::string(channel_name) + "::draw_queries: log domain size " +
                                          std::to_string(log_domain_size) + " above 32");
  }
  return log_domain_size == 32 ? 0xffffffffu : (uint32_t(1) << log_domain_size) - 1;
}

template <class Channel>
std::vector<size_t> sample_distinct_queries(Channel& channel, const char* channel_name, uint32_t log_domain_size,
                                            size_t n_queries, uint32_t distinct_shift) {
  const uint32_t mask = query_mask(channel_name, log_domain_size);
  if (distinct_shift > log_domain_size || n_queries > (uint64_t{mask} >> distinct_shift) + 1) {
    throw Error(ErrorCategory::Usage, std::string(channel_name) + "::draw_distinct_queries: " +
                                          std::to_string(n_queries) + " distinct classes asked of a domain of 2^" +
                                          std::to_string(log_domain_size) + " split by " +
                                          std::to_string(distinct_shift) + " bits");
  }
  std::set<size_t> classes, positions;
  while (positions.size() < n_queries) {
    for (uint32_t w : channel.draw_u32s()) {
      if (positions.size() == n_queries) break;
      const size_t q = w & mask;
      if (classes.insert(q >> distinct_shift).second) positions.insert(q);
    }
  }
  return std::vector<size_t>(positions.begin(), positions.end());
}

template <class Channel>
std::vector<size_t> sample_queries(Channel& channel, const char* channel_name, uint32_t log_domain_size,
                                   size_t n_queries) {
  const uint32_t mask = query_mask(channel_name, log_domain_size);
  std::set<size_t> positions;
  size_t consumed = 0;
  while (consumed < n_queries) {
    for (uint32_t w : channel.draw_u32s()) {
      if (consumed == n_queries) break;
      positions.insert(w & mask);
      ++consumed;
    }
  }
  return std::vector<size_t>(positions.begin(), positions.end());
}

}  // namespace ptvm::hash::detail
