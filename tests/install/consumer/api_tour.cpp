// A few symbols of every area of the public API, through the umbrella header alone: each must
// compile from the installed headers and link from the installed library. Returns 0 when every
// check holds.
#include <ptvm/ptvm.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("  %-44s %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

}  // namespace

int api_tour() {
  using namespace ptvm;
  std::printf("api tour:\n");

  // Fields.
  const M31 a = M31::from_u32(123456789);
  check(a * a.inverse() == M31::one(), "field: M31 inverse");
  const QM31 q = QM31::from_u32(1, 2, 3, 4);
  check(q * q.inverse() == QM31::one(), "field: QM31 inverse");
  const F128 w = F128::primitive_root_of_unity(4);
  check(w.pow(16) == F128::one() && w.pow(8) != F128::one(), "field: F128 root of unity");
  const std::vector<M31> to_invert = {M31::from_u32(2), M31::from_u32(3), M31::from_u32(5)};
  const std::vector<M31> inverses = batch_inverse<M31>(to_invert);
  check(inverses[1] * to_invert[1] == M31::one(), "field: batch_inverse");

  // Circle: evaluate then interpolate on a canonic domain.
  const circle::TwiddleTree tree = circle::precompute_twiddles_for_log(5);
  std::vector<M31> coeffs(32), values(32), back(32);
  for (size_t i = 0; i < coeffs.size(); ++i) coeffs[i] = M31::from_u32(static_cast<uint32_t>(7 * i + 1));
  circle::circle_evaluate_bitrev(coeffs, values, tree);
  circle::circle_interpolate_bitrev(values, back, tree);
  check(back == coeffs && circle::CanonicCoset{5}.size() == 32, "circle: FFT round trip");

  // NTT over F128.
  std::vector<F128> fc(8), fv(8), fb(8);
  for (size_t i = 0; i < fc.size(); ++i) fc[i] = F128::from_u64(i + 3);
  ntt::coset_evaluate_natural(fc, fv, F128::from_u64(7));
  ntt::coset_interpolate_natural(fv, fb, F128::from_u64(7));
  check(fb == fc, "ntt: coset NTT round trip");

  // Hashes, channel, Merkle tree.
  check(hash::blake2b_256(std::string_view("")).hex() ==
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
        "hash: BLAKE2b-256 of \"\"");
  const std::vector<uint8_t> abc = {'a', 'b', 'c'};
  check(hash::blake2s(abc).hex() == "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
        "hash: BLAKE2s-256 of \"abc\" (RFC 7693)");
  hash::Blake2sChannel channel;
  channel.mix_u64(42);
  check(channel.draw_felt() != channel.draw_felt(), "hash: Blake2sChannel draws");
  const hash::MerkleTree merkle = hash::MerkleTree::commit({std::span<const M31>(values)}, 1);
  check(merkle.max_log_size() == 5, "hash: MerkleTree commit");

  // AIR, backend, STARK: the wide-Fibonacci example proven on the CPU backend.
  const air::examples::WideFibonacci fib{5, 8, true};
  air::Air statement;
  statement.components.push_back(air::make_component(fib));
  statement.n_public_inputs = 2;
  const std::vector<M31> public_inputs = {M31::one(), M31::one()};
  const std::vector<std::vector<std::vector<M31>>> traces = {fib.generate_trace()};
  check(!stark::check_constraints(statement, public_inputs, traces).has_value(), "air: constraints hold");
  const stark::Profile profile = stark::profile_by_name("fast-test-insecure");
  const std::unique_ptr<Backend> backend = make_cpu_backend();
  const stark::StarkProof proof = stark::prove(statement, public_inputs, traces, profile, *backend);
  check(stark::verify(statement, public_inputs, proof, profile).accepted, "stark: prove + verify (CPU backend)");
  const std::vector<uint8_t> binary = stark::proof_to_binary(proof);
  check(stark::proof_to_binary(stark::proof_from_binary(binary)) == binary, "stark: binary proof round trip");

  // VM: formats, engines, batches, manifests.
  const vm::Program program = vm::assemble_source("LOADI 3\nADD 4\nPUSH\nHALT\n");
  check(vm::format_instruction(program.instructions[1]) == "ADD 4", "vm: assemble + format_instruction");
  std::vector<vm::BatchJob> jobs(2);
  for (auto& job : jobs) job.program = program;
  jobs[1].options.engine = vm::EngineKind::Transformer;
  const std::vector<vm::BatchResult> results = vm::run_batch(jobs, {2});
  check(results.size() == 2 && results[0].ok() && results[1].ok() &&
            results[0].result->trace.final_state.acc == 7 && results[1].result->trace.final_state.acc == 7,
        "vm: run_batch on both engines");
  const auto manifest = vm::parse_manifest(R"([{"program": "a.tvm", "max_steps": 9}])", "m.json", "/tmp",
                                           vm::ManifestKind::Run);
  check(manifest.size() == 1 && manifest[0].job && manifest[0].job->max_steps == 9u, "vm: parse_manifest");

  // VM proofs: claim identities; common: the strict JSON reader and its errors.
  const vmair::ClaimIdentities ids =
      vmair::compute_identities(program, vmair::provable_transformer_config(1), vm::AttentionMode{});
  check(ids.program_hash.size() == 64, "vmair: compute_identities");
  check(parse_json_strict(R"({"a": [1, 2]})", "test")["a"][1] == 2, "common: parse_json_strict");
  bool duplicate_rejected = false;
  try {
    parse_json_strict(R"({"a": 1, "a": 2})", "test");
  } catch (const Error& e) {
    duplicate_rejected = e.category() == ErrorCategory::Parse;
  }
  check(duplicate_rejected, "common: duplicate key -> Error(Parse)");

  return failures == 0 ? 0 : 1;
}
