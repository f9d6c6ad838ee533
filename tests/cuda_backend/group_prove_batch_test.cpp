// prove_batch in lockstep groups on the device (BatchProveOptions::group = vmair::group_proving):
// the same outcome per job as the CPU batch (proof file bytes, errors), results in job order, and
// a job too large for the device's free memory fails alone with an error naming it.
#include <gtest/gtest.h>

#include <string>

#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "require_device.hpp"

namespace ptvm {
namespace {

using vmair::ProveJob;

ProveJob job(const char* name, uint64_t max_steps) {
  ProveJob j;
  j.label = name;
  j.program = vm::assemble_file(std::string(PTVM_SOURCE_DIR) + "/programs/" + name);
  j.max_steps = max_steps;
  return j;
}

std::vector<ProveJob> jobs_of_a_few_shapes() {
  std::vector<ProveJob> jobs;
  jobs.push_back(job("fibonacci.tvm", 512));
  jobs.push_back(job("addition.tvm", 2));  // stops at max_steps
  {
    ProveJob bad;
    bad.label = "missing.tvm";
    bad.error = vmair::JobError{ErrorCategory::Parse, "job 2: field 'program': cannot read"};
    jobs.push_back(bad);
  }
  jobs.push_back(job("bitwise.tvm", 512));
  {
    ProveJob underflow;
    underflow.label = "underflow";
    underflow.program = vm::assemble_source(".memory 1\nPUSH\nPUSH", "underflow.tvm");
    jobs.push_back(underflow);
  }
  jobs.push_back(job("fibonacci.tvm", 512));
  jobs.push_back(job("addition.tvm", vmair::kMaxProvableSteps));  // refused before it runs
  jobs.push_back(job("addition.tvm", 2));
  jobs.push_back(job("fibonacci.tvm", 512));
  return jobs;
}

struct Outcome {
  bool ok = false;
  std::string error;
  std::vector<uint8_t> file;
};

std::vector<Outcome> run(const std::vector<ProveJob>& jobs, const vmair::BatchProveOptions& options) {
  std::vector<Outcome> out;
  vmair::prove_batch(jobs, options, [&](vmair::ProveJobResult&& r) {
    EXPECT_EQ(r.index, out.size()) << "results out of job order";
    Outcome o;
    o.ok = r.ok();
    if (r.ok())
      o.file = vmair::proof_file_binary(r.run->claim, r.run->proof);
    else
      o.error = r.error.message;
    out.push_back(std::move(o));
  });
  EXPECT_EQ(out.size(), jobs.size());
  return out;
}

vmair::BatchProveOptions base_options() {
  vmair::BatchProveOptions o;
  o.profile = vmair::profile_by_name("fast-test-insecure");
  o.workers = 2;
  return o;
}

TEST(GroupProveBatch, SameOutcomesAsTheCpuBatchInJobOrder) {
  PTVM_REQUIRE_DEVICE();
  const std::vector<ProveJob> jobs = jobs_of_a_few_shapes();
  const std::vector<Outcome> cpu = run(jobs, base_options());
  auto device = gpu::make_cuda_backend();
  vmair::BatchProveOptions grouped = base_options();
  grouped.group = vmair::group_proving(*device, 2);  // groups of 2: several groups per shape
  const std::vector<Outcome> got = run(jobs, grouped);
  ASSERT_EQ(got.size(), cpu.size());
  size_t proven = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ok, cpu[i].ok) << "job " << i << ": " << got[i].error;
    EXPECT_EQ(got[i].error, cpu[i].error) << "job " << i;
    EXPECT_TRUE(got[i].file == cpu[i].file) << "job " << i << ": proof bytes differ";
    proven += got[i].ok;
  }
  EXPECT_GE(proven, 5u);
}

TEST(GroupProveBatch, AJobTooLargeForTheDeviceFailsAlone) {
  PTVM_REQUIRE_DEVICE();
  std::vector<ProveJob> jobs{job("addition.tvm", 2), job("counter_100k.tvm", 20000), job("addition.tvm", 2)};
  const stark::Profile p = vmair::profile_by_name("fast-test-insecure");
  const uint64_t small = vmair::estimated_job_cost(2, p), large = vmair::estimated_job_cost(20000, p);
  ASSERT_LT(small, large);
  auto device = gpu::make_cuda_backend();
  vmair::BatchProveOptions grouped = base_options();
  grouped.group = vmair::group_proving(*device);
  grouped.group->device_free_bytes = (small + large) / 2 * 10 / 8 + 10;  // 80% of it: between the two
  const std::vector<Outcome> got = run(jobs, grouped);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].ok) << got[0].error;
  EXPECT_TRUE(got[2].ok) << got[2].error;
  EXPECT_FALSE(got[1].ok);
  EXPECT_NE(got[1].error.find("job 1 (counter_100k.tvm)"), std::string::npos) << got[1].error;
  EXPECT_NE(got[1].error.find("of device memory"), std::string::npos) << got[1].error;
}

}  // namespace
}  // namespace ptvm
