// core/utf8: code point counting, control-character detection, and strict UTF-8 validation
// (no overlongs, surrogates, truncated sequences or values above U+10FFFF).
#include "core/utf8.hpp"

#include "table.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using table_test::for_each_row;

using namespace std::string_literals;
using sig::code_points;
using sig::has_control_characters;
using sig::is_valid_utf8;

// UTF-8 encoding of one code point, written independently of the code under test.
std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

TEST(CodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(code_points(""), 0u);
  EXPECT_EQ(code_points("abc"), 3u);
  EXPECT_EQ(code_points("\xc3\xa9"), 1u);                  // é
  EXPECT_EQ(code_points("\xe6\x97\xa5\xe6\x9c\xac"), 2u);  // 日本
  EXPECT_EQ(code_points("\xf0\x9f\x98\x80"), 1u);          // 😀
  EXPECT_EQ(code_points("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(code_points("a\0b"s), 3u);
  std::string many;
  for (int i = 0; i < 128; ++i) many += "\xc3\xa9";
  EXPECT_EQ(code_points(many), 128u);
}

TEST(CodePoints, EveryEncodedLengthCountsOnce) {
  for (char32_t cp : {0x00u, 0x41u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    const std::string text = encode(cp) + "x" + encode(cp);
    EXPECT_EQ(code_points(text), 3u) << std::hex << static_cast<unsigned>(cp);
    EXPECT_TRUE(is_valid_utf8(text)) << std::hex << static_cast<unsigned>(cp);
  }
}

// ---------------------------------------------------------------------------------------------
// Control characters

TEST(ControlCharacters, AreDetected) {
  // clang-format off
  const std::vector<std::string> table{
      // C0, DEL and C1
      "\0"s, "a\0b"s, "\x01"s, "\x1f"s, "\t"s, "\n"s, "\r"s, "\x1b[31m"s, "\x7f"s, "\xc2\x80"s, "\xc2\x85"s,
      "\xc2\x9f"s, "\xe6\x97\xa5\x01\xe6\x9c\xac"s,
      // bidirectional embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069)
      "abc\xe2\x80\xaa"s, "\xe2\x80\xab"s, "\xe2\x80\xac"s, "\xe2\x80\xad"s, "safe\xe2\x80\xaegpj.exe"s,
      "\xe2\x81\xa6"s, "\xe2\x81\xa7"s, "\xe2\x81\xa8"s, "\xe2\x81\xa9x"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) { EXPECT_TRUE(has_control_characters(text)); });
}

TEST(ControlCharacters, PrintableTextIsNotFlagged) {
  // clang-format off
  const std::vector<std::string> table{
      ""s, "abc"s, " "s, "~"s, "Acme Corp!"s, "\xc3\xa9"s, "\xf0\x9f\x98\x80"s, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"s,
      // NBSP, ©, U+2029, U+202F, U+2065, U+206A: next to the flagged ranges, but not in them
      "\xc2\xa0"s, "\xc2\xa9"s, "\xe2\x80\xa9"s, "\xe2\x80\xaf"s, "\xe2\x81\xa5"s, "\xe2\x81\xaa"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) { EXPECT_FALSE(has_control_characters(text)); });
}

TEST(ControlCharacters, EveryC0AndC1CodePoint) {
  for (char32_t cp = 0; cp < 0x20; ++cp) EXPECT_TRUE(has_control_characters(encode(cp))) << static_cast<unsigned>(cp);
  for (char32_t cp = 0x7F; cp <= 0x9F; ++cp)
    EXPECT_TRUE(has_control_characters(encode(cp))) << static_cast<unsigned>(cp);
  for (char32_t cp = 0x20; cp < 0x7F; ++cp)
    EXPECT_FALSE(has_control_characters(encode(cp))) << static_cast<unsigned>(cp);
  for (char32_t cp = 0xA0; cp < 0x100; ++cp)
    EXPECT_FALSE(has_control_characters(encode(cp))) << static_cast<unsigned>(cp);
  for (char32_t cp = 0x202A; cp <= 0x202E; ++cp)
    EXPECT_TRUE(has_control_characters(std::string("x").append(encode(cp)))) << static_cast<unsigned>(cp);
  for (char32_t cp = 0x2066; cp <= 0x2069; ++cp)
    EXPECT_TRUE(has_control_characters(encode(cp) + "x")) << static_cast<unsigned>(cp);
}

// ---------------------------------------------------------------------------------------------
// Validity

TEST(ValidUtf8, IsAccepted) {
  // clang-format off
  const std::vector<std::string> table{
      ""s, "abc"s, "a\0b"s, "\xc3\xa9"s, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"s, "\xf0\x9f\x98\x80"s,
      // the edges: U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF
      "\xc2\x80"s, "\xdf\xbf"s, "\xe0\xa0\x80"s, "\xed\x9f\xbf"s, "\xee\x80\x80"s, "\xef\xbf\xbf"s,
      "\xf0\x90\x80\x80"s, "\xf4\x8f\xbf\xbf"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) { EXPECT_TRUE(is_valid_utf8(text)); });
}

TEST(InvalidUtf8, IsRefused) {
  // clang-format off
  const std::vector<std::string> table{
      // stray continuation bytes and impossible bytes
      "\x80"s, "\xbf"s, "a\x80"s, "\xfe"s, "\xff"s, "\xf5\x80\x80\x80"s, "\xf8\x88\x80\x80\x80"s,
      "\xfc\x84\x80\x80\x80\x80"s,
      // overlong encodings
      "\xc0\x80"s, "\xc0\xaf"s, "\xc1\xbf"s, "\xe0\x80\x80"s, "\xe0\x9f\xbf"s, "\xf0\x80\x80\x80"s,
      "\xf0\x8f\xbf\xbf"s,
      // UTF-16 surrogates, alone and paired
      "\xed\xa0\x80"s, "\xed\xad\xbf"s, "\xed\xb0\x80"s, "\xed\xbf\xbf"s, "\xed\xa0\xbd\xed\xb8\x80"s,
      // above U+10FFFF
      "\xf4\x90\x80\x80"s, "\xf7\xbf\xbf\xbf"s,
      // truncated sequences, at the end and in the middle
      "\xc3"s, "\xe6\x97"s, "\xe6"s, "\xf0\x9f\x98"s, "\xf0\x9f"s, "a\xc3"s, "\xc3" "a"s, "\xe6\x97" "a"s,
      "\xf0\x9f\x98" "A"s, "\xe6\x97\xa5\xe6\x97"s, "\xc3\xc3\xa9"s,
  };
  // clang-format on
  for_each_row(table, [](const std::string& text) { EXPECT_FALSE(is_valid_utf8(text)); });
}

TEST(InvalidUtf8, EverySurrogateIsRefused) {
  for (char32_t cp = 0xD800; cp <= 0xDFFF; cp += 0x3F)
    EXPECT_FALSE(is_valid_utf8(encode(cp))) << static_cast<unsigned>(cp);
  EXPECT_FALSE(is_valid_utf8(encode(0xDFFF)));
  EXPECT_TRUE(is_valid_utf8(encode(0xD7FF)));
  EXPECT_TRUE(is_valid_utf8(encode(0xE000)));
}

}  // namespace
