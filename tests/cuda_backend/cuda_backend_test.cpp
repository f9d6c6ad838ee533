// CUDA backend under host-sim against the CPU backend: the same AIRs proven on both give the same
// proof bytes, the verifier accepts the CUDA proof, and the dual backend names the first stage,
// column and row where an injected difference appears.
#include <gtest/gtest.h>

#include <string>

#include "../stark/stark_test_util.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/cuda_backend.hpp"
#include "require_device.hpp"

namespace ptvm {
namespace {

using stark::testing::Statement;

stark::Profile profile(const char* name) { return stark::profile_by_name(name); }

std::vector<uint8_t> prove_bytes(const Statement& s, const stark::Profile& p, Backend& backend) {
  return stark::proof_to_binary(stark::prove(s.air, s.public_inputs, s.traces, p, backend));
}

void expect_same_proof(const Statement& s, const stark::Profile& p) {
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  const stark::StarkProof cuda_proof = stark::prove(s.air, s.public_inputs, s.traces, p, *cuda);
  const std::vector<uint8_t> cuda_bytes = stark::proof_to_binary(cuda_proof);
  const std::vector<uint8_t> cpu_bytes = prove_bytes(s, p, *cpu);
  ASSERT_EQ(cpu_bytes.size(), cuda_bytes.size());
  EXPECT_TRUE(cpu_bytes == cuda_bytes) << "profile " << p.name;
  const stark::Verdict v = stark::verify(s.air, s.public_inputs, cuda_proof, p);
  EXPECT_TRUE(v.accepted) << v.reason;
}

TEST(CudaBackend, WideFibonacciProofBytesEqualCpu) {
  PTVM_REQUIRE_DEVICE();
  for (uint32_t log_rows : {4u, 6u, 8u}) expect_same_proof(stark::testing::wide_fibonacci(log_rows, 8), profile("fast-test-insecure"));
  expect_same_proof(stark::testing::wide_fibonacci(5, 5), profile("blowup4-test-insecure"));
}

TEST(CudaBackend, RangeCheckProofBytesEqualCpu) {
  PTVM_REQUIRE_DEVICE();
  expect_same_proof(stark::testing::range_check(5), profile("fast-test-insecure"));
  expect_same_proof(stark::testing::range_check(7), profile("blowup4-test-insecure"));
}

TEST(CudaBackend, MixedSizesProofBytesEqualCpu) {
  PTVM_REQUIRE_DEVICE();
  expect_same_proof(stark::testing::mixed_sizes(5), profile("fast-test-insecure"));
  expect_same_proof(stark::testing::mixed_sizes(4), profile("blowup4-test-insecure"));
}

TEST(CudaBackend, TamperedTraceGivesRejectedProofOnBoth) {
  PTVM_REQUIRE_DEVICE();
  Statement s = stark::testing::wide_fibonacci(4, 6);
  s.traces[0][3][5] = s.traces[0][3][5] + M31::one();  // breaks one constraint at row 5
  const stark::Profile p = profile("fast-test-insecure");
  auto cpu = make_cpu_backend();
  auto cuda = gpu::make_cuda_backend();
  const stark::StarkProof proof = stark::prove(s.air, s.public_inputs, s.traces, p, *cuda);
  EXPECT_EQ(stark::proof_to_binary(proof), prove_bytes(s, p, *cpu));
  EXPECT_FALSE(stark::verify(s.air, s.public_inputs, proof, p).accepted);
}

TEST(CudaBackend, RowOrderRoundTripAndColumnsStayOnDevice) {
  PTVM_REQUIRE_DEVICE();
  auto cuda = gpu::make_cuda_backend();
  auto cpu = make_cpu_backend();
  std::vector<std::vector<M31>> rows(2, std::vector<M31>(32));
  for (size_t r = 0; r < 32; ++r) {
    rows[0][r] = M31::from_u32(static_cast<uint32_t>(r * r + 7));
    rows[1][r] = M31::from_u32(static_cast<uint32_t>(1000 + 3 * r));
  }
  auto d = cuda->upload_rows(rows);
  auto h = cpu->upload_rows(rows);
  EXPECT_EQ(d.n_columns(), 2u);
  EXPECT_EQ(d.log_size(1), 5u);
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(cuda->to_host_rows(d, c), rows[c]);
    EXPECT_EQ(d.to_host(c), h.to_host(c));  // the same bit-reversed storage order
  }
  EXPECT_THROW(cuda->interpolate(h), Error);  // a CPU column set is not device-resident
}

TEST(CudaBackend, ZeroLogupDenominatorIsAnErrorNamingTheRow) {
  PTVM_REQUIRE_DEVICE();
  Statement s = stark::testing::range_check(4);
  auto cuda = gpu::make_cuda_backend();
  auto pre = cuda->upload_rows(s.air.components[0]->all_preprocessed_columns());
  auto main = cuda->upload_rows(s.traces[0]);
  // z equal to the value of column lo at row 3 (alpha = 0): that row's denominator vanishes.
  std::vector<air::RelationChallenges> ch{air::RelationChallenges::from(QM31(s.traces[0][0][3]), QM31::zero())};
  try {
    cuda->logup_interaction(*s.air.components[0], pre, main, ch);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("LogUp denominator is zero at row"), std::string::npos) << what;
  }
  auto cpu = make_cpu_backend();
  std::string cpu_what, cuda_what;
  try { cpu->logup_interaction(*s.air.components[0], cpu->upload_rows(s.air.components[0]->all_preprocessed_columns()), cpu->upload_rows(s.traces[0]), ch); } catch (const Error& e) { cpu_what = e.what(); }
  try { cuda->logup_interaction(*s.air.components[0], pre, main, ch); } catch (const Error& e) { cuda_what = e.what(); }
  EXPECT_EQ(cpu_what, cuda_what);
}

// An AIR type with no registered device kernels: a clear error, not a silent host fallback.
struct SquaresAir {
  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "squares";
    i.log_rows = 4;
    i.n_main_columns = 2;
    return i;
  }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    e.add_constraint(e.main(1, 0) - e.main(0, 0) * e.main(0, 0));
  }
};

TEST(CudaBackend, UnregisteredAirIsAnError) {
  PTVM_REQUIRE_DEVICE();
  Statement s;
  s.air.components.push_back(air::make_component(SquaresAir{}));
  std::vector<std::vector<M31>> cols(2, std::vector<M31>(16));
  for (uint32_t r = 0; r < 16; ++r) {
    cols[0][r] = M31::from_u32(r + 2);
    cols[1][r] = cols[0][r] * cols[0][r];
  }
  s.traces.push_back(cols);
  auto cuda = gpu::make_cuda_backend();
  try {
    stark::prove(s.air, s.public_inputs, s.traces, profile("fast-test-insecure"), *cuda);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("component 'squares' has an AIR type with no device kernels"), std::string::npos)
        << e.what();
  }
}

TEST(DualBackend, AgreesOnEveryStageOfTheExampleAirs) {
  PTVM_REQUIRE_DEVICE();
  auto dual = gpu::make_dual_backend();
  EXPECT_EQ(dual->name(), "dual");
  const stark::Profile p = profile("fast-test-insecure");
  const Statement s = stark::testing::mixed_sizes(4);
  auto cpu = make_cpu_backend();
  EXPECT_EQ(prove_bytes(s, p, *dual), prove_bytes(s, p, *cpu));
}

// Injects one wrong value into the CUDA side's output of the first stage whose name starts with
// `stage` and expects the dual backend to name that stage, column and row.
void expect_reported(const std::string& stage, size_t column, size_t row) {
  bool injected = false;
  gpu::DualBackendOptions options;
  options.after_cuda_stage = [&](std::string_view name, gpu::CudaBackend& cuda, ColumnSet& out) {
    if (injected || name.substr(0, stage.size()) != stage) return;
    if (out.n_columns() <= column || (size_t{1} << out.log_size(column)) <= row) return;
    injected = true;
    const M31 old = out.to_host(column).at(row);
    cuda.poke_value(out, column, row, old + M31::one());
  };
  auto dual = gpu::make_dual_backend(options);
  const Statement s = stark::testing::range_check(4);
  try {
    stark::prove(s.air, s.public_inputs, s.traces, profile("fast-test-insecure"), *dual);
    FAIL() << "expected the dual backend to report " << stage;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("stage '" + stage), std::string::npos) << what;
    EXPECT_NE(what.find("column " + std::to_string(column) + " row " + std::to_string(row) + " "), std::string::npos) << what;
  }
  EXPECT_TRUE(injected);
}

TEST(DualBackend, ReportsTheFirstDifferingStageColumnAndRow) {
  PTVM_REQUIRE_DEVICE();
  expect_reported("upload_rows", 1, 9);
  expect_reported("evaluate", 0, 17);
  expect_reported("logup_interaction", 3, 2);
  expect_reported("eval_composition", 2, 20);
  expect_reported("deep_quotients", 1, 5);
  expect_reported("fri_fold_circle", 0, 3);
}

TEST(Backends, FactoryByName) {
  PTVM_REQUIRE_DEVICE();
  EXPECT_EQ(gpu::make_backend("cpu")->name(), "cpu");
  EXPECT_EQ(gpu::make_backend("cuda")->name(), "cuda");
  EXPECT_EQ(gpu::make_backend("dual")->name(), "dual");
  EXPECT_THROW(gpu::make_backend("tpu"), Error);
}

}  // namespace
}  // namespace ptvm
