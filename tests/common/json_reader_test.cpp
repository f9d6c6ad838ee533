// The strict JSON reader every ptvm file format goes through: nesting bounded without recursion,
// duplicate keys refused at any depth, invalid UTF-8 refused with a message that is itself
// printable inside JSON, sizes checked first; and what it accepts is exactly what nlohmann parses.
#include <gtest/gtest.h>

#include <string>

#include "ptvm/common/error.hpp"
#include "ptvm/common/json_reader.hpp"

namespace ptvm {
namespace {

using nlohmann::json;

std::string parse_error(std::string_view text, const JsonLimits& limits = {}) {
  try {
    parse_json_strict(text, "input.json", limits);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::Parse) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << printable_bytes(text);
  return "";
}

bool is_ascii_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return true;
}

TEST(JsonReader, AcceptsWhatNlohmannParses) {
  const std::string text =
      R"({"a":[1,2,{"b":null,"c":[true,false,-3,4.5e2,"x\u00e9\ud83d\ude00"]}],"d":{},"e":[],"f":18446744073709551615})";
  EXPECT_EQ(parse_json_strict(text, "t"), json::parse(text));
  EXPECT_EQ(parse_json_strict("  7 ", "t"), json(7));
  // The same key in different objects is fine, and so are equal values.
  EXPECT_NO_THROW(parse_json_strict(R"([{"k":1},{"k":1},{"o":{"k":2}}])", "t"));
}

TEST(JsonReader, DeepNestingIsAnErrorNotACrash) {
  // The adversarial review's case: ~75,000 nested arrays (a 152 KB file) overflowed the stack in
  // nlohmann's recursive serializer. The reader stops at the limit, without recursion.
  for (size_t depth : {size_t{33}, size_t{3500}, size_t{75000}, size_t{1} << 20}) {
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    const std::string why = parse_error(deep);
    EXPECT_NE(why.find("nested deeper than 32 levels"), std::string::npos) << why;
    const std::string deep_objects = [&] {
      std::string s;
      for (size_t i = 0; i < depth; ++i) s += "{\"a\":";
      s += "0";
      s += std::string(depth, '}');
      return s;
    }();
    EXPECT_NE(parse_error(deep_objects).find("nested deeper"), std::string::npos);
  }
  // Exactly at the limit is fine; the limit is the caller's.
  EXPECT_NO_THROW(parse_json_strict(std::string(32, '[') + std::string(32, ']'), "t"));
  EXPECT_NE(parse_error(std::string(5, '[') + std::string(5, ']'), JsonLimits{1 << 20, 4}).find("deeper than 4"),
            std::string::npos);
}

TEST(JsonReader, DuplicateKeysAreRefusedAnywhere) {
  EXPECT_NE(parse_error(R"({"acc":145,"acc":144})").find("duplicate key \"acc\" in the top level"), std::string::npos);
  EXPECT_NE(parse_error(R"({"claim":{"x":1},"claim":{"x":2}})").find("duplicate key \"claim\""), std::string::npos);
  const std::string nested = parse_error(R"({"claim":{"final_state":{"pc":1,"acc":145,"acc":144}}})");
  EXPECT_NE(nested.find("duplicate key \"acc\" in claim.final_state"), std::string::npos) << nested;
  const std::string in_list = parse_error(R"([{"program":"a"},{"program":"b","program":"c"}])");
  EXPECT_NE(in_list.find("in [1]"), std::string::npos) << in_list;
  // Keys that differ only after an escape are different keys; escapes that decode equal are equal.
  EXPECT_NO_THROW(parse_json_strict(R"({"a":1,"a\u0000":2})", "t"));
  EXPECT_NE(parse_error(R"({"a":1,"\u0061":2})").find("duplicate key"), std::string::npos);
}

TEST(JsonReader, InvalidUtf8IsRefusedWithAPrintableMessage) {
  for (const std::string& bad : {std::string("{\"a\":\"\xff\xfe\"}"), std::string("[\"\xc3\x28\"]"),
                                std::string("{\"\xed\xa0\x80\":1}"), std::string("\x80\x81garbage")}) {
    const std::string why = parse_error(bad);
    EXPECT_NE(why.find("not valid JSON at byte"), std::string::npos) << why;
    EXPECT_TRUE(is_ascii_printable(why)) << printable_bytes(why);
    // The message can be put inside JSON output (what `tvm verify --json` does with a reason).
    EXPECT_NO_THROW(json({{"reason", why}}).dump());
  }
}

TEST(JsonReader, SizeIsCheckedFirst) {
  const std::string why = parse_error(std::string(100, ' '), JsonLimits{99, 32});
  EXPECT_NE(why.find("oversized (100 bytes, at most 99)"), std::string::npos) << why;
  EXPECT_NE(parse_error("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[1,2").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[1] [2]").find("not valid JSON"), std::string::npos);
}

TEST(JsonReader, PrintableBytes) {
  EXPECT_EQ(printable_bytes("plain text"), "plain text");
  EXPECT_EQ(printable_bytes(std::string("a\xff\n\\b", 5)), "a\\xff\\x0a\\x5cb");
  EXPECT_EQ(printable_bytes(std::string(10, 'x'), 4), "xxxx...");
  const std::string all = [] {
    std::string s;
    for (int c = 0; c < 256; ++c) s.push_back(static_cast<char>(c));
    return s;
  }();
  EXPECT_TRUE(is_ascii_printable(printable_bytes(all, 1024)));
}

TEST(JsonReader, DumpJsonSafeNeverThrows) {
  json j = {{"file", std::string("caf\xe9.json")}};
  EXPECT_THROW(j.dump(), json::type_error);
  EXPECT_EQ(dump_json_safe(j), "{\"file\":\"caf\xef\xbf\xbd.json\"}");
}

}  // namespace
}  // namespace ptvm
