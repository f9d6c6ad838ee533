// tvm: the ptvm command line. Every ptvm::Error is caught here once and printed as
// "error: <message>" on stderr; exit codes: 0 ok, 1 runtime/input errors, 2 usage (bad
// command line, CLI11 parse errors included), 3 verification failed (lockstep divergence).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/version.hpp"

namespace {

int exit_code(ptvm::ErrorCategory category) {
  switch (category) {
    case ptvm::ErrorCategory::Usage: return 2;
    case ptvm::ErrorCategory::Divergence:
    case ptvm::ErrorCategory::Verification: return 3;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"tvm: run and prove programs of the provable transformer VM"};
    app.set_version_flag("--version", std::string("tvm (ptvm) ") + ptvm::version_string());
    app.require_subcommand(1);
    std::vector<tvm_cli::Action> actions;
    actions.push_back(tvm_cli::add_run_command(app));
    actions.push_back(tvm_cli::add_run_batch_command(app));
    actions.push_back(tvm_cli::add_prove_command(app));
    actions.push_back(tvm_cli::add_verify_command(app));
    actions.push_back(tvm_cli::add_prove_batch_command(app));

    // `tvm PROGRAM ...` is `tvm run PROGRAM ...`: insert "run" when the first word is neither a
    // subcommand nor a flag.
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty()) {
      const std::string& first = args[0];
      bool is_subcommand = false;
      for (const CLI::App* sub : app.get_subcommands({})) is_subcommand |= sub->check_name(first);  // names and aliases
      if (!is_subcommand && first.rfind('-', 0) != 0) args.insert(args.begin(), "run");
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
    for (const tvm_cli::Action& action : actions) {
      int code = action();
      if (code >= 0) return code;
    }
    std::cerr << "error: no command given (try --help)\n";
    return 2;
  } catch (const ptvm::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_code(e.category());
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
  }
}
