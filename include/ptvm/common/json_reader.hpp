// The one reader discipline for every JSON file ptvm accepts from others (proof files, claims,
// STARK proofs, batch manifests, and every proof kind added later):
//   * the size is checked before anything is parsed;
//   * nesting is bounded (no recursion anywhere can be driven deep by the input);
//   * a key that appears twice in one object is an error (a "last one wins" reader and a "first
//     one wins" reader would otherwise see two different statements);
//   * strings must be valid UTF-8 (nlohmann's lexer checks), and no message quotes raw input
//     bytes, so every error can be printed inside JSON output.
// Errors are ptvm::Error(Parse) that name what was read and the byte offset or the field.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ptvm {

struct JsonLimits {
  size_t max_bytes = size_t{64} << 20;  // the text as a whole
  size_t max_depth = 32;                // nested objects/arrays; ptvm's formats need at most 6
};

// Parses `text` under `limits`; `what` names the input in messages ("proof file", "manifest
// m.json"). Throws ptvm::Error(Parse).
nlohmann::json parse_json_strict(std::string_view text, std::string_view what, const JsonLimits& limits = {});

// A whole file of at most `max_bytes`, its size checked before anything is allocated: a directory
// (Io "is a directory"), a missing file (Io "cannot open <what>") and a larger file (Parse
// "oversized <what>") are errors naming `path`.
std::string read_file_limited(const std::string& path, size_t max_bytes, const std::string& what);

// Untrusted bytes made safe to quote in a message: printable ASCII is kept, every other byte
// becomes \xNN; longer input is cut at `max_bytes` and marked with "...".
std::string printable_bytes(std::string_view bytes, size_t max_bytes = 120);

// json.dump() that never throws on invalid UTF-8 (such bytes become U+FFFD): for output that
// quotes file names or other text that did not come through parse_json_strict.
template <class Json>
std::string dump_json_safe(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ptvm
