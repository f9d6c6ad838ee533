// The sumcheck backend: the prover-side operations of the sumcheck protocols (round sums, fixing a
// variable, eq tables, restricting an M31 matrix by an eq vector), each on whole tables. The
// protocols in host/sumcheck/ are written once against it; make_cpu_sumcheck_backend() is the
// reference, the GPU one (ptvm/gpu/sumcheck_backend.hpp, host-sim or CUDA) runs the kernels of
// kernels/sumcheck/. Every backend gives byte-identical transcripts (the formulas are the PTVM_HD
// ones of mle.hpp, eq.hpp and round.hpp, and QM31 sums are exact).
//
// (Separate from ptvm::Backend, the circle STARK's column interface.)
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/threads.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"
#include "ptvm/sumcheck/round.hpp"

namespace ptvm::sumcheck {

// Tables of equal size 2^m held by a backend (host or device memory) for the rounds of one
// sumcheck. to_host() copies them out (tests look at any intermediate with it).
class SumcheckTables {
 public:
  virtual ~SumcheckTables() = default;
  virtual size_t n_tables() const = 0;
  virtual unsigned n_vars() const = 0;  // m: each table has 2^m entries
  virtual std::vector<std::vector<QM31>> to_host() const = 0;
};

// M31 values held by a backend (device memory on a GPU one) for restrictions without a host
// copy per call: a model's packed weight table, uploaded once per model (upload_matrix) and
// restricted by every proof, its matrices addressed by their offset in it.
class ResidentMatrix {
 public:
  virtual ~ResidentMatrix() = default;
  virtual size_t size() const = 0;  // M31 entries
};

class SumcheckBackend {
 public:
  virtual ~SumcheckBackend() = default;
  virtual std::string name() const = 0;
  // The host threads for the work around this backend's operations (the streamed sumcheck's
  // passes, the GKR layers built on the host): the one thread knob of a sumcheck prover. The CPU
  // backend gives its own count (make_cpu_sumcheck_backend(threads)); others PTVM_THREADS.
  virtual unsigned host_threads() const { return configured_thread_count(); }

  // Takes tables of one power-of-two size (Usage error otherwise). eq_point: z for a sum with the
  // factor eq(z, x) (z.size() == the tables' n_vars), or empty. The eq factor is not a table: the
  // backend keeps eq(z_{i+1..}, .) and the prefix prod_{j<i} eq(z_j, r_j) and takes eq(z_i, X) out
  // of each round (round.hpp's eq_round_from_quotient).
  virtual std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<QM31>> tables,
                                                      std::span<const QM31> eq_point) = 0;
  virtual std::unique_ptr<SumcheckTables> load_tables(std::span<const std::vector<M31>> tables,
                                                      std::span<const QM31> eq_point) = 0;
  // load_tables of tables the caller gives up: a host backend keeps them (no copy: the largest
  // sumchecks, LogUp-GKR's input layer, would otherwise hold them twice); the default copies.
  virtual std::unique_ptr<SumcheckTables> load_owned_tables(std::vector<std::vector<QM31>>&& tables,
                                                            std::span<const QM31> eq_point) {
    std::unique_ptr<SumcheckTables> loaded =
        load_tables(std::span<const std::vector<QM31>>(tables), eq_point);
    std::vector<std::vector<QM31>>().swap(tables);
    return loaded;
  }
  // p(0), ..., p(degree) of the round polynomial of sum_x [eq(z, x)] g(x), g of `shape`
  // (round.hpp); degree = shape.degree() + (1 with an eq point); tables.n_vars() >= 1 and
  // shape.n_factors == tables.n_tables().
  virtual std::vector<QM31> sumcheck_round(const SumcheckTables& tables, const ProductShape& shape,
                                           uint32_t degree) = 0;
  // Every table restricted to first variable = r (n_vars drops by one; the eq state follows).
  virtual void fix_first_variable(SumcheckTables& tables, QM31 r) = 0;
  // scale * eq(point, x) for x in {0,1}^n (eq.hpp's order).
  virtual std::vector<QM31> eq_table(std::span<const QM31> point, QM31 scale) = 0;
  // Restriction of a row-major rows x cols M31 matrix M by weights, one pass over M:
  //   restrict_rows:    out[k] = sum_i weights[i] * M[i][k]   (weights.size() == rows, out: cols)
  //   restrict_columns: out[k] = sum_j M[k][j] * weights[j]   (weights.size() == cols, out: rows)
  // With weights = eq(r, .) these are MLE(M)(r, .) and MLE(M)(., r) as tables.
  virtual std::vector<QM31> restrict_rows(std::span<const M31> matrix, size_t rows, size_t cols,
                                          std::span<const QM31> weights) = 0;
  virtual std::vector<QM31> restrict_columns(std::span<const M31> matrix, size_t rows, size_t cols,
                                             std::span<const QM31> weights) = 0;
  // Values kept for restrictions: the CPU backend keeps a view (`values` must outlive the handle),
  // a GPU one copies them to the device once.
  virtual std::unique_ptr<ResidentMatrix> upload_matrix(std::span<const M31> values) = 0;
  // restrict_rows / restrict_columns of the rows x cols matrix at entries [offset, offset + rows
  // cols) of resident values of this backend (a Usage error if it lies outside them or the handle
  // is another backend's).
  virtual std::vector<QM31> restrict_rows(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                          std::span<const QM31> weights) = 0;
  virtual std::vector<QM31> restrict_columns(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols,
                                             std::span<const QM31> weights) = 0;
};

// The handle's matrix of rows x cols at `offset` checked against its size (the backends' Usage
// error naming `who`).
void require_resident_range(const ResidentMatrix& values, size_t offset, size_t rows, size_t cols, const char* who);

// The CPU reference backend. threads: 0 = the library's thread count (PTVM_THREADS, else every
// core), read at each call; any count gives the same bytes (partial sums are exact field sums).
std::unique_ptr<SumcheckBackend> make_cpu_sumcheck_backend(unsigned threads = 0);
// A process-wide CPU backend for callers that pass none.
SumcheckBackend& default_sumcheck_backend();

}  // namespace ptvm::sumcheck
