// The compiled transformer as ONNX models, and an independent check of them with ONNX Runtime.
//
// export_onnx writes, into one folder:
//   state_encoding.onnx   inputs pc, acc, zero_flag, carry_flag, halted, sp, operand (int64 [1]
//                         each) -> x (int64 [41]): ptvm::vm::make_ffn_input, bits of the u16 views
//                         computed with Add/Mod/Div, concatenated in the order of FfnInput
//   blocks/pc_NNN.onnx    one model per instruction (per pc): x (int64 [41]) -> y (int64 [6]),
//                         exactly the block's FFN, y = Wo ((Wg x + bg) * (Wv x + bv)) + bo, with
//                         the dense weights of CompiledModel::dense_block (MatMul, Add, Mul only)
//   metadata.json         shapes, the input/output layouts, the program hash and the claim's
//                         identities, the layer banks, and per pc the block's file, instruction,
//                         operand source, flag rule, stack check and halt bit (what a runner must
//                         do outside the FFN, ISA.md "The compiled transformer")
// Every tensor is int64 (ONNX Runtime's CPU provider runs MatMul/Add/Mul/Mod/Div/Concat on it), so
// every value is exact; the exporter also bounds every intermediate of every block from the input
// ranges and refuses one that could reach 2^53 (so even a double evaluation would be exact).
// ONNX IR version 8, default-domain opset 13. The files are written with the onnx protobuf
// classes of libonnx-dev.
//
// verify_with_onnx runs tools/onnx_check/check.mjs (Node.js + onnxruntime-node) on a fresh export
// and the native interpreter's trace: the script steps the exported models with ONNX Runtime,
// does what lies outside the FFN itself (written from ISA.md, not from the C++ engines) and
// compares every step's state and memory access.
#pragma once
#include <cstdint>
#include <string>

#include "ptvm/vm/isa.hpp"

namespace tvm_cli {

// Writes the models and metadata.json into `dir` (created if needed; existing files of the same
// names are replaced, blocks/pc_NNN.onnx past the program's last pc removed). `layers` (1..256)
// partitions the pcs into banks as the compiler does; the models do not depend on it, metadata.json
// records the banks and the identities for it. Throws ptvm::Error: Usage (bad layers or program),
// Io (cannot write).
void export_onnx(const ptvm::vm::Program& program, int layers, const std::string& dir);

struct OnnxVerdict {
  enum Kind { Agreed, Diverged, Unavailable } kind;
  // Agreed: the script's summary ("onnx check: P: 148 steps agree with the native trace ...");
  // Diverged: the first differing step and field;
  // Unavailable: why the check could not run (no node, onnxruntime-node not installable) and how
  // to fix it.
  std::string message;
};

// Exports `program_path` to a temporary folder, runs the native interpreter for at most
// `max_steps` steps (average-hard attention) and runs the ONNX check against its trace. The
// script is found through $PTVM_ONNX_CHECK_SCRIPT, else the source tree this binary was built
// from (tools/onnx_check/check.mjs), else ../share/ptvm/onnx_check/check.mjs next to the
// executable; node through $PTVM_NODE, else PATH. onnxruntime-node is installed with npm into
// $PTVM_ONNX_CACHE (default: onnx_check/ in the build tree). The temporary folder is removed,
// except after a divergence (the message names it).
// Throws ptvm::Error for input errors (unreadable program, a native runtime error) and when the
// script fails for another reason than a divergence or a missing runtime.
OnnxVerdict verify_with_onnx(const std::string& program_path, uint64_t max_steps, int layers);

} // namespace tvm_cli
