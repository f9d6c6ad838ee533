// libFuzzer target: arbitrary bytes through the assembler; whatever assembles is run for a bounded
// number of steps on the native engine and on the transformer engine in lockstep with native (in
// a mode picked from the input). A ptvm::Error of category Parse, Runtime or Usage is the expected
// outcome of bad input; anything else (a divergence, an internal error, a crash, a sanitizer
// report, another exception type) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "ptvm/common/error.hpp"
#include "ptvm/vm/assembler.hpp"
#include "ptvm/vm/runner.hpp"

namespace {

void expect_input_error(const ptvm::Error& e) {
  switch (e.category()) {
    case ptvm::ErrorCategory::Parse:
    case ptvm::ErrorCategory::Runtime:
    case ptvm::ErrorCategory::Usage:
      return;
    default:
      std::fprintf(stderr, "unexpected %s error: %s\n", ptvm::category_name(e.category()), e.what());
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  ptvm::vm::Program program;
  try {
    program = ptvm::vm::assemble_source(source, "<fuzz>");
  } catch (const ptvm::Error& e) {
    expect_input_error(e);
    return 0;
  }
  // The attention mode comes from the input so the fuzzer can reach the soft paths too.
  uint32_t selector = 0;
  for (size_t i = 0; i < size; ++i) selector = selector * 31 + data[i];
  ptvm::vm::RunOptions options;
  options.max_steps = 2000;
  options.record_trace = false;
  if (selector % 4 == 1) options.attention = {ptvm::vm::AttentionMode::Kind::Softmax, 1.0};
  if (selector % 4 == 2) options.attention = {ptvm::vm::AttentionMode::Kind::HardSoftmax, 0.5 + selector % 16};
  try {
    ptvm::vm::run(program, options);
  } catch (const ptvm::Error& e) {
    expect_input_error(e);
  }
  options.engine = ptvm::vm::EngineKind::Transformer;
  options.verify_native = true;
  options.max_steps = 300;
  options.layers = 1 + static_cast<int>(selector % 3);
  try {
    ptvm::vm::run(program, options);
  } catch (const ptvm::Error& e) {
    expect_input_error(e);
  }
  return 0;
}
