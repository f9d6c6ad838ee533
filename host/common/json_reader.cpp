// Strict JSON reading (see ptvm/common/json_reader.hpp).
#include "ptvm/common/json_reader.hpp"

#include <filesystem>
#include <fstream>
#include <unordered_set>
#include <vector>

#include "ptvm/common/error.hpp"

namespace ptvm {
namespace {

using nlohmann::json;

// One open object or array while parsing: its keys so far (objects) or the index of the element
// being read (arrays), enough to name where in the document a problem is.
struct Frame {
  bool object = false;
  std::unordered_set<std::string> keys;
  std::string key;
  size_t index = 0;
};

std::string path_of(const std::vector<Frame>& frames) {
  std::string path;
  for (const Frame& f : frames) {
    if (!f.object) {
      path.append("[").append(std::to_string(f.index)).append("]");
    } else if (!f.key.empty()) {
      if (!path.empty()) path.push_back('.');
      path.append(printable_bytes(f.key));
    }
  }
  return path.empty() ? std::string("the top level") : path;
}

}  // namespace

std::string read_file_limited(const std::string& path, size_t max_bytes, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(ErrorCategory::Io, path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::Io, path + ": cannot open " + what);
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  if (size > max_bytes)
    throw Error(ErrorCategory::Parse, path + ": oversized " + what + " (" + std::to_string(size) + " bytes, at most " +
                                          std::to_string(max_bytes) + ")");
  in.seekg(0);
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) throw Error(ErrorCategory::Io, path + ": read failed");
  return text;
}

std::string printable_bytes(std::string_view bytes, size_t max_bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  const size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (n < bytes.size()) out += "...";
  return out;
}

json parse_json_strict(std::string_view text, std::string_view what, const JsonLimits& limits) {
  const std::string name(what);
  if (text.size() > limits.max_bytes)
    throw Error(ErrorCategory::Parse, name + ": oversized (" + std::to_string(text.size()) + " bytes, at most " +
                                          std::to_string(limits.max_bytes) + ")");
  std::vector<Frame> frames;
  auto after_child = [&frames] {
    if (!frames.empty() && !frames.back().object) ++frames.back().index;
  };
  json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (frames.size() >= limits.max_depth)
          throw Error(ErrorCategory::Parse, name + ": nested deeper than " + std::to_string(limits.max_depth) +
                                                " levels at " + path_of(frames));
        frames.push_back(Frame{event == json::parse_event_t::object_start, {}, {}, 0});
        break;
      case json::parse_event_t::key: {
        Frame& f = frames.back();
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!f.keys.insert(key).second) {
          f.key.clear();
          throw Error(ErrorCategory::Parse, name + ": duplicate key \"" + printable_bytes(key) + "\" in " +
                                                path_of(frames));
        }
        f.key = key;
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        after_child();
        break;
      case json::parse_event_t::value:
        after_child();
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::parse_error& e) {
    // nlohmann's message quotes the bytes last read, which may not be UTF-8: escape them.
    throw Error(ErrorCategory::Parse, name + ": not valid JSON at byte " + std::to_string(e.byte) + ": " +
                                          printable_bytes(e.what(), 240));
  } catch (const json::exception& e) {
    throw Error(ErrorCategory::Parse, name + ": not valid JSON: " + printable_bytes(e.what(), 240));
  }
}

}  // namespace ptvm
