// tvm prove-batch MANIFEST --out DIR --aggregate (one proof for every job, ptvm/vmair/aggregate.hpp)
// and tvm verify of aggregate files. prove_command.cpp parses the options and calls these.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/prove.hpp"

namespace tvm_cli {

struct AggregateBatch {
  std::string manifest;  // as given (for the summary)
  std::string out;       // the output folder, prepared
  bool binary = false;   // --proof-format binary
  std::optional<ptvm::stark::Profile> profile;  // nullopt: automatic for the longest run
  ptvm::Backend* backend = nullptr;
  std::string backend_name;
  unsigned threads = 1;  // host threads recording the runs
  bool json = false;
  bool progress = false;
};
// Records every job's run (transformer and native in lockstep), proves the ones that ran in one
// aggregate proof (DIR/aggregate.proof.json or .bin) and writes DIR/summary.json: one entry per
// job (its claim facts, or its error) and the aggregate's file, size and times. Exit 0 when every
// job is in the proof, 1 when a job failed (the others are still proven) or none ran.
int prove_batch_aggregate(const std::vector<ptvm::vmair::ProveJob>& jobs, const AggregateBatch& args);

// tvm verify of an aggregate file (bytes already read): every claim checked, then the STARK.
// Prints the verdict, the number of jobs, each claim's facts and the scope. Exit 0 accepted,
// 3 rejected (a malformed file too).
int verify_aggregate_file(const std::string& path, const std::string& bytes, const ptvm::vmair::VerifyOptions& options,
                          bool json);

}  // namespace tvm_cli
