// tvm run-batch MANIFEST [--threads N] [--tensor-device DEVICE] [run defaults...]
// MANIFEST is a JSON list of jobs: {"program": path relative to the manifest's folder,
// "max_steps"?, "engine"?, "attention_mode"?, "initial_memory"?, "layers"?, "verify_native"?}.
// Prints one JSON object per job, in job order (JSON Lines); a job that fails prints
// {"job": i, "program": ..., "error": ...}; the exit code is 1 when any job failed.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/batch.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/manifest.hpp"
#include "run_output.hpp"
#include "tensor_device.hpp"

namespace tvm_cli {

namespace {

using ptvm::Error;
using ptvm::ErrorCategory;
using nlohmann::json;

struct BatchArguments {
  std::string manifest;
  unsigned threads = 0;
  std::string engine = "transformer";
  bool verify_native = false;
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  std::string attention_mode = "average-hard";
  int layers = 1;
  std::string tensor_device = "cpu";
};

// Builds one job from its manifest entry over the command line's defaults; throws ptvm::Error
// naming the job (the program may fail to assemble).
ptvm::vm::BatchJob make_job(const ptvm::vm::ManifestJob& entry, size_t index, const BatchArguments& defaults,
                            const ptvm::vm::TensorFfnFactory& tensor_ffn) {
  ptvm::vm::BatchJob job;
  job.options.engine = entry.engine.value_or(ptvm::vm::parse_engine_kind(defaults.engine));
  job.options.verify_native = entry.verify_native.value_or(defaults.verify_native);
  job.options.max_steps = entry.max_steps.value_or(defaults.max_steps);
  job.options.attention = entry.attention.value_or(ptvm::vm::parse_attention_mode(defaults.attention_mode));
  job.options.layers = entry.layers.value_or(defaults.layers);
  job.options.record_trace = false;
  if (job.options.engine == ptvm::vm::EngineKind::Tensor) {
    job.options.tensor_ffn = tensor_ffn;
    job.options.tensor_device = defaults.tensor_device;
  }
  job.initial_memory = entry.initial_memory;
  try {
    job.program = ptvm::vm::assemble_file(entry.program_path.string());
  } catch (const Error& e) {
    throw Error(e.category(), "job " + std::to_string(index) + ": " + e.what());
  }
  return job;
}

}  // namespace

Action add_run_batch_command(CLI::App& app) {
  auto args = std::make_shared<BatchArguments>();
  CLI::App* cmd = app.add_subcommand(
      "run-batch", "Run the jobs of a JSON manifest in parallel; print JSON Lines in job order");
  cmd->add_option("manifest", args->manifest, "JSON list of jobs")->required()->type_name("MANIFEST");
  cmd->add_option("--threads", args->threads, "host threads (default: all cores)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--engine", args->engine, "default engine: transformer (default), native or tensor")->type_name("NAME");
  cmd->add_option("--tensor-device", args->tensor_device,
                  "where the tensor jobs' GEMMs run (one lockstep batch per program): cpu (default), hostsim, gpu "
                  "(cuBLAS), gpu-own")
      ->type_name("DEVICE");
  cmd->add_flag("--verify-native", args->verify_native, "default: verify against native");
  cmd->add_option("--max-steps", args->max_steps, "default max steps (512)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--attention-mode", args->attention_mode, "default attention mode")->type_name("MODE");
  cmd->add_option("--layers", args->layers, "default transformer layers, 1..256")->type_name("N");
  cmd->footer("A job: {\"program\": PATH (relative to the manifest), \"max_steps\"?, \"engine\"?, \"attention_mode\"?,\n"
              "\"initial_memory\"?, \"layers\"?, \"verify_native\"?}. Output: one JSON line per job, in job order.\n"
              "Tensor jobs (no verify_native) of one program run as one lockstep batch: B machines per step.\n"
              "Examples:\n  tvm run-batch jobs.json --threads 2 --engine native\n"
              "  tvm run-batch jobs.json --engine tensor --tensor-device gpu\n"
              "Exit codes: 0 every job ran, 1 a job failed or another error, 2 usage.");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    // Validate the defaults once so that a bad flag is a usage error, not N job errors.
    ptvm::vm::parse_engine_kind(args->engine);
    ptvm::vm::parse_attention_mode(args->attention_mode);
    check_layers(args->layers);
    const ptvm::vm::TensorFfnFactory tensor_ffn = select_tensor_device(args->tensor_device);

    const std::vector<ptvm::vm::ManifestEntry> manifest =
        ptvm::vm::read_manifest_file(args->manifest, ptvm::vm::ManifestKind::Run);
    const size_t n = manifest.size();
    std::vector<std::string> programs(n);
    std::vector<std::optional<std::string>> setup_errors(n);
    std::vector<ptvm::vm::BatchJob> jobs;
    std::vector<size_t> job_index;  // manifest index of each submitted job
    for (size_t i = 0; i < n; ++i) {
      programs[i] = manifest[i].program;
      if (!manifest[i].job) {
        setup_errors[i] = manifest[i].error;
        continue;
      }
      try {
        jobs.push_back(make_job(*manifest[i].job, i, *args, tensor_ffn));
        job_index.push_back(i);
      } catch (const std::exception& e) {
        setup_errors[i] = e.what();
      }
    }
    std::vector<ptvm::vm::BatchResult> results = ptvm::vm::run_batch(jobs, {args->threads});
    std::vector<const ptvm::vm::BatchResult*> by_index(n, nullptr);
    std::vector<const ptvm::vm::BatchJob*> job_by_index(n, nullptr);
    for (size_t k = 0; k < jobs.size(); ++k) {
      by_index[job_index[k]] = &results[k];
      job_by_index[job_index[k]] = &jobs[k];
    }
    bool any_failed = false;
    for (size_t i = 0; i < n; ++i) {
      nlohmann::ordered_json line;
      line["job"] = i;
      if (setup_errors[i] || !by_index[i]->ok()) {
        any_failed = true;
        line["program"] = programs[i];
        line["error"] = setup_errors[i] ? *setup_errors[i] : by_index[i]->error;
      } else {
        RunReport report{programs[i], job_by_index[i]->options, *by_index[i]->result};
        const nlohmann::ordered_json body = report_json(report, false);
        for (const auto& [key, value] : body.items()) line[key] = value;
      }
      std::cout << ptvm::dump_json_safe(line) << "\n";
    }
    std::cout.flush();
    return any_failed ? 1 : 0;
  };
}

}  // namespace tvm_cli
