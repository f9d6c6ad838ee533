// The decommitment walk of PROTOCOL.md §9.4, written once for every Merkle tree of ptvm (BLAKE2s
// over M31, BLAKE2b-256 over any field): the prover's opening and the verifier's replay, generic
// over the hash and value types. Host only.
//
// The prover walks the layers from the largest to the smallest; in each layer it handles nodes in
// increasing index order; a node is handled if it is queried at this size or is the parent of a
// node handled in the layer below. For each handled node it appends the child hashes the verifier
// cannot derive to hash_witness, and the node's column values to queried_values if the node is
// queried at this size, else to column_witness.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ptvm/common/parallel.hpp"

namespace ptvm::hash {

// log size -> positions queried in the columns of that size: strictly increasing, < 2^log.
using QueriesPerLogSize = std::map<uint32_t, std::vector<size_t>>;

namespace detail {

inline std::string merkle_position_text(uint32_t log_size, size_t position) {
  return "log size " + std::to_string(log_size) + ", position " + std::to_string(position);
}

// Checks a query map against the number of columns of each log size; the reason if malformed.
inline std::optional<std::string> check_merkle_queries(
    const QueriesPerLogSize& queries, const std::vector<size_t>& n_columns_per_log_size) {
  for (const auto& [log_size, positions] : queries) {
    if (positions.empty()) continue;
    if (log_size >= n_columns_per_log_size.size() || n_columns_per_log_size[log_size] == 0) {
      return "queries at log size " + std::to_string(log_size) + ", which has no columns";
    }
    for (size_t i = 0; i < positions.size(); ++i) {
      if (positions[i] >> log_size != 0) {
        return "query out of range at " + merkle_position_text(log_size, positions[i]);
      }
      if (i > 0 && positions[i] <= positions[i - 1]) {
        return "queries not strictly increasing at " + merkle_position_text(log_size, positions[i]);
      }
    }
  }
  return std::nullopt;
}

inline const std::vector<size_t>& merkle_queries_at(const QueriesPerLogSize& queries,
                                                    uint32_t log_size) {
  static const std::vector<size_t> kNone;
  auto it = queries.find(log_size);
  return it == queries.end() ? kNone : it->second;
}

// Prover side. Queries must already be checked. node_at(layer_log_size, index) -> Hash;
// value_at(column, index) -> Value; columns_by_log_size[k]: the column ids of length 2^k.
template <class Hash, class Value, class NodeAt, class ValueAt>
void merkle_decommit_walk(uint32_t max_log_size, const QueriesPerLogSize& queries,
                          const std::vector<std::vector<size_t>>& columns_by_log_size,
                          NodeAt node_at, ValueAt value_at, std::vector<Value>& queried_values,
                          std::vector<Hash>& hash_witness, std::vector<Value>& column_witness) {
  // `previous`: the nodes handled in the layer below (sorted), whose parents are handled here.
  std::vector<size_t> previous, current;
  for (int64_t k = max_log_size; k >= 0; --k) {
    const uint32_t log_size = static_cast<uint32_t>(k);
    const std::vector<size_t>& column_queries = merkle_queries_at(queries, log_size);
    const bool has_children = log_size < max_log_size;
    current.clear();
    size_t p = 0, q = 0;
    while (p < previous.size() || q < column_queries.size()) {
      size_t node_index = SIZE_MAX;
      if (p < previous.size()) node_index = previous[p] / 2;
      if (q < column_queries.size()) node_index = std::min(node_index, column_queries[q]);
      if (has_children) {
        // A child handled in the layer below is recomputed by the verifier; the other is sent.
        for (size_t child = 2 * node_index; child <= 2 * node_index + 1; ++child) {
          if (p < previous.size() && previous[p] == child) {
            ++p;
          } else {
            hash_witness.push_back(node_at(log_size + 1, child));
          }
        }
      }
      const bool queried = q < column_queries.size() && column_queries[q] == node_index;
      if (queried) ++q;
      std::vector<Value>& sink = queried ? queried_values : column_witness;
      for (size_t c : columns_by_log_size[log_size]) sink.push_back(value_at(c, node_index));
      current.push_back(node_index);
    }
    std::swap(previous, current);
  }
}

// Verifier side: replays the walk, recomputing the root. Never throws on malformed input.
// hash_node(const std::optional<std::pair<Hash, Hash>>& children, std::span<const Value> values)
// -> Hash. empty_root: the root of a tree without columns. Reasons start with `label`.
template <class Hash, class Value, class HashNode>
std::optional<std::string> merkle_verify_walk(const std::string& label, const Hash& root,
                                              const std::vector<uint32_t>& column_log_sizes,
                                              uint32_t max_allowed_log_size,
                                              const QueriesPerLogSize& queries,
                                              std::span<const Value> queried_values,
                                              std::span<const Hash> hash_witness,
                                              std::span<const Value> column_witness,
                                              HashNode hash_node, const Hash& empty_root) {
  uint32_t max_log_size = 0;
  for (uint32_t log_size : column_log_sizes) {
    if (log_size > max_allowed_log_size) {
      return label + ": column log size " + std::to_string(log_size) + " above the maximum " +
             std::to_string(max_allowed_log_size);
    }
    max_log_size = std::max(max_log_size, log_size);
  }
  std::vector<size_t> n_columns_per_log_size;
  if (!column_log_sizes.empty()) n_columns_per_log_size.resize(max_log_size + 1);
  for (uint32_t log_size : column_log_sizes) ++n_columns_per_log_size[log_size];
  if (auto reason = check_merkle_queries(queries, n_columns_per_log_size)) {
    return label + ": " + *reason;
  }

  if (column_log_sizes.empty()) {
    // The empty tree opens nothing.
    if (!queried_values.empty()) return label + ": queried values given for an empty tree";
    if (!hash_witness.empty() || !column_witness.empty()) {
      return label + ": witness given for an empty tree";
    }
    if (empty_root != root) return label + ": root mismatch (empty tree)";
    return std::nullopt;
  }

  size_t next_value = 0, next_hash_witness = 0, next_column_witness = 0;
  std::vector<std::pair<size_t, Hash>> previous, current;
  std::vector<Value> node_values;
  for (int64_t k = max_log_size; k >= 0; --k) {
    const uint32_t log_size = static_cast<uint32_t>(k);
    const size_t n_columns = n_columns_per_log_size[log_size];
    const std::vector<size_t>& column_queries = merkle_queries_at(queries, log_size);
    const bool has_children = log_size < max_log_size;
    current.clear();
    size_t p = 0, q = 0;
    while (p < previous.size() || q < column_queries.size()) {
      size_t node_index = SIZE_MAX;
      if (p < previous.size()) node_index = previous[p].first / 2;
      if (q < column_queries.size()) node_index = std::min(node_index, column_queries[q]);
      std::optional<std::pair<Hash, Hash>> children;
      if (has_children) {
        Hash child_hashes[2];
        for (size_t side = 0; side < 2; ++side) {
          const size_t child = 2 * node_index + side;
          if (p < previous.size() && previous[p].first == child) {
            child_hashes[side] = previous[p++].second;
          } else if (next_hash_witness < hash_witness.size()) {
            child_hashes[side] = hash_witness[next_hash_witness++];
          } else {
            return label + ": hash witness too short at " + merkle_position_text(log_size + 1, child);
          }
        }
        children.emplace(child_hashes[0], child_hashes[1]);
      }
      const bool queried = q < column_queries.size() && column_queries[q] == node_index;
      if (queried) ++q;
      std::span<const Value> source = queried ? queried_values : column_witness;
      size_t& next = queried ? next_value : next_column_witness;
      if (source.size() - next < n_columns) {
        return label + ": " + (queried ? "queried values" : "column witness") + " too short at " +
               merkle_position_text(log_size, node_index);
      }
      node_values.assign(source.begin() + next, source.begin() + next + n_columns);
      next += n_columns;
      current.emplace_back(node_index, hash_node(children, std::span<const Value>(node_values)));
    }
    std::swap(previous, current);
  }
  if (next_hash_witness != hash_witness.size()) {
    return label + ": hash witness too long (" + std::to_string(hash_witness.size()) +
           " entries, " + std::to_string(next_hash_witness) + " used)";
  }
  if (next_value != queried_values.size()) {
    return label + ": too many queried values (" + std::to_string(queried_values.size()) +
           " given, " + std::to_string(next_value) + " used)";
  }
  if (next_column_witness != column_witness.size()) {
    return label + ": column witness too long (" + std::to_string(column_witness.size()) +
           " entries, " + std::to_string(next_column_witness) + " used)";
  }
  if (previous.empty()) return label + ": no queries";
  // Checked queries keep every index below 2^k, so layer 0 holds exactly node 0 here.
  if (previous.size() != 1 || previous[0].first != 0) return label + ": malformed walk";
  if (previous[0].second != root) return label + ": root mismatch";
  return std::nullopt;
}

}  // namespace detail
}  // namespace ptvm::hash
