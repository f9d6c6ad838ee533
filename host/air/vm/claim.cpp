// Claim JSON, canonical JSON identities and the claim digest (see ptvm/vmair/claim.hpp).
#include "ptvm/vmair/claim.hpp"

#include <algorithm>
#include <set>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/vm/format.hpp"

namespace ptvm::vmair {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& field, const std::string& why) {
  throw Error(ErrorCategory::Parse, "claim: " + field + ": " + why);
}

const json& member(const json& obj, const std::string& path, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path + key, "missing");
  return *it;
}

void expect_keys(const json& obj, const std::string& path, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) fail(path.empty() ? "claim" : path, "expected an object");
  std::set<std::string> allowed(keys.begin(), keys.end());
  for (const auto& [k, v] : obj.items())
    if (!allowed.count(k)) fail(path + printable_bytes(k), "unknown field");
}

int64_t get_int(const json& obj, const std::string& path, const char* key, int64_t lo, int64_t hi) {
  const json& v = member(obj, path, key);
  if (!v.is_number_integer()) fail(path + key, "expected an integer");
  int64_t x;
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) fail(path + key, "out of range");
    x = static_cast<int64_t>(u);
  } else {
    x = v.get<int64_t>();
  }
  if (x < lo || x > hi) fail(path + key, std::to_string(x) + " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return x;
}

bool get_bool(const json& obj, const std::string& path, const char* key) {
  const json& v = member(obj, path, key);
  if (!v.is_boolean()) fail(path + key, "expected true or false");
  return v.get<bool>();
}

std::string get_string(const json& obj, const std::string& path, const char* key) {
  const json& v = member(obj, path, key);
  if (!v.is_string()) fail(path + key, "expected a string");
  return v.get<std::string>();
}

std::vector<int16_t> get_memory(const json& obj, const std::string& path, const char* key) {
  const json& v = member(obj, path, key);
  if (!v.is_array()) fail(path + key, "expected an array");
  if (v.size() > vm::kMaxMemory) fail(path + key, "more than 255 cells");
  std::vector<int16_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + key + "[" + std::to_string(i) + "]";
    if (!v[i].is_number_integer()) fail(at, "expected an integer");
    int64_t x = v[i].is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(v[i].get<uint64_t>(), 1u << 20))
                                          : v[i].get<int64_t>();
    if (x < -32768 || x > 32767) fail(at, "outside i16");
    out.push_back(static_cast<int16_t>(x));
  }
  return out;
}

vm::Program program_from_original_json(const json& p, const std::string& path) {
  expect_keys(p, path, {"instructions", "initial_memory"});
  vm::Program program;
  program.source_name = "<claim>";
  const json& ins = member(p, path, "instructions");
  if (!ins.is_array()) fail(path + "instructions", "expected an array");
  if (ins.empty() || ins.size() > vm::kMaxInstructions) fail(path + "instructions", "needs 1..256 instructions");
  for (size_t i = 0; i < ins.size(); ++i) {
    const std::string at = path + "instructions[" + std::to_string(i) + "]";
    const json& e = ins[i];
    vm::Instruction out;
    bool found = false;
    if (e.is_string()) {
      const std::string name = e.get<std::string>();
      for (const auto& info : vm::kOpcodeTable)
        if (info.operand == vm::OperandKind::None && info.original_name == name) {
          out.op = info.op;
          found = true;
        }
    } else if (e.is_object() && e.size() == 1) {
      const std::string name = e.begin().key();
      for (const auto& info : vm::kOpcodeTable)
        if (info.operand != vm::OperandKind::None && info.original_name == name) {
          out.op = info.op;
          const bool imm = info.operand == vm::OperandKind::Immediate;
          out.operand = static_cast<int32_t>(get_int(e, at + ".", name.c_str(), imm ? -32768 : 0, imm ? 32767 : 255));
          found = true;
        }
    }
    if (!found) fail(at, "not an instruction in the original's encoding");
    program.instructions.push_back(out);
  }
  program.initial_memory = get_memory(p, path, "initial_memory");
  return program;
}

json attention_json(const vm::AttentionMode& a) {
  switch (a.kind) {
    case vm::AttentionMode::Kind::AverageHard: return "AverageHard";
    case vm::AttentionMode::Kind::Softmax: return "Softmax";
    case vm::AttentionMode::Kind::HardSoftmax: return json{{"HardSoftmax", json{{"temperature", a.temperature}}}};
  }
  return "AverageHard";
}

json state_json(const vm::MachineState& s, const std::vector<int16_t>& memory) {
  return json{{"pc", s.pc},           {"acc", s.acc},         {"sp", s.sp},
              {"zero_flag", s.zero_flag}, {"carry_flag", s.carry_flag}, {"halted", s.halted},
              {"memory", memory}};
}

}  // namespace

json original_program_json(const vm::Program& program) {
  json ins = json::array();
  for (const auto& i : program.instructions) {
    const auto& info = vm::opcode_info(i.op);
    if (info.operand == vm::OperandKind::None)
      ins.push_back(std::string(info.original_name));
    else
      ins.push_back(json{{std::string(info.original_name), i.operand}});
  }
  json mem = json::array();
  for (int16_t v : program.initial_memory) mem.push_back(v);
  return json{{"instructions", ins}, {"initial_memory", mem}};
}

json original_transformer_config_json(const vm::TransformerConfig& c, const vm::AttentionMode& attention) {
  return json{{"d_model", c.d_model},   {"num_heads", c.num_heads},     {"num_layers", c.num_layers},
              {"vocab_size", c.vocab_size}, {"max_seq_len", c.max_seq_len}, {"ff_dim", c.ff_dim},
              {"attention_mode", attention_json(attention)}};
}

std::string canonical_json(const json& value) { return value.dump(); }  // json sorts keys

ClaimIdentities compute_identities(const vm::Program& program, const vm::TransformerConfig& config,
                                   const vm::AttentionMode& attention) {
  const json p = original_program_json(program);
  const json c = original_transformer_config_json(config, attention);
  ClaimIdentities id;
  id.program_hash = hash::blake2b_256(canonical_json(json{{"version", "v1"}, {"program", p}})).hex();
  id.transformer_config_hash =
      hash::blake2b_256(canonical_json(json{{"version", "v1"}, {"transformer_config", c}})).hex();
  id.deterministic_model_hash =
      hash::blake2b_256(canonical_json(json{{"version", "v1"}, {"program", p}, {"transformer_config", c}})).hex();
  return id;
}

vm::TransformerConfig provable_transformer_config(int num_layers) {
  vm::TransformerConfig config;
  config.num_layers = num_layers;
  return config;
}

std::optional<std::string> check_transformer_config(const vm::TransformerConfig& config) {
  if (config.num_layers < 1 || config.num_layers > static_cast<int>(vm::kMaxInstructions))
    return "transformer_config.num_layers " + std::to_string(config.num_layers) + " outside 1.." +
           std::to_string(vm::kMaxInstructions);
  const vm::TransformerConfig built = provable_transformer_config(config.num_layers);
  auto differs = [](const char* field, int claimed, int expected) {
    return std::string("transformer_config.") + field + " " + std::to_string(claimed) +
           " is not a configuration the compiler builds (it builds " + std::to_string(expected) + ")";
  };
  if (config.d_model != built.d_model) return differs("d_model", config.d_model, built.d_model);
  if (config.num_heads != built.num_heads) return differs("num_heads", config.num_heads, built.num_heads);
  if (config.ff_dim != built.ff_dim) return differs("ff_dim", config.ff_dim, built.ff_dim);
  if (config.vocab_size != built.vocab_size) return differs("vocab_size", config.vocab_size, built.vocab_size);
  if (config.max_seq_len != built.max_seq_len) return differs("max_seq_len", config.max_seq_len, built.max_seq_len);
  return std::nullopt;
}

uint32_t claim_log_lde_size(const VmStatement& statement, const stark::Profile& profile) {
  // The tables component has 2^8 rows, ROM and memory at most 2^8; the steps component grows.
  const uint64_t steps = std::min<uint64_t>(statement.steps, uint64_t{1} << 40);
  uint32_t log_rows = 2;
  while ((uint64_t{1} << log_rows) < steps) ++log_rows;
  return std::max<uint32_t>(8, log_rows) + profile.log_blowup;
}

uint32_t claim_security_bits(const VmStatement& statement, const stark::Profile& profile) {
  return stark::conjectured_security_bits(profile, claim_log_lde_size(statement, profile) + 1);
}

uint32_t achieved_security_bits(const Claim& claim, uint32_t queries_opened) {
  stark::Profile opened = claim.profile;
  opened.n_queries = queries_opened;
  return claim_security_bits(claim.statement, opened);
}

json claim_to_json(const Claim& c) {
  const auto& s = c.statement;
  json proof_system{{"name", std::string(kProofSystem)},
                    {"profile", c.profile.name},
                    {"log_blowup", c.profile.log_blowup},
                    {"n_queries", c.profile.n_queries},
                    {"pow_bits", c.profile.pow_bits},
                    {"log_last_layer_degree_bound", c.profile.log_last_layer_degree_bound},
                    {"conjectured_security_bits", c.security_bits}};
  json tc{{"d_model", c.transformer_config.d_model},   {"num_heads", c.transformer_config.num_heads},
          {"num_layers", c.transformer_config.num_layers}, {"ff_dim", c.transformer_config.ff_dim},
          {"vocab_size", c.transformer_config.vocab_size}, {"max_seq_len", c.transformer_config.max_seq_len}};
  return json{{"statement_version", c.statement_version},
              {"semantic_scope", c.semantic_scope},
              {"program", original_program_json(s.program)},
              {"attention_mode", vm::format_attention_mode(c.attention)},
              {"transformer_config", tc},
              {"max_steps", s.max_steps},
              {"steps", s.steps},
              {"final_state", state_json(s.final_state, s.final_memory)},
              {"proof_system", proof_system},
              {"identities", json{{"program_hash", c.identities.program_hash},
                                  {"transformer_config_hash", c.identities.transformer_config_hash},
                                  {"deterministic_model_hash", c.identities.deterministic_model_hash}}},
              {"equivalence", json{{"checked_steps", c.equivalence.checked_steps},
                                   {"transformer_fingerprint", c.equivalence.transformer_fingerprint},
                                   {"native_fingerprint", c.equivalence.native_fingerprint}}},
              {"prover_build", c.prover_build}};
}

Claim claim_from_json(const json& j) {
  expect_keys(j, "", {"statement_version", "semantic_scope", "program", "attention_mode", "transformer_config",
                      "max_steps", "steps", "final_state", "proof_system", "identities", "equivalence",
                      "prover_build"});
  Claim c;
  c.statement_version = get_string(j, "", "statement_version");
  c.semantic_scope = get_string(j, "", "semantic_scope");
  c.statement.program = program_from_original_json(member(j, "", "program"), "program.");
  try {
    c.attention = vm::parse_attention_mode(get_string(j, "", "attention_mode"));
  } catch (const Error& e) {
    fail("attention_mode", e.what());
  }
  const json& tc = member(j, "", "transformer_config");
  expect_keys(tc, "transformer_config.", {"d_model", "num_heads", "num_layers", "ff_dim", "vocab_size", "max_seq_len"});
  const std::string tp = "transformer_config.";
  c.transformer_config.d_model = static_cast<int>(get_int(tc, tp, "d_model", 1, 1 << 20));
  c.transformer_config.num_heads = static_cast<int>(get_int(tc, tp, "num_heads", 1, 1 << 20));
  c.transformer_config.num_layers = static_cast<int>(get_int(tc, tp, "num_layers", 1, 256));
  c.transformer_config.ff_dim = static_cast<int>(get_int(tc, tp, "ff_dim", 1, 1 << 20));
  c.transformer_config.vocab_size = static_cast<int>(get_int(tc, tp, "vocab_size", 1, 1 << 20));
  c.transformer_config.max_seq_len = static_cast<int>(get_int(tc, tp, "max_seq_len", 1, INT32_MAX));
  c.statement.max_steps = static_cast<uint64_t>(get_int(j, "", "max_steps", 0, INT64_MAX));
  c.statement.steps = static_cast<uint64_t>(get_int(j, "", "steps", 0, INT64_MAX));
  const json& fs = member(j, "", "final_state");
  expect_keys(fs, "final_state.", {"pc", "acc", "sp", "zero_flag", "carry_flag", "halted", "memory"});
  const std::string fp = "final_state.";
  c.statement.final_state.pc = static_cast<uint8_t>(get_int(fs, fp, "pc", 0, 255));
  c.statement.final_state.acc = static_cast<int16_t>(get_int(fs, fp, "acc", -32768, 32767));
  c.statement.final_state.sp = static_cast<uint8_t>(get_int(fs, fp, "sp", 0, 255));
  c.statement.final_state.zero_flag = get_bool(fs, fp, "zero_flag");
  c.statement.final_state.carry_flag = get_bool(fs, fp, "carry_flag");
  c.statement.final_state.halted = get_bool(fs, fp, "halted");
  c.statement.final_memory = get_memory(fs, fp, "memory");
  const json& ps = member(j, "", "proof_system");
  expect_keys(ps, "proof_system.", {"name", "profile", "log_blowup", "n_queries", "pow_bits",
                                    "log_last_layer_degree_bound", "conjectured_security_bits"});
  const std::string pp = "proof_system.";
  if (get_string(ps, pp, "name") != kProofSystem) fail("proof_system.name", "unknown proof system");
  c.profile.name = get_string(ps, pp, "profile");
  c.profile.log_blowup = static_cast<uint32_t>(get_int(ps, pp, "log_blowup", 0, 64));
  c.profile.n_queries = static_cast<uint32_t>(get_int(ps, pp, "n_queries", 0, 1 << 20));
  c.profile.pow_bits = static_cast<uint32_t>(get_int(ps, pp, "pow_bits", 0, 64));
  c.profile.log_last_layer_degree_bound = static_cast<uint32_t>(get_int(ps, pp, "log_last_layer_degree_bound", 0, 64));
  c.security_bits = static_cast<uint32_t>(get_int(ps, pp, "conjectured_security_bits", 0, 1024));
  const json& id = member(j, "", "identities");
  expect_keys(id, "identities.", {"program_hash", "transformer_config_hash", "deterministic_model_hash"});
  c.identities.program_hash = get_string(id, "identities.", "program_hash");
  c.identities.transformer_config_hash = get_string(id, "identities.", "transformer_config_hash");
  c.identities.deterministic_model_hash = get_string(id, "identities.", "deterministic_model_hash");
  const json& eq = member(j, "", "equivalence");
  expect_keys(eq, "equivalence.", {"checked_steps", "transformer_fingerprint", "native_fingerprint"});
  c.equivalence.checked_steps = static_cast<uint64_t>(get_int(eq, "equivalence.", "checked_steps", 0, INT64_MAX));
  c.equivalence.transformer_fingerprint = get_string(eq, "equivalence.", "transformer_fingerprint");
  c.equivalence.native_fingerprint = get_string(eq, "equivalence.", "native_fingerprint");
  for (const std::string* f : {&c.equivalence.transformer_fingerprint, &c.equivalence.native_fingerprint})
    if (f->size() > 64) fail("equivalence", "a fingerprint longer than 64 characters");
  c.prover_build = get_string(j, "", "prover_build");
  if (c.prover_build.size() > 256) fail("prover_build", "longer than 256 bytes");
  return c;
}

namespace {
void put_u8(std::vector<uint8_t>& b, uint32_t v) { b.push_back(static_cast<uint8_t>(v)); }
void put_u16(std::vector<uint8_t>& b, int32_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(static_cast<uint32_t>(v) >> 8));
}
void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

std::string run_fingerprint(const vm::ExecutionTrace& t) {
  std::vector<uint8_t> b(kFingerprintTag.begin(), kFingerprintTag.end());
  for (const auto& r : t.rows) {
    put_u8(b, r.pc);
    put_u8(b, static_cast<uint32_t>(r.instruction.op));
    put_u32(b, static_cast<uint32_t>(r.instruction.operand));
    put_u8(b, r.after.pc);
    put_u16(b, r.after.acc);
    put_u8(b, r.after.sp);
    put_u8(b, r.after.zero_flag);
    put_u8(b, r.after.carry_flag);
    put_u8(b, r.after.halted);
    put_u8(b, static_cast<uint32_t>(r.access.kind));
    put_u8(b, r.access.address);
    put_u16(b, r.access.value);
    put_u16(b, r.access.previous);
  }
  for (int16_t v : t.final_memory) put_u16(b, v);
  return hash::blake2b_256(std::string_view(reinterpret_cast<const char*>(b.data()), b.size())).hex();
}


hash::Blake2b256Hash claim_digest(const Claim& claim) {
  return hash::blake2b_256(canonical_json(claim_to_json(claim)));
}

std::vector<uint16_t> digest_words(const hash::Blake2b256Hash& digest) {
  std::vector<uint16_t> w(kDigestWords);
  for (uint32_t i = 0; i < kDigestWords; ++i)
    w[i] = static_cast<uint16_t>((digest.bytes[2 * i] << 8) | digest.bytes[2 * i + 1]);
  return w;
}

}  // namespace ptvm::vmair
