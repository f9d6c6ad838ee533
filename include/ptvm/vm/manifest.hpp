// Batch manifests: the one reader of `tvm run-batch` and `tvm prove-batch` job lists.
//
// A manifest is a JSON list of jobs {"program": PATH, "max_steps": N, "engine": E,
// "attention_mode": M, "initial_memory": [..], "layers": N, "verify_native": B}; only "program"
// is required and PATH is relative to the manifest's folder. It is read with the strict JSON
// discipline (ptvm/common/json_reader.hpp: size, depth, duplicate keys). A problem with the file
// as a whole throws ptvm::Error(Parse or Io); a problem with one job (a bad field, a wrong type, a
// value out of range) is that job's error, and the other jobs go on.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptvm/vm/engine.hpp"
#include "ptvm/vm/runner.hpp"

namespace ptvm::vm {

inline constexpr size_t kMaxManifestBytes = size_t{16} << 20;
inline constexpr size_t kMaxManifestJobs = size_t{1} << 20;

// Which command reads it: proofs always run transformer + native in lockstep with average-hard
// attention, so a prove manifest refuses "engine", "attention_mode" and "verify_native".
enum class ManifestKind { Run, Prove };

struct ManifestJob {
  std::string program;                  // as written in the manifest
  std::filesystem::path program_path;   // resolved against the manifest's folder
  std::optional<uint64_t> max_steps;
  std::optional<EngineKind> engine;
  std::optional<AttentionMode> attention;
  std::optional<std::vector<int16_t>> initial_memory;  // replaces the program's memory
  std::optional<int> layers;                            // 1..256
  std::optional<bool> verify_native;
};

struct ManifestEntry {
  std::string program;             // as written, when it could be read ("" otherwise)
  std::optional<ManifestJob> job;  // set when the entry is a valid job
  std::string error;               // "job i: field 'x' ..." otherwise
};

// `name` labels messages (usually the file name); `base` resolves relative program paths.
std::vector<ManifestEntry> parse_manifest(std::string_view text, const std::string& name,
                                          const std::filesystem::path& base, ManifestKind kind);
// Reads the file (a directory, a missing file, an oversized file are errors naming it) and parses it.
std::vector<ManifestEntry> read_manifest_file(const std::string& path, ManifestKind kind);

}  // namespace ptvm::vm
