// tvm run PROGRAM [--engine transformer|native|tensor] [--verify-native] [--verify-tensor]
//                 [--tensor-device cpu|hostsim|gpu|gpu-own] [--max-steps N]
//                 [--attention-mode MODE] [--layers N] [--trace] [--json] [--progress]
// The transformer engine is the default, as in the original.
#include <iostream>
#include <memory>

#include "cli_common.hpp"
#include "commands.hpp"
#include "onnx_export.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/format.hpp"
#include "run_output.hpp"
#include "tensor_device.hpp"

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
  bool verify_tensor = false;
  bool verify_onnx = false;
  bool verify_all = false;
  std::string tensor_device = "cpu";
};
}  // namespace

Action add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArguments>();
  CLI::App* run = app.add_subcommand("run", "Run a .tvm program and print its final state");
  run->add_option("program", args->program, "the .tvm program")->required()->type_name("PROGRAM");
  run->add_option("--engine", args->engine, "transformer (default), native or tensor")->type_name("NAME");
  run->add_flag("--verify-native", args->verify_native,
                "step the native interpreter in lockstep and compare every step");
  run->add_flag("--verify-tensor", args->verify_tensor,
                "step the tensor engine (dense FP64 GEMMs of the weights) in lockstep and compare every step");
  run->add_option("--tensor-device", args->tensor_device,
                  "where the tensor engine's FP64 GEMMs run (exact on every device): cpu (default), hostsim "
                  "(the GPU kernel run on the CPU), gpu (cuBLAS), gpu-own (the project's kernel on the GPU)")
      ->type_name("DEVICE");
  run->add_flag("--verify-onnx", args->verify_onnx,
                "also run the exported ONNX models with ONNX Runtime (tools/onnx_check) and compare every step");
  run->add_flag("--verify-all", args->verify_all,
                "every engine in lockstep (native and tensor beside the chosen one), then the ONNX check if its "
                "runtime is installed");
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
              "  tvm run programs/fibonacci.tvm --verify-all\n"
              "  tvm run programs/fibonacci.tvm --engine tensor --tensor-device hostsim --verify-native\n"
              "Exit codes: 0 ok, 1 runtime or input error, 2 usage, 3 engines diverged (--verify-*).");
  return [run, args]() -> int {
    if (!run->parsed()) return -1;
    RunReport report;
    report.program = args->program;
    report.options.engine = ptvm::vm::parse_engine_kind(args->engine);
    report.options.verify_native = args->verify_native || args->verify_all;
    report.options.verify_tensor = args->verify_tensor || args->verify_all;
    report.options.max_steps = args->max_steps;
    report.options.attention = ptvm::vm::parse_attention_mode(args->attention_mode);
    report.options.layers = args->layers;
    report.options.record_trace = args->trace;
    check_layers(args->layers);
    report.options.tensor_ffn = select_tensor_device(args->tensor_device);
    if (report.options.engine == ptvm::vm::EngineKind::Tensor || report.options.verify_tensor)
      report.options.tensor_device = args->tensor_device;
    else if (args->tensor_device != "cpu")
      warn("--tensor-device " + args->tensor_device + " has no effect without --engine tensor or --verify-tensor");
    if (progress_enabled(args->progress)) {
      report.options.on_progress = [](uint64_t steps) { progress("run", std::to_string(steps) + " steps"); };
    }
    ptvm::vm::Program program = ptvm::vm::assemble_file(args->program);
    report.result = ptvm::vm::run(program, report.options);
    // Which engines agreed with the chosen one, step by step.
    std::vector<std::string> verified;
    if (report.options.verify_native && report.options.engine != ptvm::vm::EngineKind::Native) verified.push_back("native");
    if (report.options.verify_tensor && report.options.engine != ptvm::vm::EngineKind::Tensor) verified.push_back("tensor");
    std::string onnx_note;
    if (args->verify_onnx || args->verify_all) {
      const OnnxVerdict onnx = verify_with_onnx(args->program, args->max_steps, static_cast<int>(args->layers));
      if (onnx.kind == OnnxVerdict::Diverged)
        throw ptvm::Error(ptvm::ErrorCategory::Divergence, "onnx: " + onnx.message);
      if (onnx.kind == OnnxVerdict::Agreed) {
        verified.push_back("onnx");
      } else if (args->verify_onnx) {
        throw ptvm::Error(ptvm::ErrorCategory::Io, "--verify-onnx: the ONNX check cannot run here: " + onnx.message);
      } else {
        onnx_note = onnx.message;
        warn("--verify-all: the ONNX check was skipped: " + onnx.message);
      }
    }
    if (args->json) {
      nlohmann::ordered_json j = report_json(report, args->trace);
      if (!verified.empty() || !onnx_note.empty()) j["verified_with"] = verified;
      if (!onnx_note.empty()) j["onnx_skipped"] = onnx_note;
      std::cout << ptvm::dump_json_safe(j) << "\n";
    } else {
      std::cout << report_text(report, args->trace);
      if (!verified.empty()) std::cout << "verified_with: " << format_value(nlohmann::ordered_json(verified)) << "\n";
    }
    return 0;
  };
}

}  // namespace tvm_cli
