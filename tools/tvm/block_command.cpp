// tvm prove-block / verify-block, and the block-proof branch of tvm verify (files starting with
// the magic PTVMBLKP): a transformer block (ptvm/zkml/block.hpp) proven over int8 values.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "backend_select.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/zkml/block.hpp"
#include "ptvm/zkml/block_io.hpp"
#include "ptvm/zkml/safetensors.hpp"

namespace tvm_cli {
namespace {

using nlohmann::ordered_json;
using ptvm::Error;
using ptvm::ErrorCategory;
namespace zk = ptvm::zkml;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

struct ModelSource {
  std::string weights;
  uint64_t seed = 1;
  bool seed_given = false;
};

// The block's weights (Values with the weight tensors filled) from a SafeTensors file or a seed.
zk::Values load_model(const zk::TransformerBlock& block, const ModelSource& src) {
  if (!src.weights.empty()) {
    if (src.seed_given) throw Error(ErrorCategory::Usage, "--weights and --seed exclude each other");
    return zk::block_weights_from_safetensors(block, zk::read_safetensors_file(src.weights), src.weights);
  }
  return zk::random_model(block, src.seed);
}

struct ProveBlockArguments {
  std::string shape, output;
  ModelSource model;
  uint64_t decode_steps = 0;
  std::string backend = "auto";
  bool json = false;
  bool no_memory_check = false;
};

// MemAvailable from /proc/meminfo (0: unknown); the prover's need is zkml::estimated_prover_memory.
double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024.0;
  return 0;
}

struct VerifyBlockArguments {
  std::string proof, model_root;
  ModelSource model;
  std::string shape;
  bool json = false;
};

void add_model_options(CLI::App* cmd, ModelSource& m) {
  cmd->add_option("--weights", m.weights, "the block's weights (SafeTensors: F32, F16, BF16 or I8; names in README)")
      ->type_name("FILE.safetensors");
  cmd->add_option_function<std::string>(
         "--seed",
         [&m](const std::string& text) {
           m.seed = std::stoull(text);
           m.seed_given = true;
         },
         "random weights from this seed (the default: 1); the input is always drawn from it")
      ->check(non_negative_integer())
      ->type_name("N");
}

ordered_json claim_facts(const zk::BlockClaim& c) {
  ordered_json j;
  j["statement"] = c.statement;
  j["shape"] = c.shape.to_string();
  j["quantization"] = c.quantization;
  j["model_root"] = c.model.root.hex();
  j["input_digest"] = c.input_digest.hex();
  j["output_digest"] = c.output_digest.hex();
  return j;
}

// Verifies parsed block proofs against `model` (nullopt: the claim's own model commitment).
int verify_parsed(const std::vector<zk::BlockProof>& proofs, const std::optional<ptvm::sumcheck::MleCommitment>& model,
                  ordered_json j, bool json, std::chrono::steady_clock::time_point t0) {
  const bool chain = proofs.size() > 1 || proofs[0].claim.decode;
  const auto& held = model ? *model : proofs[0].claim.model;
  zk::GraphVerdict v;
  if (chain) {
    zk::DecodeChain c;
    c.steps = proofs;
    v = zk::verify_decode(c, held);
  } else {
    v = zk::verify_block(proofs[0], held);
  }
  j["verdict"] = v.accepted ? "accepted" : "rejected";
  if (!v.accepted) j["reason"] = v.reason;
  j["kind"] = chain ? "decode-chain" : "block";
  if (chain) j["decode_steps"] = proofs.size();
  const ordered_json facts = claim_facts(proofs[0].claim);
  for (const auto& [k, x] : facts.items()) j[k] = x;
  j["model_pinned"] = model.has_value();
  j["verify_ms"] = ms_since(t0);
  print_facts(j, json);
  if (!model && !json)
    warn("the model commitment was taken from the claim; pass `tvm verify-block --model-root` (or --weights/--seed) to pin it");
  if (!v.accepted && !json) std::cerr << "error: proof rejected: " << v.reason << "\n";
  return v.accepted ? 0 : 3;
}

int verify_file(const std::string& path, const std::optional<ptvm::sumcheck::MleCommitment>& model, bool json) {
  const auto t0 = std::chrono::steady_clock::now();
  ordered_json j;
  j["proof_file"] = path;
  std::vector<zk::BlockProof> proofs;
  std::string bytes;
  try {
    bytes = ptvm::read_file_limited(path, zk::kMaxBlockProofBytes, "block proof file");
    proofs = zk::block_proofs_from_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::Parse) throw;
    j["verdict"] = "rejected";
    j["reason"] = std::string("malformed proof file: ") + e.what();
    print_facts(j, json);
    if (!json) std::cerr << "error: proof rejected: " << e.what() << "\n";
    return 3;
  }
  j["proof_file_bytes"] = bytes.size();
  return verify_parsed(proofs, model, std::move(j), json, t0);
}

}  // namespace

std::optional<int> verify_block_file_if_any(const std::string& path, bool json) {
  std::string head(8, '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in || !in.read(head.data(), 8)) return std::nullopt;  // the ordinary verifier reports it
  if (!zk::is_block_proof_file(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(head.data()), head.size())))
    return std::nullopt;
  return verify_file(path, std::nullopt, json);
}

Action add_prove_block_command(CLI::App& app) {
  auto args = std::make_shared<ProveBlockArguments>();
  CLI::App* cmd = app.add_subcommand("prove-block", "Prove a transformer block (or N decode steps) over int8 values");
  cmd->add_option("--shape", args->shape, "d_model=D,q_heads=H,kv_heads=G,head_dim=E,ffn=F,seq_len=S[,ffn_kind=gelu]")
      ->required()
      ->type_name("SHAPE");
  add_model_options(cmd, args->model);
  cmd->add_option("--decode-steps", args->decode_steps,
                  "prove N decode steps (positions 0..N-1, a KV cache of seq_len rows) chained by cache commitments")
      ->check(non_negative_integer())
      ->type_name("N");
  cmd->add_option("-o,--output", args->output, "the proof file (PTVMBLKP)")->required()->type_name("FILE");
  cmd->add_option("--backend", args->backend,
                  "auto (cuda when a GPU is visible, else cpu), cpu, cuda (GPU sumcheck kernels, cuBLASLt int8 "
                  "forward GEMMs) or hostsim (the GPU kernels run on the CPU); every choice gives the same proof")
      ->type_name("NAME");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->add_flag("--no-memory-check", args->no_memory_check,
                "prove even when the shape's estimated prover memory (zkml::estimated_prover_memory) is above MemAvailable");
  cmd->footer("Examples:\n"
              "  tvm prove-block --shape d_model=256,q_heads=4,kv_heads=2,head_dim=64,ffn=1024,seq_len=16 --seed 1 -o b.proof\n"
              "  tvm prove-block --shape d_model=64,q_heads=2,kv_heads=1,head_dim=32,ffn=128,seq_len=8 --decode-steps 4 -o d.proof\n"
              "  tvm prove-block --shape ... --seed 1 --backend cuda -o g.proof   # the same bytes as b.proof\n"
              "  tvm verify b.proof\n" +
              exit_codes_help(false));
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    const auto t_all = std::chrono::steady_clock::now();
    const zk::BlockShape shape = zk::BlockShape::parse(args->shape);
    SelectedZkmlBackend device = select_zkml_backend(args->backend);
    const zk::TransformerBlock block = zk::transformer_block(shape);
    size_t padded_weights = 0;
    for (zk::TensorId w : block.weights) padded_weights += block.graph.tensors()[w].size();
    const zk::ProverMemoryEstimate estimate = zk::estimated_prover_memory(block);
    const double need = double(estimate.peak());
    const double have = available_memory_bytes();
    auto gib = [](double b) {
      const int64_t tenths = int64_t(b / (1024.0 * 1024.0 * 1024.0) * 10.0 + 0.5);
      return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
    };
    if (!args->no_memory_check && have > 0 && need > have) {
      const uint64_t phase = std::max({estimate.reference, estimate.commit, estimate.lookups, estimate.opening});
      const char* where = phase == estimate.reference ? "the float reference"
                          : phase == estimate.commit  ? "the weight commitment"
                          : phase == estimate.lookups ? "the lookups"
                                                      : "the weight opening";
      throw Error(ErrorCategory::Usage, "prove-block: shape " + shape.to_string() + " needs about " + gib(need) +
                                            " GiB of prover memory (" + std::to_string(padded_weights) +
                                            " padded weights; the peak is " + where + ") but " + gib(have) +
                                            " GiB are available; --no-memory-check tries anyway");
    }
    ordered_json j;
    j["shape"] = shape.to_string();
    j["padded_weights"] = padded_weights;
    j["estimated_peak_mib"] = estimate.peak() >> 20;
    j["backend"] = device.name;
    j["forward_gemm"] = device.gemm ? device.gemm->name() : "cpu (direct int64 products)";
    j["commitments"] = device.stark ? device.stark->name() : "host";
    auto t0 = std::chrono::steady_clock::now();
    zk::Values v = load_model(block, args->model);
    v[block.input] = zk::random_input(block, args->model.seed);
    double forward_ms = 0;
    if (args->decode_steps == 0) {
      t0 = std::chrono::steady_clock::now();
      block.graph.forward(v, true, device.gemm.get());
      forward_ms = ms_since(t0);
      t0 = std::chrono::steady_clock::now();
    }
    const auto model = zk::commit_weights(block.graph, v, 0, device.stark.get());
    // The packed weight table on the backend once (device memory on a GPU), for the proof or
    // every step of the chain.
    const auto resident = device.sumcheck->upload_matrix(model.table());
    j["model_source"] = args->model.weights.empty() ? "seed " + std::to_string(args->model.seed) : args->model.weights;
    j["model_root"] = model.commitment().root.hex();
    j["commit_weights_ms"] = ms_since(t0);
    j["peak_rss_commit_mib"] = peak_rss_mib();
    size_t n_weights = 0;
    for (zk::TensorId w : block.weights) n_weights += block.graph.tensors()[w].real_size();
    j["weights"] = n_weights;
    std::vector<zk::BlockProof> proofs;
    if (args->decode_steps == 0) {
      j["forward_ms"] = forward_ms;
      // From here on the weights are read from the model's table (estimated_prover_memory's
      // phases): the float reference's doubles and the int64 weights are never held at once.
      zk::release_weight_values(block.graph, v);
      const zk::QuantizationError e = zk::quantization_error(block, v, model);
      j["quantization_error"] = {{"max_abs", e.max_abs}, {"rms", e.rms}, {"relative_rms", e.relative_rms}};
      j["peak_rss_reference_mib"] = peak_rss_mib();
      progress("prove-block", "proving");
      t0 = std::chrono::steady_clock::now();
      proofs.push_back(zk::prove_block(block, v, model, device.sumcheck.get(), resident.get(), device.stark.get()));
      j["prove_ms"] = ms_since(t0);
    } else {
      if (args->decode_steps > shape.seq_len)
        throw Error(ErrorCategory::Usage, "--decode-steps " + std::to_string(args->decode_steps) + " is above seq_len " +
                                              std::to_string(shape.seq_len) + " (the KV cache's rows)");
      const size_t d = shape.d_model;
      const std::vector<int64_t> x = zk::unpad_values(block.graph.tensors()[block.input], v[block.input]);
      std::vector<std::vector<int64_t>> inputs;
      for (size_t t = 0; t < args->decode_steps; ++t) inputs.emplace_back(x.begin() + t * d, x.begin() + (t + 1) * d);
      t0 = std::chrono::steady_clock::now();
      zk::DecodeChain chain =
          zk::prove_decode(block, v, model, inputs, device.sumcheck.get(), resident.get(), device.gemm.get(),
                           device.stark.get());
      j["prove_ms"] = ms_since(t0);
      j["decode_steps"] = chain.steps.size();
      proofs = std::move(chain.steps);
    }
    const auto bytes = zk::block_proofs_to_bytes(proofs);
    write_output_file(args->output, std::string(bytes.begin(), bytes.end()));
    j["proof_file"] = args->output;
    j["proof_bytes"] = bytes.size();
    j["output_digest"] = proofs.back().claim.output_digest.hex();
    j["peak_rss_mib"] = peak_rss_mib();
    j["total_ms"] = ms_since(t_all);
    print_facts(j, args->json);
    return 0;
  };
}

Action add_verify_block_command(CLI::App& app) {
  auto args = std::make_shared<VerifyBlockArguments>();
  CLI::App* cmd = app.add_subcommand("verify-block", "Verify a block proof or decode chain against a model you hold");
  cmd->add_option("proof", args->proof, "the proof file (PTVMBLKP)")->required()->type_name("PROOF");
  cmd->add_option("--model-root", args->model_root, "the model commitment's root (64 hex digits, as prove-block prints)")
      ->type_name("HEX");
  add_model_options(cmd, args->model);
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->footer("Examples:\n  tvm verify-block b.proof --seed 1\n  tvm verify-block b.proof --model-root 3f...\n" +
              exit_codes_help(true));
  return [cmd, args]() -> int {
    if (!cmd->parsed()) return -1;
    const bool by_root = !args->model_root.empty();
    const bool by_model = !args->model.weights.empty() || args->model.seed_given;
    if (by_root == by_model) throw Error(ErrorCategory::Usage, "give exactly one of --model-root, --weights, --seed");
    std::optional<ptvm::hash::Blake2sHash> root;
    if (by_root && !(root = ptvm::hash::Blake2sHash::from_hex(args->model_root)))
      throw Error(ErrorCategory::Usage, "--model-root must be 64 hex digits");
    const auto t0 = std::chrono::steady_clock::now();
    const std::string bytes = ptvm::read_file_limited(args->proof, zk::kMaxBlockProofBytes, "block proof file");
    std::vector<zk::BlockProof> proofs;
    try {
      proofs = zk::block_proofs_from_bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::Parse) throw;
      std::cerr << "error: proof rejected: malformed proof file: " << e.what() << "\n";
      return 3;
    }
    ptvm::sumcheck::MleCommitment held;
    if (by_root) {
      // The root pins the model; the commitment's shape fields are the graph's (the verifier checks them).
      held = proofs[0].claim.model;
      held.root = *root;
    } else {
      // The model rebuilt from the weights the verifier holds, for the proof's shape.
      const zk::TransformerBlock block = zk::transformer_block(proofs[0].claim.shape);
      held = zk::commit_weights(block.graph, load_model(block, args->model)).commitment();
    }
    ordered_json j;
    j["proof_file"] = args->proof;
    j["proof_file_bytes"] = bytes.size();
    return verify_parsed(proofs, held, std::move(j), args->json, t0);
  };
}

}  // namespace tvm_cli
