// The .tvm assembler: source text -> Program (ISA.md "Source syntax").
// Every malformed input is rejected with ptvm::Error(ErrorCategory::Parse) whose message is
// "<file>:<line>: <reason>"; the assembler never crashes on any byte string.
#pragma once
#include <string>
#include <string_view>

#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {

// Assembles source text. `source_name` names the input in error messages and in Program.
Program assemble_source(std::string_view source, std::string_view source_name = "<memory>");

// Reads and assembles a file (ErrorCategory::Io when it cannot be read).
Program assemble_file(const std::string& path);

}  // namespace ptvm::vm
