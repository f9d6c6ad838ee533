// tvm prove PROGRAM -o proof.json [--backend cpu|cuda] [--profile NAME] [--max-steps N]
//                                 [--layers N] [--json] [--progress]
// tvm verify proof.json [--min-security BITS] [--strict] [--reexecute] [--json]
// tvm prove-batch MANIFEST --out DIR [--profile NAME] [--max-steps N] [--threads N]
//
// The original's spellings `prove-stark` / `verify-stark` are aliases, `--stark-profile` is an
// alias of `--profile` (it takes ptvm's profile names). Output: `key: value` lines, or one JSON
// object with --json. Exit codes: 0 ok, 1 error, 2 usage, 3 rejected (a malformed proof file is a
// rejection too).
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "backend_select.hpp"
#include "commands.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/manifest.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"

namespace tvm_cli {
namespace {

using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;
namespace vmair = ptvm::vmair;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void check_backend(const std::string& backend) { tvm_cli::check_backend_name(backend); }

std::string read_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw Error(ErrorCategory::Io, path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::Io, path + ": cannot open");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size > ptvm::stark::kMaxProofBytes)
    throw Error(ErrorCategory::Parse, path + ": oversized proof file (" + std::to_string(size) + " bytes)");
  in.seekg(0);
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  return text;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCategory::Io, path + ": cannot write");
  out << text;
  if (!out) throw Error(ErrorCategory::Io, path + ": write failed");
}

// The claim's key facts, in a fixed order.
ordered_json claim_facts(const vmair::Claim& c) {
  const auto& s = c.statement;
  ordered_json j;
  j["statement_version"] = c.statement_version;
  j["steps"] = s.steps;
  j["max_steps"] = s.max_steps;
  j["halted"] = s.final_state.halted;
  j["pc"] = s.final_state.pc;
  j["sp"] = s.final_state.sp;
  j["acc"] = s.final_state.acc;
  j["zero_flag"] = s.final_state.zero_flag;
  j["carry_flag"] = s.final_state.carry_flag;
  j["memory"] = ptvm::vm::format_memory(s.final_memory);
  j["attention_mode"] = ptvm::vm::format_attention_mode(c.attention);
  j["program_hash"] = c.identities.program_hash;
  j["transformer_config_hash"] = c.identities.transformer_config_hash;
  j["deterministic_model_hash"] = c.identities.deterministic_model_hash;
  j["profile"] = c.profile.name;
  j["security_bits"] = c.security_bits;
  j["prover_build"] = c.prover_build;
  return j;
}

void print(const ordered_json& j, bool as_json) {
  // File names come from the command line and need not be UTF-8: dump_json_safe never throws.
  if (as_json) {
    std::cout << ptvm::dump_json_safe(j) << "\n";
    return;
  }
  for (const auto& [k, v] : j.items())
    std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : ptvm::dump_json_safe(v)) << "\n";
}

struct ProveArguments {
  std::string program;
  std::string output;
  std::string backend = "auto";
  std::string profile = "auto";
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  int layers = 1;
  bool json = false;
  bool progress = false;
};

struct VerifyArguments {
  std::string proof;
  std::string backend = "auto";
  uint32_t min_security = ptvm::vmair::kDefaultMinSecurityBits;
  uint32_t max_lde_log_size = ptvm::vmair::kDefaultMaxLogLdeSize;
  bool allow_custom_profile = false;
  bool strict = false;
  bool reexecute = false;
  bool json = false;
};

struct BatchArguments {
  std::string manifest;
  std::string out;
  std::string backend = "auto";
  std::string profile = "auto";
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  unsigned threads = 1;
  bool progress = false;
};

}  // namespace

Action add_prove_command(CLI::App& app) {
  auto args = std::make_shared<ProveArguments>();
  CLI::App* cmd = app.add_subcommand("prove", "Run a program (transformer and native in lockstep) and prove the run");
  cmd->alias("prove-stark");
  cmd->add_option("program", args->program, "the .tvm program")->required();
  cmd->add_option("-o,--output", args->output, "proof file to write (default: PROGRAM.proof.json)");
  cmd->add_option("--backend", args->backend, "auto (default: cuda if a device is visible, else cpu), cpu, cuda, dual, hostsim, hostsim-dual");
  cmd->add_option("--profile,--stark-profile", args->profile,
                  "proof profile (default auto: vm-small up to 4096 steps, else default; 96 bits)");
  cmd->add_option("--max-steps", args->max_steps, "stop after this many steps (default 512)")->check(non_negative_integer());
  cmd->add_option("--layers", args->layers, "transformer layers (default 1)");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->add_flag("--progress", args->progress, "print progress lines on stderr");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    check_backend(args->backend);
    if (args->layers < 1) throw Error(ErrorCategory::Usage, "--layers must be at least 1");
    vmair::ProveOptions options;
    if (args->profile != "auto") options.profile = vmair::profile_by_name(args->profile);
    options.max_steps = args->max_steps;
    options.layers = args->layers;
    const std::string output = args->output.empty() ? args->program + ".proof.json" : args->output;
    if (args->progress) std::cerr << "[prove] running " << args->program << " (transformer + native in lockstep)\n";
    tvm_cli::SelectedBackend selected = tvm_cli::select_backend(args->backend);
    options.backend = selected.backend.get();
    ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    vmair::ProvedRun run = vmair::prove_program(program, options);
    if (args->progress)
      std::cerr << "[prove] " << run.claim.statement.steps << " steps executed in " << run.execute_ms
                << " ms, proven in " << run.prove_ms << " ms\n";
    const std::string file = vmair::proof_file_json(run.claim, run.proof);
    write_file(output, file);
    ordered_json j;
    j["program"] = args->program;
    const ordered_json facts = claim_facts(run.claim);
    for (const auto& [k, v] : facts.items()) j[k] = v;
    j["backend"] = selected.name;
    j["proof_file"] = output;
    j["proof_bytes"] = ptvm::stark::proof_binary_size(run.proof);
    j["proof_file_bytes"] = file.size();
    j["execute_ms"] = run.execute_ms;
    j["witness_ms"] = run.witness_ms;
    j["prove_ms"] = run.prove_ms;
    print(j, args->json);
    return 0;
  };
}

Action add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArguments>();
  CLI::App* cmd = app.add_subcommand("verify", "Verify a proof file; exit 3 when rejected");
  cmd->alias("verify-stark");
  cmd->add_option("proof", args->proof, "the proof file")->required();
  cmd->add_option("--backend", args->backend, "accepted for symmetry with prove; the verifier always runs on the CPU");
  cmd->add_option("--min-security", args->min_security, "reject below this many conjectured bits (default 96; 0 accepts insecure test profiles)")->check(non_negative_integer());
  cmd->add_option("--max-lde-log-size", args->max_lde_log_size,
                  "refuse proofs whose largest LDE domain is above 2^N rows (default 22: 2^21 steps at blowup 2)")
      ->check(CLI::Range(1, 40));
  cmd->add_flag("--allow-custom-profile", args->allow_custom_profile,
                "accept a profile that is not a named one (still subject to --min-security)");
  cmd->add_flag("--strict", args->strict, "at least 96 bits and re-execution");
  cmd->add_flag("--reexecute", args->reexecute, "rerun both engines from the claim and compare");
  cmd->add_flag("--json", args->json, "print one JSON object");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    check_backend(args->backend);
    vmair::VerifyOptions options;
    options.min_security_bits = args->min_security;
    options.reexecute = args->reexecute;
    options.max_log_lde_size = args->max_lde_log_size;
    options.allow_custom_profiles = args->allow_custom_profile;
    if (args->strict) {
      options.min_security_bits = std::max<uint32_t>(options.min_security_bits, 96);
      options.reexecute = true;
    }
    auto t0 = std::chrono::steady_clock::now();
    ordered_json j;
    j["proof_file"] = args->proof;
    std::optional<vmair::ProofFile> file;
    std::string reason;
    std::string text;
    try {
      // Inside the try: an oversized file (read_file's Parse error) is a rejection, exit 3.
      text = read_file(args->proof);
      file = vmair::read_proof_file_json(text);
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::Parse) throw;
      reason = std::string("malformed proof file: ") + e.what();
    }
    bool accepted = false;
    uint32_t queries_opened = 0;
    if (file) {
      ptvm::stark::Verdict v = vmair::verify_proof(file->claim, file->proof, options);
      accepted = v.accepted;
      reason = v.reason;
      queries_opened = v.queries_opened;
    }
    const double verify_ms = ms_since(t0);
    j["verdict"] = accepted ? "accepted" : "rejected";
    if (!accepted) j["reason"] = reason;
    if (file) {
      const ordered_json facts = claim_facts(file->claim);
      for (const auto& [k, v] : facts.items()) j[k] = v;
      j["proof_bytes"] = ptvm::stark::proof_binary_size(file->proof);
      if (accepted) {
        j["queries_opened"] = queries_opened;
        j["security_bits_achieved"] = vmair::achieved_security_bits(file->claim, queries_opened);
      }
    }
    std::error_code size_error;
    const auto on_disk = std::filesystem::file_size(args->proof, size_error);
    j["proof_file_bytes"] = size_error ? text.size() : static_cast<size_t>(on_disk);
    j["reexecuted"] = options.reexecute;
    j["verify_ms"] = verify_ms;
    print(j, args->json);
    if (!accepted && !args->json) std::cerr << "error: proof rejected: " << reason << "\n";
    return accepted ? 0 : 3;
  };
}

Action add_prove_batch_command(CLI::App& app) {
  auto args = std::make_shared<BatchArguments>();
  CLI::App* cmd = app.add_subcommand(
      "prove-batch", "Prove the jobs of a JSON manifest: one proof per job and a summary JSON in --out");
  cmd->add_option("manifest", args->manifest,
                  "JSON list of jobs {\"program\": path (relative to the manifest), \"max_steps\"?, "
                  "\"initial_memory\"?, \"layers\"?}")
      ->required();
  cmd->add_option("--out", args->out, "output folder")->required();
  cmd->add_option("--backend", args->backend, "auto (default), cpu, cuda, dual, hostsim, hostsim-dual");
  cmd->add_option("--profile,--stark-profile", args->profile, "proof profile (default auto)");
  cmd->add_option("--max-steps", args->max_steps, "default max steps (512)")->check(non_negative_integer());
  cmd->add_option("--threads", args->threads, "host threads producing traces (default 1)")->check(non_negative_integer());
  cmd->add_flag("--progress", args->progress, "print one line per job on stderr");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    check_backend(args->backend);
    std::optional<ptvm::stark::Profile> profile;
    if (args->profile != "auto") profile = vmair::profile_by_name(args->profile);
    const unsigned threads = std::max(1u, args->threads);
    const std::vector<ptvm::vm::ManifestEntry> manifest =
        ptvm::vm::read_manifest_file(args->manifest, ptvm::vm::ManifestKind::Prove);
    std::filesystem::create_directories(args->out);
    const size_t n = manifest.size();

    struct Job {
      std::string program;
      std::optional<ptvm::vm::ExecutionTrace> trace;
      std::string error;
      double execute_ms = 0;
      int layers = 1;
      bool done = false;
    };
    std::vector<Job> jobs(n);
    std::mutex mu;
    std::condition_variable ready, room;
    size_t next_job = 0, proven_up_to = 0;
    const size_t lookahead = 2 * threads;  // traces kept ahead of the prover

    // Trace producers: run each job (transformer + native in lockstep) while earlier ones are proven.
    auto produce = [&]() {
      for (;;) {
        size_t i;
        {
          std::unique_lock lock(mu);
          room.wait(lock, [&] { return next_job >= n || next_job < proven_up_to + lookahead; });
          if (next_job >= n) return;
          i = next_job++;
        }
        Job local;
        try {
          const ptvm::vm::ManifestEntry& entry = manifest[i];
          local.program = entry.program;
          if (!entry.job) throw Error(ErrorCategory::Parse, entry.error);
          const ptvm::vm::ManifestJob& e = *entry.job;
          ptvm::vm::Program program = ptvm::vm::assemble_file(e.program_path.string());
          ptvm::vm::RunOptions run;
          run.max_steps = e.max_steps.value_or(args->max_steps);
          run.layers = e.layers.value_or(1);
          local.layers = run.layers;
          if (e.initial_memory) program.initial_memory = *e.initial_memory;
          run.engine = ptvm::vm::EngineKind::Transformer;
          run.verify_native = true;
          auto t0 = std::chrono::steady_clock::now();
          local.trace = ptvm::vm::run(program, run).trace;
          local.execute_ms = ms_since(t0);
        } catch (const std::exception& ex) {
          local.error = ex.what();
        }
        {
          std::lock_guard lock(mu);
          local.done = true;
          jobs[i] = std::move(local);
        }
        ready.notify_all();
      }
    };
    std::vector<std::thread> producers;
    for (unsigned t = 0; t < threads; ++t) producers.emplace_back(produce);

    tvm_cli::SelectedBackend selected = tvm_cli::select_backend(args->backend);
    auto& backend = selected.backend;
    ordered_json summary_jobs = ordered_json::array();
    size_t failed = 0;
    auto t_all = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      Job job;
      {
        std::unique_lock lock(mu);
        ready.wait(lock, [&] { return jobs[i].done; });
        job = std::move(jobs[i]);
      }
      ordered_json entry;
      entry["job"] = i;
      entry["program"] = job.program;
      try {
        if (!job.trace) throw Error(ErrorCategory::Runtime, job.error);
        vmair::ProveOptions options;
        options.profile = profile;
        options.layers = job.layers;
        options.backend = backend.get();
        vmair::ProvedRun run = vmair::prove_trace(*job.trace, options, job.execute_ms);
        const std::string name = "job-" + std::to_string(i) + ".proof.json";
        const std::string file = vmair::proof_file_json(run.claim, run.proof);
        write_file((std::filesystem::path(args->out) / name).string(), file);
        entry["ok"] = true;
        entry["proof_file"] = name;
        const ordered_json facts = claim_facts(run.claim);
        for (const auto& [k, v] : facts.items()) entry[k] = v;
        entry["proof_bytes"] = ptvm::stark::proof_binary_size(run.proof);
        entry["execute_ms"] = run.execute_ms;
        entry["prove_ms"] = run.prove_ms;
      } catch (const std::exception& ex) {
        ++failed;
        entry["ok"] = false;
        entry["error"] = ex.what();
      }
      if (args->progress) std::cerr << "[prove-batch] job " << i << ": " << (entry["ok"].get<bool>() ? "proven" : "failed") << "\n";
      summary_jobs.push_back(entry);
      {
        std::lock_guard lock(mu);
        proven_up_to = i + 1;
      }
      room.notify_all();
    }
    for (auto& t : producers) t.join();
    ordered_json summary;
    summary["manifest"] = args->manifest;
    summary["profile"] = profile ? profile->name : std::string("auto");
    summary["jobs_total"] = n;
    summary["jobs_proven"] = n - failed;
    summary["jobs_failed"] = failed;
    summary["total_ms"] = ms_since(t_all);
    summary["jobs"] = summary_jobs;
    write_file((std::filesystem::path(args->out) / "summary.json").string(), ptvm::dump_json_safe(summary, 1) + "\n");
    std::cout << "jobs_total: " << n << "\njobs_proven: " << (n - failed) << "\njobs_failed: " << failed
              << "\nsummary: " << (std::filesystem::path(args->out) / "summary.json").string() << "\n";
    return failed == 0 ? 0 : 1;
  };
}

}  // namespace tvm_cli
