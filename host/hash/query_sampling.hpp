// Query sampling shared by both Fiat-Shamir channels (PROTOCOL.md §6.7 / §14): n_queries words of
// successive draw_u32s() batches, each masked with 2^log - 1, returned sorted and deduplicated.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"

namespace ptvm::hash::detail {

template <class Channel>
std::vector<size_t> sample_queries(Channel& channel, const char* channel_name, uint32_t log_domain_size,
                                   size_t n_queries) {
  if (log_domain_size > 32) {
    throw Error(ErrorCategory::Usage, std::string(channel_name) + "::draw_queries: log domain size " +
                                          std::to_string(log_domain_size) + " above 32");
  }
  const uint32_t mask = log_domain_size == 32 ? 0xffffffffu : (uint32_t(1) << log_domain_size) - 1;
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
