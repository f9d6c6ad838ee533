// Registration of a device AIR that is neither the VM's nor an example (custom_air.hpp): unknown to
// a fresh backend (a clear error naming it), proven after registration with the CPU backend's
// bytes alone and in a group; a proof of a cheating witness is rejected, and a proof of one claim
// (offset 7) is rejected for another (offset 11).
#include <gtest/gtest.h>

#include <string>

#include "custom_air.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"
#include "ptvm/stark/prover.hpp"
#include "ptvm/stark/verifier.hpp"
#include "require_device.hpp"

namespace ptvm {
namespace {

struct Chain {
  air::Air air;
  std::vector<std::vector<std::vector<M31>>> traces;
};
Chain chain(uint32_t offset = 7) {
  testing::SquareChainAir a;
  a.offset = offset;
  Chain c;
  c.air.relations.push_back({"pair", 1});
  c.air.components.push_back(air::make_component(a));
  c.traces.push_back(a.generate_trace());
  return c;
}
const stark::Profile& profile() {
  static const stark::Profile p = stark::profile_by_name("fast-test-insecure");
  return p;
}
std::vector<uint8_t> prove_bytes(const Chain& c, Backend& backend) {
  return stark::proof_to_binary(stark::prove(c.air, {}, c.traces, profile(), backend));
}

TEST(CustomDeviceAir, UnregisteredAirIsAClearErrorNamingIt) {
  PTVM_REQUIRE_DEVICE();
  auto device = gpu::make_cuda_backend();
  const Chain c = chain();
  try {
    prove_bytes(c, *device);
    FAIL() << "an unregistered AIR was proven on the device";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("square_chain"), std::string::npos) << what;
    EXPECT_NE(what.find("register_air"), std::string::npos) << what;
  }
}

TEST(CustomDeviceAir, RegisteredAirProvesTheCpuBytesAloneAndInAGroup) {
  PTVM_REQUIRE_DEVICE();
  auto device = gpu::make_cuda_backend();
  testing::register_square_chain(*device);
  auto cpu = make_cpu_backend();
  const Chain c = chain(), other = chain(11);
  const std::vector<uint8_t> expected = prove_bytes(c, *cpu), expected_other = prove_bytes(other, *cpu);
  ASSERT_NE(expected, expected_other);  // the evaluator's field (offset) reaches the proof
  EXPECT_TRUE(prove_bytes(c, *device) == expected);
  EXPECT_TRUE(stark::verify(c.air, {}, stark::proof_from_binary(expected), profile()).accepted);
  std::vector<std::vector<uint8_t>> out(4);
  auto errors = gpu::run_group(*device, 4, [&](size_t j, Backend& backend) {
    out[j] = prove_bytes(j % 2 ? other : c, backend);
  });
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_FALSE(errors[j]) << j;
    EXPECT_TRUE(out[j] == (j % 2 ? expected_other : expected)) << "job " << j;
  }
}

TEST(CustomDeviceAir, CheatingWitnessIsRejected) {
  PTVM_REQUIRE_DEVICE();
  auto device = gpu::make_cuda_backend();
  testing::register_square_chain(*device);
  auto cpu = make_cpu_backend();
  Chain c = chain();
  c.traces[0][1][5] += M31::one();  // b != a^2 + offset at row 5
  const std::vector<uint8_t> bytes = prove_bytes(c, *device);
  EXPECT_TRUE(bytes == prove_bytes(c, *cpu));  // the device proves the same (false) statement's bytes
  const stark::Verdict v = stark::verify(c.air, {}, stark::proof_from_binary(bytes), profile());
  EXPECT_FALSE(v.accepted);
}

TEST(CustomDeviceAir, ProofOfOneClaimIsRejectedForAnother) {
  PTVM_REQUIRE_DEVICE();
  auto device = gpu::make_cuda_backend();
  testing::register_square_chain(*device);
  const Chain c = chain(7), other = chain(11);
  const stark::StarkProof proof = stark::proof_from_binary(prove_bytes(c, *device));
  EXPECT_TRUE(stark::verify(c.air, {}, proof, profile()).accepted);
  EXPECT_FALSE(stark::verify(other.air, {}, proof, profile()).accepted);  // the evaluator's offset is bound
}

}  // namespace
}  // namespace ptvm
