#include "cli_common.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/vmair/profiles.hpp"
#include "ptvm/vmair/vm_air.hpp"

namespace tvm_cli {

using ptvm::Error;
using ptvm::ErrorCategory;

Verbosity& verbosity() {
  static Verbosity level = Verbosity::Normal;
  return level;
}

void warn(const std::string& message) {
  if (verbosity() != Verbosity::Quiet) std::cerr << "warning: " << message << "\n";
}

bool progress_enabled(bool flag) {
  return verbosity() == Verbosity::Verbose || (flag && verbosity() != Verbosity::Quiet);
}

void progress(const std::string& tag, const std::string& message) {
  std::cerr << "[" << tag << "] " << message << "\n" << std::flush;
}

void write_output_file(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(ErrorCategory::Io, path + ": is a directory");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(ErrorCategory::Io, path + ": cannot write");
  out << bytes;
  out.flush();
  if (!out) throw Error(ErrorCategory::Io, path + ": write failed");
}

void prepare_output_folder(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_directory(status))
      throw Error(ErrorCategory::Io, path + ": exists and is not a directory");
    return;
  }
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error(ErrorCategory::Io, path + ": cannot create the folder (" + ec.message() + ")");
}

void check_layers(int64_t layers) {
  if (layers < 1 || layers > 256)
    throw Error(ErrorCategory::Usage, "--layers must be in 1..256 (got " + std::to_string(layers) + ")");
}

void check_provable_max_steps(uint64_t max_steps, const std::string& flag) {
  const uint64_t largest = ptvm::vmair::kMaxProvableSteps - 1;
  if (max_steps > largest)
    throw Error(ErrorCategory::Usage, flag + " " + std::to_string(max_steps) + " is above the largest provable run (" +
                                          std::to_string(largest) + " steps = 2^24 - 1: the VM AIR's timestamps use 3 bytes)");
}

std::string exit_codes_help(bool verify) {
  std::string s = "Exit codes: 0 ok, 1 runtime or input error, 2 usage (bad command line)";
  s += verify ? ", 3 the proof was rejected (also for a malformed proof file)." : ", 3 engines diverged in lockstep.";
  return s;
}

std::string profile_names_help() {
  std::string s = "Profiles: auto (vm-small up to 4096 steps, default above)";
  for (const auto& p : ptvm::vmair::vm_profiles())
    s += ", " + p.name + " (" + std::to_string(ptvm::stark::conjectured_security_bits(p)) + " bits)";
  for (const auto& p : ptvm::stark::named_profiles())
    s += ", " + p.name + " (" + std::to_string(ptvm::stark::conjectured_security_bits(p)) + " bits)";
  return s + ".";
}

std::shared_ptr<CLI::Formatter> make_formatter() {
  // With the app named "tvm", CLI11 prints subcommand usage as "Usage: tvm prove [OPTIONS] ...".
  auto f = std::make_shared<CLI::Formatter>();
  f->column_width(34);
  return f;
}

std::string format_value(const nlohmann::ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < value.size(); ++i) s += (i ? ", " : "") + format_value(value[i]);
    return s + "]";
  }
  return ptvm::dump_json_safe(value);
}

void print_facts(const nlohmann::ordered_json& facts, bool as_json) {
  // File names come from the command line and need not be UTF-8: dump_json_safe never throws.
  if (as_json) {
    std::cout << ptvm::dump_json_safe(facts) << "\n";
    return;
  }
  for (const auto& [k, v] : facts.items()) std::cout << k << ": " << format_value(v) << "\n";
}

}  // namespace tvm_cli
