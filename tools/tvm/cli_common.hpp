// What every tvm subcommand shares: the log level (-q / -v), warnings and progress lines on
// stderr, reading input files with their limits, output folders, the --layers range, help text
// (usage lines that start with "tvm", examples, exit codes) and key: value printing.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tvm_cli {

enum class Verbosity { Quiet, Normal, Verbose };
Verbosity& verbosity();
// "warning: ..." on stderr unless -q.
void warn(const std::string& message);
// A progress line on stderr when asked for (--progress or -v) and not -q.
bool progress_enabled(bool flag);
void progress(const std::string& tag, const std::string& message);

// Reading input files: ptvm::read_file_limited (ptvm/common/json_reader.hpp).
void write_output_file(const std::string& path, const std::string& bytes);
// Creates `path` if needed; an existing non-directory or an uncreatable path is an Io error.
void prepare_output_folder(const std::string& path);

// --layers: 1..256, one message for every command ("--layers must be in 1..256 (got N)").
void check_layers(int64_t layers);
// --max-steps of a proving command: at most the largest provable run (the AIR's limit), refused
// before anything runs.
void check_provable_max_steps(uint64_t max_steps, const std::string& flag = "--max-steps");

// The exit codes and profile names, for help footers.
std::string exit_codes_help(bool verify);
std::string profile_names_help();
// Help formatting (wider option column).
std::shared_ptr<CLI::Formatter> make_formatter();

// key: value lines; lists of numbers as "[a, b, c]" (as `tvm run` prints memory).
std::string format_value(const nlohmann::ordered_json& value);
void print_facts(const nlohmann::ordered_json& facts, bool as_json);

}  // namespace tvm_cli
