// Block proof files (round trip, deterministic bytes, malformed files) and the SafeTensors reader.
#include <gtest/gtest.h>

#include <cstring>

#include "ptvm/common/error.hpp"
#include "ptvm/zkml/block_io.hpp"
#include "ptvm/zkml/safetensors.hpp"

namespace ptvm::zkml {
namespace {

struct Proven {
  TransformerBlock block;
  Values values;
  sumcheck::CommittedMle model;
  BlockProof proof;
};

Proven prove_tiny() {
  TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 4);
  Values v = random_model(block, 5);
  v[block.input] = random_input(block, 5);
  block.graph.forward(v);
  auto model = commit_weights(block.graph, v);
  BlockProof proof = prove_block(block, v, model);
  return {std::move(block), std::move(v), std::move(model), std::move(proof)};
}

TEST(ZkmlIo, BlockProofRoundTripsWithDeterministicBytes) {
  const Proven p = prove_tiny();
  const std::vector<BlockProof> one{p.proof};
  const auto bytes = block_proofs_to_bytes(one);
  EXPECT_TRUE(is_block_proof_file(bytes));
  const auto back = block_proofs_from_bytes(bytes);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(verify_block(back[0], p.model.commitment()).accepted);
  EXPECT_EQ(block_proofs_to_bytes(back), bytes);
  const Proven again = prove_tiny();
  EXPECT_EQ(block_proofs_to_bytes(std::vector<BlockProof>{again.proof}), bytes) << "proof bytes are deterministic";
}

TEST(ZkmlIo, MalformedBlockProofsAreParseErrorsOrRejections) {
  const Proven p = prove_tiny();
  const auto bytes = block_proofs_to_bytes(std::vector<BlockProof>{p.proof});
  auto parse_error = [](std::span<const uint8_t> b) {
    try {
      block_proofs_from_bytes(b);
    } catch (const Error& e) {
      return e.category() == ErrorCategory::Parse;
    }
    return false;
  };
  EXPECT_TRUE(parse_error(std::span(bytes).first(7)));
  for (size_t cut : {size_t(12), size_t(40), bytes.size() / 3, bytes.size() / 2, bytes.size() - 1})
    EXPECT_TRUE(parse_error(std::span(bytes).first(cut))) << "truncated at " << cut;
  auto trailing = bytes;
  trailing.push_back(0);
  EXPECT_TRUE(parse_error(trailing));
  auto magic = bytes;
  magic[0] = 'X';
  EXPECT_TRUE(parse_error(magic));
  auto count = bytes;
  count[12] = 0xff;  // a count of 2^8 + 1 proofs with the bytes of one
  EXPECT_TRUE(parse_error(count));
  // Flipped bytes across the file: a parse error or a rejection, never an acceptance or a crash.
  uint64_t s = 7;
  for (int i = 0; i < 12; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    auto m = bytes;
    const size_t at = 8 + size_t(s >> 33) % (m.size() - 8);
    m[at] ^= uint8_t(1 + (s >> 20) % 255);
    std::vector<BlockProof> parsed;
    try {
      parsed = block_proofs_from_bytes(m);
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
      continue;
    }
    EXPECT_FALSE(verify_block(parsed[0], p.model.commitment()).accepted) << "byte " << at << " flipped";
  }
}

TEST(ZkmlIo, SafeTensorsRoundTripAllDtypes) {
  std::map<std::string, SafeTensor> t;
  t["a"] = {"F32", {2, 2}, {1.5f, -2.0f, 0.25f, 3.0f}};
  t["b"] = {"F16", {3}, {1.0f, -0.5f, 65504.0f}};
  t["c"] = {"BF16", {2}, {2.0f, -3.0f}};
  t["d"] = {"I8", {2}, {-128.0f, 127.0f}};
  const auto bytes = write_safetensors(t);
  const auto back = parse_safetensors(bytes, "t.safetensors");
  ASSERT_EQ(back.size(), 4u);
  for (const auto& [name, x] : t) {
    EXPECT_EQ(back.at(name).dtype, x.dtype);
    EXPECT_EQ(back.at(name).shape, x.shape);
    EXPECT_EQ(back.at(name).values, x.values) << name;
  }
}

void expect_parse_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    parse_safetensors(bytes, "bad.safetensors");
    ADD_FAILURE() << "accepted; expected an error containing " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.safetensors"), std::string::npos) << e.what();
  }
}

std::vector<uint8_t> with_header(const std::string& json, size_t data_bytes) {
  std::vector<uint8_t> out;
  for (int k = 0; k < 8; ++k) out.push_back(uint8_t(uint64_t(json.size()) >> (8 * k)));
  for (char c : json) out.push_back(uint8_t(c));
  out.resize(out.size() + data_bytes, 0);
  return out;
}

TEST(ZkmlIo, MalformedSafeTensorsGiveClearErrors) {
  expect_parse_error({1, 2, 3}, "fewer than 8 bytes");
  expect_parse_error(with_header("{}", 0) = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'}, "past the end");
  expect_parse_error(with_header("{\"a\":", 0), "header");
  expect_parse_error(with_header("[1]", 0), "not a JSON object");
  expect_parse_error(with_header(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8), "F64");
  expect_parse_error(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "8 data bytes for 3");
  expect_parse_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "not inside");
  expect_parse_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "not inside");
  expect_parse_error(with_header(R"({"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"I8","shape":[2],"data_offsets":[2,4]}})", 4),
                     "overlap");
  expect_parse_error(with_header(R"({"a":{"dtype":"I8","shape":[-1],"data_offsets":[0,4]}})", 4), "non-negative");
  expect_parse_error(with_header(R"({"a":{"dtype":"I8","shape":[4]}})", 4), "data_offsets");
  expect_parse_error(with_header(R"({"a":{"dtype":"I8","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4),
                     "too many");
  expect_parse_error(with_header(R"({"a":1,"a":2})", 0), "");
  // Random mutations of a valid file: a Parse error or a parse, never a crash.
  std::map<std::string, SafeTensor> t;
  t["x"] = {"F32", {4}, {1, 2, 3, 4}};
  t["y"] = {"BF16", {2, 2}, {1, 2, 3, 4}};
  const auto good = write_safetensors(t);
  uint64_t s = 11;
  for (int i = 0; i < 300; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    auto m = good;
    m[size_t(s >> 33) % m.size()] = uint8_t(s >> 13);
    if (i % 3 == 0) m.resize(size_t(s >> 40) % m.size());
    try {
      parse_safetensors(m, "m");
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::Parse);
    }
  }
}

TEST(ZkmlIo, BlockWeightsFromSafeTensors) {
  TransformerBlock block = transformer_block(16, 2, 1, 8, 32, 4);
  const Values seeded = random_model(block, 9);
  std::map<std::string, SafeTensor> t;
  for (TensorId w : block.weights) {
    const TensorInfo& info = block.graph.tensors()[w];
    SafeTensor st;
    st.dtype = info.log_rows == 0 ? "F32" : "BF16";
    st.shape = info.log_rows == 0 ? std::vector<uint64_t>{info.size()}
                                  : std::vector<uint64_t>{uint64_t(1) << info.log_rows, uint64_t(1) << info.log_cols};
    for (int64_t x : seeded[w]) st.values.push_back(info.log_rows == 0 ? float(x) / 64.0f : float(x) / 8.0f);
    t[info.name] = st;
  }
  const auto parsed = parse_safetensors(write_safetensors(t), "w.safetensors");
  Values v = block_weights_from_safetensors(block, parsed, "w.safetensors");
  for (TensorId w : block.weights)
    for (int64_t x : v[w]) EXPECT_TRUE(x >= -128 && x <= 127);
  EXPECT_EQ(v[*block.graph.find("norm1.gamma")], seeded[*block.graph.find("norm1.gamma")]) << "64 = 1.0";
  v[block.input] = random_input(block, 9);
  block.graph.forward(v);
  const auto model = commit_weights(block.graph, v);
  EXPECT_TRUE(verify_block(prove_block(block, v, model), model.commitment()).accepted);
  auto missing = parsed;
  missing.erase("wo.1");
  EXPECT_THROW(block_weights_from_safetensors(block, missing, "w.safetensors"), Error);
  auto misshapen = parsed;
  misshapen["ffn.up"].shape = {32, 16};
  EXPECT_THROW(block_weights_from_safetensors(block, misshapen, "w.safetensors"), Error);
}

}  // namespace
}  // namespace ptvm::zkml
