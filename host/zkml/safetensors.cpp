// The SafeTensors reader (safetensors.hpp).
#include "ptvm/zkml/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"
#include "ptvm/zkml/layers.hpp"

namespace ptvm::zkml {
namespace {

Error parse_error(const std::string& what, const std::string& field, const std::string& why) {
  return Error(ErrorCategory::Parse, what + ": " + field + ": " + why);
}

size_t dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "I8") return 1;
  return 0;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  if (exp == 0) {
    const float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t float_to_half(float f) {  // round to nearest even, for the writer
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const int exp = int((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (exp <= 0) return uint16_t(sign);
  if (exp >= 31) return uint16_t(sign | 0x7c00);
  uint32_t h = sign | (uint32_t(exp) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return uint16_t(h);
}

}  // namespace

std::map<std::string, SafeTensor> parse_safetensors(std::span<const uint8_t> bytes, const std::string& what) {
  if (bytes.size() < 8) throw parse_error(what, "header length", "the file has fewer than 8 bytes");
  uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= uint64_t(bytes[k]) << (8 * k);
  if (n > (uint64_t{100} << 20)) throw parse_error(what, "header length", std::to_string(n) + " bytes is above 100 MiB");
  if (n > bytes.size() - 8) throw parse_error(what, "header length", std::to_string(n) + " bytes run past the end of the file");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), size_t(n));
  const nlohmann::json header = parse_json_strict(text, what + " header");
  if (!header.is_object()) throw parse_error(what, "header", "not a JSON object");
  const std::span<const uint8_t> data = bytes.subspan(8 + size_t(n));
  std::map<std::string, SafeTensor> out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw parse_error(what, name, "not an object");
      continue;
    }
    if (!entry.is_object()) throw parse_error(what, name, "not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) throw parse_error(what, name, std::string("no \"") + key + "\"");
    if (entry.size() != 3) throw parse_error(what, name, "unknown keys besides dtype, shape, data_offsets");
    if (!entry["dtype"].is_string()) throw parse_error(what, name + ".dtype", "not a string");
    SafeTensor t;
    t.dtype = entry["dtype"].get<std::string>();
    const size_t esize = dtype_size(t.dtype);
    if (esize == 0) throw parse_error(what, name + ".dtype", "'" + printable_bytes(t.dtype) + "' (F32, F16, BF16 or I8)");
    const auto& shape = entry["shape"];
    if (!shape.is_array() || shape.size() > 8) throw parse_error(what, name + ".shape", "not an array of at most 8 sizes");
    uint64_t count = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) throw parse_error(what, name + ".shape", "a size is not a non-negative integer");
      const uint64_t v = d.get<uint64_t>();
      if (v != 0 && count > (uint64_t{1} << 40) / v) throw parse_error(what, name + ".shape", "too many elements");
      count *= v;
      t.shape.push_back(v);
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw parse_error(what, name + ".data_offsets", "not two non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data.size())
      throw parse_error(what, name + ".data_offsets", "[" + std::to_string(begin) + ", " + std::to_string(end) +
                                                          ") is not inside the " + std::to_string(data.size()) + " data bytes");
    if (end - begin != count * esize)
      throw parse_error(what, name, std::to_string(end - begin) + " data bytes for " + std::to_string(count) + " " +
                                        t.dtype + " elements");
    ranges.push_back({begin, end});
    t.values.resize(size_t(count));
    const uint8_t* p = data.data() + begin;
    for (size_t i = 0; i < t.values.size(); ++i) {
      if (t.dtype == "F32") {
        uint32_t w;
        std::memcpy(&w, p + 4 * i, 4);
        t.values[i] = std::bit_cast<float>(w);
      } else if (t.dtype == "F16") {
        t.values[i] = half_to_float(uint16_t(p[2 * i] | p[2 * i + 1] << 8));
      } else if (t.dtype == "BF16") {
        t.values[i] = std::bit_cast<float>(uint32_t(p[2 * i] | p[2 * i + 1] << 8) << 16);
      } else {
        t.values[i] = float(int8_t(p[i]));
      }
    }
    out.emplace(name, std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second && ranges[i].first != ranges[i].second)
      throw parse_error(what, "data_offsets", "two tensors overlap");
  return out;
}

std::map<std::string, SafeTensor> read_safetensors_file(const std::string& path) {
  const std::string bytes = read_file_limited(path, size_t{16} << 30, "safetensors file");
  return parse_safetensors(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), path);
}

std::vector<uint8_t> write_safetensors(const std::map<std::string, SafeTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const auto& [name, t] : tensors) {
    const size_t begin = data.size();
    for (float v : t.values) {
      if (t.dtype == "F32") {
        const uint32_t w = std::bit_cast<uint32_t>(v);
        for (int k = 0; k < 4; ++k) data.push_back(uint8_t(w >> (8 * k)));
      } else if (t.dtype == "F16" || t.dtype == "BF16") {
        const uint16_t h = t.dtype == "F16" ? float_to_half(v) : uint16_t(std::bit_cast<uint32_t>(v) >> 16);
        data.push_back(uint8_t(h));
        data.push_back(uint8_t(h >> 8));
      } else {
        data.push_back(uint8_t(int8_t(v)));
      }
    }
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  const std::string text = header.dump();
  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + data.size());
  for (int k = 0; k < 8; ++k) out.push_back(uint8_t(uint64_t(text.size()) >> (8 * k)));
  for (char c : text) out.push_back(uint8_t(c));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Values block_weights_from_safetensors(const TransformerBlock& block, const std::map<std::string, SafeTensor>& tensors,
                                      const std::string& what) {
  Values v(block.graph.tensors().size());
  for (TensorId id : block.weights) {
    const TensorInfo& info = block.graph.tensors()[id];
    auto it = tensors.find(info.name);
    if (it == tensors.end()) throw parse_error(what, info.name, "missing (the block needs it)");
    const SafeTensor& t = it->second;
    const bool gamma = info.log_rows == 0;
    const std::vector<uint64_t> want = gamma ? std::vector<uint64_t>{info.real_cols()}
                                             : std::vector<uint64_t>{info.real_rows(), info.real_cols()};
    if (t.shape != want) {
      std::string s;
      for (uint64_t d : want) s += (s.empty() ? "" : ", ") + std::to_string(d);
      throw parse_error(what, info.name, "shape is not [" + s + "]");
    }
    std::vector<int64_t> real(t.values.size());
    float max_abs = 0;
    for (float x : t.values) {
      if (!std::isfinite(x)) throw parse_error(what, info.name, "a value is not finite");
      max_abs = std::max(max_abs, std::fabs(x));
    }
    for (size_t i = 0; i < t.values.size(); ++i) {
      const double x = t.values[i];
      double q = x;
      if (t.dtype != "I8") q = gamma ? 64.0 * x : (max_abs > 0 ? 64.0 * x / max_abs : 0.0);
      real[i] = clamp8(int64_t(std::floor(q + 0.5)));
    }
    v[id] = pad_values(info, real);
  }
  return v;
}

}  // namespace ptvm::zkml
