// make_dual_backend(reference, candidate) with any two backends: dual(cpu, cpu) proves the CPU
// proof bytes, and against a wrapper backend that corrupts exactly one value of one operation it
// reports that operation, column and row (or the differing scalar), naming both backends.
#include <gtest/gtest.h>

#include <string>

#include "../stark/stark_test_util.hpp"
#include "corrupting_backend.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/cuda_backend.hpp"

namespace ptvm {
namespace {

using stark::testing::Statement;

std::vector<uint8_t> prove_bytes(const Statement& s, Backend& backend) {
  return stark::proof_to_binary(
      stark::prove(s.air, s.public_inputs, s.traces, stark::profile_by_name("fast-test-insecure"), backend));
}

using backend_testing::CorruptingBackend;

TEST(DualBackendOfAnyTwo, CpuAgainstCpuProvesTheCpuProofBytes) {
  auto dual = gpu::make_dual_backend(make_cpu_backend(), make_cpu_backend());
  EXPECT_EQ(dual->name(), "dual");
  auto cpu = make_cpu_backend();
  for (const Statement& s : {stark::testing::mixed_sizes(4), stark::testing::wide_fibonacci(5, 6)})
    EXPECT_EQ(prove_bytes(s, *dual), prove_bytes(s, *cpu));
  // The two sides are told apart in reports although both are "cpu".
  EXPECT_NO_THROW(gpu::make_dual_backend(make_cpu_backend(), make_cpu_backend())->grind(hash::Blake2sChannel{}, 3));
}

TEST(DualBackendOfAnyTwo, NeedsTwoBackends) {
  EXPECT_THROW(gpu::make_dual_backend(make_cpu_backend(), nullptr), Error);
}

// Proves range_check(4) on dual(cpu, corrupt) and expects a report containing every fragment.
void expect_report(const std::string& op, size_t column, size_t row, const std::vector<std::string>& fragments, int nth = 0) {
  SCOPED_TRACE("corrupted operation " + op + " (call " + std::to_string(nth) + "), column " + std::to_string(column) +
               ", row " + std::to_string(row));
  auto corrupt = std::make_unique<CorruptingBackend>(op, column, row, nth);
  CorruptingBackend* c = corrupt.get();
  auto dual = gpu::make_dual_backend(make_cpu_backend(), std::move(corrupt));
  const Statement s = stark::testing::range_check(4);
  try {
    prove_bytes(s, *dual);
    FAIL() << "expected the dual backend to report " << op;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.category(), ErrorCategory::Internal) << what;
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "no '" << f << "' in: " << what;
  }
  EXPECT_TRUE(c->corrupted());
}

std::string cell(size_t column, size_t row) {
  return "column " + std::to_string(column) + " row " + std::to_string(row) + " (bit-reversed position): cpu ";
}

TEST(DualBackendOfAnyTwo, ReportsTheFirstDifferingStageColumnAndRow) {
  expect_report("upload_rows", 1, 9, {"stage 'upload_rows'", cell(1, 9), ", corrupt "});
  expect_report("interpolate", 2, 0, {"stage 'interpolate'", cell(2, 0)});
  expect_report("evaluate", 0, 17, {"stage 'evaluate'", cell(0, 17)});
  expect_report("evaluate", 0, 3, {"stage 'evaluate'", cell(0, 3)}, 1);  // a later call of the same stage
  expect_report("logup_interaction", 3, 2, {"stage 'logup_interaction (component 'range_checked_values')'", cell(3, 2)});
  expect_report("logup_claimed_sum", 0, 0, {"stage 'logup_interaction", "claimed sums differ: cpu ("});
  expect_report("eval_composition", 2, 20, {"stage 'eval_composition", cell(2, 20)});
  expect_report("add_assign", 1, 6, {"stage 'add_assign'", cell(1, 6)});
  expect_report("coefficient_slice", 3, 1, {"stage 'coefficient_slice'", cell(3, 1)});
  expect_report("deep_quotients", 1, 5, {"stage 'deep_quotients (log size", cell(1, 5)});
  expect_report("fri_fold_circle", 0, 3, {"stage 'fri_fold_circle'", cell(0, 3)});
  expect_report("fri_fold_line", 2, 1, {"stage 'fri_fold_line'", cell(2, 1)});
  expect_report("evaluate_at_points", 0, 4, {"stage 'evaluate_at_points'", "(request 4): cpu (", ", corrupt ("});
  expect_report("commit", 0, 0, {"stage 'commit'", "Merkle roots differ: cpu "});
  expect_report("open", 0, 0, {"stage 'commit open'", "queried value 2 differs: cpu "});
  expect_report("grind", 0, 0, {"stage 'grind'", "nonces differ: cpu "});
}

TEST(DualBackendOfAnyTwo, SameKindOfBackendIsLabelledReferenceAndCandidate) {
  // dual(dual(cpu, corrupt), cpu) would hide the names; dual(cpu, cpu) with a mismatch cannot
  // happen, so check the labels on a corrupt candidate named like the reference instead.
  class Renamed final : public Backend {
   public:
    explicit Renamed(std::unique_ptr<Backend> b) : b_(std::move(b)) {}
    std::string name() const override { return "cpu"; }
    Evaluations upload_rows(const std::vector<std::vector<M31>>& r) override { return b_->upload_rows(r); }
    std::vector<M31> to_host_rows(const Evaluations& s, size_t c) override { return b_->to_host_rows(s, c); }
    Coefficients interpolate(const Evaluations& e) override { return b_->interpolate(e); }
    Evaluations evaluate(const Coefficients& c, uint32_t x) override { return b_->evaluate(c, x); }
    std::vector<QM31> evaluate_at_points(const Coefficients& c, std::span<const PointEvaluationRequest> r) override {
      return b_->evaluate_at_points(c, r);
    }
    std::unique_ptr<CommittedTree> commit(const std::vector<EvaluationsRef>& s) override { return b_->commit(s); }
    Interaction logup_interaction(const air::Component& k, const Evaluations& p, const Evaluations& m,
                                  std::span<const air::RelationChallenges> ch) override {
      return b_->logup_interaction(k, p, m, ch);
    }
    SecureEvaluations eval_composition(const air::Component& k, const CompositionInputs& in) override {
      return b_->eval_composition(k, in);
    }
    void add_assign(SecureEvaluations& d, const SecureEvaluations& s) override { b_->add_assign(d, s); }
    Coefficients slice(const Coefficients& s, size_t f, size_t n) override { return b_->slice(s, f, n); }
    Coefficients coefficient_slice(const Coefficients& c, size_t b, uint32_t l) override {
      return b_->coefficient_slice(c, b, l);
    }
    SecureEvaluations deep_quotients(uint32_t l, const std::vector<DeepQuotientBatch>& b) override {
      return b_->deep_quotients(l, b);
    }
    LineEvaluations fri_fold_circle(const SecureEvaluations& c, const QM31& a, const LineEvaluations* acc) override {
      return b_->fri_fold_circle(c, a, acc);
    }
    LineEvaluations fri_fold_line(const LineEvaluations& l, const circle::LineDomain& d, const QM31& a) override {
      return b_->fri_fold_line(l, d, a);
    }
    uint64_t grind(const hash::Blake2sChannel& ch, uint32_t bits) override { return b_->grind(ch, bits); }

   private:
    std::unique_ptr<Backend> b_;
  };
  auto dual = gpu::make_dual_backend(make_cpu_backend(),
                                     std::make_unique<Renamed>(std::make_unique<CorruptingBackend>("grind", 0, 0)));
  try {
    dual->grind(hash::Blake2sChannel{}, 4);
    FAIL() << "expected a report";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nonces differ: cpu (reference) "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(", cpu (candidate) "), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ptvm
