// auth/jwt: HS256 only, constant-time signature check, exp required, nbf honoured, sub a positive
// user id. Tokens are built by hand (jwt_test_support.hpp) so that every malformed or hostile
// variant carries an otherwise valid signature.
#include "auth/jwt.hpp"

#include "core/json_parse.hpp"
#include "jwt_test_support.hpp"

#include "table.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using table_test::for_each_row;

using namespace std::string_literals;
using namespace std::chrono_literals;
using jwt_test::b64url;
using jwt_test::sign_encoded;
using jwt_test::sign_json;
using jwt_test::split;
using sig::auth::jwt_codec;
using sig::auth::token_error;

const std::string key = "test-secret-key-0123456789abcdef";
constexpr std::int64_t now = 1'800'000'000;  // a fixed "now", in seconds
const std::string hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string payload(std::string_view sub_json, std::int64_t exp, std::string_view extra = {}) {
  std::string text = "{";
  if (!sub_json.empty()) text += R"("sub":)" + std::string(sub_json) + ",";
  text += R"("exp":)" + std::to_string(exp);
  if (!extra.empty()) {
    text += ',';
    text += extra;
  }
  return text + "}";
}

std::string valid_payload() { return payload(R"("42")", now + 600, R"("iat":)" + std::to_string(now)); }

std::optional<token_error> error_of(const std::expected<sig::auth::token_claims, token_error>& r) {
  if (r) return std::nullopt;
  return r.error();
}

std::string describe(std::optional<token_error> e) { return e ? std::string(sig::auth::to_string(*e)) : "accepted"; }

class Jwt : public testing::Test {
 protected:
  jwt_codec codec{key, 1800s};

  std::optional<token_error> verify_error(std::string_view token, std::int64_t at = now) const {
    return error_of(codec.verify(token, at));
  }
};

// ---------------------------------------------------------------------------------------------
// Issue and verify

TEST_F(Jwt, IssuedTokenRoundTrips) {
  const std::string token = codec.issue(42, "test-stamp", now);
  const auto claims = codec.verify(token, now);
  ASSERT_TRUE(claims.has_value()) << describe(error_of(claims));
  EXPECT_EQ(claims->user_id, 42);
  EXPECT_EQ(claims->issued_at, now);
  EXPECT_EQ(claims->expires_at, now + 1800);
  EXPECT_EQ(claims->jti.size(), 32u);
  EXPECT_EQ(claims->jti.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(codec.lifetime(), 1800s);
}

TEST_F(Jwt, IssuedTokenHasTheStandardShape) {
  const std::string token = codec.issue(7, "test-stamp", now);
  const auto parts = split(token);
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& part : parts) {
    EXPECT_FALSE(part.empty());
    EXPECT_EQ(part.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << part;
  }
  const auto header = sig::parse_json(jwt_test::b64url_decode(parts[0]));
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->at("alg"), "HS256");
  EXPECT_EQ(header->at("typ"), "JWT");
  const auto claims = sig::parse_json(jwt_test::b64url_decode(parts[1]));
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->at("sub"), "7");  // a string, as RFC 7519 and PyJWT want
  EXPECT_EQ(claims->at("iat").to_number<std::int64_t>(), now);
  EXPECT_EQ(claims->at("exp").to_number<std::int64_t>(), now + 1800);
  EXPECT_TRUE(claims->at("jti").is_string());
  EXPECT_EQ(parts[2], b64url(jwt_test::hs256(key, parts[0] + "." + parts[1])));
}

TEST_F(Jwt, EveryTokenHasItsOwnJti) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const auto claims = codec.verify(codec.issue(1, "test-stamp", now), now);
    ASSERT_TRUE(claims.has_value());
    EXPECT_TRUE(seen.insert(claims->jti).second) << claims->jti;
  }
}

TEST_F(Jwt, ValidUntilTheSecondBeforeExp) {
  const std::string token = codec.issue(42, "test-stamp", now);
  EXPECT_EQ(verify_error(token, now + 1799), std::nullopt);
  EXPECT_EQ(verify_error(token, now + 1800), token_error::expired);  // exp == now
  EXPECT_EQ(verify_error(token, now + 5000), token_error::expired);  // exp < now
}

TEST_F(Jwt, AnotherCodecWithTheSameSecretAccepts) {
  const jwt_codec other(key, 60s);
  EXPECT_EQ(error_of(other.verify(codec.issue(5, "test-stamp", now), now)), std::nullopt);
}

TEST_F(Jwt, HandBuiltValidTokenIsAccepted) {
  // Sanity check of the helpers every other test relies on.
  const auto claims = codec.verify(sign_json(hs256_header, valid_payload(), key), now);
  ASSERT_TRUE(claims.has_value()) << describe(error_of(claims));
  EXPECT_EQ(claims->user_id, 42);
  EXPECT_EQ(claims->expires_at, now + 600);
  EXPECT_EQ(claims->issued_at, now);
  EXPECT_EQ(claims->jti, "");
}

// ---------------------------------------------------------------------------------------------
// Signature

TEST_F(Jwt, TamperedPayloadIsRefused) {
  const auto parts = split(codec.issue(42, "test-stamp", now));
  const std::string forged = b64url(payload(R"("1")", now + 600));
  EXPECT_EQ(verify_error(parts[0] + "." + forged + "." + parts[2]), token_error::bad_signature);
}

TEST_F(Jwt, TamperedHeaderIsRefused) {
  const auto parts = split(codec.issue(42, "test-stamp", now));
  const std::string header = b64url(R"({"typ":"JWT","alg":"HS256"})");
  EXPECT_EQ(verify_error(header + "." + parts[1] + "." + parts[2]), token_error::bad_signature);
}

TEST_F(Jwt, BadSignaturesAreRefused) {
  const std::string token = codec.issue(42, "test-stamp", now);
  const auto parts = split(token);
  const std::string body = parts[0] + "." + parts[1] + ".";
  std::string flipped = parts[2];
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_error(body + flipped), token_error::bad_signature);
  EXPECT_EQ(verify_error(body), token_error::bad_signature);                           // empty
  EXPECT_EQ(verify_error(body + parts[2].substr(0, 42)), token_error::bad_signature);  // truncated
  EXPECT_EQ(verify_error(body + parts[2] + "AAAA"), token_error::bad_signature);       // too long
  EXPECT_EQ(verify_error(body + b64url(std::string(32, '\0'))), token_error::bad_signature);
  EXPECT_NE(verify_error(body + parts[2] + "="), std::nullopt);  // padded
  EXPECT_NE(verify_error(body + parts[2].substr(0, 20) + "+" + parts[2].substr(21)), std::nullopt);
}

TEST_F(Jwt, WrongKeyIsRefused) {
  const jwt_codec other("another-secret", 1800s);
  EXPECT_EQ(verify_error(other.issue(42, "test-stamp", now)), token_error::bad_signature);
  EXPECT_EQ(verify_error(sign_json(hs256_header, valid_payload(), key + "x")), token_error::bad_signature);
  EXPECT_EQ(verify_error(sign_json(hs256_header, valid_payload(), "")), token_error::bad_signature);
}

// ---------------------------------------------------------------------------------------------
// Algorithm

TEST_F(Jwt, AlgNoneIsRefusedWithOrWithoutSignature) {
  for (const std::string alg : {"none", "None", "NONE", "nOnE"}) {
    SCOPED_TRACE(alg);
    const std::string header = b64url(R"({"alg":")" + alg + R"(","typ":"JWT"})");
    const std::string body = header + "." + b64url(valid_payload());
    EXPECT_EQ(verify_error(body + "."), token_error::bad_algorithm);
    EXPECT_EQ(verify_error(sign_encoded(header, b64url(valid_payload()), key)), token_error::bad_algorithm);
    EXPECT_NE(verify_error(body), std::nullopt);  // two parts only
  }
}

TEST_F(Jwt, OtherAlgorithmsAreRefusedEvenWithAValidHs256Signature) {
  const std::vector<std::string> headers{R"({"alg":"HS384","typ":"JWT"})"s,
                                         R"({"alg":"HS512","typ":"JWT"})"s,
                                         R"({"alg":"RS256","typ":"JWT"})"s,
                                         R"({"alg":"ES256","typ":"JWT"})"s,
                                         R"({"alg":"PS256","typ":"JWT"})"s,
                                         R"({"alg":"EdDSA"})"s,
                                         R"({"alg":"hs256"})"s,
                                         R"({"alg":"HS256 "})"s,
                                         R"({"alg":""})"s,
                                         R"({"typ":"JWT"})"s,
                                         R"({})"s,
                                         R"({"alg":null})"s,
                                         R"({"alg":256})"s,
                                         R"({"alg":["HS256"]})"s,
                                         R"({"alg":{"name":"HS256"}})"s,
                                         R"({"alg":"HS256","crit":["exp"]})"s};
  for_each_row(headers, [&](const std::string& header) {
    EXPECT_EQ(verify_error(sign_json(header, valid_payload(), key)), token_error::bad_algorithm);
  });
}

// ---------------------------------------------------------------------------------------------
// exp, nbf, iat

TEST_F(Jwt, ExpIsRequiredAndMustBeANumber) {
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42"})", key)), token_error::bad_claims);
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":null})", key)), token_error::bad_claims);
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":"1900000000"})", key)), token_error::bad_claims);
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":true})", key)), token_error::bad_claims);
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":[1900000000]})", key)), token_error::bad_claims);
}

TEST_F(Jwt, ExpBoundaries) {
  const auto with_exp = [&](std::int64_t exp) { return sign_json(hs256_header, payload(R"("42")", exp), key); };
  EXPECT_EQ(verify_error(with_exp(now + 1)), std::nullopt);
  EXPECT_EQ(verify_error(with_exp(now)), token_error::expired);
  EXPECT_EQ(verify_error(with_exp(now - 1)), token_error::expired);
  EXPECT_EQ(verify_error(with_exp(0)), token_error::expired);
  EXPECT_EQ(verify_error(with_exp(-5)), token_error::expired);
  // A fractional NumericDate is allowed by RFC 7519.
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":1800000100.5})", key)), std::nullopt);
  EXPECT_EQ(verify_error(sign_json(hs256_header, R"({"sub":"42","exp":1799999999.5})", key)), token_error::expired);
}

TEST_F(Jwt, NbfInTheFutureIsRefusedAndInThePastAccepted) {
  const auto with_nbf = [&](std::string_view nbf) {
    return sign_json(hs256_header, payload(R"("42")", now + 600, R"("nbf":)" + std::string(nbf)), key);
  };
  EXPECT_EQ(verify_error(with_nbf(std::to_string(now + 10))), token_error::not_yet_valid);
  EXPECT_EQ(verify_error(with_nbf(std::to_string(now + 1))), token_error::not_yet_valid);
  EXPECT_EQ(verify_error(with_nbf(std::to_string(now))), std::nullopt);
  EXPECT_EQ(verify_error(with_nbf(std::to_string(now - 3600))), std::nullopt);
  EXPECT_EQ(verify_error(with_nbf(R"("soon")")), token_error::bad_claims);
}

TEST_F(Jwt, IatMustBeANumberWhenPresent) {
  EXPECT_EQ(verify_error(sign_json(hs256_header, payload(R"("42")", now + 600, R"("iat":"yesterday")"), key)),
            token_error::bad_claims);
  const auto claims =
      codec.verify(sign_json(hs256_header, payload(R"("42")", now + 600, R"("iat":1700000000)"), key), now);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->issued_at, 1'700'000'000);
}

TEST_F(Jwt, UnknownClaimsAreIgnored) {
  const std::string token =
      sign_json(hs256_header, payload(R"("42")", now + 600, R"("scope":"x","aud":"y","jti":"abc")"), key);
  const auto claims = codec.verify(token, now);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->jti, "abc");
}

// ---------------------------------------------------------------------------------------------
// sub

struct sub_case {
  std::string sub_json;  // empty: no sub claim
  std::optional<std::int64_t> user_id;
};

const std::vector<sub_case> subjects{sub_case{R"("1")", 1},
                                     sub_case{R"("42")", 42},
                                     sub_case{R"("9223372036854775807")", INT64_MAX},
                                     sub_case{"", std::nullopt},
                                     sub_case{"42", std::nullopt},
                                     sub_case{"null", std::nullopt},
                                     sub_case{"true", std::nullopt},
                                     sub_case{R"(["42"])", std::nullopt},
                                     sub_case{R"("")", std::nullopt},
                                     sub_case{R"("0")", std::nullopt},
                                     sub_case{R"("-1")", std::nullopt},
                                     sub_case{R"("abc")", std::nullopt},
                                     sub_case{R"("042")", std::nullopt},
                                     sub_case{R"("00")", std::nullopt},
                                     sub_case{R"("+1")", std::nullopt},
                                     sub_case{R"(" 1")", std::nullopt},
                                     sub_case{R"("1 ")", std::nullopt},
                                     sub_case{R"("1.5")", std::nullopt},
                                     sub_case{R"("1e3")", std::nullopt},
                                     sub_case{R"("42abc")", std::nullopt},
                                     sub_case{R"("0x10")", std::nullopt},
                                     sub_case{R"("9223372036854775808")", std::nullopt},
                                     sub_case{R"("99999999999999999999999")", std::nullopt}};

TEST_F(Jwt, SubMustBeAPositiveDecimalUserIdString) {
  for_each_row(subjects, [&](const sub_case& row) {
    const auto& [sub_json, user_id] = row;
    const auto claims = codec.verify(sign_json(hs256_header, payload(sub_json, now + 600), key), now);
    if (user_id) {
      ASSERT_TRUE(claims.has_value()) << sub_json << ": " << describe(error_of(claims));
      EXPECT_EQ(claims->user_id, *user_id);
    } else {
      EXPECT_EQ(error_of(claims), token_error::bad_claims) << "sub " << sub_json;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Structure and encoding

const std::string good_header = b64url(hs256_header);
const std::string good_payload = b64url(valid_payload());

TEST_F(Jwt, MalformedTokensAreRefusedAsMalformed) {
  const std::vector<std::string> tokens{
      // Not three parts.
      ""s, "abc"s, "a.b"s, "a.b.c.d"s, "."s, ".."s, "..."s, good_header + "." + good_payload,
      sign_encoded(good_header, good_payload, key) + ".", sign_encoded(good_header, good_payload, key) + ".x",
      // Header not base64url, not JSON, not an object.
      sign_encoded(good_header + "=", good_payload, key), sign_encoded(good_header + "==", good_payload, key),
      sign_encoded("eyJhbGciOiJIUzI1NiJ9+", good_payload, key),
      sign_encoded("eyJhbGciOiJIUzI1NiJ9/", good_payload, key),
      sign_encoded("eyJhbGc iOiJIUzI1NiJ9", good_payload, key), sign_encoded("*", good_payload, key),
      sign_encoded("", good_payload, key), sign_encoded(b64url("not json"), good_payload, key),
      sign_encoded(b64url(R"(["HS256"])"), good_payload, key), sign_encoded(b64url(R"("HS256")"), good_payload, key),
      sign_encoded(b64url(R"({"alg":"HS256"} x)"), good_payload, key),
      sign_encoded(b64url(R"({"alg":"HS256",})"), good_payload, key),
      sign_encoded(b64url("{\"alg\":\"HS256\",\"x\":\"\xff\"}"), good_payload, key),
      // Payload not base64url, not JSON, not an object (with a valid signature over it).
      sign_encoded(good_header, good_payload + "=", key), sign_encoded(good_header, good_payload + "+", key),
      sign_encoded(good_header, good_payload.substr(0, 10) + "/" + good_payload.substr(11), key),
      sign_encoded(good_header, "", key), sign_encoded(good_header, b64url("not json"), key),
      sign_encoded(good_header, b64url("[1,2]"), key), sign_encoded(good_header, b64url("42"), key),
      sign_encoded(good_header, b64url(valid_payload() + "garbage"), key),
      sign_encoded(good_header, b64url("{\"sub\":\"42\",\"exp\":1900000000,\"name\":\"\xc3\"}"), key),
      // Duplicate keys: which one would win is parser-dependent, so neither does.
      sign_json(R"({"alg":"HS256","alg":"none"})", valid_payload(), key),
      sign_json(R"({"alg":"none","alg":"HS256"})", valid_payload(), key),
      sign_json(hs256_header, R"({"sub":"1","sub":"42","exp":1900000000})", key),
      sign_json(hs256_header, R"({"sub":"42","exp":1,"exp":1900000000})", key)};
  for_each_row(tokens, [&](const std::string& token) { EXPECT_EQ(verify_error(token), token_error::malformed); });
}

TEST_F(Jwt, PaddedBase64IsRefused) {
  // A payload whose base64url form needs padding: encode it with "=" padding, sign the result.
  std::string filler;
  std::string padded_payload = valid_payload();
  while (b64url(padded_payload).size() % 4 == 0) {
    filler += "a";
    padded_payload = payload(R"("42")", now + 600, R"("filler":")" + filler + R"(")");
  }
  std::string encoded = b64url(padded_payload);
  while (encoded.size() % 4 != 0) encoded += "=";
  EXPECT_NE(verify_error(sign_encoded(good_header, encoded, key)), std::nullopt);
  // Without the padding the same payload is fine.
  EXPECT_EQ(verify_error(sign_encoded(good_header, b64url(padded_payload), key)), std::nullopt);
}

TEST_F(Jwt, SurroundingWhitespaceIsRefused) {
  const std::string token = codec.issue(42, "test-stamp", now);
  EXPECT_NE(verify_error(" " + token), std::nullopt);
  EXPECT_NE(verify_error(token + " "), std::nullopt);
  EXPECT_NE(verify_error(token + "\n"), std::nullopt);
}

TEST(JwtErrors, EveryErrorHasAName) {
  for (token_error e : {token_error::malformed, token_error::bad_algorithm, token_error::bad_signature,
                        token_error::expired, token_error::not_yet_valid, token_error::bad_claims})
    EXPECT_FALSE(sig::auth::to_string(e).empty());
}

}  // namespace
