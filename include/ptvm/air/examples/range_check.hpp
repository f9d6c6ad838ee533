// Example AIR with a LogUp range check (PROTOCOL.md §12). Two components of different sizes share
// the relation "range8" (tuples of one value):
//   * RangeCheckedValues (2^log_rows rows): columns lo, hi, word with word = lo + 256 * hi; it
//     uses (+1) the tuples (lo) and (hi), so word is a 16-bit value;
//   * ByteTable (2^8 rows): a preprocessed column 0..255 and a main multiplicity column m; it
//     yields (-m) the tuple (row value).
// The LogUp sum over both components is zero iff every lo and hi is in [0, 256) and m counts them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"

namespace ptvm::air::examples {

struct RangeCheckedValues {
  uint32_t log_rows = 6;
  uint32_t relation = 0;
  std::string name = "range_checked_values";

  ComponentInfo info() const {
    ComponentInfo i;
    i.name = name;
    i.log_rows = log_rows;
    i.n_main_columns = 3;
    i.max_constraint_degree = 1;
    return i;
  }
  // What the device evaluates (trivially copyable; the name stays on the host).
  struct DeviceEval {
    uint32_t relation;
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      using F = typename E::F;
      F lo = e.main(0, 0), hi = e.main(1, 0), word = e.main(2, 0);
      e.add_constraint(word - (lo + hi * F(M31::from_u32(256))));
      e.add_fraction(relation, F(M31::one()), {lo});
      e.add_fraction(relation, F(M31::one()), {hi});
    }
  };
  DeviceEval device_eval() const { return {relation}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{relation}.evaluate(e);
  }
  // 16-bit words derived from a seed; columns lo, hi, word.
  std::vector<std::vector<M31>> generate_trace(uint32_t seed = 1) const {
    const size_t n = size_t{1} << log_rows;
    std::vector<std::vector<M31>> cols(3, std::vector<M31>(n));
    uint32_t s = seed;
    for (size_t r = 0; r < n; ++r) {
      s = s * 1103515245u + 12345u;
      uint32_t w = (s >> 8) & 0xffff;
      cols[0][r] = M31::from_u32(w & 0xff);
      cols[1][r] = M31::from_u32(w >> 8);
      cols[2][r] = M31::from_u32(w);
    }
    return cols;
  }
};

struct ByteTable {
  uint32_t relation = 0;
  std::string name = "byte_table";

  ComponentInfo info() const {
    ComponentInfo i;
    i.name = name;
    i.log_rows = 8;
    i.n_main_columns = 1;
    i.n_preprocessed_columns = 1;
    i.max_constraint_degree = 1;
    return i;
  }
  struct DeviceEval {
    uint32_t relation;
    template <class E>
    PTVM_HD void evaluate(E& e) const {
      e.add_fraction(relation, -e.main(0, 0), {e.preprocessed(0, 0)});
    }
  };
  DeviceEval device_eval() const { return {relation}; }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    DeviceEval{relation}.evaluate(e);
  }
  std::vector<std::vector<M31>> preprocessed_columns() const {
    std::vector<M31> v(256);
    for (uint32_t i = 0; i < 256; ++i) v[i] = M31::from_u32(i);
    return {v};
  }
  // Multiplicities of every byte used by the given RangeCheckedValues traces (columns lo, hi).
  static std::vector<std::vector<M31>> generate_trace(const std::vector<std::vector<std::vector<M31>>>& value_traces) {
    std::vector<uint64_t> count(256, 0);
    for (const auto& t : value_traces)
      for (size_t c = 0; c < 2; ++c)
        for (M31 v : t[c])
          if (v.v < 256) ++count[v.v];
    std::vector<M31> m(256);
    for (size_t i = 0; i < 256; ++i) m[i] = M31::from_u64(count[i]);
    return {m};
  }
};

}  // namespace ptvm::air::examples
