// vmair::prove_batch: results in job order with per-job errors, proofs byte-identical to proving
// each job alone, on one rank (shared or per-worker backends) and over 2 and 4 thread ranks; a
// rank whose backend fails reports its jobs failed; the LPT assignment.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "ptvm/comm/communicator.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/profiles.hpp"

namespace {

using namespace ptvm;
using vmair::ProveJob;
using vmair::ProveJobResult;

std::string program_path(const char* name) {
  return std::string(PTVM_SOURCE_DIR) + "/programs/" + name;
}

// Good jobs of a few shapes, and bad ones of each kind: a manifest error, a runtime error, an
// unprovable max_steps, oversized initial memory.
std::vector<ProveJob> mixed_jobs() {
  std::vector<ProveJob> jobs;
  auto add = [&](const char* name, uint64_t max_steps) {
    ProveJob j;
    j.label = name;
    j.program = vm::assemble_file(program_path(name));
    j.max_steps = max_steps;
    jobs.push_back(std::move(j));
    return jobs.size() - 1;
  };
  add("fibonacci.tvm", 512);
  add("addition.tvm", 2); // stops at max_steps, not halted
  {
    ProveJob bad;
    bad.label = "missing.tvm";
    bad.error = vmair::JobError{ErrorCategory::Parse, "job 2: field 'program': cannot read"};
    jobs.push_back(bad);
  }
  const size_t m = add("multiply.tvm", 512);
  jobs[m].initial_memory = std::vector<int16_t>{3, 4, 0};
  {
    ProveJob underflow;
    underflow.label = "underflow";
    underflow.program = vm::assemble_source(".memory 1\nPUSH\nPUSH", "underflow.tvm");
    jobs.push_back(underflow);
  }
  add("bitwise.tvm", 512);
  const size_t big = add("addition.tvm", vmair::kMaxProvableSteps);
  (void)big;
  const size_t wide = add("addition.tvm", 512);
  jobs[wide].initial_memory = std::vector<int16_t>(300, 1);
  add("counter_100k.tvm", 300);
  return jobs;
}

vmair::BatchProveOptions test_options(unsigned workers) {
  vmair::BatchProveOptions o;
  o.profile = vmair::profile_by_name("fast-test-insecure");
  o.workers = workers;
  return o;
}

// What must not depend on how the batch ran: ok, the error, and the proof file's bytes.
struct Outcome {
  bool ok = false;
  ErrorCategory category = ErrorCategory::Internal;
  std::string error;
  std::vector<uint8_t> file;
  int rank = 0;
};

std::vector<Outcome> collect(const std::function<void(const vmair::ResultFn&)>& run, size_t n) {
  std::vector<Outcome> out;
  run([&](ProveJobResult&& r) {
    EXPECT_EQ(r.index, out.size()) << "results out of job order";
    Outcome o;
    o.ok = r.ok();
    o.rank = r.rank;
    if (r.ok()) {
      o.file = vmair::proof_file_binary(r.run->claim, r.run->proof);
    } else {
      o.category = r.error.category;
      o.error = r.error.message;
    }
    out.push_back(std::move(o));
  });
  EXPECT_EQ(out.size(), n);
  return out;
}

void expect_same(const std::vector<Outcome>& a, const std::vector<Outcome>& b,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ok, b[i].ok) << what << " job " << i;
    EXPECT_EQ(a[i].error, b[i].error) << what << " job " << i;
    EXPECT_TRUE(a[i].file == b[i].file) << what << " job " << i << ": proof bytes differ";
  }
}

const std::vector<Outcome>& reference() {
  static const std::vector<Outcome> ref = [] {
    const std::vector<ProveJob> jobs = mixed_jobs();
    return collect([&](const vmair::ResultFn& f) { vmair::prove_batch(jobs, test_options(1), f); },
                   jobs.size());
  }();
  return ref;
}

TEST(ProveBatch, JobOrderPerJobErrorsAndProofsAsAlone) {
  const std::vector<ProveJob> jobs = mixed_jobs();
  const std::vector<Outcome>& got = reference();
  const std::map<size_t, ErrorCategory> bad = {{2, ErrorCategory::Parse},
                                               {4, ErrorCategory::Runtime},
                                               {6, ErrorCategory::Usage},
                                               {7, ErrorCategory::Usage}};
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto it = bad.find(i);
    if (it == bad.end()) {
      ASSERT_TRUE(got[i].ok) << "job " << i << ": " << got[i].error;
      // The same bytes as prove_program of the job alone.
      vm::Program p = jobs[i].program;
      if (jobs[i].initial_memory)
        p.initial_memory = *jobs[i].initial_memory;
      vmair::ProveOptions alone;
      alone.profile = vmair::profile_by_name("fast-test-insecure");
      alone.max_steps = jobs[i].max_steps;
      const vmair::ProvedRun run = vmair::prove_program(p, alone);
      EXPECT_TRUE(got[i].file == vmair::proof_file_binary(run.claim, run.proof)) << "job " << i;
    } else {
      ASSERT_FALSE(got[i].ok) << "job " << i;
      EXPECT_EQ(got[i].category, it->second) << "job " << i << ": " << got[i].error;
      EXPECT_EQ(got[i].error.rfind("job " + std::to_string(i), 0), 0u) << got[i].error;
    }
  }
  EXPECT_NE(got[4].error.find("underflow"), std::string::npos) << got[4].error; // the label
}

TEST(ProveBatch, WorkersAndSharedBackendGiveTheSameBytes) {
  const std::vector<ProveJob> jobs = mixed_jobs();
  expect_same(
      reference(),
      collect([&](const vmair::ResultFn& f) { vmair::prove_batch(jobs, test_options(3), f); },
              jobs.size()),
      "3 workers, own backends");
  auto shared = make_cpu_backend();
  vmair::BatchProveOptions o = test_options(2);
  o.backend = shared.get();
  o.lookahead = 1;
  expect_same(
      reference(),
      collect([&](const vmair::ResultFn& f) { vmair::prove_batch(jobs, o, f); }, jobs.size()),
      "2 workers, one shared backend");
}

class DistributedBatch : public ::testing::TestWithParam<int> {};

TEST_P(DistributedBatch, ByteIdenticalToOneRank) {
  const int ranks = GetParam();
  const std::vector<ProveJob> jobs = mixed_jobs();
  std::vector<Outcome> got;
  comm::run_ranks(ranks, [&](comm::Communicator& c) {
    std::vector<Outcome> mine =
        collect([&](const vmair::ResultFn& f) { vmair::prove_batch(c, jobs, test_options(1), f); },
                c.rank() == 0 ? jobs.size() : 0);
    if (c.rank() == 0)
      got = std::move(mine);
  });
  expect_same(reference(), got, std::to_string(ranks) + " ranks");
  std::vector<int> per_rank(ranks, 0);
  for (const Outcome& o : got)
    ++per_rank[o.rank];
  for (int r = 0; r < ranks; ++r)
    EXPECT_GT(per_rank[r], 0) << "rank " << r << " got no job";
}

INSTANTIATE_TEST_SUITE_P(Ranks, DistributedBatch, ::testing::Values(2, 4));

TEST(DistributedBatchFailures, AFailedRanksJobsAreReportedNotLost) {
  const std::vector<ProveJob> jobs = mixed_jobs();
  vmair::BatchProveOptions o = test_options(1);
  o.backend_factory = [](int rank, unsigned) -> std::unique_ptr<Backend> {
    if (rank == 1)
      throw Error(ErrorCategory::Device, "device 1 is gone");
    return make_cpu_backend();
  };
  std::vector<Outcome> got;
  comm::run_ranks(2, [&](comm::Communicator& c) {
    std::vector<Outcome> mine =
        collect([&](const vmair::ResultFn& f) { vmair::prove_batch(c, jobs, o, f); },
                c.rank() == 0 ? jobs.size() : 0);
    if (c.rank() == 0)
      got = std::move(mine);
  });
  ASSERT_EQ(got.size(), jobs.size());
  int failed_on_1 = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].rank == 1) {
      ++failed_on_1;
      EXPECT_FALSE(got[i].ok);
      if (!jobs[i].error) {
        EXPECT_EQ(got[i].category, ErrorCategory::Device);
        EXPECT_NE(got[i].error.find("rank 1: no backend: device 1 is gone"), std::string::npos)
            << got[i].error;
      }
    } else {
      EXPECT_EQ(got[i].ok, reference()[i].ok) << i;
      EXPECT_TRUE(got[i].file == reference()[i].file) << i;
    }
  }
  EXPECT_GT(failed_on_1, 0);
}

TEST(ProveBatch, CallbackExceptionStopsTheBatch) {
  const std::vector<ProveJob> jobs = mixed_jobs();
  int calls = 0;
  EXPECT_THROW(vmair::prove_batch(jobs, test_options(2),
                                  [&](ProveJobResult&&) {
                                    if (++calls == 2)
                                      throw std::runtime_error("disk full");
                                  }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
}

TEST(AssignJobs, LongestProcessingTimeFirst) {
  EXPECT_EQ(vmair::assign_jobs({5, 4, 3, 3, 3}, 2), (std::vector<int>{0, 1, 1, 0, 1}));
  EXPECT_EQ(vmair::assign_jobs({1, 1, 1, 1}, 4), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(vmair::assign_jobs({}, 3), std::vector<int>{});
  EXPECT_EQ(vmair::assign_jobs({7, 7}, 1), (std::vector<int>{0, 0}));
  EXPECT_THROW(vmair::assign_jobs({1}, 0), Error);
  // Shape-aware: runs padded to the same trace size cost the same.
  const stark::Profile p = vmair::profile_by_name("default");
  EXPECT_EQ(vmair::estimated_job_cost(300, p), vmair::estimated_job_cost(500, p));
  EXPECT_LT(vmair::estimated_job_cost(1 << 12, p), vmair::estimated_job_cost((1 << 12) + 1, p));
}

TEST(BatchResultWire, RoundTripAndRejectsGarbage) {
  const std::vector<ProveJob> jobs = mixed_jobs();
  std::vector<ProveJobResult> results;
  vmair::prove_batch(std::vector<ProveJob>(jobs.begin(), jobs.begin() + 3), test_options(1),
                     [&](ProveJobResult&& r) { results.push_back(std::move(r)); });
  for (const ProveJobResult& r : results) {
    const comm::Bytes wire = vmair::serialize_result(r);
    comm::ByteReader in(wire, "test");
    const ProveJobResult back = vmair::deserialize_result(in);
    EXPECT_TRUE(in.done());
    EXPECT_EQ(back.index, r.index);
    EXPECT_EQ(back.label, r.label);
    EXPECT_EQ(back.ok(), r.ok());
    if (r.ok()) {
      EXPECT_TRUE(vmair::proof_file_binary(back.run->claim, back.run->proof) ==
                  vmair::proof_file_binary(r.run->claim, r.run->proof));
      EXPECT_EQ(back.run->prove_ms, r.run->prove_ms);
    } else {
      EXPECT_EQ(back.error.message, r.error.message);
      EXPECT_EQ(back.error.category, r.error.category);
    }
    comm::Bytes cut(wire.begin(), wire.end() - 1);
    comm::ByteReader short_in(cut, "cut");
    EXPECT_THROW(vmair::deserialize_result(short_in), Error);
  }
}

} // namespace
