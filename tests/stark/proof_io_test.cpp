// Proof encodings: both round-trip exactly; the readers reject malformed, truncated, oversized and
// non-canonical input with a ptvm::Error(Parse) that names the problem.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stark_test_util.hpp"

namespace ptvm::stark {
namespace {

const Profile kFast = profile_by_name("fast-test-insecure");

class ProofIo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    statement_ = new testing::Statement(testing::mixed_sizes(5));
    proof_ = new StarkProof(testing::prove_cpu(*statement_, kFast));
  }
  static void TearDownTestSuite() {
    delete proof_;
    delete statement_;
  }
  static testing::Statement* statement_;
  static StarkProof* proof_;
};
testing::Statement* ProofIo::statement_ = nullptr;
StarkProof* ProofIo::proof_ = nullptr;

template <class F>
std::string parse_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST_F(ProofIo, RoundTrips) {
  const auto bin = proof_to_binary(*proof_);
  const auto json = proof_to_json(*proof_);
  StarkProof from_bin = proof_from_binary(bin);
  StarkProof from_json = proof_from_json(json);
  EXPECT_EQ(proof_to_binary(from_bin), bin);
  EXPECT_EQ(proof_to_binary(from_json), bin);
  EXPECT_EQ(proof_to_json(from_bin), json);
  EXPECT_EQ(proof_binary_size(*proof_), bin.size());
  EXPECT_TRUE(verify(statement_->air, statement_->public_inputs, from_json, kFast).accepted);
  EXPECT_TRUE(verify(statement_->air, statement_->public_inputs, from_bin, kFast).accepted);
}

TEST_F(ProofIo, BinaryRejectsTruncationAndTrailingBytes) {
  const auto bin = proof_to_binary(*proof_);
  for (size_t len = 0; len < bin.size(); len += (len < 200 ? 1 : 97)) {
    std::vector<uint8_t> cut(bin.begin(), bin.begin() + len);
    auto why = parse_error([&] { proof_from_binary(cut); });
    EXPECT_FALSE(why.empty()) << len;
  }
  auto longer = bin;
  longer.push_back(0);
  EXPECT_NE(parse_error([&] { proof_from_binary(longer); }).find("trailing"), std::string::npos);
}

TEST_F(ProofIo, BinaryRejectsBadHeaderNonCanonicalAndOversized) {
  auto bin = proof_to_binary(*proof_);
  auto bad_magic = bin;
  bad_magic[0] ^= 1;
  EXPECT_NE(parse_error([&] { proof_from_binary(bad_magic); }).find("magic"), std::string::npos);
  auto bad_version = bin;
  bad_version[8] = 99;
  EXPECT_NE(parse_error([&] { proof_from_binary(bad_version); }).find("version"), std::string::npos);
  // The last 4*16 bytes are last-layer QM31 words; write P (non-canonical) into the last word.
  auto noncanonical = bin;
  const size_t w = noncanonical.size() - 4;
  noncanonical[w] = 0xff, noncanonical[w + 1] = 0xff, noncanonical[w + 2] = 0xff, noncanonical[w + 3] = 0x7f;
  EXPECT_NE(parse_error([&] { proof_from_binary(noncanonical); }).find("non-canonical"), std::string::npos);
  // A length field claiming 2^31 elements.
  const size_t name_len_at = 12, claimed_sums_len_at = 12 + 4 + kFast.name.size() + 16 + 4 * 32;
  auto oversized = bin;
  oversized[claimed_sums_len_at + 3] = 0x80;
  EXPECT_NE(parse_error([&] { proof_from_binary(oversized); }).find("oversized"), std::string::npos);
  auto long_name = bin;
  long_name[name_len_at + 1] = 0x10;
  EXPECT_FALSE(parse_error([&] { proof_from_binary(long_name); }).empty());
  std::vector<uint8_t> huge(kMaxProofBytes + 1, 0);
  EXPECT_NE(parse_error([&] { proof_from_binary(huge); }).find("oversized"), std::string::npos);
}

TEST_F(ProofIo, JsonRejectsMalformedInput) {
  const std::string text = proof_to_json(*proof_);
  using nlohmann::json;
  const json good = json::parse(proof_to_json(*proof_));
  auto with = [&](const std::function<void(json&)>& f) {
    json j = good;
    f(j);
    return j.dump();
  };
  EXPECT_NE(parse_error([&] { proof_from_json(text.substr(0, text.size() / 2)); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j.erase("fri"); })); }).find("missing field 'fri'"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["extra"] = 1; })); }).find("unknown field 'extra'"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["version"] = 1; })); }).find("version"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["format"] = "other"; })); }).find("format"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["claimed_sums"][0][0] = M31::P; })); }).find("non-canonical"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["claimed_sums"][0][1] = -1; })); }).find("non-negative"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["claimed_sums"][0][1] = 1.5; })); }).find("non-negative"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["claimed_sums"][0].push_back(1); })); }).find("expected 4"), std::string::npos);
  EXPECT_NE(parse_error([&] {
              proof_from_json(with([](json& j) {
                std::string h = j["commitments"][1];
                for (auto& c : h) c = static_cast<char>(std::toupper(c));
                j["commitments"][1] = h;
              }));
            }).find("lowercase"),
            std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["commitments"].erase(0); })); }).find("expected 4"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["profile"]["log_blowup"] = 0; })); }).find("profile"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(with([](json& j) { j["fri"]["first_layer"]["commitment"] = "zz"; })); }).find("fri.first_layer.commitment"), std::string::npos);
  EXPECT_NE(parse_error([&] { proof_from_json(std::string(kMaxProofBytes + 1, ' ')); }).find("oversized"), std::string::npos);
  EXPECT_FALSE(parse_error([&] { proof_from_json("[]"); }).empty());
  EXPECT_FALSE(parse_error([&] { proof_from_json(""); }).empty());
}

TEST_F(ProofIo, ParsedButWrongShapesAreRejectedByTheVerifier) {
  // Shapes a parser cannot judge (they depend on the AIR): the verifier rejects them with a reason.
  auto check = [&](const std::function<void(StarkProof&)>& f) {
    StarkProof p = *proof_;
    f(p);
    Verdict v = verify(statement_->air, statement_->public_inputs, p, kFast);
    EXPECT_FALSE(v.accepted);
    EXPECT_FALSE(v.reason.empty());
  };
  check([](StarkProof& p) { p.claimed_sums.pop_back(); });
  check([](StarkProof& p) { p.sampled_values[1].pop_back(); });
  check([](StarkProof& p) { p.sampled_values[2][0].push_back(QM31::one()); });
  check([](StarkProof& p) { p.sampled_values[3].clear(); });
  check([](StarkProof& p) { p.queried_values[1].clear(); });
  check([](StarkProof& p) { p.decommitments[0].hash_witness.clear(); });
  check([](StarkProof& p) { p.fri.first_layer.fri_witness.clear(); });
  check([](StarkProof& p) { p.fri.inner_layers.clear(); });
  check([](StarkProof& p) { p.fri.last_layer_poly.clear(); });
  check([](StarkProof& p) { p = StarkProof{}; });
}

}  // namespace
}  // namespace ptvm::stark
