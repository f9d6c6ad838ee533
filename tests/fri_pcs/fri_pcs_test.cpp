// The generic FRI and PCS modules (ptvm/fri/fri.hpp, ptvm/pcs/pcs.hpp) driven directly with both
// specs: the circle STARK's (line domains over M31, QM31 values, BLAKE2s) and the F128 STARK's
// (multiplicative cosets, F128, BLAKE2b). Each test commits a random low-degree polynomial's
// evaluations, runs the commit phase, draws queries, decommits and verifies; then a tampered
// opening, a wrong fold, a high-degree input and a wrong last layer must be rejected.
#include <gtest/gtest.h>

#include <random>
#include <span>
#include <string>
#include <vector>

#include "ptvm/fri/circle_spec.hpp"
#include "ptvm/fri/coset_spec.hpp"
#include "ptvm/fri/fri.hpp"
#include "ptvm/hash/merkle.hpp"
#include "ptvm/hash/merkle_generic.hpp"
#include "ptvm/pcs/pcs.hpp"
#include "ptvm/stark/line_poly.hpp"

namespace ptvm {
namespace {

// What the test needs beyond the spec: random values, the first layer's domain, a polynomial's
// value at a domain point, and a layer's Merkle tree (the spec's leaf layout, the spec's hash).
template <class Spec> struct Harness;

template <> struct Harness<fri::CircleSpec> {
  using Spec = fri::CircleSpec;
  using Tree = hash::MerkleTree;
  // The circle STARK sends only the siblings the verifier cannot compute.
  static constexpr bool kWholePairs = false;
  static M31 base(uint32_t v) { return M31::from_u32(v); }
  static QM31 random(std::mt19937_64& rng) {
    auto w = [&] { return static_cast<uint32_t>(rng() % M31::P); };
    return QM31::from_u32(w(), w(), w(), w());
  }
  // A line domain of 2^log_size x coordinates (the circle STARK's FRI after its first fold).
  static Spec::Domain first_domain(uint32_t log_size) {
    return Spec::Domain::line_domain(
        circle::LineDomain{circle::CanonicCoset{log_size + 1}.half_coset()});
  }
  // The polynomial in the line basis (ptvm/stark/line_poly.hpp), which the line fold preserves.
  static QM31 evaluate(const std::vector<QM31>& coefficients, const Spec::Domain& domain,
                       size_t position) {
    return stark::line_evaluate(coefficients, QM31(domain.x_at(position)));
  }
};

template <> struct Harness<fri::CosetSpec> {
  using Spec = fri::CosetSpec;
  using Tree = hash::Blake2bMerkleTree<F128>;
  // The F128 STARK opens whole pairs and checks the folded value against the opened one.
  static constexpr bool kWholePairs = true;
  static F128 base(uint32_t v) { return F128::from_u64(v); }
  static F128 random(std::mt19937_64& rng) {
    return F128::from_u64(rng()) * F128::from_u64(rng() | 1);
  }
  static Spec::Domain first_domain(uint32_t log_size) { return Spec::Domain{log_size, 0}; }
  static F128 evaluate(const std::vector<F128>& coefficients, const Spec::Domain& domain,
                       size_t position) {
    const F128 x = domain.point_at(position);
    F128 acc = F128::zero();
    for (size_t i = coefficients.size(); i-- > 0;)
      acc = acc * x + coefficients[i];
    return acc;
  }
};

// One committed layer: the spec's leaf columns (kept alive for the non-owning tree) and the tree.
template <class Spec> struct CommittedLayer {
  using Base = typename Spec::Base;
  std::vector<std::vector<Base>> columns;
  typename Harness<Spec>::Tree tree;

  static CommittedLayer commit(const std::vector<typename Spec::Secure>& values) {
    std::vector<Base> flat;
    for (const auto& v : values)
      Spec::append_leaf_values(v, flat);
    const size_t width = flat.size() / values.size();
    std::vector<std::vector<Base>> columns(width, std::vector<Base>(values.size()));
    for (size_t i = 0; i < values.size(); ++i)
      for (size_t c = 0; c < width; ++c)
        columns[c][i] = flat[i * width + c];
    std::vector<std::span<const Base>> spans;
    for (const auto& c : columns)
      spans.emplace_back(c);
    auto tree = Harness<Spec>::Tree::commit(spans, 1);
    return CommittedLayer{std::move(columns), std::move(tree)};
  }
};

// What the prover sends per layer: the siblings the verifier cannot compute and the Merkle
// decommitment of the pairs.
template <class Spec> struct LayerProof {
  typename Spec::Hash root;
  std::vector<typename Spec::Secure> witness;
  typename Spec::MerkleDecommitment decommitment;
};

template <class Spec> struct TestProof {
  std::vector<LayerProof<Spec>> layers;
  typename Spec::Secure last;
  std::vector<size_t> queries;
};

struct Cheat {
  size_t bad_fold = SIZE_MAX; // this fold uses a wrong challenge
  bool wrong_last = false;    // the last layer sent is not the folded constant
};

// The prover's layers: every layer committed (first included), folded on the host.
template <class Spec> struct ProverLayers {
  using Secure = typename Spec::Secure;
  std::vector<std::vector<Secure>> values; // values[i]: layer i
  std::vector<typename Spec::Domain> domains;
  std::vector<CommittedLayer<Spec>> committed;
  TestProof<Spec>& proof;
  Cheat cheat;

  typename Spec::Hash commit(uint32_t i) {
    committed.push_back(CommittedLayer<Spec>::commit(values[i]));
    proof.layers.push_back({committed.back().tree.root(), {}, {}});
    return proof.layers.back().root;
  }
  void fold(uint32_t i, const Secure& alpha) {
    const Secure a = i == cheat.bad_fold ? alpha + Secure::one() : alpha;
    std::vector<Secure> next(values[i].size() / 2);
    for (size_t g = 0; g < next.size(); ++g)
      next[g] = Spec::fold_pair(values[i][2 * g], values[i][2 * g + 1],
                                domains[i].fold_inverse(2 * g), a);
    values.push_back(std::move(next));
    domains.push_back(domains[i].folded());
  }
  std::vector<Secure> last_layer() {
    proof.last = values.back()[0] + (cheat.wrong_last ? Secure::one() : Secure::zero());
    return {proof.last};
  }
  void decommit(uint32_t i, const std::vector<size_t>& positions) {
    const std::vector<size_t> sent = Harness<Spec>::kWholePairs ? fri::pair_positions(positions)
                                                                : fri::sibling_positions(positions);
    for (size_t p : sent)
      proof.layers[i].witness.push_back(values[i][p]);
    hash::QueriesPerLogSize q;
    q[domains[i].log_size()] = fri::pair_positions(positions);
    proof.layers[i].decommitment = committed[i].tree.decommit(q).decommitment;
  }
};

template <class Spec> struct VerifierLayers {
  using Secure = typename Spec::Secure;
  const TestProof<Spec>& proof;
  std::optional<std::string> open(size_t i, const typename Spec::Domain& domain,
                                  const std::vector<size_t>& positions,
                                  const std::vector<Secure>& values,
                                  std::map<size_t, Secure>& pairs) {
    // The layer openings the two STARKs' verifiers call (ptvm/pcs/pcs.hpp).
    const std::string where = "layer " + std::to_string(i);
    const auto& layer = proof.layers[i];
    if constexpr (Harness<Spec>::kWholePairs) {
      return pcs::open_layer_whole_pairs<Spec>(layer.root, domain.log_size(), positions, values,
                                               layer.witness, layer.decommitment, where,
                                               pcs::OpeningWords{}, pairs, [&](size_t bad) {
                                                 return where + ": the folded value at position " +
                                                        std::to_string(bad) +
                                                        " disagrees with the committed layer";
                                               });
    } else {
      return pcs::open_layer_with_siblings<Spec>(layer.root, domain.log_size(), positions, values,
                                                 layer.witness, layer.decommitment, where, pairs);
    }
  }
  const std::map<size_t, Secure>* entering(size_t, const typename Spec::Domain&,
                                           typename Spec::Domain&) {
    return nullptr;
  }
  std::optional<std::string> check_last_layer(const typename Spec::Domain&,
                                              const std::vector<size_t>&,
                                              const std::vector<Secure>& values) {
    for (const Secure& v : values)
      if (v != proof.last)
        return std::string("last layer mismatch");
    return std::nullopt;
  }
};

constexpr uint32_t kLogSize = 8;   // first layer: 2^8 evaluations
constexpr uint32_t kLogDegree = 5; // degree < 2^5, i.e. blowup 8
constexpr uint32_t kQueries = 12;

// Proves (with an optional cheat) and verifies; the verdict's reason or nullopt.
template <class Spec>
std::optional<std::string> prove_and_verify(uint64_t seed, bool low_degree, Cheat cheat,
                                            bool tamper_witness = false) {
  using Secure = typename Spec::Secure;
  std::mt19937_64 rng(seed);
  const auto domain = Harness<Spec>::first_domain(kLogSize);
  std::vector<Secure> coefficients(size_t{1} << kLogDegree);
  for (auto& c : coefficients)
    c = Harness<Spec>::random(rng);
  std::vector<Secure> first(size_t{1} << kLogSize);
  for (size_t p = 0; p < first.size(); ++p)
    first[p] =
        low_degree ? Harness<Spec>::evaluate(coefficients, domain, p) : Harness<Spec>::random(rng);

  TestProof<Spec> proof;
  typename Spec::Channel channel;
  ProverLayers<Spec> layers{{first}, {domain}, {}, proof, cheat};
  fri::commit_phase<Spec>(channel, kLogDegree, true, layers);
  proof.queries = channel.draw_queries(kLogSize, kQueries);
  fri::decommit_phase(proof.queries, kLogDegree, layers);
  if (tamper_witness)
    proof.layers[1].witness.at(0) += Secure::one();

  // The verifier replays the channel, draws the same queries, and knows the first layer's
  // values at them (in a STARK: the DEEP answers computed from the trace openings).
  typename Spec::Channel verifier_channel;
  std::vector<typename Spec::Hash> roots;
  for (const auto& l : proof.layers)
    roots.push_back(l.root);
  const std::vector<Secure> alphas =
      fri::replay_commit_phase<Spec>(verifier_channel, std::span<const typename Spec::Hash>(roots),
                                     true, std::span<const Secure>(&proof.last, 1));
  if (alphas.size() != kLogDegree)
    return std::string("wrong number of challenges");
  const std::vector<size_t> queries = verifier_channel.draw_queries(kLogSize, kQueries);
  if (queries != proof.queries)
    return std::string("queries differ");
  std::vector<Secure> known;
  for (size_t q : queries)
    known.push_back(first[q]);
  VerifierLayers<Spec> verifier{proof};
  return fri::verify_query_phase<Spec>(domain, queries, known, std::span<const Secure>(alphas),
                                       verifier);
}

template <class Spec> class GenericFriTest : public ::testing::Test {};
using Specs = ::testing::Types<fri::CircleSpec, fri::CosetSpec>;
TYPED_TEST_SUITE(GenericFriTest, Specs);

TYPED_TEST(GenericFriTest, LowDegreePolynomialIsAccepted) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const auto why = prove_and_verify<TypeParam>(seed, true, {});
    EXPECT_FALSE(why.has_value()) << TypeParam::kName << " seed " << seed << ": " << *why;
  }
}

TYPED_TEST(GenericFriTest, TamperedOpeningIsRejected) {
  const auto why = prove_and_verify<TypeParam>(7, true, {}, /*tamper_witness=*/true);
  ASSERT_TRUE(why.has_value()) << TypeParam::kName;
  EXPECT_NE(why->find("layer 1"), std::string::npos) << *why;
}

TYPED_TEST(GenericFriTest, WrongFoldIsRejected) {
  for (size_t fold = 0; fold + 1 < kLogDegree; ++fold) {
    Cheat cheat;
    cheat.bad_fold = fold;
    const auto why = prove_and_verify<TypeParam>(11, true, cheat);
    ASSERT_TRUE(why.has_value()) << TypeParam::kName << " fold " << fold;
    // The next layer does not hold the honestly folded value: its Merkle path fails (siblings
    // sent) or its opened value disagrees (whole pairs sent).
    EXPECT_NE(why->find("layer " + std::to_string(fold + 1) +
                        (Harness<TypeParam>::kWholePairs ? ": the folded value" : ": merkle")),
              std::string::npos)
        << *why;
  }
}

TYPED_TEST(GenericFriTest, HighDegreeInputIsRejected) {
  const auto why = prove_and_verify<TypeParam>(13, false, {});
  EXPECT_TRUE(why.has_value()) << TypeParam::kName;
}

TYPED_TEST(GenericFriTest, WrongLastLayerIsRejected) {
  Cheat cheat;
  cheat.wrong_last = true;
  const auto why = prove_and_verify<TypeParam>(17, true, cheat);
  ASSERT_TRUE(why.has_value()) << TypeParam::kName;
  EXPECT_EQ(*why, "last layer mismatch");
}

// PCS: a tree of columns of two sizes opened at queries on the larger domain (tree_queries) and
// checked (verify_opening); a changed value, a dropped value and a changed sibling hash are
// rejected; an honest opening gives each column's values.
template <class Spec> class GenericPcsTest : public ::testing::Test {};
TYPED_TEST_SUITE(GenericPcsTest, Specs);

TYPED_TEST(GenericPcsTest, OpeningsVerifyAndTamperingIsRejected) {
  using Base = typename TypeParam::Base;
  std::mt19937_64 rng(5);
  const std::vector<uint32_t> logs = {7, 7, 5};
  std::vector<std::vector<Base>> columns;
  for (uint32_t L : logs) {
    std::vector<Base> c(size_t{1} << L);
    for (auto& v : c)
      v = Harness<TypeParam>::base(static_cast<uint32_t>(rng() % M31::P));
    columns.push_back(std::move(c));
  }
  std::vector<std::span<const Base>> spans;
  for (const auto& c : columns)
    spans.emplace_back(c);
  const auto tree = Harness<TypeParam>::Tree::commit(spans, 1);
  typename TypeParam::Channel channel;
  TypeParam::mix_root(channel, tree.root());
  const std::vector<size_t> queries = channel.draw_queries(7, 6);
  const hash::QueriesPerLogSize q = pcs::tree_queries(queries, 7, logs);
  ASSERT_EQ(q.at(5), fri::folded_positions(queries, 2));
  auto opening = tree.decommit(q);

  std::vector<std::vector<Base>> opened;
  const auto ok = pcs::verify_opening<TypeParam, Base>(tree.root(), logs, q, opening.queried_values,
                                                       opening.decommitment, "tree", &opened);
  ASSERT_FALSE(ok.has_value()) << *ok;
  for (size_t c = 0; c < logs.size(); ++c) {
    const auto& positions = q.at(logs[c]);
    ASSERT_EQ(opened[c].size(), positions.size());
    for (size_t k = 0; k < positions.size(); ++k)
      EXPECT_EQ(opened[c][k], columns[c][positions[k]]);
  }

  auto values = opening.queried_values;
  values[3] = values[3] + Base::one();
  const auto changed_reason = pcs::verify_opening<TypeParam, Base>(
      tree.root(), logs, q, values, opening.decommitment, "tree", nullptr);
  EXPECT_TRUE(changed_reason.has_value());
  values = opening.queried_values;
  values.pop_back();
  const auto short_reason = pcs::verify_opening<TypeParam, Base>(
      tree.root(), logs, q, values, opening.decommitment, "tree", nullptr);
  ASSERT_TRUE(short_reason.has_value());
  EXPECT_NE(short_reason->find("queried values, expected"), std::string::npos) << *short_reason;
  auto decommitment = opening.decommitment;
  ASSERT_FALSE(decommitment.hash_witness.empty());
  decommitment.hash_witness[0].bytes[0] ^= 1;
  const auto merkle_reason = pcs::verify_opening<TypeParam, Base>(
      tree.root(), logs, q, opening.queried_values, decommitment, "tree", nullptr);
  ASSERT_TRUE(merkle_reason.has_value());
  EXPECT_NE(merkle_reason->find("tree: merkle: "), std::string::npos) << *merkle_reason;
}

// DEEP combination: a query at a sample point (vanishing denominator) gives no answer; elsewhere
// the Horner combination matches the direct sum.
TEST(GenericPcs, DeepCombineHornerAndVanishingDenominator) {
  struct Batch {
    F128 point, numerator, step;
  };
  const std::vector<Batch> batches = {{F128::from_u64(3), F128::from_u64(10), F128::from_u64(7)},
                                      {F128::from_u64(5), F128::from_u64(20), F128::from_u64(9)}};
  auto at = [&](F128 x) {
    return pcs::deep_combine<F128>(
        std::span<const Batch>(batches), [&](const Batch& b) { return x - b.point; },
        [](const Batch& b) { return b.numerator; }, [](const Batch& b) { return b.step; });
  };
  const F128 x = F128::from_u64(11);
  const F128 expected =
      (F128::from_u64(10) * (x - F128::from_u64(3)).inverse()) * F128::from_u64(9) +
      F128::from_u64(20) * (x - F128::from_u64(5)).inverse();
  ASSERT_TRUE(at(x).has_value());
  EXPECT_EQ(*at(x), expected);
  EXPECT_FALSE(at(F128::from_u64(5)).has_value());
}

TEST(GenericFri, PositionHelpers) {
  const std::vector<size_t> positions = {1, 2, 3, 8, 13};
  EXPECT_EQ(fri::pair_positions(positions), (std::vector<size_t>{0, 1, 2, 3, 8, 9, 12, 13}));
  EXPECT_EQ(fri::sibling_positions(positions), (std::vector<size_t>{0, 9, 12}));
  EXPECT_EQ(fri::folded_positions(positions, 1), (std::vector<size_t>{0, 1, 4, 6}));
  EXPECT_EQ(fri::folded_positions(positions, 3), (std::vector<size_t>{0, 1}));
}

} // namespace
} // namespace ptvm
