// tvm prove PROGRAM [-o FILE] [--proof-format json|binary] [--backend NAME] [--profile NAME]
//                   [--max-steps N] [--layers N] [--json] [--progress]
// tvm verify PROOF [--program FILE | --expect-program-hash HEX] [--min-security BITS] [--strict]
//                  [--reexecute] [--max-lde-log-size N] [--allow-custom-profile] [--json]
// tvm prove-batch MANIFEST --out DIR [--proof-format ...] [--profile NAME] [--max-steps N]
//                  [--threads N] [--ranks N] [--devices LIST] [--backend NAME] [--progress] [--json]
//   (under mpirun: one rank per MPI process, rank 0 writing; see vmair/batch.hpp)
// tvm hash PROGRAM [--layers N] [--json]
//
// The original's spellings `prove-stark` / `verify-stark` are aliases, `--stark-profile` is an
// alias of `--profile` (it takes ptvm's profile names). Output: `key: value` lines, or one JSON
// object with --json. Exit codes: 0 ok, 1 error, 2 usage, 3 rejected (a malformed proof file is a
// rejection too).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "backend_select.hpp"
#include "cli_common.hpp"
#include "aggregate_command.hpp"
#include "run_output.hpp"
#include "commands.hpp"
#include "mpi_bridge.hpp"
#include "shard_prove.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/manifest.hpp"
#include "ptvm/vm/runner.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/comm/mpi_communicator.hpp"
#include "ptvm/vmair/aggregate.hpp"
#include "ptvm/vmair/batch.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/prove.hpp"
#include "ptvm/statement_v1/statement.hpp"
#include "statement_v1_command.hpp"

namespace tvm_cli {
namespace {

using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;
namespace vmair = ptvm::vmair;
namespace stark = ptvm::stark;

std::vector<int> parse_device_list(const std::string& text, int visible);

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string fixed(double v, int decimals) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

ordered_json stage_times(const stark::StageTimings& t) {
  ordered_json j;
  for (size_t s = 0; s < stark::kStageCount; ++s) j[stark::stage_name(static_cast<stark::Stage>(s))] = t.wall_ms[s];
  return j;
}

enum class ProofFormat { Json, Binary };
ProofFormat parse_proof_format(const std::string& name) {
  if (name == "json") return ProofFormat::Json;
  if (name == "binary") return ProofFormat::Binary;
  throw Error(ErrorCategory::Usage, "--proof-format must be json or binary (got '" + name + "')");
}
std::string proof_file_bytes(ProofFormat format, const vmair::Claim& claim, const stark::StarkProof& proof) {
  if (format == ProofFormat::Json) return vmair::proof_file_json(claim, proof);
  const std::vector<uint8_t> b = vmair::proof_file_binary(claim, proof);
  return std::string(b.begin(), b.end());
}
const char* proof_file_suffix(ProofFormat format) { return format == ProofFormat::Json ? ".proof.json" : ".proof.bin"; }

std::optional<stark::Profile> profile_option(const std::string& name) {
  if (name == "auto") return std::nullopt;
  return vmair::profile_by_name(name);
}

// A proof made with a profile meant for tests is worth saying so, once per command.
void warn_if_insecure(const stark::Profile& profile, uint32_t bits) {
  if (bits < vmair::kDefaultMinSecurityBits)
    warn("profile '" + profile.name + "' gives " + std::to_string(bits) +
         " conjectured security bits: its proofs are for tests only (tvm verify rejects them below " +
         std::to_string(vmair::kDefaultMinSecurityBits) + " bits unless --min-security is lowered)");
}

struct ProveArguments {
  std::string program;
  std::string output;
  std::string proof_format = "json";
  std::string backend = "auto";
  std::string profile = "auto";
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  int64_t layers = 1;
  bool json = false;
  bool progress = false;
  // statement-v1 (the F128 STARK): --statement and the original's STARK option overrides.
  std::string statement{ptvm::vmair::kStatementVersion};
  std::optional<uint32_t> stark_expansion_factor, stark_num_colinearity_checks, stark_security_level, stark_pow_bits;
  int shards = 0;  // used when --shards is given
  std::string devices;  // --shards with --backend cuda: empty = all visible
};

struct VerifyArguments {
  std::string proof;
  std::string backend = "auto";
  std::string program;
  std::string expect_program_hash;
  uint32_t min_security = vmair::kDefaultMinSecurityBits;
  uint32_t max_lde_log_size = vmair::kDefaultMaxLogLdeSize;
  bool allow_custom_profile = false;
  bool strict = false;
  bool reexecute = false;
  bool json = false;
  std::string verification_profile;  // "" or "production-v1"
};

struct BatchArguments {
  std::string manifest;
  std::string out;
  std::string proof_format = "json";
  std::string backend = "auto";
  std::string profile = "auto";
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  unsigned threads = 1;
  unsigned ranks = 0;   // 0: 1, or one per device
  std::string devices;  // empty: all visible with a CUDA backend
  unsigned group_size = 256;  // lockstep device groups (cuda, hostsim): jobs per group at most
  bool aggregate = false;     // one proof for all jobs
  bool progress = false;
  bool json = false;
};

struct HashArguments {
  std::string program;
  int64_t layers = 1;
  bool json = false;
};

}  // namespace

Action add_prove_command(CLI::App& app) {
  auto args = std::make_shared<ProveArguments>();
  CLI::App* cmd = app.add_subcommand("prove", "Run a program (transformer and native in lockstep) and prove the run");
  cmd->alias("prove-stark");
  cmd->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  cmd->add_option("-o,--output", args->output, "proof file to write (default: PROGRAM.proof.json or .proof.bin)")
      ->type_name("FILE");
  cmd->add_option("--proof-format", args->proof_format, "json (default) or binary; tvm verify reads either")
      ->type_name("FORMAT");
  cmd->add_option("--backend", args->backend,
                  "auto (default: cuda if a device is visible, else cpu), cpu, cuda, dual, hostsim, hostsim-dual")
      ->type_name("NAME");
  cmd->add_option("--profile,--stark-profile", args->profile,
                  "proof profile (default auto: vm-small up to 4096 steps, else default; 96 bits)")
      ->type_name("NAME");
  cmd->add_option("--max-steps", args->max_steps, "stop after this many steps (default 512; at most 2^24 - 1)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--layers", args->layers, "transformer layers, 1..256 (default 1)")->type_name("N");
  cmd->add_flag("--json", args->json, "print one JSON object (with per-stage times)");
  cmd->add_flag("--progress", args->progress, "print the stage and the fraction done on stderr");
  cmd->add_option("--statement", args->statement,
                  "ptvm-tvm-execution/2 (default: circle STARK over M31) or statement-v1 (the original's statement: "
                  "STARK over F128, --stark-profile default|production-v1|heavier|ptvm-96, default production-v1)")
      ->type_name("NAME");
  cmd->add_option("--stark-expansion-factor", args->stark_expansion_factor, "statement-v1: override the profile's")
      ->type_name("N");
  cmd->add_option("--stark-num-colinearity-checks", args->stark_num_colinearity_checks,
                  "statement-v1: override the profile's (FRI queries)")
      ->type_name("N");
  cmd->add_option("--stark-security-level", args->stark_security_level, "statement-v1: override the profile's")
      ->type_name("BITS");
  cmd->add_option("--stark-pow-bits", args->stark_pow_bits, "statement-v1: override the profile's proof-of-work bits")
      ->type_name("BITS");
  CLI::Option* shards_option = cmd->add_option("--shards", args->shards,
                  "prove one trace across S ranks (a power of two): S threads, or the MPI ranks under mpirun")
      ->type_name("S");
  CLI::Option* devices_option = cmd->add_option("--devices", args->devices,
                  "--shards with --backend cuda: the CUDA devices, one rank each: 'all' (the default) or a list such as 0,1,3")
      ->type_name("LIST");
  cmd->footer("Examples:\n"
              "  tvm prove programs/fibonacci.tvm -o fib.proof.json\n"
              "  tvm prove programs/fibonacci.tvm --statement statement-v1 --stark-profile ptvm-96\n"
              "  tvm prove programs/fibonacci.tvm --shards 4   (mpirun -n 2 tvm prove ... --shards 2)\n"
              "  tvm prove programs/fibonacci.tvm --shards 8 --backend cuda --devices all\n"
              "  tvm prove programs/fibonacci.tvm --proof-format binary --profile default --json\n" +
              profile_names_help() + "\n" + exit_codes_help(false));
  return [cmd, args, shards_option, devices_option]() -> int {
    if (!cmd->parsed()) return -1;
    check_backend_name(args->backend);
    check_layers(args->layers);
    check_provable_max_steps(args->max_steps);
    const bool stark_overrides = args->stark_expansion_factor || args->stark_num_colinearity_checks ||
                                 args->stark_security_level || args->stark_pow_bits;
    if (args->statement == ptvm::statement_v1::kStatementVersion) {
      if (shards_option->count() > 0)
        throw Error(ErrorCategory::Usage, "--shards applies to the circle STARK (--statement statement-v1 proves on one rank)");
      if (args->proof_format != "json")
        throw Error(ErrorCategory::Usage, "--statement statement-v1 writes JSON proof files only");
      StatementV1Prove a;
      a.backend = args->backend;
      a.program = args->program;
      a.output = args->output;
      a.profile = args->profile;
      a.max_steps = args->max_steps;
      a.layers = static_cast<int>(args->layers);
      a.json = args->json;
      a.expansion_factor = args->stark_expansion_factor;
      a.num_colinearity_checks = args->stark_num_colinearity_checks;
      a.security_level = args->stark_security_level;
      a.pow_bits = args->stark_pow_bits;
      return prove_statement_v1(a);
    }
    if (args->statement != vmair::kStatementVersion)
      throw Error(ErrorCategory::Usage, "--statement: unknown statement '" + args->statement +
                                            "' (known: " + std::string(vmair::kStatementVersion) + ", statement-v1)");
    if (stark_overrides)
      throw Error(ErrorCategory::Usage, "--stark-expansion-factor/--stark-num-colinearity-checks/--stark-security-level/"
                                        "--stark-pow-bits apply to --statement statement-v1");
    const ProofFormat format = parse_proof_format(args->proof_format);
    const bool sharded_run = shards_option->count() > 0;
    if (sharded_run) check_shard_arguments(args->shards, args->backend);
    if (devices_option->count() > 0 && !(sharded_run && args->backend == "cuda"))
      throw Error(ErrorCategory::Usage, "--devices applies to --shards S with --backend cuda");
    vmair::ProveOptions options;
    options.profile = profile_option(args->profile);
    options.max_steps = args->max_steps;
    options.layers = static_cast<int>(args->layers);
    const std::string output = args->output.empty() ? args->program + proof_file_suffix(format) : args->output;
    const bool show = progress_enabled(args->progress);
    if (show) {
      progress("prove", "running " + args->program + " (transformer + native in lockstep)");
      options.progress = [](stark::Stage stage, double fraction) {
        progress("prove", fixed(100 * fraction, 0) + "% " + stark::stage_name(stage));
      };
    }
    SelectedBackend selected;
    if (!sharded_run) {  // sharded runs make one backend per rank
      selected = select_backend(args->backend);
      options.backend = selected.backend.get();
    }
    ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    std::optional<vmair::ProvedRun> sharded;
    if (sharded_run) {
      std::vector<int> devices;
      if (args->backend == "cuda") devices = parse_device_list(args->devices.empty() ? "all" : args->devices, cuda_device_count());
      sharded = prove_sharded(program, options, args->shards, args->backend, devices);
      if (!sharded) return 0;  // an MPI rank other than 0: rank 0 writes and reports
      selected.name = shard_backend_label(args->backend) + " x" + std::to_string(args->shards);
    }
    vmair::ProvedRun run = sharded ? std::move(*sharded) : vmair::prove_program(program, options);
    warn_if_insecure(run.claim.profile, run.claim.security_bits);
    if (show)
      progress("prove", std::to_string(run.claim.statement.steps) + " steps executed in " + fixed(run.execute_ms, 1) +
                            " ms, proven in " + fixed(run.prove_ms, 1) + " ms");
    const std::string file = proof_file_bytes(format, run.claim, run.proof);
    write_output_file(output, file);
    ordered_json j;
    j["program"] = args->program;
    const ordered_json facts = claim_facts(run.claim);  // items() of a temporary would dangle
    for (const auto& [k, v] : facts.items()) j[k] = v;
    j["backend"] = selected.name;
    j["proof_file"] = output;
    j["proof_format"] = args->proof_format;
    j["proof_bytes"] = stark::proof_binary_size(run.proof);
    j["proof_file_bytes"] = file.size();
    j["execute_ms"] = run.execute_ms;
    j["witness_ms"] = run.witness_ms;
    j["prove_ms"] = run.prove_ms;
    if (args->json) j["stages_ms"] = stage_times(run.timings);
    print_facts(j, args->json);
    return 0;
  };
}

Action add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArguments>();
  CLI::App* cmd = app.add_subcommand("verify", "Verify a proof file (JSON or binary); exit 3 when rejected");
  cmd->alias("verify-stark");
  cmd->add_option("proof", args->proof, "the proof file")->required()->type_name("PROOF");
  cmd->add_option("--program", args->program, "require the proof to be about this .tvm program (its program hash)")
      ->type_name("FILE");
  cmd->add_option("--expect-program-hash", args->expect_program_hash,
                  "require this program hash (64 hex digits, as `tvm hash` prints it)")
      ->type_name("HEX");
  cmd->add_option("--backend", args->backend, "accepted for symmetry with prove; the verifier always runs on the CPU")
      ->type_name("NAME");
  CLI::Option* min_security = cmd->add_option("--min-security,--min-conjectured-security", args->min_security,
                  "reject below this many conjectured bits (default 96 for every statement; 0 accepts insecure "
                  "test profiles)")
      ->check(non_negative_integer())
      ->type_name("BITS");
  CLI::Option* max_lde = cmd->add_option(
      "--max-lde-log-size", args->max_lde_log_size,
      "refuse proofs whose largest LDE domain is above 2^N rows (default 26: 2^22 steps at blowup 16; "
      "statement-v1, whose verifier recomputes its preprocessed columns: 22)")
      ->check(CLI::Range(1, 40))
      ->type_name("N");
  cmd->add_flag("--allow-custom-profile", args->allow_custom_profile,
                "accept a profile that is not a named one (still subject to --min-security)");
  cmd->add_flag("--strict", args->strict,
                "circle STARK: at least 96 bits and re-execution; statement-v1: an 80-bit floor and re-execution");
  cmd->add_option("--verification-profile", args->verification_profile,
                  "production-v1: re-execution and a 32-bit floor (the original's production profile)")
      ->type_name("NAME");
  cmd->add_flag("--reexecute", args->reexecute, "rerun both engines from the claim and compare");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->footer("Examples:\n"
              "  tvm verify fib.proof.json\n"
              "  tvm verify fib.proof.bin --program programs/fibonacci.tvm --strict --json\n" +
              profile_names_help() + "\n" + exit_codes_help(true));
  return [cmd, args, min_security, max_lde]() -> int {
    if (!cmd->parsed()) return -1;
    if (auto block = verify_block_file_if_any(args->proof, args->json)) return *block;  // PTVMBLKP files
    check_backend_name(args->backend);
    if (!args->verification_profile.empty() && args->verification_profile != "production-v1")
      throw Error(ErrorCategory::Usage, "--verification-profile: unknown profile '" + args->verification_profile +
                                            "' (known: production-v1)");
    if (!args->program.empty() && !args->expect_program_hash.empty())
      throw Error(ErrorCategory::Usage, "--program and --expect-program-hash exclude each other");
    std::string expected_hash = args->expect_program_hash;
    if (!expected_hash.empty()) {
      const bool hex = expected_hash.size() == 64 &&
                       expected_hash.find_first_not_of("0123456789abcdef") == std::string::npos;
      if (!hex) throw Error(ErrorCategory::Usage, "--expect-program-hash must be 64 lowercase hex digits");
    }
    if (!args->program.empty()) {
      const ptvm::vm::Program p = ptvm::vm::assemble_file(args->program);
      expected_hash = vmair::compute_identities(p, vmair::provable_transformer_config(1), ptvm::vm::AttentionMode{})
                          .program_hash;
    }
    vmair::VerifyOptions options;
    options.min_security_bits = args->min_security;
    options.reexecute = args->reexecute;
    options.max_log_lde_size = args->max_lde_log_size;
    options.allow_custom_profiles = args->allow_custom_profile;
    if (args->strict) {
      options.min_security_bits = std::max<uint32_t>(options.min_security_bits, 96);
      options.reexecute = true;
    }
    if (!args->verification_profile.empty()) {
      if (min_security->count() == 0) options.min_security_bits = ptvm::statement_v1::kProductionV1MinSecurityBits;
      options.reexecute = true;
    }
    auto t0 = std::chrono::steady_clock::now();
    ordered_json j;
    j["proof_file"] = args->proof;
    std::optional<vmair::ProofFile> file;
    std::string reason;
    std::string bytes;
    try {
      // Inside the try: an oversized file (a Parse error) is a rejection, exit 3.
      bytes = ptvm::read_file_limited(args->proof, stark::kMaxProofBytes, "proof file");
      if (vmair::is_aggregate_file(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))) {
        if (!expected_hash.empty()) options.expected_program_hash = expected_hash;
        return verify_aggregate_file(args->proof, bytes, options, args->json);
      }
      if (ptvm::statement_v1::is_statement_v1_file(bytes)) {
        StatementV1Verify a;
        a.proof_path = args->proof;
        a.text = bytes;
        a.expected_program_hash = expected_hash;
        if (min_security->count() > 0) a.min_security = args->min_security;
        a.verification_profile = args->verification_profile;
        a.strict = args->strict;
        if (max_lde->count() > 0) a.max_lde_log_size = args->max_lde_log_size;  // else statement-v1's default
        a.json = args->json;
        return verify_statement_v1(a);
      }
      file = vmair::read_proof_file(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::Parse) throw;
      reason = std::string("malformed proof file: ") + e.what();
    }
    bool accepted = false;
    uint32_t queries_opened = 0;
    if (file) {
      if (!expected_hash.empty()) options.expected_program_hash = expected_hash;
      const stark::Verdict v = vmair::verify_proof(file->claim, file->proof, options);
      accepted = v.accepted;
      reason = v.reason;
      if (!accepted && !args->program.empty() && reason.find("not the expected") != std::string::npos)
        reason += " (" + args->program + ")";
      queries_opened = v.queries_opened;
    }
    const double verify_ms = ms_since(t0);
    j["verdict"] = accepted ? "accepted" : "rejected";
    if (!accepted) j["reason"] = reason;
    if (file) {
      j["proof_format"] = vmair::is_binary_proof_file(std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
                              ? "binary"
                              : "json";
      const ordered_json facts = claim_facts(file->claim);
      for (const auto& [k, v] : facts.items()) j[k] = v;
      j["proof_bytes"] = stark::proof_binary_size(file->proof);
      if (accepted) {
        j["queries_opened"] = queries_opened;
        j["security_bits_achieved"] = vmair::achieved_security_bits(file->claim, queries_opened);
      }
    }
    j["proof_file_bytes"] = bytes.size();
    j["reexecuted"] = options.reexecute;
    const ordered_json scope = circle_claim_scope(accepted, options.reexecute);
    for (const auto& [k, v] : scope.items()) j[k] = v;
    j["verify_ms"] = verify_ms;
    print_facts(j, args->json);
    if (!accepted && !args->json) std::cerr << "error: proof rejected: " << reason << "\n";
    return accepted ? 0 : 3;
  };
}

namespace {

// The jobs of a prove manifest, for vmair::prove_batch: entries that are not valid jobs, and
// programs that do not assemble, become jobs carrying their error.
std::vector<vmair::ProveJob> prove_jobs(const std::vector<ptvm::vm::ManifestEntry>& manifest, uint64_t max_steps) {
  std::vector<vmair::ProveJob> jobs(manifest.size());
  for (size_t i = 0; i < manifest.size(); ++i) {
    const ptvm::vm::ManifestEntry& entry = manifest[i];
    vmair::ProveJob& job = jobs[i];
    job.label = entry.program;
    if (!entry.job) {
      job.error = vmair::JobError{ErrorCategory::Parse, entry.error};
      continue;
    }
    const ptvm::vm::ManifestJob& e = *entry.job;
    job.max_steps = e.max_steps.value_or(max_steps);
    job.layers = e.layers.value_or(1);
    job.initial_memory = e.initial_memory;
    try {
      job.program = ptvm::vm::assemble_file(e.program_path.string());
    } catch (const Error& ex) {
      job.error = vmair::JobError{ex.category(), ex.what()};
    }
  }
  return jobs;
}

// --devices: "all" or a comma-separated list of distinct device ordinals.
std::vector<int> parse_device_list(const std::string& text, int visible) {
  std::vector<int> out;
  if (text == "all") {
    for (int d = 0; d < visible; ++d) out.push_back(d);
    if (out.empty()) throw Error(ErrorCategory::Device, "--devices all: no CUDA device is visible");
    return out;
  }
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    int device = -1;
    const auto r = std::from_chars(item.data(), item.data() + item.size(), device);
    if (item.empty() || r.ec != std::errc() || r.ptr != item.data() + item.size() || device < 0)
      throw Error(ErrorCategory::Usage, "--devices must be 'all' or device numbers separated by commas (got '" + text + "')");
    if (std::find(out.begin(), out.end(), device) != out.end())
      throw Error(ErrorCategory::Usage, "--devices: device " + item + " is listed twice");
    if (device >= visible)
      throw Error(ErrorCategory::Device, "--devices: device " + item + " is not visible (" + std::to_string(visible) +
                                             " visible)");
    out.push_back(device);
    start = end + 1;
  }
  return out;
}

}  // namespace

Action add_prove_batch_command(CLI::App& app) {
  auto args = std::make_shared<BatchArguments>();
  CLI::App* cmd = app.add_subcommand(
      "prove-batch", "Prove the jobs of a JSON manifest: one proof per job and a summary JSON in --out");
  cmd->add_option("manifest", args->manifest,
                  "JSON list of jobs {\"program\": path (relative to the manifest), \"max_steps\"?, "
                  "\"initial_memory\"?, \"layers\"?}")
      ->required()
      ->type_name("MANIFEST");
  cmd->add_option("--out", args->out, "output folder (created if needed)")->required()->type_name("DIR");
  cmd->add_option("--proof-format", args->proof_format, "json (default) or binary")->type_name("FORMAT");
  cmd->add_option("--backend", args->backend, "auto (default), cpu, cuda, dual, hostsim, hostsim-dual")
      ->type_name("NAME");
  cmd->add_option("--profile,--stark-profile", args->profile, "proof profile (default auto)")->type_name("NAME");
  cmd->add_option("--max-steps", args->max_steps, "default max steps (512; at most 2^24 - 1)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--threads", args->threads, "host threads per rank producing traces (default 1)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--ranks", args->ranks,
                  "split the batch across N in-process ranks (threads; default 1, or one per device of --devices)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("--devices", args->devices,
                  "CUDA devices, one rank each: 'all' (the default with a CUDA backend) or a list such as 0,1,3")
      ->type_name("LIST");
  cmd->add_flag("--progress", args->progress, "print i/N, rate, ETA and each failure's reason on stderr");
  cmd->add_flag("--json", args->json, "print the summary JSON on stdout (it is also written to DIR/summary.json)");
  cmd->add_option("--group-size", args->group_size,
                  "cuda/hostsim on one rank: jobs of one shape proven in lockstep per group, every stage one launch "
                  "over all of them (default 256, fewer when the device memory bounds it; 1 proves one job at a time)")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_flag("--aggregate", args->aggregate,
                "one proof for all jobs (DIR/aggregate.proof.json): one STARK over the union of the jobs' "
                "components, every job's claim bound into it in job order; tvm verify checks every claim");
  cmd->footer("Examples:\n"
              "  tvm prove-batch jobs.json --out proofs --threads 2 --progress\n"
              "  tvm prove-batch jobs.json --out proofs --aggregate            (one proof for every job)\n"
              "  tvm prove-batch jobs.json --out proofs --backend hostsim --group-size 256\n"
              "  tvm prove-batch jobs.json --out proofs --proof-format binary --json\n"
              "  tvm prove-batch jobs.json --out proofs --ranks 4             (4 in-process ranks)\n"
              "  mpirun -n 8 tvm prove-batch jobs.json --out proofs           (one rank per MPI process)\n"
              "Under mpirun every rank reads the manifest; rank 0 writes the proofs and the summary.\n" +
              profile_names_help() + "\nExit codes: 0 every job proven, 1 a job failed or another error, 2 usage.");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    check_backend_name(args->backend);
    check_provable_max_steps(args->max_steps);
    const ProofFormat format = parse_proof_format(args->proof_format);
    const std::optional<stark::Profile> profile = profile_option(args->profile);
    const unsigned threads = std::max(1u, args->threads);
    if (args->ranks > 4096) throw Error(ErrorCategory::Usage, "--ranks must be in 1..4096");
    if (args->group_size < 1 || args->group_size > 4096)
      throw Error(ErrorCategory::Usage, "--group-size must be in 1..4096");

    // Where the ranks come from: MPI processes, one in-process rank per device, or --ranks.
    const bool mpi = ptvm::comm::launched_by_mpi() && mpi_world_size() != 1;  // 0: size unknown
    if (mpi && args->ranks > 1)
      throw Error(ErrorCategory::Usage, "--ranks: under an MPI launch the ranks are the MPI processes");
    if (mpi && !mpi_runtime_built())
      throw Error(ErrorCategory::Usage, "this tvm was built without MPI (libopenmpi-dev); it cannot run as one of " +
                                            std::to_string(mpi_world_size()) + " MPI ranks");
    const bool gpu_backend = args->backend == "cuda" || args->backend == "dual" ||
                             (args->backend == "auto" && cuda_runtime_built() && cuda_device_visible());
    std::vector<int> devices;
    if (!args->devices.empty()) {
      if (!cuda_runtime_built())
        throw Error(ErrorCategory::Usage, "--devices " + args->devices +
                                              ": this tvm was built without CUDA; a device list needs the CUDA backend");
      if (!gpu_backend)
        throw Error(ErrorCategory::Usage, "--devices needs a CUDA backend (--backend cuda, dual, or auto with a device)");
      devices = parse_device_list(args->devices, cuda_device_count());
    } else if (gpu_backend) {
      devices = parse_device_list("all", cuda_device_count());
    }
    int in_process_ranks = std::max<int>(1, static_cast<int>(args->ranks));
    if (!mpi && args->ranks == 0 && devices.size() > 1) in_process_ranks = static_cast<int>(devices.size());
    if (!mpi && !devices.empty() && args->ranks > devices.size())
      throw Error(ErrorCategory::Usage, "--ranks " + std::to_string(args->ranks) + " with " +
                                            std::to_string(devices.size()) + " devices: one rank per device at most");
    if (profile) warn_if_insecure(*profile, stark::conjectured_security_bits(*profile));

    const std::vector<ptvm::vm::ManifestEntry> manifest =
        ptvm::vm::read_manifest_file(args->manifest, ptvm::vm::ManifestKind::Prove);
    const std::vector<vmair::ProveJob> jobs = prove_jobs(manifest, args->max_steps);
    if (args->aggregate) {
      if (mpi || in_process_ranks > 1)
        throw Error(ErrorCategory::Usage, "--aggregate proves on one rank (no --ranks, no MPI launch)");
      if (devices.size() > 1) throw Error(ErrorCategory::Usage, "--aggregate proves on one device (--devices N)");
      prepare_output_folder(args->out);
      if (devices.size() == 1) use_cuda_device(devices[0]);
      SelectedBackend selected = select_backend(args->backend);
      AggregateBatch a;
      a.manifest = args->manifest;
      a.out = args->out;
      a.binary = format == ProofFormat::Binary;
      a.profile = profile;
      a.backend = selected.backend.get();
      a.backend_name = selected.name;
      a.threads = threads;
      a.json = args->json;
      a.progress = progress_enabled(args->progress);
      return prove_batch_aggregate(jobs, a);
    }
    prepare_output_folder(args->out);  // every rank, before any collective: an error here hangs no one
    const size_t n = jobs.size();
    const bool show = progress_enabled(args->progress);

    vmair::BatchProveOptions options;
    options.profile = profile;
    options.workers = threads;
    std::string backend_name;
    SelectedBackend shared;
    const bool single = !mpi && in_process_ranks == 1;
    if (single) {
      if (devices.size() == 1) use_cuda_device(devices[0]);
      shared = select_backend(args->backend);
      backend_name = shared.name;
      options.backend = shared.backend.get();
      // --threads workers produce traces while one more proves on the shared backend.
      options.workers = threads + 1;
      // The CUDA backend (or its host-sim build) on one rank: lockstep groups, every stage one
      // launch over a group's jobs; --threads workers record the next group's traces meanwhile.
      if (args->group_size > 1 && (shared.name == "cuda" || shared.name == "hostsim")) {
        options.group = shared.name == "cuda" ? make_cuda_group_proving(*shared.backend, args->group_size)
                                              : make_hostsim_group_proving(*shared.backend, args->group_size);
        if (options.group) options.workers = threads;
      }
      if (devices.size() == 1) {
        const int device = devices[0];
        options.on_worker_start = [device](int, unsigned) { use_cuda_device(device); };
      }
    } else {
      backend_name = gpu_backend ? (args->backend == "dual" ? "dual" : "cuda") : (args->backend == "auto" ? "cpu" : args->backend);
      const std::string name = args->backend;
      // A rank's device: its in-process rank, or under MPI its local rank on this node.
      auto device_of = [devices, mpi](int rank) {
        const int local = mpi ? mpi_local_rank() : rank;
        return devices[static_cast<size_t>(local) % devices.size()];
      };
      options.backend_factory = [name, devices, device_of](int rank, unsigned) {
        if (!devices.empty()) use_cuda_device(device_of(rank));
        return select_backend(name).backend;
      };
      if (!devices.empty())
        options.on_worker_start = [device_of](int rank, unsigned) { use_cuda_device(device_of(rank)); };
    }

    ordered_json summary_jobs = ordered_json::array();
    size_t failed = 0, delivered = 0;
    auto t_all = std::chrono::steady_clock::now();
    // Rank 0's callback: the proof file, the summary entry and the progress line of each job.
    const vmair::ResultFn on_result = [&](vmair::ProveJobResult&& result) {
      const size_t i = result.index;
      ordered_json entry;
      entry["job"] = i;
      entry["program"] = result.label;
      try {
        if (!result.ok()) throw Error(result.error.category, result.error.message);
        const vmair::ProvedRun& run = *result.run;
        const std::string name = "job-" + std::to_string(i) + proof_file_suffix(format);
        const std::string file = proof_file_bytes(format, run.claim, run.proof);
        write_output_file((std::filesystem::path(args->out) / name).string(), file);
        entry["ok"] = true;
        entry["proof_file"] = name;
        const ordered_json facts = claim_facts(run.claim);
        for (const auto& [k, v] : facts.items()) entry[k] = v;
        entry["proof_bytes"] = stark::proof_binary_size(run.proof);
        entry["execute_ms"] = run.execute_ms;
        entry["prove_ms"] = run.prove_ms;
      } catch (const std::exception& ex) {
        ++failed;
        entry["ok"] = false;
        entry["error"] = ex.what();
      }
      if (!single) entry["rank"] = result.rank;
      ++delivered;
      if (show) {
        const double elapsed_s = ms_since(t_all) / 1e3;
        const double rate = static_cast<double>(delivered) / std::max(elapsed_s, 1e-9);
        const double eta_s = static_cast<double>(n - delivered) / rate;
        std::string line = std::to_string(delivered) + "/" + std::to_string(n) + " job " + std::to_string(i) + " " +
                           (entry["ok"].get<bool>() ? "proven" : "failed: " + entry["error"].get<std::string>()) +
                           " (" + fixed(rate, 2) + " jobs/s, ETA " + fixed(eta_s, 1) + " s)";
        progress("prove-batch", line);
      }
      summary_jobs.push_back(entry);
    };

    int ranks = 1;
    bool root = true;
    if (mpi) {
      std::unique_ptr<ptvm::comm::Communicator> comm = make_mpi_runtime_communicator();
      ranks = comm->size();
      root = comm->rank() == 0;
      vmair::prove_batch(*comm, jobs, options, on_result);
    } else if (in_process_ranks > 1) {
      ranks = in_process_ranks;
      ptvm::comm::run_ranks(in_process_ranks, [&](ptvm::comm::Communicator& comm) {
        vmair::prove_batch(comm, jobs, options, on_result);  // only rank 0 calls on_result
      });
    } else {
      vmair::prove_batch(jobs, options, on_result);
    }
    if (!root) return 0;  // rank 0 reports for every rank

    ordered_json summary;
    summary["manifest"] = args->manifest;
    summary["profile"] = profile ? profile->name : std::string("auto");
    summary["proof_format"] = args->proof_format;
    summary["backend"] = backend_name;
    summary["ranks"] = ranks;
    summary["jobs_total"] = n;
    summary["jobs_proven"] = n - failed;
    summary["jobs_failed"] = failed;
    summary["total_ms"] = ms_since(t_all);
    summary["jobs"] = summary_jobs;
    const std::string summary_path = (std::filesystem::path(args->out) / "summary.json").string();
    write_output_file(summary_path, ptvm::dump_json_safe(summary, 1) + "\n");
    if (args->json) {
      std::cout << ptvm::dump_json_safe(summary) << "\n";
    } else {
      std::cout << "jobs_total: " << n << "\njobs_proven: " << (n - failed) << "\njobs_failed: " << failed
                << "\nsummary: " << summary_path << "\n";
    }
    return failed == 0 ? 0 : 1;
  };
}

Action add_hash_command(CLI::App& app) {
  auto args = std::make_shared<HashArguments>();
  CLI::App* cmd = app.add_subcommand(
      "hash", "Print a program's program_hash, transformer_config_hash and deterministic_model_hash");
  cmd->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  cmd->add_option("--layers", args->layers, "transformer layers, 1..256 (default 1)")->type_name("N");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->footer("The hashes are the claim's identities (BLAKE2b-256 of the original's canonical JSON) for the\n"
              "model the compiler builds with average-hard attention, as `tvm prove` states them.\n"
              "Example:\n  tvm hash programs/fibonacci.tvm --json\n"
              "Exit codes: 0 ok, 1 input error, 2 usage.");
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    check_layers(args->layers);
    const ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    const vmair::ClaimIdentities ids = vmair::compute_identities(
        program, vmair::provable_transformer_config(static_cast<int>(args->layers)), ptvm::vm::AttentionMode{});
    ordered_json j;
    j["program"] = args->program;
    j["program_hash"] = ids.program_hash;
    j["transformer_config_hash"] = ids.transformer_config_hash;
    j["deterministic_model_hash"] = ids.deterministic_model_hash;
    print_facts(j, args->json);
    return 0;
  };
}

}  // namespace tvm_cli
