// Batch manifests (see ptvm/vm/manifest.hpp).
#include "ptvm/vm/manifest.hpp"


#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/format.hpp"
#include "ptvm/vm/isa.hpp"

namespace ptvm::vm {
namespace {

using nlohmann::json;

struct JobError {
  std::string message;
};

ManifestJob parse_job(const json& entry, const std::filesystem::path& base, ManifestKind kind, std::string& program) {
  auto fail = [](const std::string& why) { return JobError{why}; };
  if (!entry.is_object()) throw fail("a job must be a JSON object");
  static const char* const kKeys[] = {"program", "max_steps", "engine", "attention_mode",
                                      "initial_memory", "layers", "verify_native"};
  for (const auto& [key, value] : entry.items()) {
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) throw fail("unknown field '" + printable_bytes(key) + "'");
    if (kind == ManifestKind::Prove && (key == "engine" || key == "attention_mode" || key == "verify_native"))
      throw fail("field '" + key +
                 "' is not accepted by prove-batch (proofs always run the transformer and the native "
                 "interpreter in lockstep with average-hard attention)");
  }
  auto it = entry.find("program");
  if (it == entry.end() || !it->is_string()) throw fail("field 'program' (a path string) is required");
  program = it->get<std::string>();
  if (program.empty()) throw fail("field 'program' is empty");
  ManifestJob job;
  job.program = program;
  job.program_path = std::filesystem::path(program);
  if (job.program_path.is_relative()) job.program_path = base / job.program_path;
  if (auto v = entry.find("max_steps"); v != entry.end()) {
    if (!v->is_number_unsigned()) throw fail("field 'max_steps' must be a non-negative integer");
    job.max_steps = v->get<uint64_t>();
  }
  if (auto v = entry.find("engine"); v != entry.end()) {
    if (!v->is_string()) throw fail("field 'engine' must be a string");
    try {
      job.engine = parse_engine_kind(v->get<std::string>());
    } catch (const Error& e) {
      throw fail("field 'engine': " + std::string(e.what()));
    }
  }
  if (auto v = entry.find("attention_mode"); v != entry.end()) {
    if (!v->is_string()) throw fail("field 'attention_mode' must be a string");
    try {
      job.attention = parse_attention_mode(v->get<std::string>());
    } catch (const Error& e) {
      throw fail("field 'attention_mode': " + std::string(e.what()));
    }
  }
  if (auto v = entry.find("layers"); v != entry.end()) {
    if (!v->is_number_unsigned() || v->get<uint64_t>() < 1 || v->get<uint64_t>() > 256)
      throw fail("field 'layers' must be an integer in 1..256");
    job.layers = static_cast<int>(v->get<uint64_t>());
  }
  if (auto v = entry.find("verify_native"); v != entry.end()) {
    if (!v->is_boolean()) throw fail("field 'verify_native' must be true or false");
    job.verify_native = v->get<bool>();
  }
  if (auto v = entry.find("initial_memory"); v != entry.end()) {
    if (!v->is_array()) throw fail("field 'initial_memory' must be a list of i16 values");
    if (v->size() > kMaxMemory)
      throw fail("field 'initial_memory' has " + std::to_string(v->size()) + " cells (at most 255)");
    std::vector<int16_t> memory;
    for (const json& cell : *v) {
      const bool in_range = cell.is_number_unsigned() ? cell.get<uint64_t>() <= 32767
                            : cell.is_number_integer() ? cell.get<int64_t>() >= -32768 && cell.get<int64_t>() <= 32767
                                                       : false;
      if (!in_range) throw fail("field 'initial_memory' must hold integers in -32768..32767");
      memory.push_back(static_cast<int16_t>(cell.get<int64_t>()));
    }
    job.initial_memory = std::move(memory);
  }
  return job;
}

}  // namespace

std::vector<ManifestEntry> parse_manifest(std::string_view text, const std::string& name,
                                          const std::filesystem::path& base, ManifestKind kind) {
  const json manifest = parse_json_strict(text, name, JsonLimits{kMaxManifestBytes});
  if (!manifest.is_array()) throw Error(ErrorCategory::Parse, name + ": the manifest must be a JSON list of jobs");
  if (manifest.size() > kMaxManifestJobs)
    throw Error(ErrorCategory::Parse, name + ": " + std::to_string(manifest.size()) + " jobs, at most " +
                                          std::to_string(kMaxManifestJobs));
  std::vector<ManifestEntry> entries(manifest.size());
  for (size_t i = 0; i < manifest.size(); ++i) {
    try {
      entries[i].job = parse_job(manifest[i], base, kind, entries[i].program);
    } catch (const JobError& e) {
      entries[i].error = "job " + std::to_string(i) + ": " + e.message;
    }
  }
  return entries;
}

std::vector<ManifestEntry> read_manifest_file(const std::string& path, ManifestKind kind) {
  const std::string text = read_file_limited(path, kMaxManifestBytes, "manifest");
  return parse_manifest(text, path, std::filesystem::path(path).parent_path(), kind);
}

}  // namespace ptvm::vm
