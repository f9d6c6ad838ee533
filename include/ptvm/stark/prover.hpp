// The circle-STARK prover core (PROTOCOL.md §10, stwo-2502 transcript order), written once against
// ptvm::Backend. See ptvm/air/component.hpp for the AIR interface and ptvm/stark/proof.hpp for the
// proof object.
//
// Transcript (Blake2s channel, byte-level variant of API_CONTRACT.md):
//   mix profile words; commit tree 0 (preprocessed); mix statement (component sizes, relation
//   count, public inputs); commit tree 1 (main); draw [z, alpha] per relation; build the LogUp
//   interaction trace; mix claimed sums; commit tree 2; draw alpha_c; composition polynomial
//   Q = sum_j alpha_c^(M-1-j) C_j / V_{n(j)}, of log size C = max(n_c + k_c), cut into 2^s parts
//   of log max(n_c) by the top coefficient bits (Q = sum_t Q_t * prod_{bit i of t} pi^(C-s+i-1)(x),
//   the generalization of §14's split); commit tree 3; draw the OODS point; mix every sampled value
//   (each trace column at P and P + step, composition parts at P); draw alpha_q; DEEP quotients per
//   commitment size; circle FRI (first layer, inner layers, last layer in clear); proof of work;
//   queries; decommitments.
#pragma once
#include <array>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ptvm/air/component.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/stark/profile.hpp"
#include "ptvm/stark/proof.hpp"

namespace ptvm::stark {

// Milliseconds per prover stage: wall clock and process CPU time (the CPU time is what one core
// pays when PTVM_THREADS=1, and is robust to other load on the machine).
enum class Stage : size_t {
  Lde,          // trace upload and interpolation (the composition's lifts are Composition's)
  Commit,       // low-degree extension + Merkle commitment of each PCS tree (one fused call,
                // Backend::extend_and_commit)
  Interaction,  // LogUp fractions and interaction columns
  Composition,  // constraint evaluation, composition polynomial and its parts
  Oods,         // out-of-domain sampling
  Deep,         // DEEP quotients
  Fri,          // FRI commit phase
  Pow,          // proof of work
  Queries,      // decommitments
  Total,
};
inline constexpr size_t kStageCount = 10;
inline const char* stage_name(Stage s) {
  static const char* names[kStageCount] = {"lde", "commit", "interaction", "composition", "oods",
                                           "deep", "fri", "pow", "queries", "total"};
  return names[static_cast<size_t>(s)];
}
struct StageTimings {
  std::array<double, kStageCount> wall_ms{};
  std::array<double, kStageCount> cpu_ms{};
  double wall(Stage s) const { return wall_ms[static_cast<size_t>(s)]; }
  double cpu(Stage s) const { return cpu_ms[static_cast<size_t>(s)]; }
};

// Progress while proving: called when a stage starts, with the fraction of the pipeline done so
// far (stages in pipeline order, non-decreasing, 0 at the start; Stage::Total with 1 at the end).
using ProgressFn = std::function<void(Stage stage, double fraction)>;

// main_traces[component][column][row]: each component's main columns in row order
// (row j = CanonicCoset(log_rows).at(j)). Throws ptvm::Error(Usage) on a shape mismatch or a
// non-canonical value, ptvm::Error(Runtime) if a LogUp denominator vanishes. A trace that breaks
// a constraint still yields a proof; the verifier rejects it (composition check at the OODS point).
StarkProof prove(const air::Air& air, std::span<const M31> public_inputs,
                 const std::vector<std::vector<std::vector<M31>>>& main_traces, const Profile& profile,
                 Backend& backend, StageTimings* timings = nullptr, const ProgressFn* progress = nullptr);

// Row-by-row check of every constraint on the trace domain (CPU, O(rows)); returns the first
// violated (component, row, constraint) as text, or nullopt. LogUp sums are not checked here.
std::optional<std::string> check_constraints(const air::Air& air, std::span<const M31> public_inputs,
                                             const std::vector<std::vector<std::vector<M31>>>& main_traces);

}  // namespace ptvm::stark
