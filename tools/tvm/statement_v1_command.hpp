// tvm prove --statement statement-v1 and tvm verify of statement-v1 proof files (the F128 STARK,
// ptvm/statement_v1/statement.hpp). prove_command.cpp parses the options and calls these.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tvm_cli {

struct StatementV1Prove {
  std::string program, output;
  std::string profile = "auto";  // auto = production-v1
  std::string backend = "auto";  // auto, cpu, cuda, dual, hostsim, hostsim-dual (backend_select.hpp)
  uint64_t max_steps = 0;
  int layers = 1;
  bool json = false;
  std::optional<uint32_t> expansion_factor, num_colinearity_checks, security_level, pow_bits;
};
int prove_statement_v1(const StatementV1Prove& args);

struct StatementV1Verify {
  std::string proof_path, text;
  std::string expected_program_hash;
  std::optional<uint32_t> min_security;  // explicit --min-conjectured-security / --min-security
  std::string verification_profile;      // "" or "production-v1"
  bool strict = false;
  uint32_t max_lde_log_size = 22;
  bool json = false;
};
// Exit 0 accepted, 3 rejected (a malformed file too).
int verify_statement_v1(const StatementV1Verify& args);

// "proven" / "reexecuted" / "attested" lists for the circle-STARK claim ("ptvm-tvm-execution/2").
nlohmann::ordered_json circle_claim_scope(bool accepted, bool reexecuted);

}  // namespace tvm_cli
