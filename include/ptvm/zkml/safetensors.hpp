// A SafeTensors reader (f32, f16, bf16, int8) and the block's weights from one.
//
// Format: u64 LE header length N ‖ N bytes of JSON {"<name>": {"dtype": "F32"|"F16"|"BF16"|"I8",
// "shape": [d0, ...], "data_offsets": [begin, end]}, ..., "__metadata__": {...} (optional)} ‖ the
// data (offsets relative to its start). Checked: N within the file (and <= 100 MiB), the JSON under
// ptvm's strict reader (size, depth, duplicate keys), every field's type, the dtype, the shape's
// product times the element size equal to end - begin (no overflow), the range inside the data,
// no two tensors overlapping. Errors: ptvm::Error(Parse) "<file>: <tensor or field>: <why>".
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "ptvm/zkml/block.hpp"

namespace ptvm::zkml {

struct SafeTensor {
  std::string dtype;             // F32, F16, BF16, I8
  std::vector<uint64_t> shape;
  std::vector<float> values;     // converted to f32 (int8 exactly)
};

std::map<std::string, SafeTensor> parse_safetensors(std::span<const uint8_t> bytes, const std::string& what);
std::map<std::string, SafeTensor> read_safetensors_file(const std::string& path);
// The encoding of `tensors` (tests and tools write files with it); dtype per tensor as given.
std::vector<uint8_t> write_safetensors(const std::map<std::string, SafeTensor>& tensors);

// The block's weights from SafeTensors under the block's names (wq.<h> d_model x head_dim,
// wk.<g>, wv.<g>, wo.<h> head_dim x d_model, norm1.gamma / norm2.gamma [d_model], ffn.gate,
// ffn.up d_model x ffn, ffn.down ffn x d_model; row-major). I8 tensors are taken as they are;
// float matrices are quantized per tensor to round(64 w / max|w|), float gammas to round(64 g)
// (64 = 1.0), both clamped to int8. Parse errors name a missing or misshapen tensor.
Values block_weights_from_safetensors(const TransformerBlock& block, const std::map<std::string, SafeTensor>& tensors,
                                      const std::string& what);

}  // namespace ptvm::zkml
