// Fuzz target for JWT verification (auth/jwt). Three kinds of input, by their first byte:
//   0xFF: the round trip: a token our encoder issues for a fuzzed user, stamp and time verifies
//         with the same claims during its lifetime, is expired at its end, and is refused under
//         another key or with one character changed;
//   0xFE: "<header JSON>\n<payload JSON>", signed here with the verifier's key: the fuzzer cannot
//         forge HMACs, so this is how arbitrary headers and claims get past the signature check;
//   else: the input is the token.
// Arbitrary tokens must be refused or accepted without a sanitizer finding or an exception, and
// what is accepted must hold what the verifier promises (a user id, not expired).
#include "auth/jwt.hpp"
#include "core/utf8.hpp"
#include "fuzz_check.hpp"
#include "jwt_test_support.hpp"  // tests/unit: base64url and HS256 done independently of auth/jwt

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using sig::auth::jwt_codec;

constexpr std::int64_t now = 1'750'000'000;  // fixed, so that a finding replays
constexpr auto lifetime = 1800s;
constexpr std::string_view key = "fuzz-jwt-signing-key-of-32-bytes-at-least";

const jwt_codec& codec() {
  static const jwt_codec instance(std::string(key), lifetime);
  return instance;
}

void verify_arbitrary(std::string_view token) {
  const auto claims = codec().verify(token, now);
  if (!claims) return;
  FUZZ_CHECK(claims->user_id > 0, token);
  FUZZ_CHECK(claims->expires_at > now, token);
}

void verify_signed(std::string_view header_and_payload) {
  const std::size_t newline = header_and_payload.find('\n');
  if (newline == std::string_view::npos) return;
  verify_arbitrary(
      jwt_test::sign_json(header_and_payload.substr(0, newline), header_and_payload.substr(newline + 1), key));
}

std::int64_t take_integer(std::string_view& bytes) {
  std::uint64_t value = 0;
  const std::size_t n = std::min(bytes.size(), sizeof value);
  std::memcpy(&value, bytes.data(), n);
  bytes.remove_prefix(n);
  return static_cast<std::int64_t>(value);
}

// Input after the 0xFF: 8 bytes of user id, 8 bytes of issue time, 1 byte for the character to
// change, then the stamp.
void round_trip(std::string_view input) {
  const std::int64_t user_id = take_integer(input) & INT64_MAX;
  const std::int64_t issued_at = take_integer(input) & ((std::int64_t{1} << 40) - 1);  // until year 36812
  const std::size_t changed = input.empty() ? 0 : static_cast<unsigned char>(input.front());
  if (!input.empty()) input.remove_prefix(1);
  const std::string_view stamp = input;
  // Stamps are made by the server (random text); a token cannot carry invalid UTF-8 in JSON.
  if (user_id == 0 || !sig::is_valid_utf8(stamp)) return;

  const std::string token = codec().issue(user_id, stamp, issued_at);
  for (const std::int64_t at : {issued_at, issued_at + lifetime.count() - 1}) {
    const auto claims = codec().verify(token, at);
    FUZZ_CHECK(claims.has_value(), token);
    FUZZ_CHECK(claims->user_id == user_id && claims->stamp == stamp, token);
    FUZZ_CHECK(claims->issued_at == issued_at && claims->expires_at == issued_at + lifetime.count(), token);
  }
  FUZZ_CHECK(!codec().verify(token, issued_at + lifetime.count()).has_value(), token);

  static const jwt_codec other_key("another-fuzz-jwt-key-of-32-bytes-at-least", lifetime);
  FUZZ_CHECK(!other_key.verify(token, issued_at).has_value(), token);

  // Base64url without padding leaves unused low bits in the last character of a part: changing
  // only those would decode to the same bytes. Changing a character to one that differs in its
  // high bits always changes the decoded part.
  std::string tampered = token;
  char& c = tampered[changed % tampered.size()];
  c = c == 'A' ? 'z' : 'A';
  if (tampered != token) FUZZ_CHECK(!codec().verify(tampered, issued_at).has_value(), tampered);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const int kind = input.empty() ? 0 : static_cast<unsigned char>(input.front());
  if (kind == 0xFF)
    round_trip(input.substr(1));
  else if (kind == 0xFE)
    verify_signed(input.substr(1));
  else
    verify_arbitrary(input);
  return 0;
}
