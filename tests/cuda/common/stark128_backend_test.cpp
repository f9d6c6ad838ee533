// The F128 STARK's CUDA backend (ptvm/gpu/stark128_backend.hpp) against the CPU reference: every
// operation value for value, proofs byte-identical across cpu, the device backend and dual(cpu,
// cuda) over shipped programs and seed vectors at production-v1 and ptvm-96, a cheating witness
// proven on the device rejected, and the dual backend's report of a candidate that differs.
// Runs under host-sim (ptvm_hostsim_tests) and on a GPU (ptvm_gpu_tests).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "gpu_test_util.hpp"
#include "ptvm/air/examples/wide_fibonacci.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/stark128_backend.hpp"
#include "ptvm/gpu/stark128_kernels.hpp"
#include "ptvm/stark128/backend.hpp"
#include "ptvm/stark128/vm.hpp"
#include "ptvm/statement_v1/statement.hpp"
#include "ptvm/vm/assembler.hpp"
#include "../../shared_vectors.hpp"
#include "../../vm_air/vm_air_test_util.hpp"

namespace ptvm::stark128 {
namespace {

std::vector<F128> random_f128(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<F128> v(n);
  for (auto& x : v) x = F128::from_canonical_words_unchecked(rng(), rng() % F128::P_HI);
  return v;
}

std::vector<F128> column(const Columns128& c, size_t k) { return c.to_host(k); }

void expect_same(const Columns128& a, const Columns128& b, const char* what) {
  ASSERT_EQ(a.n_columns(), b.n_columns()) << what;
  for (size_t k = 0; k < a.n_columns(); ++k) EXPECT_TRUE(column(a, k) == column(b, k)) << what << " column " << k;
}

// Each operation on random inputs: the device backend's results equal the CPU's.
TEST(Stark128CudaBackend, EveryOperationMatchesTheCpuBackend) {
  PTVM_REQUIRE_DEVICE();
  auto cpu = make_cpu_backend128();
  auto gpu = gpu::make_stark128_cuda_backend();
  std::vector<std::vector<F128>> rows = {random_f128(16, 1), random_f128(64, 2), random_f128(64, 3)};
  std::vector<const std::vector<F128>*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  auto cc = cpu->interpolate_rows(ptrs), gc = gpu->interpolate_rows(ptrs);
  expect_same(*cc, *gc, "interpolate_rows");
  auto cl = cpu->extend(*cc, 8), gl = gpu->extend(*gc, 8);
  expect_same(*cl, *gl, "extend");
  // An oracle beside the CPU: position 5 of the LDE holds p(g w_256^bitrev(5)), p from the
  // coefficients (Horner on the device), and the coefficients give the rows back on <w_16>.
  {
    const F128 x = F128::generator() * F128::primitive_root_of_unity(8).pow(160);  // bitrev_8(5) = 160
    const std::vector<PointRequest128> at = {{1, x}, {0, F128::primitive_root_of_unity(4).pow(3)}};
    const std::vector<F128> got = gpu->evaluate_at_points(*gc, at);
    EXPECT_EQ(got[0], column(*gl, 1)[5]);
    EXPECT_EQ(got[1], rows[0][3]);
  }
  auto ct = cpu->commit({cl.get()}), gt = gpu->commit({gl.get()});
  EXPECT_EQ(ct->root(), gt->root());
  const std::vector<size_t> positions = {0, 1, 6, 7, 100, 101, 254, 255};
  EXPECT_EQ(ct->open(positions), gt->open(positions));
  const std::vector<PointRequest128> req = {{0, F128::from_u64(5)}, {1, random_f128(1, 9)[0]}, {2, F128::zero()}};
  const std::vector<F128> cv = cpu->evaluate_at_points(*cc, req), gv = gpu->evaluate_at_points(*gc, req);
  EXPECT_EQ(cv, gv);
  EXPECT_EQ(cv[2], column(*cc, 2)[0]);  // p(0) = the constant coefficient
  const std::vector<F128> pts = {random_f128(1, 11)[0], random_f128(1, 12)[0]};
  std::vector<DeepSample128> cs, gs;
  for (size_t k = 0; k < 3; ++k) {
    const F128 w = random_f128(1, 20 + k)[0], v = random_f128(1, 30 + k)[0];
    cs.push_back({cl.get(), k, static_cast<uint32_t>(k % 2), w, v});
    gs.push_back({gl.get(), k, static_cast<uint32_t>(k % 2), w, v});
  }
  auto cd = cpu->deep_quotient(8, pts, cs), gd = gpu->deep_quotient(8, pts, gs);
  expect_same(*cd, *gd, "deep_quotient");
  const F128 beta = random_f128(1, 40)[0];
  auto cf = cpu->fri_fold(*cd, F128::generator(), beta), gf = gpu->fri_fold(*gd, F128::generator(), beta);
  expect_same(*cf, *gf, "fri_fold");
  EXPECT_EQ(cf->length(0), 128u);
  auto cp = cpu->composition_parts(*cd, 6), gp = gpu->composition_parts(*gd, 6);
  expect_same(*cp, *gp, "composition_parts");
  Hash digest;
  for (int i = 0; i < 32; ++i) digest.bytes[i] = static_cast<uint8_t>(7 * i + 1);
  for (uint32_t bits : {0u, 1u, 9u}) EXPECT_EQ(cpu->grind(digest, bits), gpu->grind(digest, bits)) << bits;
}

// Shipped programs and seed vectors; without PTVM_STATEMENT_V1_ALL three shipped programs and two
// seed vectors (host-sim runs a proof in about two seconds).
std::vector<std::filesystem::path> programs(bool all) {
  std::vector<std::filesystem::path> shipped, vectors;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PTVM_SOURCE_DIR) + "/programs")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".tvm" || name.find("100k") != std::string::npos) continue;
    if (all || name == "fibonacci.tvm" || name == "bitwise.tvm" || name == "stack_calls.tvm") shipped.push_back(e.path());
  }
  if (ptvm::testing::shared_vectors_present())
    for (const auto& e : std::filesystem::directory_iterator(ptvm::testing::shared_vectors_dir()))
      if (e.path().extension() == ".tvm") vectors.push_back(e.path());
  std::sort(shipped.begin(), shipped.end());
  std::sort(vectors.begin(), vectors.end());
  if (!all && vectors.size() > 2) vectors.resize(2);
  shipped.insert(shipped.end(), vectors.begin(), vectors.end());
  return shipped;
}

// cpu, the device backend and dual(cpu, device): the same proof bytes; the proof verifies. Every
// listed program at production-v1 on the device; fibonacci also at ptvm-96 and through dual (with
// PTVM_STATEMENT_V1_ALL=1: every program at both profiles and through dual).
TEST(Stark128CudaBackend, ProofsAreByteIdenticalAcrossCpuDeviceAndDual) {
  PTVM_REQUIRE_DEVICE();
  const bool all = std::getenv("PTVM_STATEMENT_V1_ALL") != nullptr;
  size_t proved = 0;
  for (const auto& path : programs(all)) {
    const std::string name = path.filename().string();
    const bool shipped_fibonacci = path.parent_path().filename() == "programs" && name == "fibonacci.tvm";
    SCOPED_TRACE(path.string());
    const vm::Program program = vm::assemble_file(path.string());
    for (const char* profile : {"production-v1", "ptvm-96"}) {
      if (std::string(profile) == "ptvm-96" && !all && !shipped_fibonacci) continue;
      statement_v1::ProveOptions o;
      o.options = profile_by_name(profile);
      o.max_steps = 256;
      const statement_v1::ProvedRun ref = statement_v1::prove_program(program, o);
      const std::vector<uint8_t> bytes = proof_to_binary(ref.proof);
      for (const char* backend : {"cuda", "dual"}) {
        if (std::string(backend) == "dual" && !all && !shipped_fibonacci) continue;
        auto b = gpu::make_stark128_backend(backend);
        o.backend = b.get();
        const statement_v1::ProvedRun run = statement_v1::prove_program(program, o);
        EXPECT_TRUE(proof_to_binary(run.proof) == bytes) << profile << " " << backend << ": the proof bytes differ";
        EXPECT_EQ(statement_v1::claim_to_json(run.claim), statement_v1::claim_to_json(ref.claim));
        ++proved;
      }
      statement_v1::VerifyOptions v;
      v.min_security_bits = std::string(profile) == "ptvm-96" ? 96 : 32;
      const statement_v1::Report r = statement_v1::verify(ref.claim, ref.proof, v);
      EXPECT_TRUE(r.accepted) << profile << ": " << r.reason;
    }
  }
  EXPECT_GE(proved, ptvm::testing::shared_vectors_present() ? 8u : 6u);
}

// A cheating witness (an ADD whose result is off by one, the claim restated to match) proven on the
// device: the device prover yields a proof (it does not check the witness), the verifier rejects it,
// and it is the CPU's proof of the same witness byte for byte.
TEST(Stark128CudaBackend, CheatingWitnessProvenOnTheDeviceIsRejected) {
  PTVM_REQUIRE_DEVICE();
  vm::ExecutionTrace trace = vmair::testing::run_source("LOADI 7\nADD 5\nHALT\n", 2);
  trace.rows.back().after.acc = 13;
  trace.rows.back().after.zero_flag = false;
  trace.final_state = trace.rows.back().after;
  const vmair::VmStatement s = vmair::statement_from_trace(trace);
  const Air128 air = build_vm_air(s);
  const auto digest = vmair::testing::test_digest();
  const std::vector<F128> pub = vm_public_inputs(s, digest);
  const Options o = profile_by_name("production-v1");
  auto device = gpu::make_stark128_cuda_backend();
  const Proof p = prove(air, vm_witness(s, trace), pub, o, nullptr, device.get());
  const Verdict v = verify(air, pub, o, p);
  EXPECT_FALSE(v.accepted) << "a cheating trace proven on the device was accepted";
  EXPECT_EQ(proof_to_binary(p), proof_to_binary(prove(air, vm_witness(s, trace), pub, o)));
}

// A generic AIR (wide Fibonacci: two components of different sizes, boundary constraints, no LogUp)
// proven on the device: the CPU's proof; a wrong public input is rejected. An AIR type without
// device kernels is a Usage error naming its component.
std::vector<std::vector<F128>> wide_fibonacci_rows(uint32_t log_rows, uint32_t width, F128 a0, F128 b0) {
  std::vector<std::vector<F128>> cols(width, std::vector<F128>(size_t{1} << log_rows));
  for (size_t r = 0; r < cols[0].size(); ++r) {
    F128 a = r == 0 ? a0 : F128::from_u64(r + 3), b = r == 0 ? b0 : F128::from_u64(2 * r + 1);
    cols[0][r] = a;
    cols[1][r] = b;
    for (uint32_t k = 2; k < width; ++k) {
      const F128 c = a * a + b * b;
      cols[k][r] = c;
      a = b;
      b = c;
    }
  }
  return cols;
}

struct UnregisteredAir {
  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "unregistered";
    i.log_rows = 2;
    i.n_main_columns = 1;
    i.max_constraint_degree = 1;
    return i;
  }
  template <class E>
  PTVM_HD void evaluate(E& e) const {
    e.add_constraint(e.main(0, 0));
  }
};

TEST(Stark128CudaBackend, GenericAirAndAnUnknownAirType) {
  PTVM_REQUIRE_DEVICE();
  air::examples::WideFibonacci small{3, 6, true, 0, "small"}, big{5, 9, true, 2, "big"};
  Air128 a;
  a.components = {make_component128(small), make_component128(big)};
  a.n_public_inputs = 4;
  const std::vector<F128> pub = {F128::from_u64(5), F128::from_u64(7), F128::from_u64(11), F128::from_u64(13)};
  const Witness w = {wide_fibonacci_rows(3, 6, pub[0], pub[1]), wide_fibonacci_rows(5, 9, pub[2], pub[3])};
  const Options o = profile_by_name("heavier");
  auto device = gpu::make_stark128_cuda_backend();
  const Proof p = prove(a, w, pub, o, nullptr, device.get());
  EXPECT_TRUE(verify(a, pub, o, p).accepted);
  EXPECT_EQ(proof_to_binary(p), proof_to_binary(prove(a, w, pub, o)));
  std::vector<F128> wrong = pub;
  wrong[3] += F128::one();
  EXPECT_FALSE(verify(a, wrong, o, p).accepted);

  Air128 u;
  u.components = {make_component128(UnregisteredAir{})};
  const Witness uw = {{std::vector<F128>(4, F128::zero())}};
  try {
    prove(u, uw, {}, o, nullptr, device.get());
    FAIL() << "an AIR type without device kernels was proven";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Usage);
    EXPECT_NE(std::string(e.what()).find("'unregistered'"), std::string::npos) << e.what();
  }
}

// A candidate backend that returns one wrong value from one operation.
class OffByOneFold final : public Backend128 {
 public:
  explicit OffByOneFold(std::unique_ptr<Backend128> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return "corrupt"; }
  std::unique_ptr<Columns128> interpolate_rows(const std::vector<const std::vector<F128>*>& r) override {
    return inner_->interpolate_rows(r);
  }
  std::unique_ptr<Columns128> extend(const Columns128& c, uint32_t l) override { return inner_->extend(c, l); }
  std::vector<F128> evaluate_at_points(const Columns128& c, std::span<const PointRequest128> r) override {
    return inner_->evaluate_at_points(c, r);
  }
  std::unique_ptr<Tree128> commit(const std::vector<const Columns128*>& s) override { return inner_->commit(s); }
  std::unique_ptr<Columns128> composition(const Air128& a, const CompositionInputs128& i) override {
    return inner_->composition(a, i);
  }
  std::unique_ptr<Columns128> composition_parts(const Columns128& h, uint32_t l) override {
    return inner_->composition_parts(h, l);
  }
  std::unique_ptr<Columns128> deep_quotient(uint32_t l, std::span<const F128> p, std::span<const DeepSample128> s) override {
    return inner_->deep_quotient(l, p, s);
  }
  std::unique_ptr<Columns128> fri_fold(const Columns128& layer, F128 offset, F128 beta) override {
    // Every fold's value at position 3 plus one (the dual backend stops at the first).
    std::vector<F128> v = inner_->fri_fold(layer, offset, beta)->to_host(0);
    v.at(3) += F128::one();
    return std::make_unique<HostColumn>(std::move(v));
  }
  uint64_t grind(const Hash& d, uint32_t b) override { return inner_->grind(d, b); }

 private:
  struct HostColumn final : Columns128 {
    explicit HostColumn(std::vector<F128> v) : values(std::move(v)) {}
    size_t n_columns() const override { return 1; }
    size_t length(size_t) const override { return values.size(); }
    std::vector<F128> to_host(size_t) const override { return values; }
    std::vector<F128> values;
  };
  std::unique_ptr<Backend128> inner_;
};

TEST(Stark128DualBackend, ReportsTheFirstOperationThatDiffers) {
  PTVM_REQUIRE_DEVICE();
  vm::ExecutionTrace trace = vmair::testing::run_source("LOADI 7\nADD 5\nHALT\n", 2);
  const vmair::VmStatement s = vmair::statement_from_trace(trace);
  const Air128 air = build_vm_air(s);
  const std::vector<F128> pub = vm_public_inputs(s, vmair::testing::test_digest());
  const Options o = profile_by_name("production-v1");
  auto dual = make_dual_backend128(make_cpu_backend128(), std::make_unique<OffByOneFold>(make_cpu_backend128()));
  EXPECT_EQ(dual->name(), "dual(cpu,corrupt)");
  try {
    prove(air, vm_witness(s, trace), pub, o, nullptr, dual.get());
    FAIL() << "the dual backend accepted a candidate that differs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fri_fold"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("position 3"), std::string::npos) << e.what();
  }
  // dual(cpu, cuda) is silent and gives the CPU's proof.
  auto good = gpu::make_stark128_backend("dual");
  EXPECT_EQ(proof_to_binary(prove(air, vm_witness(s, trace), pub, o, nullptr, good.get())),
            proof_to_binary(prove(air, vm_witness(s, trace), pub, o)));
  EXPECT_THROW(gpu::make_stark128_backend("tpu"), Error);
}

}  // namespace
}  // namespace ptvm::stark128
