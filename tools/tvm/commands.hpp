// The tvm CLI's subcommands. Each add_* registers its CLI11 subcommand and returns the action to run
// when that subcommand was parsed; the action returns the exit code and may throw ptvm::Error, which
// main() turns into "error: ..." on stderr and the exit code of its category.
#pragma once
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace tvm_cli {

using Action = std::function<int()>;

Action add_run_command(CLI::App& app);
Action add_run_batch_command(CLI::App& app);
// prove, verify, prove-batch (prove_command.cpp)
Action add_prove_command(CLI::App& app);
Action add_verify_command(CLI::App& app);
Action add_prove_batch_command(CLI::App& app);
Action add_hash_command(CLI::App& app);
// export-onnx (onnx_export.cpp)
Action add_export_onnx_command(CLI::App& app);
// tui: the interactive terminal view of a run (tui_command.cpp, ncurses)
Action add_tui_command(CLI::App& app);
// prove-block, verify-block; tvm verify's branch for block proof files (block_command.cpp)
Action add_prove_block_command(CLI::App& app);
Action add_verify_block_command(CLI::App& app);
std::optional<int> verify_block_file_if_any(const std::string& path, bool json);

}  // namespace tvm_cli

namespace tvm_cli {

// Accepts only plain decimal digits (CLI11 would otherwise wrap "-5" into a huge unsigned value).
inline CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t value = 0;
        auto result = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
            result.ec != std::errc() || result.ptr != text.data() + text.size()) {
          return "must be a non-negative integer below 2^64, got '" + text + "'";
        }
        return {};
      },
      "");  // no name: the option's type name ("N") is what help shows
}

}  // namespace tvm_cli
