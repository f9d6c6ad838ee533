// tvm run-batch MANIFEST [--threads N] [run defaults...]
// MANIFEST is a JSON list of jobs: {"program": path relative to the manifest's folder,
// "max_steps"?, "engine"?, "attention_mode"?, "initial_memory"?, "layers"?, "verify_native"?}.
// Prints one JSON object per job, in job order (JSON Lines); a job that fails prints
// {"job": i, "program": ..., "error": ...}; the exit code is 1 when any job failed.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/batch.hpp"
#include "ptvm/vm/format.hpp"
#include "run_output.hpp"

namespace tvm_cli {

namespace {

using ptvm::Error;
using ptvm::ErrorCategory;
using nlohmann::json;

struct BatchArguments {
  std::string manifest;
  unsigned threads = 0;
  std::string engine = "native";
  bool verify_native = false;
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  std::string attention_mode = "average-hard";
  int layers = 1;
};

// Builds one job from its manifest entry; throws ptvm::Error naming the job and the field.
ptvm::vm::BatchJob parse_job(const json& entry, size_t index, const std::filesystem::path& base,
                             const BatchArguments& defaults, std::string& program_out) {
  const std::string where = "job " + std::to_string(index) + ": ";
  auto fail = [&](const std::string& reason) -> Error {
    return Error(ErrorCategory::Parse, where + reason);
  };
  if (!entry.is_object()) throw fail("a job must be a JSON object");
  static const char* const kKeys[] = {"program", "max_steps", "engine", "attention_mode",
                                      "initial_memory", "layers", "verify_native"};
  for (const auto& [key, value] : entry.items()) {
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) throw fail("unknown field '" + key + "'");
  }
  if (!entry.contains("program") || !entry.at("program").is_string()) {
    throw fail("field 'program' (a path string) is required");
  }
  program_out = entry.at("program").get<std::string>();
  ptvm::vm::BatchJob job;
  job.options.engine = ptvm::vm::parse_engine_kind(defaults.engine);
  job.options.verify_native = defaults.verify_native;
  job.options.max_steps = defaults.max_steps;
  job.options.attention = ptvm::vm::parse_attention_mode(defaults.attention_mode);
  job.options.layers = defaults.layers;
  job.options.record_trace = false;
  if (entry.contains("max_steps")) {
    const json& v = entry.at("max_steps");
    if (!v.is_number_unsigned()) throw fail("field 'max_steps' must be a non-negative integer");
    job.options.max_steps = v.get<uint64_t>();
  }
  if (entry.contains("engine")) {
    if (!entry.at("engine").is_string()) throw fail("field 'engine' must be a string");
    job.options.engine = ptvm::vm::parse_engine_kind(entry.at("engine").get<std::string>());
  }
  if (entry.contains("attention_mode")) {
    if (!entry.at("attention_mode").is_string()) throw fail("field 'attention_mode' must be a string");
    job.options.attention =
        ptvm::vm::parse_attention_mode(entry.at("attention_mode").get<std::string>());
  }
  if (entry.contains("layers")) {
    const json& v = entry.at("layers");
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 256) {
      throw fail("field 'layers' must be an integer in 1..256");
    }
    job.options.layers = v.get<int>();
  }
  if (entry.contains("verify_native")) {
    if (!entry.at("verify_native").is_boolean()) throw fail("field 'verify_native' must be a boolean");
    job.options.verify_native = entry.at("verify_native").get<bool>();
  }
  if (entry.contains("initial_memory")) {
    const json& v = entry.at("initial_memory");
    if (!v.is_array()) throw fail("field 'initial_memory' must be a list of i16 values");
    if (v.size() > ptvm::vm::kMaxMemory) {
      throw fail("field 'initial_memory' has " + std::to_string(v.size()) + " cells (at most 255)");
    }
    std::vector<int16_t> memory;
    for (const json& cell : v) {
      if (!cell.is_number_integer() || cell.get<int64_t>() < -32768 || cell.get<int64_t>() > 32767) {
        throw fail("field 'initial_memory' must hold integers in -32768..32767");
      }
      memory.push_back(static_cast<int16_t>(cell.get<int64_t>()));
    }
    job.initial_memory = std::move(memory);
  }
  std::filesystem::path path(program_out);
  if (path.is_relative()) path = base / path;
  job.program = ptvm::vm::assemble_file(path.string());
  return job;
}

}  // namespace

Action add_run_batch_command(CLI::App& app) {
  auto args = std::make_shared<BatchArguments>();
  CLI::App* cmd = app.add_subcommand(
      "run-batch", "Run the jobs of a JSON manifest in parallel; print JSON Lines in job order");
  cmd->add_option("manifest", args->manifest, "JSON list of jobs")->required();
  cmd->add_option("--threads", args->threads, "host threads (default: all cores)")
      ->check(non_negative_integer());
  cmd->add_option("--engine", args->engine, "default engine: native or transformer");
  cmd->add_flag("--verify-native", args->verify_native, "default: verify against native");
  cmd->add_option("--max-steps", args->max_steps, "default max steps (512)")
      ->check(non_negative_integer());
  cmd->add_option("--attention-mode", args->attention_mode, "default attention mode");
  cmd->add_option("--layers", args->layers, "default transformer layers");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    // Validate the defaults once so that a bad flag is a usage error, not N job errors.
    ptvm::vm::parse_engine_kind(args->engine);
    ptvm::vm::parse_attention_mode(args->attention_mode);
    if (args->layers < 1 || args->layers > 256) {
      throw Error(ErrorCategory::Usage, "--layers must be in 1..256");
    }

    std::ifstream in(args->manifest, std::ios::binary);
    if (!in || std::filesystem::is_directory(args->manifest)) {
      throw Error(ErrorCategory::Io, args->manifest + ": cannot open manifest");
    }
    json manifest;
    try {
      manifest = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(ErrorCategory::Parse, args->manifest + ": not valid JSON: " + e.what());
    }
    if (!manifest.is_array()) {
      throw Error(ErrorCategory::Parse, args->manifest + ": the manifest must be a JSON list of jobs");
    }
    const std::filesystem::path base = std::filesystem::path(args->manifest).parent_path();

    const size_t n = manifest.size();
    std::vector<std::string> programs(n);
    std::vector<std::optional<std::string>> setup_errors(n);
    std::vector<ptvm::vm::BatchJob> jobs;
    std::vector<size_t> job_index;  // manifest index of each submitted job
    for (size_t i = 0; i < n; ++i) {
      try {
        jobs.push_back(parse_job(manifest[i], i, base, *args, programs[i]));
        job_index.push_back(i);
      } catch (const Error& e) {
        setup_errors[i] = e.what();
      } catch (const std::exception& e) {
        setup_errors[i] = std::string("job ") + std::to_string(i) + ": " + e.what();
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
      std::cout << line.dump() << "\n";
    }
    std::cout.flush();
    return any_failed ? 1 : 0;
  };
}

}  // namespace tvm_cli
