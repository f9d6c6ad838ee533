// tvm run PROGRAM [--engine transformer|native] [--verify-native] [--max-steps N]
//                 [--attention-mode MODE] [--layers N] [--trace] [--json] [--progress]
// The transformer engine is the default, as in the original.
#include <iostream>
#include <memory>

#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "run_output.hpp"

namespace tvm_cli {

namespace {
struct RunArguments {
  std::string program;
  std::string engine = "transformer";
  bool verify_native = false;
  uint64_t max_steps = ptvm::vm::kDefaultMaxSteps;
  std::string attention_mode = "average-hard";
  int layers = 1;
  bool trace = false;
  bool json = false;
  bool progress = false;
};
}  // namespace

Action add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArguments>();
  CLI::App* run = app.add_subcommand("run", "Run a .tvm program and print its final state");
  run->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  run->add_option("--engine", args->engine, "transformer (default) or native")->type_name("NAME");
  run->add_flag("--verify-native", args->verify_native,
                "step the native interpreter in lockstep and compare every step");
  run->add_option("--max-steps", args->max_steps, "stop after this many steps (default 512)")
      ->check(non_negative_integer())
      ->type_name("N");
  run->add_option("--attention-mode", args->attention_mode,
                  "average-hard (default), softmax or hard-softmax:T")
      ->type_name("MODE");
  run->add_option("--layers", args->layers, "transformer layers (instruction banks), 1..256 (default 1)")
      ->type_name("N");
  run->add_flag("--trace", args->trace, "also print every step");
  run->add_flag("--json", args->json, "print one JSON object");
  run->add_flag("--progress", args->progress, "print the steps done on stderr every 2^16 steps");
  run->footer("Examples:\n"
              "  tvm run programs/fibonacci.tvm\n"
              "  tvm run programs/fibonacci.tvm --engine native --trace --json\n"
              "  tvm programs/fibonacci.tvm --verify-native   (run is the default command)\n"
              "Exit codes: 0 ok, 1 runtime or input error, 2 usage, 3 engines diverged (--verify-native).");
  return [run, args]() -> int {
    if (!run->parsed()) return -1;
    RunReport report;
    report.program = args->program;
    report.options.engine = ptvm::vm::parse_engine_kind(args->engine);
    report.options.verify_native = args->verify_native;
    report.options.max_steps = args->max_steps;
    report.options.attention = ptvm::vm::parse_attention_mode(args->attention_mode);
    report.options.layers = args->layers;
    report.options.record_trace = args->trace;
    check_layers(args->layers);
    if (progress_enabled(args->progress)) {
      report.options.on_progress = [](uint64_t steps) { progress("run", std::to_string(steps) + " steps"); };
    }
    ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    report.result = ptvm::vm::run(program, report.options);
    if (args->json) {
      std::cout << ptvm::dump_json_safe(report_json(report, args->trace)) << "\n";
    } else {
      std::cout << report_text(report, args->trace);
    }
    return 0;
  };
}

}  // namespace tvm_cli
