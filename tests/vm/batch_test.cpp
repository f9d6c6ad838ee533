#include "ptvm/vm/batch.hpp"

#include <gtest/gtest.h>

#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"

namespace ptvm::vm {
namespace {

std::vector<BatchJob> make_jobs() {
  // job i sums 1..(i % 50) from memory set by the override; every 7th job fails at runtime
  Program sum = assemble_source(
      ".memory 2\nloop: LOAD 0\nJZ done\nADDM 1\nSTORE 1\nLOAD 0\nSUB 1\nSTORE 0\nJMP loop\n"
      "done: LOAD 1\nHALT",
      "sum.tvm");
  Program bad = assemble_source("LOAD 200", "bad.tvm");
  std::vector<BatchJob> jobs;
  for (int i = 0; i < 64; ++i) {
    BatchJob job;
    if (i % 7 == 3) {
      job.program = bad;
    } else {
      job.program = sum;
      job.initial_memory = std::vector<int16_t>{static_cast<int16_t>(i % 50), 0};
    }
    job.options.max_steps = 10000;
    job.options.record_trace = (i % 2) == 0;
    if (i % 5 == 1) job.options.attention = parse_attention_mode("softmax");
    jobs.push_back(job);
  }
  return jobs;
}

TEST(Batch, ResultsInJobOrderIndependentOfThreadCount) {
  std::vector<BatchJob> jobs = make_jobs();
  std::vector<BatchResult> one = run_batch(jobs, {1});
  for (unsigned threads : {2u, 3u, 8u, 0u}) {
    SCOPED_TRACE(threads);
    std::vector<BatchResult> many = run_batch(jobs, {threads});
    ASSERT_EQ(many.size(), jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      ASSERT_EQ(many[i].ok(), one[i].ok());
      EXPECT_EQ(many[i].error, one[i].error);
      if (!many[i].ok()) continue;
      EXPECT_EQ(many[i].result->trace.final_state, one[i].result->trace.final_state);
      EXPECT_EQ(many[i].result->trace.final_memory, one[i].result->trace.final_memory);
      EXPECT_EQ(many[i].result->steps, one[i].result->steps);
      EXPECT_EQ(many[i].result->trace.rows.size(), one[i].result->trace.rows.size());
    }
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    SCOPED_TRACE(i);
    if (i % 7 == 3) {
      ASSERT_FALSE(one[i].ok());
      EXPECT_EQ(one[i].error_category, ErrorCategory::Runtime);
      EXPECT_NE(one[i].error.find("bad.tvm: runtime error at step 1"), std::string::npos);
    } else {
      ASSERT_TRUE(one[i].ok()) << one[i].error;
      if (i % 5 == 1) continue;  // soft reads change the sum
      int n = static_cast<int>(i % 50);
      EXPECT_EQ(one[i].result->trace.final_state.acc, n * (n + 1) / 2);
      EXPECT_TRUE(one[i].result->trace.final_state.halted);
      EXPECT_EQ(one[i].result->trace.final_state.sp, 2);
    }
  }
}

TEST(Batch, EmptyBatchAndOversizedMemoryOverride) {
  EXPECT_TRUE(run_batch({}, {4}).empty());
  BatchJob job;
  job.program = assemble_source("HALT", "h.tvm");
  job.initial_memory = std::vector<int16_t>(256, 0);
  std::vector<BatchResult> r = run_batch({job});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].ok());
  EXPECT_EQ(r[0].error_category, ErrorCategory::Usage);
  EXPECT_NE(r[0].error.find("256 cells"), std::string::npos);
}

}  // namespace
}  // namespace ptvm::vm
