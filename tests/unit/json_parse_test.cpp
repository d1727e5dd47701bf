// core/json_parse: RFC 8259 only, valid UTF-8, bounded nesting, duplicate keys refused at any
// depth, no comments, no trailing data; the error says where parsing stopped.
#include "core/json_parse.hpp"

#include "core/utf8.hpp"

#include "table.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;
using sig::parse_json;
using table_test::for_each_row;

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(std::size_t depth) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += R"({"k":)";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

void expect_refused(const std::string& text) {
  const auto parsed = parse_json(text);
  ASSERT_FALSE(parsed.has_value()) << "accepted as " << boost::json::serialize(*parsed);
  EXPECT_FALSE(parsed.error().reason.empty());
  EXPECT_LE(parsed.error().offset, text.size());
}

// ---------------------------------------------------------------------------------------------
// Accepted documents

TEST(JsonParse, AcceptsValidDocuments) {
  // clang-format off
  const std::vector<std::string> table{
      "{}"s, "[]"s, R"({"a":1})"s, R"(  {"a": [1, 2, {"b": null}]}  )"s, "\n\t{}\r\n"s, R"("text")"s, "42"s, "-0"s,
      "1.5e10"s, "true"s, "false"s, "null"s, R"({"a":"\u00e9"})"s,
      "{\"a\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"}"s, R"({"emoji":"\ud83d\ude00"})"s,
      R"({"big":18446744073709551615,"neg":-9223372036854775808})"s,
      // the same key in different objects
      R"({"a":{"a":1}})"s, R"([{"a":1},{"a":2}])"s, R"({"x":{"k":1},"y":{"k":2}})"s,
      // keys that only look alike
      R"({"a":1,"A":2})"s, R"({"":1})"s, R"({"a\"b":1,"a\\b":2})"s, R"({"esc":"\n\t\"\\\/\b\f\r"})"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) {
    const auto parsed = parse_json(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().reason << " at " << parsed.error().offset;
    // Whatever was accepted equals what Boost.JSON's own parser makes of it.
    EXPECT_EQ(*parsed, boost::json::parse(text));
  });
}

TEST(JsonParse, ReturnsTheValue) {
  const auto parsed = parse_json(R"({"name":"Acme","n":-3,"u":18446744073709551615,"d":1.5,"l":[true,null]})");
  ASSERT_TRUE(parsed.has_value());
  const auto& object = parsed->as_object();
  EXPECT_EQ(object.size(), 5u);
  EXPECT_EQ(object.at("name"), "Acme");
  EXPECT_TRUE(object.at("n").is_int64());
  EXPECT_EQ(object.at("n").as_int64(), -3);
  EXPECT_TRUE(object.at("u").is_uint64());
  EXPECT_TRUE(object.at("d").is_double());
  EXPECT_EQ(object.at("l").as_array().size(), 2u);
}

TEST(JsonParse, LongStringsAndKeysSurviveChunking) {
  // Long keys and values arrive in parts; duplicate detection must see the whole key.
  const std::string long_key(100'000, 'k');
  const auto ok = parse_json(R"({")" + long_key + R"(":1,")" + long_key + R"(x":2})");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->as_object().size(), 2u);
  const auto dup = parse_json(R"({")" + long_key + R"(":1,")" + long_key + R"(":2})");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().reason, "Duplicate key");
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys

TEST(JsonParse, DuplicateKeysAreRefusedAtAnyDepth) {
  // clang-format off
  const std::vector<std::string> table{
      R"({"a":1,"a":2})"s, R"({"a":1,"b":2,"a":3})"s, R"({"a":1,"a":1})"s, R"({"":1,"":2})"s,
      R"({"a":{"b":1},"a":{"c":2}})"s,
      // nested, inside arrays
      R"({"x":{"a":1,"a":2}})"s, R"([{"k":1,"k":1}])"s, R"({"o":{"p":{"q":{"r":1,"s":2,"r":3}}}})"s,
      R"([1,{"ok":1},{"z":[{"d":1,"d":2}]}])"s,
      // equal once unescaped
      R"({"a":1,"\u0061":2})"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) {
    const auto parsed = parse_json(text);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().reason, "Duplicate key");
    EXPECT_LE(parsed.error().offset, text.size());
  });
}

// ---------------------------------------------------------------------------------------------
// Refused documents

TEST(JsonParse, InvalidUtf8IsRefused) {
  const std::vector<std::string> table{
      "\"\xff\""s,
      "{\"a\":\"\xc3\"}"s,              // truncated
      "{\"a\":\"\xc0\xaf\"}"s,          // overlong
      "{\"a\":\"\xe0\x80\xaf\"}"s,      // overlong
      "{\"a\":\"\xed\xa0\x80\"}"s,      // surrogate
      "{\"a\":\"\xf4\x90\x80\x80\"}"s,  // above U+10FFFF
      "{\"\xff\":1}"s,                  // in a key
      "[\"ok\",\"\x80\"]"s,
      "{\"a\":\"\xf0\x9f\x98\"}"s,
  };
  for_each_row(table, expect_refused);
}

TEST(JsonParse, SyntaxErrorsAreRefused) {
  // clang-format off
  const std::vector<std::string> table{
      ""s, " "s, "{"s, "}"s, "[1,2"s, R"({"a"})"s, R"({"a":})"s, "[1,]"s, R"({"a":1,})"s, "'a'"s, "{a:1}"s,
      // not JSON numbers
      "NaN"s, "Infinity"s, "-Infinity"s, "01"s, "+1"s, ".5"s, "1."s, "[1 2]"s,
      // raw control characters, bad literals and escapes
      "\"a\tb\""s, "\"line\nbreak\""s, "tru"s, "nul"s, "\"abc"s, R"("\x41")"s, R"("\u12")"s,
      // a byte order mark
      "\xef\xbb\xbf{}"s,
  };
  // clang-format on
  for_each_row(table, expect_refused);
}

TEST(JsonParse, TrailingDataIsRefused) {
  const std::vector<std::string> table{"{} x"s,        "{}{}"s,      "[1]]"s, "1 2"s,
                                       R"({"a":1}})"s, "null null"s, "{},"s,  "[1]\0"s};
  for_each_row(table, expect_refused);
}

TEST(JsonParse, CommentsAreRefused) {
  const std::vector<std::string> table{
      "// comment\n{}"s,           "{} // comment"s, "/* c */ {}"s, R"({"a":1 /* c */})"s,
      "{\"a\":1, // c\n\"b\":2}"s, "# comment\n{}"s};
  for_each_row(table, expect_refused);
}

TEST(JsonParse, LoneSurrogateEscapesNeverYieldInvalidUtf8) {
  // "\ud800" alone is not a character. Refusing it is fine; accepting it must not smuggle an
  // encoded surrogate (invalid UTF-8) into the rest of the system.
  const std::vector<std::string> table{R"(["\ud800"])", R"(["\udc00"])", R"(["\ud800x"])", R"(["\ud83d\u0041"])"};
  for_each_row(table, [](const std::string& text) {
    const auto parsed = parse_json(text);
    if (!parsed) return;
    const auto& s = parsed->as_array().at(0).as_string();
    EXPECT_TRUE(sig::is_valid_utf8(std::string_view(s.data(), s.size())));
  });
}

// ---------------------------------------------------------------------------------------------
// Numbers out of range

bool all_numbers_finite(const boost::json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array()) {
    for (const auto& item : v.get_array())
      if (!all_numbers_finite(item)) return false;
  }
  if (v.is_object()) {
    for (const auto& item : v.get_object())
      if (!all_numbers_finite(item.value())) return false;
  }
  return true;
}

TEST(JsonParse, HugeNumbersAreRefusedOrStayFinite) {
  // Whatever is accepted can be written back out as JSON that is accepted again: the server
  // forwards parsed values (the "data" of a signal message) to other clients. An overflowing
  // number must not become infinity, which Boost.JSON writes out as the non-JSON "Infinity".
  const std::vector<std::string> table{"1e400"s,
                                       "-1e400"s,
                                       "[1e309]"s,
                                       R"({"x":1.8e308})"s,
                                       R"({"data":{"ts":1e99999}})"s,
                                       "1e-400"s,
                                       "123456789012345678901234567890"s};
  for_each_row(table, [](const std::string& text) {
    const auto parsed = parse_json(text);
    if (!parsed) {
      EXPECT_FALSE(parsed.error().reason.empty());
      return;
    }
    const std::string again = boost::json::serialize(*parsed);
    EXPECT_TRUE(all_numbers_finite(*parsed)) << "parsed as " << again;
    EXPECT_TRUE(parse_json(again).has_value()) << "re-serialized as " << again;
  });
}

// ---------------------------------------------------------------------------------------------
// Depth

TEST(JsonDepth, UpToTheLimitIsAccepted) {
  EXPECT_EQ(sig::json_max_depth, 32u);
  EXPECT_TRUE(parse_json(nested_arrays(1)).has_value());
  EXPECT_TRUE(parse_json(nested_arrays(31)).has_value());
  EXPECT_TRUE(parse_json(nested_arrays(32)).has_value());
  EXPECT_TRUE(parse_json(nested_objects(32)).has_value());
}

TEST(JsonDepth, DeeperIsRefused) {
  for (const std::string& text :
       {nested_arrays(33), nested_objects(33), nested_arrays(1000), nested_objects(5000), std::string(100'000, '[')}) {
    const auto parsed = parse_json(text);
    ASSERT_FALSE(parsed.has_value()) << text.size();
    EXPECT_EQ(parsed.error().reason, "JSON nested too deeply") << text.size();
  }
}

// ---------------------------------------------------------------------------------------------
// Reasons and offsets

struct offset_case {
  std::string text;
  std::string reason;
  std::size_t offset;

  friend void PrintTo(const offset_case& c, std::ostream* out) { *out << testing::PrintToString(c.text); }
};

TEST(JsonParse, ErrorsSayWhereParsingStopped) {
  const std::vector<offset_case> table{
      {"[1, 2, x]", "Expecting value", 7},
      {R"({"a": })", "Expecting value", 6},
      {"{} x", "Expecting value", 3},
      {"[1]]", "Expecting value", 3},
      {"", "Expecting value", 0},
      {"   ", "Expecting value", 3},
      {R"({"a":1 /* c */})", "Expecting value", 7},
      {"{\"a\":\"\xff\"}", "Expecting value", 6},
  };
  for_each_row(table, [](const offset_case& row) {
    const auto parsed = parse_json(row.text);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().reason, row.reason);
    EXPECT_EQ(parsed.error().offset, row.offset);
  });
}

}  // namespace
