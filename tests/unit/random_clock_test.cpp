// core/random and core/clock: identifier formats and RFC 3339 timestamps.
#include "core/clock.hpp"
#include "core/random.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

bool only(const std::string& text, std::string_view alphabet) {
  return text.find_first_not_of(alphabet) == std::string::npos;
}

TEST(Random, ZeroBytesGiveEmptyText) {
  // Edge case: no bytes to draw must not hand libsodium a null buffer (UBSan reports that).
  EXPECT_EQ(sig::random_hex(0), "");
  EXPECT_EQ(sig::random_token(0), "");
}

TEST(Random, HexHasTwoDigitsPerByte) {
  const std::string hex = sig::random_hex(16);
  EXPECT_EQ(hex.size(), 32u);
  EXPECT_TRUE(only(hex, "0123456789abcdef")) << hex;
  EXPECT_EQ(sig::random_hex(6).size(), 12u);  // peer ids: "peer-" + 12 hex chars
}

TEST(Random, Uuid4HasVersionAndVariant) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string uuid = sig::random_uuid4();
    ASSERT_EQ(uuid.size(), 36u) << uuid;
    for (std::size_t dash : {8u, 13u, 18u, 23u}) EXPECT_EQ(uuid[dash], '-') << uuid;
    EXPECT_EQ(uuid[14], '4') << uuid;
    EXPECT_NE(std::string_view("89ab").find(uuid[19]), std::string_view::npos) << uuid;
    std::string digits = uuid;
    std::erase(digits, '-');
    EXPECT_TRUE(only(digits, "0123456789abcdef")) << uuid;
    EXPECT_TRUE(seen.insert(uuid).second) << uuid;
  }
}

TEST(Random, TokensAreUnpaddedBase64Url) {
  const std::string token = sig::random_token(16);
  EXPECT_EQ(token.size(), 22u);
  EXPECT_TRUE(only(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")) << token;
  EXPECT_EQ(sig::random_token(32).size(), 43u);
  EXPECT_NE(sig::random_token(16), sig::random_token(16));
}

TEST(Clock, FormatsRfc3339WithMicroseconds) {
  EXPECT_EQ(sig::format_timestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(sig::format_timestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(sig::format_timestamp(951'782'400'000'001), "2000-02-29T00:00:00.000001Z");
  EXPECT_EQ(sig::format_timestamp(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Clock, NowIsMicrosecondsSinceTheEpoch) {
  const sig::unix_micros now = sig::now_micros();
  EXPECT_GT(now, 1'700'000'000'000'000);  // after 2023
  EXPECT_LT(now, 4'102'444'800'000'000);  // before 2100
  EXPECT_LE(now, sig::now_micros());
}

}  // namespace
