// auth/jwt against another implementation: PyJWT (the library of the seed's Python clients and
// of the original FastAPI server). Tokens it mints must verify here, tokens issued here must decode
// there, and an HS384 token it mints must be refused here.
#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <string>
#include <string_view>

#ifndef SIG_TEST_PYTHON
#define SIG_TEST_PYTHON "/usr/bin/python3"
#endif

namespace {

using namespace std::chrono_literals;
using sig::auth::jwt_codec;
using sig::auth::token_error;

struct process_output {
  int exit_code = -1;
  std::string out;
};

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

// Runs `python -c script args...` and returns its standard output (stderr goes to the test log).
process_output python(std::string_view script, std::initializer_list<std::string_view> args) {
  std::string command = shell_quote(SIG_TEST_PYTHON) + " -c " + shell_quote(script);
  for (const auto arg : args) {
    command += ' ';
    command += shell_quote(arg);
  }
  process_output result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!result.out.empty() && (result.out.back() == '\n' || result.out.back() == '\r')) result.out.pop_back();
  return result;
}

constexpr std::string_view encode_script =
    "import json, sys, jwt\n"
    "print(jwt.encode(json.loads(sys.argv[2]), sys.argv[1], algorithm=sys.argv[3]))\n";

constexpr std::string_view decode_script =
    "import json, sys, jwt\n"
    "try:\n"
    "    print(json.dumps(jwt.decode(sys.argv[2], sys.argv[1], algorithms=['HS256'])))\n"
    "except jwt.InvalidTokenError as e:\n"
    "    print('REFUSED ' + type(e).__name__)\n";

constexpr std::string_view header_script =
    "import json, sys, jwt\n"
    "print(json.dumps(jwt.get_unverified_header(sys.argv[1])))\n";

const std::string key = "pyjwt-cross-check-secret-3f9a1c";

class PyJwt : public testing::Test {
 protected:
  static std::string mint(std::string_view claims_json, std::string_view algorithm = "HS256",
                          std::string_view with_key = key) {
    const auto minted = python(encode_script, {with_key, claims_json, algorithm});
    EXPECT_EQ(minted.exit_code, 0) << "PyJWT failed (is python3-jwt installed?): " << minted.out;
    return minted.out;
  }

  static std::int64_t wall_clock() { return static_cast<std::int64_t>(std::time(nullptr)); }

  jwt_codec codec{key, 1800s};
};

TEST_F(PyJwt, PythonWithPyJwtIsInstalled) {
  const auto probe = python("import jwt; print(jwt.__version__)", {});
  ASSERT_EQ(probe.exit_code, 0) << SIG_TEST_PYTHON
                                << " cannot import PyJWT; install python3-jwt (scripts/install-deps.sh)";
  EXPECT_FALSE(probe.out.empty());
}

TEST_F(PyJwt, TokensMintedByPyJwtAreAccepted) {
  const std::int64_t now = wall_clock();
  const std::string token = mint(R"({"sub":"42","iat":)" + std::to_string(now) + R"(,"exp":)" +
                                 std::to_string(now + 600) + R"(,"jti":"pyjwt-jti-1"})");
  const auto claims = codec.verify(token, now);
  ASSERT_TRUE(claims.has_value()) << token << ": " << sig::auth::to_string(claims.error());
  EXPECT_EQ(claims->user_id, 42);
  EXPECT_EQ(claims->issued_at, now);
  EXPECT_EQ(claims->expires_at, now + 600);
  EXPECT_EQ(claims->jti, "pyjwt-jti-1");
}

TEST_F(PyJwt, PyJwtTokenWithPastNbfIsAcceptedAndFutureNbfRefused) {
  const std::int64_t now = wall_clock();
  const std::string exp = std::to_string(now + 600);
  const auto past =
      codec.verify(mint(R"({"sub":"7","exp":)" + exp + R"(,"nbf":)" + std::to_string(now - 60) + "}"), now);
  EXPECT_TRUE(past.has_value());
  const auto future =
      codec.verify(mint(R"({"sub":"7","exp":)" + exp + R"(,"nbf":)" + std::to_string(now + 60) + "}"), now);
  ASSERT_FALSE(future.has_value());
  EXPECT_EQ(future.error(), token_error::not_yet_valid);
}

TEST_F(PyJwt, ExpiredPyJwtTokenIsRefused) {
  const std::int64_t now = wall_clock();
  const auto claims = codec.verify(mint(R"({"sub":"42","exp":)" + std::to_string(now - 1) + "}"), now);
  ASSERT_FALSE(claims.has_value());
  EXPECT_EQ(claims.error(), token_error::expired);
}

TEST_F(PyJwt, PyJwtTokenUnderAnotherKeyIsRefused) {
  const std::int64_t now = wall_clock();
  const auto claims =
      codec.verify(mint(R"({"sub":"42","exp":)" + std::to_string(now + 600) + "}", "HS256", "other-key"), now);
  ASSERT_FALSE(claims.has_value());
  EXPECT_EQ(claims.error(), token_error::bad_signature);
}

TEST_F(PyJwt, PyJwtHs384AndHs512TokensAreRefused) {
  const std::int64_t now = wall_clock();
  const std::string claims_json = R"({"sub":"42","exp":)" + std::to_string(now + 600) + "}";
  for (const std::string_view alg : {"HS384", "HS512"}) {
    const std::string token = mint(claims_json, alg);
    const auto claims = codec.verify(token, now);
    ASSERT_FALSE(claims.has_value()) << alg << " token accepted: " << token;
    EXPECT_EQ(claims.error(), token_error::bad_algorithm) << alg;
  }
}

TEST_F(PyJwt, PyJwtTokenWithNumericSubIsRefused) {
  // RFC 7519 makes sub a string; the contract issues it as one. A number is not a user id here.
  const std::int64_t now = wall_clock();
  const auto claims = codec.verify(mint(R"({"sub":42,"exp":)" + std::to_string(now + 600) + "}"), now);
  ASSERT_FALSE(claims.has_value());
  EXPECT_EQ(claims.error(), token_error::bad_claims);
}

TEST_F(PyJwt, OurTokensDecodeInPyJwt) {
  const std::int64_t now = wall_clock();
  const std::string token = codec.issue(1234, "test-stamp", now);
  const auto ours = codec.verify(token, now);
  ASSERT_TRUE(ours.has_value());

  const auto decoded = python(decode_script, {key, token});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.out;
  ASSERT_FALSE(decoded.out.starts_with("REFUSED")) << decoded.out;
  const boost::json::value claims = boost::json::parse(decoded.out);
  EXPECT_EQ(claims.at("sub"), "1234");
  EXPECT_EQ(claims.at("iat").to_number<std::int64_t>(), now);
  EXPECT_EQ(claims.at("exp").to_number<std::int64_t>(), now + 1800);
  EXPECT_EQ(claims.at("jti").as_string(), ours->jti);

  const auto header = python(header_script, {token});
  ASSERT_EQ(header.exit_code, 0) << header.out;
  const boost::json::value fields = boost::json::parse(header.out);
  EXPECT_EQ(fields.at("alg"), "HS256");
  EXPECT_EQ(fields.at("typ"), "JWT");
}

TEST_F(PyJwt, PyJwtRefusesOurTokenUnderAnotherKeyOrWhenExpired) {
  // Shows that the previous test's acceptance is not vacuous.
  const std::int64_t now = wall_clock();
  const auto wrong_key = python(decode_script, {"not-the-key", codec.issue(1, "test-stamp", now)});
  EXPECT_EQ(wrong_key.out, "REFUSED InvalidSignatureError");
  const auto expired = python(decode_script, {key, codec.issue(1, "test-stamp", now - 3600)});
  EXPECT_EQ(expired.out, "REFUSED ExpiredSignatureError");
}

}  // namespace
