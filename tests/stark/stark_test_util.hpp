// Shared fixtures of the stark tests: the example AIRs assembled into proofs.
#pragma once
#include <memory>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/air/examples/range_check.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"

namespace ptvm::stark::testing {

struct Statement {
  air::Air air;
  std::vector<M31> public_inputs;
  std::vector<std::vector<std::vector<M31>>> traces;
};

// Wide Fibonacci, row 0 bound to public inputs (1, 1).
inline Statement wide_fibonacci(uint32_t log_rows, uint32_t n_columns, bool bind = true) {
  air::examples::WideFibonacci fib{log_rows, n_columns, bind};
  Statement s;
  s.air.components.push_back(air::make_component(fib));
  s.air.n_public_inputs = bind ? 2 : 0;
  if (bind) s.public_inputs = {M31::one(), M31::one()};
  s.traces.push_back(fib.generate_trace());
  return s;
}

// Range-checked 16-bit words (2^log_rows rows) and the byte table (2^8 rows).
inline Statement range_check(uint32_t log_rows) {
  air::examples::RangeCheckedValues values{log_rows};
  air::examples::ByteTable table;
  Statement s;
  s.air.relations.push_back({"range8", 1});
  s.air.components.push_back(air::make_component(values));
  s.air.components.push_back(air::make_component(table));
  s.traces.push_back(values.generate_trace(7));
  s.traces.push_back(air::examples::ByteTable::generate_trace({s.traces[0]}));
  return s;
}

// Mixed sizes: two wide Fibonacci components of different sizes and widths, and two range-checked
// value components of two more sizes feeding one byte table.
inline Statement mixed_sizes(uint32_t log_rows) {
  air::examples::WideFibonacci big{log_rows, 8, true, 0, "fib_big"};
  air::examples::WideFibonacci small{log_rows - 2, 5, true, 2, "fib_small"};
  air::examples::RangeCheckedValues v1{log_rows - 1, 0, "values_a"};
  air::examples::RangeCheckedValues v2{log_rows + 1, 0, "values_b"};
  air::examples::ByteTable table;
  Statement s;
  s.air.relations.push_back({"range8", 1});
  s.air.n_public_inputs = 4;
  s.public_inputs = {M31::one(), M31::one(), M31::from_u32(5), M31::from_u32(9)};
  for (auto c : {air::make_component(big), air::make_component(small), air::make_component(v1),
                 air::make_component(v2), air::make_component(table)})
    s.air.components.push_back(c);
  s.traces.push_back(big.generate_trace());
  s.traces.push_back(small.generate_trace(M31::from_u32(5), M31::from_u32(9)));
  s.traces.push_back(v1.generate_trace(3));
  s.traces.push_back(v2.generate_trace(4));
  s.traces.push_back(air::examples::ByteTable::generate_trace({s.traces[2], s.traces[3]}));
  return s;
}

inline StarkProof prove_cpu(const Statement& s, const Profile& p) {
  auto backend = make_cpu_backend();
  return prove(s.air, s.public_inputs, s.traces, p, *backend);
}

}  // namespace ptvm::stark::testing
