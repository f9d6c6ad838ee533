// tvm prove-batch --aggregate and tvm verify of aggregate files (see aggregate_command.hpp).
#include "aggregate_command.hpp"

#include <chrono>
#include <exception>
#include <filesystem>
#include <iostream>

#include "cli_common.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/common/thread_pool.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "run_output.hpp"
#include "statement_v1_command.hpp"

namespace tvm_cli {
namespace {

using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;
namespace vmair = ptvm::vmair;
namespace stark = ptvm::stark;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// One job's run, recorded as prove_batch records it (the manifest's initial memory applied).
vmair::RecordedRun record_job(const vmair::ProveJob& job) {
  if (job.error) throw Error(job.error->category, job.error->message);
  ptvm::vm::Program program = job.program;
  if (job.initial_memory) {
    if (job.initial_memory->size() > ptvm::vm::kMaxMemory)
      throw Error(ErrorCategory::Usage, "initial memory of " + std::to_string(job.initial_memory->size()) +
                                            " cells exceeds " + std::to_string(ptvm::vm::kMaxMemory));
    program.initial_memory = *job.initial_memory;
  }
  vmair::ProveOptions o;
  o.max_steps = job.max_steps;
  o.layers = job.layers;
  vmair::RecordedRun run = vmair::record_run(program, o);
  if (auto why = vmair::check_statement(vmair::statement_from_trace(run.trace)))
    throw Error(ErrorCategory::Usage, "cannot prove this run: " + *why);
  return run;
}

}  // namespace

int prove_batch_aggregate(const std::vector<vmair::ProveJob>& jobs, const AggregateBatch& args) {
  const size_t n = jobs.size();
  auto t_all = std::chrono::steady_clock::now();
  std::vector<std::optional<vmair::RecordedRun>> runs(n);
  std::vector<std::string> errors(n);
  ptvm::parallel_tasks(n, std::max(1u, args.threads), [&](size_t i) {
    try {
      runs[i] = record_job(jobs[i]);
    } catch (const std::exception& e) {
      const std::string prefix = "job " + std::to_string(i);
      const std::string why = e.what();
      errors[i] = why.rfind(prefix, 0) == 0 ? why : prefix + " (" + jobs[i].label + "): " + why;
    }
  });
  const double record_ms = ms_since(t_all);

  std::vector<vmair::AggregateRun> proven_runs;
  std::vector<size_t> proven_jobs;  // the aggregate's job j is manifest job proven_jobs[j]
  for (size_t i = 0; i < n; ++i)
    if (runs[i]) {
      proven_runs.push_back({&runs[i]->trace, jobs[i].layers});
      proven_jobs.push_back(i);
    } else if (args.progress) {
      progress("prove-batch", "job " + std::to_string(i) + " failed: " + errors[i]);
    }

  ordered_json summary;
  summary["manifest"] = args.manifest;
  summary["profile"] = args.profile ? args.profile->name : std::string("auto");
  summary["proof_format"] = args.binary ? "binary" : "json";
  summary["backend"] = args.backend_name;
  summary["aggregate"] = true;
  std::optional<vmair::AggregateProof> agg;
  std::string aggregate_error;
  if (!proven_runs.empty()) {
    try {
      if (args.progress) progress("prove-batch", "proving " + std::to_string(proven_runs.size()) + " jobs in one proof");
      vmair::AggregateProveOptions o;
      o.profile = args.profile;
      o.backend = args.backend;
      agg = vmair::prove_aggregate(proven_runs, o);
    } catch (const Error& e) {
      if (e.category() == ErrorCategory::Device || e.category() == ErrorCategory::Internal) throw;
      aggregate_error = e.what();
    }
  } else {
    aggregate_error = "no job ran, so there is nothing to prove";
  }

  ordered_json entries = ordered_json::array();
  size_t in_proof = 0;
  for (size_t i = 0, j = 0; i < n; ++i) {
    ordered_json entry;
    entry["job"] = i;
    entry["program"] = jobs[i].label;
    if (runs[i] && agg) {
      entry["ok"] = true;
      entry["aggregate_index"] = j;
      const ordered_json facts = claim_facts(agg->claims[j]);
      for (const auto& [k, v] : facts.items()) entry[k] = v;
      ++in_proof;
    } else {
      entry["ok"] = false;
      entry["error"] = runs[i] ? aggregate_error : errors[i];
    }
    if (runs[i]) ++j;
    entries.push_back(entry);
  }
  summary["jobs_total"] = n;
  summary["jobs_proven"] = in_proof;
  summary["jobs_failed"] = n - in_proof;
  if (agg) {
    const std::string name = args.binary ? "aggregate.proof.bin" : "aggregate.proof.json";
    std::string bytes;
    if (args.binary) {
      const std::vector<uint8_t> b = vmair::aggregate_file_binary(agg->claims, agg->proof);
      bytes.assign(b.begin(), b.end());
    } else {
      bytes = vmair::aggregate_file_json(agg->claims, agg->proof);
    }
    write_output_file((std::filesystem::path(args.out) / name).string(), bytes);
    ordered_json a;
    a["proof_file"] = name;
    a["proof_file_bytes"] = bytes.size();
    a["proof_bytes"] = stark::proof_binary_size(agg->proof);
    a["jobs"] = agg->claims.size();
    a["profile"] = agg->claims[0].profile.name;
    a["security_bits"] = vmair::aggregate_security_bits(agg->claims);
    a["record_ms"] = record_ms;
    a["witness_ms"] = agg->witness_ms;
    a["prove_ms"] = agg->prove_ms;
    summary["aggregate_proof"] = a;
  } else {
    summary["aggregate_error"] = aggregate_error;
  }
  summary["total_ms"] = ms_since(t_all);
  summary["jobs"] = entries;
  const std::string summary_path = (std::filesystem::path(args.out) / "summary.json").string();
  write_output_file(summary_path, ptvm::dump_json_safe(summary, 1) + "\n");
  if (args.json) {
    std::cout << ptvm::dump_json_safe(summary) << "\n";
  } else {
    std::cout << "jobs_total: " << n << "\njobs_proven: " << in_proof << "\njobs_failed: " << (n - in_proof) << "\n";
    if (agg) std::cout << "aggregate_proof: " << summary["aggregate_proof"]["proof_file"].get<std::string>() << "\n";
    std::cout << "summary: " << summary_path << "\n";
  }
  if (!agg && !args.json) std::cerr << "error: no aggregate proof: " << aggregate_error << "\n";
  return agg && in_proof == n ? 0 : 1;
}

int verify_aggregate_file(const std::string& path, const std::string& bytes, const vmair::VerifyOptions& options,
                          bool json) {
  auto t0 = std::chrono::steady_clock::now();
  ordered_json j;
  j["proof_file"] = path;
  j["proof_kind"] = "aggregate";
  std::optional<vmair::AggregateFile> file;
  std::string reason;
  try {
    file = vmair::read_aggregate_file(as_bytes(bytes));
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::Parse) throw;
    reason = std::string("malformed aggregate file: ") + e.what();
  }
  bool accepted = false;
  if (file) {
    const stark::Verdict v = vmair::verify_aggregate(file->claims, file->proof, options);
    accepted = v.accepted;
    reason = v.reason;
  }
  j["verdict"] = accepted ? "accepted" : "rejected";
  if (!accepted) j["reason"] = reason;
  if (file) {
    j["jobs"] = file->claims.size();
    j["proof_bytes"] = stark::proof_binary_size(file->proof);
    if (accepted) j["security_bits"] = vmair::aggregate_security_bits(file->claims);
  }
  j["proof_file_bytes"] = bytes.size();
  j["reexecuted"] = options.reexecute;
  const ordered_json scope = circle_claim_scope(accepted, options.reexecute);
  for (const auto& [k, v] : scope.items()) j[k] = v;
  j["verify_ms"] = ms_since(t0);
  if (json) {
    if (file) {
      ordered_json claims = ordered_json::array();
      for (const auto& c : file->claims) claims.push_back(claim_facts(c));
      j["claims"] = claims;
    }
    std::cout << ptvm::dump_json_safe(j) << "\n";
  } else {
    print_facts(j, false);
    if (file)
      for (size_t i = 0; i < file->claims.size(); ++i) {
        const auto& c = file->claims[i];
        std::cout << "job " << i << ": steps " << c.statement.steps << ", acc " << c.statement.final_state.acc
                  << ", program_hash " << c.identities.program_hash << "\n";
      }
    if (!accepted) std::cerr << "error: proof rejected: " << reason << "\n";
  }
  return accepted ? 0 : 3;
}

}  // namespace tvm_cli
