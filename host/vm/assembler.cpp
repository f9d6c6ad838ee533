// The .tvm assembler (ISA.md "Source syntax"). Two passes: the first parses every line, records
// label values and the instructions with their operand text; the second resolves branch targets.
#include "ptvm/vm/assembler.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "ptvm/common/error.hpp"

namespace ptvm::vm {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Quotes a token for an error message, escaping bytes that are not printable ASCII.
std::string quote_token(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  if (s.size() > 64) out += "...";
  return out + "'";
}

bool is_label_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

// A decimal number with one optional leading sign. '-' only where `allow_minus`.
// Returns nullopt when the text is not a number at all; values too large to hold saturate so
// that the caller's range check reports them.
std::optional<int64_t> parse_decimal(std::string_view s, bool allow_minus) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || (allow_minus && s.front() == '-'))) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (value < (int64_t{1} << 40)) value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

struct Pending {
  Instruction instruction;
  std::string target_label;  // non-empty: the operand is a label resolved in pass two
};

class Assembler {
 public:
  explicit Assembler(std::string_view name) : name_(name) {}

  Program assemble(std::string_view source) {
    uint32_t line_number = 0;
    size_t pos = 0;
    while (pos <= source.size()) {
      size_t end = source.find('\n', pos);
      if (end == std::string_view::npos) end = source.size();
      ++line_number;
      line_ = line_number;
      parse_line(source.substr(pos, end - pos));
      if (end == source.size()) break;
      pos = end + 1;
    }
    return finish();
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { fail_at(line_, reason); }
  [[noreturn]] void fail_at(uint32_t line, const std::string& reason) const {
    throw Error(ErrorCategory::Parse, name_ + ":" + std::to_string(line) + ": " + reason);
  }

  void parse_line(std::string_view line) {
    size_t comment = line.find_first_of(";#");
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    line = trim(line);
    if (line.empty()) return;

    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view label = trim(line.substr(0, colon));
      if (!is_label_name(label)) {
        fail("invalid label name " + quote_token(label) +
             " (labels use ASCII letters, digits, '_' and '-')");
      }
      std::string key(label);
      auto found = labels_.find(key);
      if (found != labels_.end()) {
        fail("duplicate label " + quote_token(label) + " (first defined on line " +
             std::to_string(found->second.line) + ")");
      }
      labels_.emplace(key, LabelDef{pending_.size(), line_});
      line = trim(line.substr(colon + 1));
      if (line.empty()) return;
    }

    std::vector<std::string_view> tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) ++i;
      size_t start = i;
      while (i < line.size() && !is_space(line[i])) ++i;
      if (i > start) {
        std::string_view token = line.substr(start, i - start);
        if (token.back() == ',') token.remove_suffix(1);  // one trailing comma is ignored
        tokens.push_back(token);
      }
    }
    if (tokens.empty()) return;

    std::string head = upper(tokens[0]);
    if (!head.empty() && head[0] == '.') {
      parse_directive(head, tokens);
    } else {
      parse_instruction(head, tokens);
    }
  }

  void expect_operands(std::string_view what, const std::vector<std::string_view>& tokens,
                       size_t count) {
    if (tokens.size() - 1 != count) {
      fail("wrong operand count: " + std::string(what) + " expects " + std::to_string(count) +
           " operand" + (count == 1 ? "" : "s") + ", got " + std::to_string(tokens.size() - 1));
    }
  }

  void parse_directive(const std::string& head, const std::vector<std::string_view>& tokens) {
    if (head == ".MEMORY") {
      expect_operands(".memory", tokens, 1);
      auto n = parse_decimal(tokens[1], false);
      if (!n) fail("bad memory size " + quote_token(tokens[1]) + " (expected a decimal number)");
      if (*n > static_cast<int64_t>(kMaxMemory)) {
        fail("memory too large: " + std::string(tokens[1]) + " cells (at most " +
             std::to_string(kMaxMemory) + ")");
      }
      memory_.assign(static_cast<size_t>(*n), 0);
    } else if (head == ".INIT") {
      expect_operands(".init", tokens, 2);
      auto address = parse_decimal(tokens[1], false);
      if (!address) fail("bad .init address " + quote_token(tokens[1]) + " (expected 0..255)");
      auto value = parse_decimal(tokens[2], true);
      if (!value || *value < -32768 || *value > 32767) {
        fail("bad immediate " + quote_token(tokens[2]) + " in .init (expected an i16, -32768..32767)");
      }
      if (*address >= static_cast<int64_t>(memory_.size())) {
        fail(".init out of bounds: address " + std::string(tokens[1]) + " >= memory size " +
             std::to_string(memory_.size()));
      }
      memory_[static_cast<size_t>(*address)] = static_cast<int16_t>(*value);
    } else {
      fail("unknown directive " + quote_token(tokens[0]) + " (expected .memory or .init)");
    }
  }

  void parse_instruction(const std::string& head, const std::vector<std::string_view>& tokens) {
    const OpcodeInfo* info = nullptr;
    for (const OpcodeInfo& candidate : kOpcodeTable) {
      if (candidate.mnemonic == head) info = &candidate;
    }
    if (info == nullptr) fail("unknown instruction " + quote_token(tokens[0]));
    if (pending_.size() >= kMaxInstructions) {
      fail("too many instructions: at most " + std::to_string(kMaxInstructions) +
           " (the pc is 8-bit)");
    }
    Pending p;
    p.instruction.op = info->op;
    p.instruction.line = line_;
    std::string_view mnemonic = info->mnemonic;
    switch (info->operand) {
      case OperandKind::None:
        expect_operands(mnemonic, tokens, 0);
        break;
      case OperandKind::Immediate: {
        expect_operands(mnemonic, tokens, 1);
        auto v = parse_decimal(tokens[1], true);
        if (!v || *v < -32768 || *v > 32767) {
          fail("bad immediate " + quote_token(tokens[1]) + " for " + std::string(mnemonic) +
               " (expected an i16, -32768..32767)");
        }
        p.instruction.operand = static_cast<int32_t>(*v);
        break;
      }
      case OperandKind::Address: {
        expect_operands(mnemonic, tokens, 1);
        auto v = parse_decimal(tokens[1], false);
        if (!v || *v > 255) {
          fail("bad address " + quote_token(tokens[1]) + " for " + std::string(mnemonic) +
               " (expected 0..255)");
        }
        p.instruction.operand = static_cast<int32_t>(*v);
        break;
      }
      case OperandKind::Target: {
        expect_operands(mnemonic, tokens, 1);
        // A target is a number if it parses as one, else a label.
        auto v = parse_decimal(tokens[1], false);
        if (v) {
          if (*v > 255) {
            fail("bad branch target " + quote_token(tokens[1]) + " for " + std::string(mnemonic) +
                 " (expected 0..255 or a label)");
          }
          p.instruction.operand = static_cast<int32_t>(*v);
        } else {
          p.target_label = std::string(tokens[1]);
        }
        break;
      }
    }
    pending_.push_back(std::move(p));
  }

  Program finish() {
    Program program;
    program.source_name = name_;
    program.initial_memory = memory_;
    program.instructions.reserve(pending_.size());
    for (Pending& p : pending_) {
      if (!p.target_label.empty()) {
        auto found = labels_.find(p.target_label);
        if (found == labels_.end()) {
          fail_at(p.instruction.line, "unknown label " + quote_token(p.target_label));
        }
        if (found->second.value > 255) {
          fail_at(p.instruction.line, "label " + quote_token(p.target_label) + " resolves to " +
                                          std::to_string(found->second.value) +
                                          ", beyond the 8-bit pc (0..255)");
        }
        p.instruction.operand = static_cast<int32_t>(found->second.value);
      }
      program.instructions.push_back(p.instruction);
    }
    return program;
  }

  struct LabelDef {
    size_t value;
    uint32_t line;
  };
  std::string name_;
  uint32_t line_ = 0;
  std::vector<int16_t> memory_ = std::vector<int16_t>(kDefaultMemory, 0);
  std::vector<Pending> pending_;
  std::unordered_map<std::string, LabelDef> labels_;
};

}  // namespace

Program assemble_source(std::string_view source, std::string_view source_name) {
  return Assembler(source_name).assemble(source);
}

Program assemble_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(ErrorCategory::Io, path + ": is a directory, not a program file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::Io, path + ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(ErrorCategory::Io, path + ": read error");
  return assemble_source(buffer.str(), path);
}

}  // namespace ptvm::vm
