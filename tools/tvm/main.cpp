// tvm: the ptvm command line. Every ptvm::Error is caught here once and printed as
// "error: <message>" on stderr; exit codes: 0 ok, 1 runtime/input errors, 2 usage (bad
// command line, CLI11 parse errors included), 3 verification failed (a rejected proof, or a
// lockstep divergence).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/threads.hpp"
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

bool is_global_flag(const std::string& a) {
  return a == "-h" || a == "--help" || a == "--version" || a == "-v" || a == "--verbose" || a == "-q" ||
         a == "--quiet";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{"tvm: run and prove programs of the provable transformer VM"};
    app.name("tvm");
    app.formatter(tvm_cli::make_formatter());
    app.set_version_flag("--version", std::string("tvm (ptvm) ") + ptvm::version_string());
    app.require_subcommand(1);
    app.fallthrough();  // -v / -q may also follow the subcommand
    bool verbose = false, quiet = false;
    app.add_flag("-v,--verbose", verbose, "progress lines on stderr for every long step");
    app.add_flag("-q,--quiet", quiet, "no warnings or progress on stderr (errors still)");
    app.footer("Examples:\n"
               "  tvm run programs/fibonacci.tvm\n"
               "  tvm prove programs/fibonacci.tvm -o fib.proof.json && tvm verify fib.proof.json\n"
               "  tvm help prove\n"
               "Environment: PTVM_THREADS=N (1..256) sets the library's threads.\n" +
               tvm_cli::exit_codes_help(true));
    std::vector<tvm_cli::Action> actions;
    actions.push_back(tvm_cli::add_run_command(app));
    actions.push_back(tvm_cli::add_run_batch_command(app));
    actions.push_back(tvm_cli::add_prove_command(app));
    actions.push_back(tvm_cli::add_verify_command(app));
    actions.push_back(tvm_cli::add_prove_batch_command(app));
    actions.push_back(tvm_cli::add_hash_command(app));
    actions.push_back(tvm_cli::add_export_onnx_command(app));
    actions.push_back(tvm_cli::add_tui_command(app));
    actions.push_back(tvm_cli::add_prove_block_command(app));
    actions.push_back(tvm_cli::add_verify_block_command(app));
    for (CLI::App* sub : app.get_subcommands({})) sub->formatter(tvm_cli::make_formatter());

    std::vector<std::string> args(argv + 1, argv + argc);
    // `tvm help [COMMAND]` is `tvm [COMMAND] --help`.
    if (!args.empty() && args[0] == "help") {
      args.erase(args.begin());
      if (args.size() > 1) {
        std::cerr << "error: tvm help takes at most one command name\n";
        return 2;
      }
      args.push_back("--help");
    }
    size_t k = 0;  // the first word after the global flags
    while (k < args.size() && is_global_flag(args[k])) ++k;
    if (k < args.size()) {
      const std::string first = args[k];
      bool is_subcommand = false;
      for (const CLI::App* sub : app.get_subcommands({})) is_subcommand |= sub->check_name(first);  // names and aliases
      if (first.rfind('-', 0) == 0 && !is_global_flag(first)) {
        std::cerr << "error: unknown option '" << first << "' (tvm --help lists the commands and their options)\n";
        return 2;
      }
      // `tvm PROGRAM ...` is `tvm run PROGRAM ...`: insert "run" when the first word is neither a
      // subcommand nor a flag.
      if (!is_subcommand && first.rfind('-', 0) != 0) args.insert(args.begin() + static_cast<std::ptrdiff_t>(k), "run");
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments reversed
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
      std::cerr << "error: " << e.what() << "\n";
      return 2;
    }
    if (verbose && quiet) throw ptvm::Error(ptvm::ErrorCategory::Usage, "-v and -q exclude each other");
    tvm_cli::verbosity() = quiet ? tvm_cli::Verbosity::Quiet : verbose ? tvm_cli::Verbosity::Verbose : tvm_cli::Verbosity::Normal;
    ptvm::configured_thread_count();  // a bad PTVM_THREADS is a usage error before any work
    for (const tvm_cli::Action& action : actions) {
      int code = action();
      if (code >= 0) return code;
    }
    std::cerr << "error: no command given (try tvm --help)\n";
    return 2;
  } catch (const ptvm::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_code(e.category());
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return 1;
  }
}
